"""One home per rule (DESIGN: "a rule has exactly one function, and every caller uses it"), checked on the
source with ``ast`` over dq_core and the dashboard, plus a known answer for each home.

The homes: exact-duplicate grouping and the empty-text rule (util/text.py), JSON writing and conversion to
native types (util/jsonsafe.py), stratified sampling (util/sampling.py), "does this column hold numbers"
(data/dataset.py), the usable core count (util/cores.py).
"""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(p for d in ("dq_core", "dq_app") for p in (ROOT / d).rglob("*.py"))
TREES = {p.relative_to(ROOT).as_posix(): ast.parse(p.read_text(encoding="utf-8")) for p in SOURCES}

HOMES = {
    "exact_duplicate_codes": "dq_core/util/text.py",
    "empty_texts": "dq_core/util/text.py",
    "first_exact_match": "dq_core/util/text.py",
    "first_row_of_group": "dq_core/util/text.py",
    "normalize_text": "dq_core/util/text.py",
    "normalize_for_duplicates": "dq_core/util/text.py",
    "to_native": "dq_core/util/jsonsafe.py",
    "to_jsonable": "dq_core/util/jsonsafe.py",
    "dumps_json": "dq_core/util/jsonsafe.py",
    "stratified_sample": "dq_core/util/sampling.py",
    "holds_numbers": "dq_core/data/dataset.py",
    "usable_cores": "dq_core/util/cores.py",
}


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def _name(func: ast.expr) -> str:
    """``f`` for ``f(...)`` and ``a.b.f(...)``."""
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _dotted(func: ast.expr) -> str:
    return ast.unparse(func)


def test_each_rule_has_one_function():
    defs: dict[str, list[str]] = {}
    for path, tree in TREES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in HOMES:
                defs.setdefault(node.name, []).append(path)
    assert {k: v for k, v in defs.items() if v != [HOMES[k]]} == {}
    assert set(defs) == set(HOMES)


def test_duplicates_are_grouped_only_by_the_one_function():
    """Normalised texts are read only where the rule lives (and by MinHash, which shingles them for near
    duplicates); nothing hashes texts to group them, and nothing writes its own empty-text test."""
    readers = {path for path, tree in TREES.items() for c in _calls(tree)
               if _name(c.func) in ("normalize_for_duplicates", "normalize_text")}
    assert readers <= {"dq_core/util/text.py", "dq_core/signals/minhash.py"}
    hashed = {path for path, tree in TREES.items() for c in _calls(tree) if _name(c.func) == "text_hashes"}
    assert hashed == set()
    own_empty_rule = []
    for path, tree in TREES.items():
        for c in _calls(tree):  # <texts>.str.strip().eq("") or == "": the empty rule typed again
            if (_name(c.func) == "eq" and isinstance(c.func, ast.Attribute) and isinstance(c.func.value, ast.Call)
                    and _name(c.func.value.func) == "strip" and c.args
                    and isinstance(c.args[0], ast.Constant) and c.args[0].value == ""):
                own_empty_rule.append(f"{path}:{c.lineno}")
    assert own_empty_rule == []


def test_json_is_written_one_way():
    """No ``json.dumps(..., default=str)``: a NaN or a numpy number must not be written as whatever
    ``str`` makes of it; everything goes through dumps_json / to_jsonable."""
    bypass = [f"{path}:{c.lineno}" for path, tree in TREES.items() for c in _calls(tree)
              if _dotted(c.func) in ("json.dumps", "json.dump") and any(k.arg == "default" for k in c.keywords)]
    assert bypass == []


def test_numpy_scalars_are_converted_by_to_native_only():
    """``x.item() if ... else x`` is to_native typed again."""
    copies = [f"{path}:{node.lineno}" for path, tree in TREES.items() if path != "dq_core/util/jsonsafe.py"
              for node in ast.walk(tree)
              if isinstance(node, ast.IfExp) and isinstance(node.body, ast.Call) and _name(node.body.func) == "item"]
    assert copies == []


def test_cores_are_counted_in_one_place():
    bare = [f"{path}:{c.lineno}" for path, tree in TREES.items() if path != "dq_core/util/cores.py"
            for c in _calls(tree) if _dotted(c.func) in ("os.cpu_count", "os.sched_getaffinity")]
    assert bare == []


