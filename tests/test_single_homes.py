"""One home per rule (DESIGN: "a rule has exactly one function, and every caller uses it"), checked on the
source with ``ast`` over dq_core and the dashboard, plus a known answer for each home.

The homes: exact-duplicate grouping and the empty-text rule (util/text.py), JSON writing and conversion to
native types (util/jsonsafe.py), stratified sampling (util/sampling.py), "does this column hold numbers"
(data/dataset.py), the usable core count (util/cores.py), the progress-callback types (util/progress.py),
the most-suspicious ranking and the flag counts (signals/flagged.py), embedding a dataset and its reference
(space/embed_pair.py), the model name read from a cache key (space/embed_model.py), the what-if context
(filtering/whatif/build.py), the rows per class (filtering/rule_counts.py), the coverage map's plotted
points and the Overview's and Coverage's tables (viz/).
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
    "fraction": "dq_core/util/progress.py",
    "flag_counts": "dq_core/signals/flagged.py",
    "lowest_score": "dq_core/signals/flagged.py",
    "rank_suspicious": "dq_core/signals/flagged.py",
    "most_suspicious": "dq_core/signals/flagged.py",
    "pair_key": "dq_core/space/embed_pair.py",
    "pair_ready": "dq_core/space/embed_pair.py",
    "preview_sample": "dq_core/space/embed_pair.py",
    "plan_pair": "dq_core/space/embed_pair.py",
    "run_pair": "dq_core/space/embed_pair.py",
    "model_label": "dq_core/space/embed_model.py",
    "known_embeddings": "dq_core/filtering/whatif/build.py",
    "repair_embedder": "dq_core/filtering/whatif/build.py",
    "build_what_if_context": "dq_core/filtering/whatif/build.py",
    "class_rows": "dq_core/filtering/rule_counts.py",
    "plot_sample": "dq_core/viz/coverage.py",
    "cluster_table": "dq_core/viz/coverage.py",
    "class_balance_table": "dq_core/viz/overview.py",
    "missing_classes": "dq_core/viz/overview.py",
}
PROGRESS_HOME = "dq_core/util/progress.py"


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


def _in_dq_app(path: str) -> bool:
    return path.startswith("dq_app/")


def test_progress_callbacks_have_one_type():
    """One progress-callback type, util/progress.py's ``Progress``, reported as ``(message, done, total)`` by
    every job, embedding included: no other Progress class, no callable alias (``X = Callable[...]`` in the
    home, a ``...progress... = Callable[...]`` elsewhere), no ``Counts`` and no ``Callable[[int, int], None]``
    (a counts-only signature of its own), and no ``progress`` parameter typed with a bare ``Callable[...]``."""
    aliases, bare = [], []
    for path, tree in TREES.items():
        home = path == PROGRESS_HOME
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any("Protocol" in ast.unparse(b) for b in node.bases) \
                    and "progress" in node.name.lower() and not (home and node.name == "Progress"):
                aliases.append(f"{path}:{node.lineno} class {node.name}")
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
                if isinstance(node, ast.AnnAssign) else []
            value = getattr(node, "value", None)
            if any(isinstance(t, ast.Name) and (home or "progress" in t.id.lower()) for t in targets) \
                    and value is not None and "Callable" in ast.unparse(value):
                aliases.append(f"{path}:{node.lineno}")
            if (isinstance(node, ast.Name) and node.id == "Counts") or \
                    (isinstance(node, ast.alias) and "Counts" in (node.name, node.asname)):
                aliases.append(f"{path}:{node.lineno} Counts")
            if isinstance(node, ast.Subscript) and ast.unparse(node).replace(" ", "") == "Callable[[int,int],None]":
                bare.append(f"{path}:{node.lineno} {ast.unparse(node)}")
            if isinstance(node, ast.arg) and node.arg == "progress" and node.annotation is not None \
                    and "Callable" in ast.unparse(node.annotation):
                bare.append(f"{path}:{node.lineno}")
    assert aliases == [] and bare == []
    assert [n.name for n in ast.walk(TREES[PROGRESS_HOME]) if isinstance(n, ast.ClassDef)] == ["Progress"]


def test_the_most_suspicious_rows_are_ranked_in_one_place():
    """No frame sorted by a score or the flag count, and no lowest-of-the-scores (``frame[cols].min(axis=1)``),
    outside signals/flagged.py; the review table and the Clean page's tables rank through it."""
    home = HOMES["rank_suspicious"]
    copies = []
    for path, tree in TREES.items():
        if path == home:
            continue
        for c in _calls(tree):
            text = ast.unparse(c)
            if _name(c.func) == "sort_values" and ("_score" in text or "n_issues" in text):
                copies.append(f"{path}:{c.lineno}")
            if (_name(c.func) == "min" and isinstance(c.func, ast.Attribute) and isinstance(c.func.value, ast.Subscript)
                    and any(k.arg == "axis" for k in c.keywords)):
                copies.append(f"{path}:{c.lineno}")
    assert copies == []
    for path in ("dq_core/filtering/review.py", "dq_app/ui/clean/signals_view.py"):
        assert {_name(c.func) for c in _calls(TREES[path])} & {"rank_suspicious", "most_suspicious"}, path


def test_the_dashboard_counts_nothing_itself():
    """The pages and ui/ read counts from dq_core: no bincount, and no table built from a result's rows."""
    counted = [f"{path}:{c.lineno}" for path, tree in TREES.items() if _in_dq_app(path) for c in _calls(tree)
               if _name(c.func) == "bincount"]
    assert counted == []


def test_what_to_embed_and_the_what_if_context_have_one_home():
    """dq_app embeds nothing itself and plans nothing: it runs space/embed_pair.py's passes; the what-if context
    is prepared only by filtering/whatif/build.py; the coverage map's points are sampled only in viz/."""
    embedding = {"embed_texts", "embed_dataset", "plan_embedding", "has_dataset_embeddings",
                 "forget_dataset_embeddings", "stratified_sample", "prepare_what_if", "label_inputs"}
    in_app = sorted(f"{path}:{c.lineno} {_name(c.func)}" for path, tree in TREES.items() if _in_dq_app(path)
                    for c in _calls(tree) if _name(c.func) in embedding)
    assert in_app == []
    planners = {path for path, tree in TREES.items() for c in _calls(tree) if _name(c.func) == "plan_embedding"}
    assert planners == {HOMES["plan_pair"]}
    preparers = {path for path, tree in TREES.items() for c in _calls(tree) if _name(c.func) == "prepare_what_if"}
    assert preparers == {HOMES["build_what_if_context"]}
    # the model-name format ("given:<file>", "compute:<model>") is read where the cache key is made
    prefixes = [f"{path}:{node.lineno}" for path, tree in TREES.items() if _in_dq_app(path)
                for node in ast.walk(tree) if isinstance(node, ast.Constant) and node.value in ("given:", "compute:")]
    assert prefixes == []


def test_the_rare_class_threshold_is_typed_once():
    """The Overview says "under 10% of a uniform share" with metrics/balance.py's constant, not a typed 10%."""
    from dq_core.metrics.balance import RARE_SHARE_OF_UNIFORM

    page = (ROOT / "dq_app/app_pages/overview.py").read_text(encoding="utf-8")
    assert "RARE_SHARE_OF_UNIFORM" in page and "under 10%" not in page
    assert f"{RARE_SHARE_OF_UNIFORM:.0%}" == "10%"


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
