"""Property-based fuzzing: loaders, the recipe parser and the signal-parameter parser either succeed or
raise DataError (the CLI's one-line `error:`), never anything else."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dq_core.data.dataset import build_dataset
from dq_core.data.io import mapping_for, read_table_bytes
from dq_core.errors import DataError
from dq_core.filtering.recipe import FilterRecipe
from dq_core.signals import parse_signal_spec

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXTENSIONS = ["x.csv", "x.tsv", "x.txt", "x.json", "x.jsonl", "x.parquet"]


def load_or_refuse(data: bytes, name: str) -> None:
    try:
        raw = read_table_bytes(data, name)
    except DataError:
        return
    try:
        mapping = mapping_for(raw.frame, text_col=None, label_col=None, label_optional=True)
        build_dataset(raw.frame, mapping, require_labels=False)
    except DataError:
        pass


@FUZZ
@given(data=st.binary(max_size=2048), name=st.sampled_from(EXTENSIONS))
def test_random_bytes(data, name):
    load_or_refuse(data, name)


CSVISH = st.text(alphabet=st.sampled_from(list(',;\t"\'\n\r ab1.0-é\\\x00\u2028{}[]:')), max_size=400)


@FUZZ
@given(text=CSVISH, name=st.sampled_from(["x.csv", "x.tsv", "x.txt", "x.jsonl", "x.json"]),
       encoding=st.sampled_from(["utf-8", "utf-16", "cp1252"]))
def test_random_csvish_text(text, name, encoding):
    load_or_refuse(("text,label\n" + text).encode(encoding, errors="replace"), name)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=30)
RECIPE_KEYS = st.sampled_from(["format", "version", "name", "description", "signals", "conditions", "class_rules",
                               "decisions", "signal_settings", "signal", "action", "threshold", "use_flag",
                               "min_prob", "where", "enabled", "required", "seed"])
RECIPE_LIKE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.sampled_from(["drop", "junk", "label", "dedupe",
                                                                               "dq-filter-recipe", ""]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(RECIPE_KEYS, inner, max_size=6), max_leaves=40)


@FUZZ
@given(obj=st.one_of(JSON_VALUES, RECIPE_LIKE))
def test_recipe_parser(obj):
    if isinstance(obj, dict):
        obj = {"format": "dq-filter-recipe", "version": 1, **obj}
    try:
        FilterRecipe.from_json(json.dumps(obj), source="fuzz")
    except DataError:
        pass


@FUZZ
@given(spec=st.text(alphabet=st.sampled_from(list("label_near_duplicate junk pii outlier()=,.0123456789e-+kCabc")),
                    max_size=60))
def test_signal_spec_parser(spec):
    try:
        sig = parse_signal_spec(spec)
    except DataError:
        return
    assert sig.key


@FUZZ
@given(name=st.sampled_from(["label", "near_duplicate", "outlier", "junk", "leakage"]),
       param=st.sampled_from(["k", "threshold", "C", "weight", "folds", "min_chars", "max_run", "jaccard",
                              "z_threshold", "min_letter_share"]),
       value=st.one_of(st.integers(), st.floats(), st.text(max_size=8), st.booleans()))
def test_signal_parameters(name, param, value):
    try:
        parse_signal_spec(f"{name}({param}={value})")
    except DataError:
        pass