def test_numbers_are_recognised_by_one_function():
    """``to_numeric(...).notna().mean()`` is the holds-numbers test typed again."""
    copies = []
    for path, tree in TREES.items():
        for c in _calls(tree):
            f = c.func
            if (_name(f) == "mean" and isinstance(f, ast.Attribute) and isinstance(f.value, ast.Call)
                    and _name(f.value.func) == "notna" and "to_numeric" in ast.unparse(f.value)):
                copies.append(f"{path}:{c.lineno}")
    assert copies == []
    loading = TREES["dq_app/ui/loading.py"]
    assert any(_name(c.func) == "holds_numbers" for c in _calls(loading))


# ------------------------------------------------------------------ the homes' known answers

def test_exact_duplicate_codes_one_rule_for_empty_texts():
    from dq_core.util.text import empty_texts, exact_duplicate_codes, first_row_of_group

    texts = pd.Series(["Hello  World", "hello world", " ", "", None, "\u00a0", "\u00a0", "x", "\u200b", "\u200b"],
                      dtype=object)
    codes = exact_duplicate_codes(texts)
    # empties (missing, '', whitespace of any kind) never group; a zero-width space is not whitespace
    assert codes.tolist() == [0, 0, -1, -1, -1, -1, -1, -1, 3, 3]  # numbered by first appearance
    assert first_row_of_group(codes).tolist() == [0, 0, -1, -1, -1, -1, -1, -1, 8, 8]
    assert empty_texts(texts).tolist() == [False, False, True, True, True, True, True, False, False, False]


def test_first_exact_match_finds_the_first_copy_in_the_other_set():
    from dq_core.util.text import first_exact_match

    mine = pd.Series(["A b", " ", "new", "x  Y", None])
    other = pd.Series(["q", "X y", "a B", "x y", "  "])
    assert first_exact_match(mine, other).tolist() == [2, -1, -1, 1, -1]
    assert first_exact_match(mine, pd.Series([], dtype=object)).tolist() == [-1] * 5


def test_dumps_json_writes_nan_and_numpy_one_way():
    from dq_core.data.workspace import config_key
    from dq_core.util.jsonsafe import dumps_json

    text = dumps_json({"a": float("nan"), "b": np.int64(3), "c": [np.float32(0.5), -math.inf], 1: Path("p")})
    assert json.loads(text) == {"a": None, "b": 3, "c": [0.5, None], "1": "p"}
    assert config_key("k", np.int64(3)) == config_key("k", 3)  # a numpy count keys like the Python one


def test_stratified_sample_exact_size_every_group_kept():
    from dq_core.util.sampling import stratified_sample

    groups = np.array(["a"] * 90 + ["b"] * 9 + ["c"])
    pos = stratified_sample(groups, 20, np.random.default_rng(0))
    assert len(pos) == 20 and np.all(np.diff(pos) > 0)
    assert {g: int((groups[pos] == g).sum()) for g in "abc"} == {"a": 18, "b": 1, "c": 1}
    assert np.array_equal(stratified_sample(groups, 20, 7), stratified_sample(groups, 20, np.random.default_rng(7)))
    assert np.array_equal(stratified_sample(groups, 500), np.arange(100))


def test_holds_numbers_agrees_with_the_agreement_guess():
    """A sparse agreement column: the guesser keeps it, so the Load page's picker (the same function) offers it."""
    from dq_core.data.dataset import guess_mapping, holds_numbers

    conf = [None] * 300 + ["0.8", "1.0", "0.67"] * 10
    frame = pd.DataFrame({"text": [f"text number {i}" for i in range(330)], "label": ["a", "b"] * 165,
                          "confidence": conf}, dtype=object)
    assert holds_numbers(frame["confidence"])
    assert guess_mapping(frame).mapping.agreement == "confidence"
    assert not holds_numbers(pd.Series(["1", "2", "many words"] * 3))
    assert not holds_numbers(pd.Series([None, None], dtype=object))
    assert not holds_numbers(pd.Series([[1], [2]], dtype=object))


def test_usable_cores_is_positive():
    from dq_core.util.cores import usable_cores

    assert usable_cores() >= 1


@pytest.mark.parametrize("name", sorted(HOMES))
def test_homes_import(name):
    import importlib

    module = importlib.import_module(HOMES[name].removesuffix(".py").replace("/", "."))
    assert callable(getattr(module, name))
