"""FilterRecipe: JSON round trip, safe conditions, the order of rules, idempotence, bad input, decisions,
label-next, and before/after figures equal to the metrics computed on the filtered data from scratch."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.errors import DataError
from dq_core.filtering import (
    ClassRule,
    ConditionRule,
    Decision,
    DecisionStore,
    FilterInputs,
    FilterRecipe,
    RowSet,
    SignalRule,
    apply_prepared,
    apply_recipe,
    cleaned_frame,
    default_recipe,
    export_all,
    label_next,
    load_recipe,
    parse_condition,
    removal_log,
    save_recipe,
    uncertainty,
)
from dq_core.filtering import whatif as wi
from dq_core.filtering.whatif.counts import noise_ratio_cl, quantile_edges_from_hist
from tests.filter_data import make_dataset, make_embeddings, make_reference, make_signals
from tests.filtering.whatif_oracle import scratch_figures


@pytest.fixture(scope="module")
def data():
    ds = make_dataset()
    return ds, make_signals(ds)


def full_recipe() -> FilterRecipe:
    return FilterRecipe(
        name="everything", description="one of each part",
        signals=(SignalRule("exact_duplicate", action="dedupe"),
                 SignalRule("label", action="relabel_or_drop", threshold=0.1, min_prob=0.6),
                 SignalRule("junk"), SignalRule("outlier", threshold=0.05, use_flag=False)),
        classes=(ClassRule("positive", "cap", max_rows=30, seed=3),
                 ClassRule("neutral", "drop", where="topic == 'food' and confidence < 0.4")),
        conditions=(ConditionRule("confidence < 0.32"), ConditionRule("topic in ['airline', 'phone', 'food']", "keep_only")),
        row_sets=(RowSet("lasso", (40, 41, 42)),),
        decisions=(Decision(41, "keep"), Decision(50, "drop"), Decision(51, "relabel", "negative")),
    )


def after_dataset(ds, result):
    return ds.subset(result.keep_mask).with_labels(result.final_labels()[result.keep_mask])


# --------------------------------------------------------------------------- JSON

def test_recipe_json_round_trip(tmp_path):
    r = full_recipe()
    again = FilterRecipe.from_json(r.to_json())
    assert again == r
    assert again.to_dict() == r.to_dict()
    assert again.fingerprint == r.fingerprint
    d = json.loads(r.to_json())
    assert d["format"] == "dq-filter-recipe" and d["version"] == 1
    assert d["decisions"][0] == {"row_id": 41, "action": "keep"}
    path = save_recipe(r, tmp_path / "r.json")
    assert load_recipe(path) == r
    assert load_recipe("default") == default_recipe()
    # string row ids survive as strings, ints as ints
    r2 = FilterRecipe(decisions=(Decision("a-7", "drop"), Decision(7, "keep")))
    assert [d.row_id for d in FilterRecipe.from_json(r2.to_json()).decisions] == [7, "a-7"]


def test_apply_is_deterministic_and_independent_of_signal_row_order(data):
    ds, sig = data
    a = apply_recipe(ds, sig, full_recipe())
    b = apply_recipe(ds, sig.sample(frac=1.0, random_state=1), full_recipe())
    np.testing.assert_array_equal(a.keep_mask, b.keep_mask)
    assert a.relabels == b.relabels
    assert a.n_dropped > 0 and a.n_relabelled > 0


@pytest.mark.parametrize("recipe", [default_recipe(), full_recipe()], ids=["default", "everything"])
def test_applying_a_recipe_to_its_own_output_changes_nothing(data, recipe):
    ds, sig = data
    first = apply_recipe(ds, sig, recipe)
    ds2 = after_dataset(ds, first)
    sig2 = sig[sig["row_id"].isin(ds2.row_ids)]
    second = apply_recipe(ds2, sig2, recipe)
    assert second.keep_mask.all()
    assert second.relabels == {}
    assert second.n_relabelled == 0


# --------------------------------------------------------------------------- the rules

def test_default_recipe_on_planted_rows(data):
    ds, sig = data
    r = apply_recipe(ds, sig, default_recipe())
    kept = set(r.kept_row_ids.tolist())
    assert 5 in kept and 6 not in kept and 7 not in kept  # one copy of the triple survives
    assert r.reasons[6] == "duplicate copy (is_exact_duplicate_issue)"
    assert set(r.reasons) == set(ds.row_ids[~r.keep_mask]) | set(r.relabels)
    assert not {10, 11} & kept  # a conflicting pair goes entirely
    assert not {12, 13} & kept  # junk
    issues = sig.loc[sig["is_label_issue"], ["row_id", "suggested_label_prob"]]
    confident = set(issues.loc[issues["suggested_label_prob"] >= 0.7, "row_id"]) - {12}
    assert confident <= set(r.relabels)  # confident suggestions relabelled...
    unsure = set(issues.loc[issues["suggested_label_prob"] < 0.7, "row_id"])
    assert not unsure & kept  # ...the others dropped
    for rid, new in r.relabels.items():
        assert new == sig.set_index("row_id").loc[rid, "suggested_label"]


def test_manual_decisions_win_over_every_rule(data):
    ds, sig = data
    base = FilterRecipe(signals=(SignalRule("junk"), SignalRule("exact_duplicate", action="dedupe")),
                        classes=(ClassRule("neutral", "cap", max_rows=5),))
    r0 = apply_recipe(ds, sig, base)
    assert 12 not in r0.kept_row_ids  # junk
    neutral_kept = [rid for rid in ds.row_ids[(ds.labels == "neutral").to_numpy()] if rid in set(r0.kept_row_ids)]
    assert len(neutral_kept) == 5
    extra_neutral = next(rid for rid in ds.row_ids[(ds.labels == "neutral").to_numpy()]
                         if rid not in set(r0.kept_row_ids) and rid not in (0, 1, 7, 12, 13))
    decided = base.with_decisions([Decision(12, "keep"), Decision(7, "keep"), Decision(0, "drop"),
                                   Decision(1, "relabel", "negative"), Decision(extra_neutral, "keep")])
    r = apply_recipe(ds, sig, decided)
    kept = set(r.kept_row_ids.tolist())
    assert 12 in kept and 0 not in kept
    assert 7 in kept and 5 in kept and 6 not in kept  # the manually kept copy stays beside the survivor
    assert r.relabels[1] == "negative"
    # the cap counts the manual keep first: still 5 neutral rows
    neutral_after = [rid for rid, lab in zip(ds.row_ids, r.final_labels(), strict=True) if lab == "neutral" and rid in kept]
    assert len(neutral_after) == 5 and extra_neutral in neutral_after
    reasons = dict(zip(removal_log(ds, r, sig)["row_id"], removal_log(ds, r, sig)["reasons"], strict=True))
    assert reasons[0] == "manual decision: drop"
    assert "manual decision: relabel" in reasons[1]


def test_thresholds_flags_and_relabel_probability(data):
    ds, sig = data
    thr = apply_recipe(ds, sig, FilterRecipe(signals=(SignalRule("outlier", threshold=0.05, use_flag=False),)))
    assert set(ds.row_ids[~thr.keep_mask]) == set(sig.loc[sig["outlier_score"] < 0.05, "row_id"])
    relabel = apply_recipe(ds, sig, FilterRecipe(signals=(SignalRule("label", action="relabel", min_prob=0.95),)))
    assert relabel.keep_mask.all() and relabel.n_relabelled == 0  # no suggestion reaches 0.95
    relabel = apply_recipe(ds, sig, FilterRecipe(signals=(SignalRule("label", action="relabel", min_prob=0.5),)))
    assert relabel.keep_mask.all() and relabel.n_relabelled > 0


def test_class_rules_relabel_drop_and_explicit_class_removal(data):
    ds, sig = data
    merged = apply_recipe(ds, sig, FilterRecipe(classes=(ClassRule("neutral", "relabel", to="positive"),)))
    assert "neutral" not in set(merged.final_labels()[merged.keep_mask])
    assert merged.problems == ()  # removing a class on purpose is fine
    dropped = apply_recipe(ds, sig, FilterRecipe(classes=(ClassRule("neutral", "drop"),)))
    assert (ds.labels[~dropped.keep_mask] == "neutral").all()


def test_row_sets_and_unknown_ids_are_noted(data):
    ds, sig = data
    r = apply_recipe(ds, sig, FilterRecipe(row_sets=(RowSet("sel", (1, 2, 999)),)))
    assert set(ds.row_ids[~r.keep_mask]) == {1, 2}
    assert any("999" in n for n in r.notes)
    k = apply_recipe(ds, sig, FilterRecipe(row_sets=(RowSet("sel", (1, 2)), ), ))
    assert k.n_dropped == 2
    only = apply_recipe(ds, sig, FilterRecipe(row_sets=(RowSet("sel", tuple(range(30))),)), strict=False)
    assert only.n_kept == len(ds) - 30


def test_string_row_ids_from_an_id_column():
    raw = pd.DataFrame({"uid": ["a1", "b2", "c3", "d4"], "text": ["good", "bad", "fine", "nice"],
                        "label": ["p", "n", "p", "n"]})
    ds = build_dataset(raw, ColumnMapping("text", "label", id="uid"))
    r = apply_recipe(ds, None, FilterRecipe(decisions=(Decision("b2", "drop"),)))
    assert r.kept_row_ids.tolist() == ["a1", "c3", "d4"]
    out = cleaned_frame(ds, r)
    assert list(out.columns) == ["uid", "text", "label"]


# --------------------------------------------------------------------------- conditions

@pytest.mark.parametrize("text, clauses", [
    ("confidence < 0.6", [("confidence", "<", 0.6)]),
    ("topic in ['a', \"b\"] and label != 'x'", [("topic", "in", ("a", "b")), ("label", "!=", "x")]),
    ("`my col` >= -3 AND text icontains 'HTTP'", [("my col", ">=", -3), ("text", "icontains", "HTTP")]),
    ("split is not missing", [("split", "is not missing", None)]),
    ("flag = true", [("flag", "==", True)]),
    ("name not in ['it''s']", None),
])
def test_condition_grammar(text, clauses):
    if clauses is None:
        with pytest.raises(DataError):
            parse_condition(text)
        return
    cond = parse_condition(text)
    assert [(c.column, c.op, c.value) for c in cond.clauses] == clauses
    assert parse_condition(str(cond)) == cond  # printing gives back a parsable condition


@pytest.mark.parametrize("code", [
    "__import__('os').system('touch /tmp/dq_pwned')",
    "label == 'a'; import os",
    "label.__class__ == 1",
    "eval('1') == 1",
    "(lambda: 1)() == 1",
    "confidence < 0.5 or label == 'x'",
    "confidence < confidence",
    "open('/etc/passwd')",
    "label == 'a' + 'b'",
    "[x for x in ()] == 1",
    "",
    "label ==",
    "in == 3",
])
def test_conditions_reject_code(code, tmp_path):
    with pytest.raises(DataError):
        parse_condition(code)
    import os

    assert not os.path.exists("/tmp/dq_pwned")


def test_condition_semantics(data):
    ds, sig = data
    inp = FilterInputs(ds, sig)
    conf = ds.frame["confidence"].to_numpy()
    np.testing.assert_array_equal(inp.condition_mask("confidence < 0.5"), conf < 0.5)
    np.testing.assert_array_equal(inp.condition_mask("topic in ['food', 'music'] and confidence >= 0.5"),
                                  ds.frame["topic"].isin(["food", "music"]).to_numpy() & (conf >= 0.5))
    np.testing.assert_array_equal(inp.condition_mask("text contains 'flight'"),
                                  ds.texts.str.contains("flight", regex=False).to_numpy())
    np.testing.assert_array_equal(inp.condition_mask("is_label_issue == true"), sig["is_label_issue"].to_numpy())
    np.testing.assert_array_equal(inp.condition_mask("label_score < 0.2"), sig["label_score"].to_numpy() < 0.2)


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("recipe, words", [
    (FilterRecipe(signals=(SignalRule("lable"),)), ("signal 'lable'", "did you mean 'label'")),
    (FilterRecipe(conditions=(ConditionRule("confidenze < 0.3"),)), ("column 'confidenze'", "did you mean 'confidence'")),
    (FilterRecipe(classes=(ClassRule("postive", "cap", max_rows=3),)), ("class 'postive'", "did you mean 'positive'")),
    (FilterRecipe(conditions=(ConditionRule("confidence > 0"),)), ("removes every one of the 120 rows",)),
    (FilterRecipe(conditions=(ConditionRule("label == 'neutral'"),)), ("removes every row of class 'neutral'",)),
    (FilterRecipe(classes=(ClassRule("neutral", "relabel", to="positive", where="confidence > 0"),
                           ClassRule("negative", "drop", where="confidence > 0"))),
     ("removes every row of class", "'negative'")),
])
def test_bad_recipes_against_the_data(data, recipe, words):
    ds, sig = data
    with pytest.raises(DataError) as e:
        apply_recipe(ds, sig, recipe)
    for w in words:
        assert w in str(e.value)


@pytest.mark.parametrize("obj, words", [
    ({"signals": [{"signal": "label", "threshold": 1.5}]}, ("threshold", "between 0 and 1")),
    ({"signals": [{"signal": "label", "threshold": -0.1}]}, ("between 0 and 1",)),
    ({"signals": [{"signal": "label", "threshold": "low"}]}, ("must be a number",)),
    ({"signals": [{"signal": "label", "min_prob": 2}]}, ("min_prob",)),
    ({"signals": [{"signal": "label", "treshold": 0.2}]}, ("unknown keys", "did you mean 'threshold'")),
    ({"signals": [{"signal": "label", "action": "delete"}]}, ("'delete'", "drop, relabel")),
    ({"signals": [{"signal": "label", "use_flag": False}]}, ("selects nothing",)),
    ({"classes": [{"label": "x", "action": "cap"}]}, ("max_rows",)),
    ({"classes": [{"label": "x", "action": "relabel"}]}, ("target class",)),
    ({"conditions": [{"where": "__import__('os')"}]}, ("condition",)),
    ({"decisions": [{"row_id": 1, "action": "drop"}, {"row_id": 1, "action": "keep"}]}, ("two decisions",)),
    ({"decisions": [{"row_id": 1, "action": "relabel"}]}, ("needs a label",)),
    ({"format": "something-else"}, ("not a filter recipe",)),
    ({"version": 99}, ("version 99", "newer")),
    ({"signals": {"signal": "label"}}, ("must be a list",)),
    ([1, 2], ("JSON object",)),
])
def test_malformed_recipes(obj, words):
    with pytest.raises(DataError) as e:
        FilterRecipe.from_json(json.dumps(obj))
    for w in words:
        assert w in str(e.value), str(e.value)


def test_malformed_recipe_files(tmp_path):
    p = tmp_path / "r.json"
    p.write_text("{\"signals\": [")
    with pytest.raises(DataError, match="not valid JSON"):
        load_recipe(p)
    p.write_text("")
    with pytest.raises(DataError, match="empty"):
        load_recipe(p)
    p.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DataError):
        load_recipe(p)
    with pytest.raises(DataError, match="does not exist"):
        load_recipe(tmp_path / "missing.json")


def test_an_empty_result_is_never_exported(data, tmp_path):
    ds, sig = data
    r = apply_recipe(ds, sig, FilterRecipe(conditions=(ConditionRule("confidence > 0"),)), strict=False)
    assert r.n_kept == 0 and r.problems
    with pytest.raises(DataError, match="every one"):
        cleaned_frame(ds, r)
    with pytest.raises(DataError, match="every one"):
        export_all(ds, r, sig, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_signals_that_do_not_cover_the_rows(data):
    ds, sig = data
    with pytest.raises(DataError, match="do not cover 1 of"):
        apply_recipe(ds, sig.iloc[1:], default_recipe())
    with pytest.raises(DataError, match="no row_id"):
        apply_recipe(ds, sig.drop(columns="row_id"), default_recipe())


def test_default_recipe_skips_missing_signals_with_a_note(data):
    ds, sig = data
    r = apply_recipe(ds, sig.drop(columns=["conflicting_label_score", "is_conflicting_label_issue"]),
                     default_recipe())
    assert any("conflicting_label" in n for n in r.notes)


# --------------------------------------------------------------------------- outputs

def test_cleaned_frame_and_removal_log(data, tmp_path):
    ds, sig = data
    r = apply_recipe(ds, sig, default_recipe())
    out = cleaned_frame(ds, r)
    assert len(out) == r.n_kept
    assert out["row_id"].tolist() == r.kept_row_ids.tolist()
    for rid, lab in r.relabels.items():
        assert out.set_index("row_id").loc[rid, "label"] == lab
    log = removal_log(ds, r, sig)
    assert set(log["row_id"]) == set(ds.row_ids[~r.keep_mask]) | set(r.relabels)
    assert {"row_id", "action", "reasons", "label", "new_label", "label_score", "junk_score"} <= set(log.columns)
    assert (log["reasons"] != "").all()
    paths = export_all(ds, r, sig, tmp_path, fmt="csv", stem="x")
    text = paths["data"].read_text()
    assert '"=HYPERLINK' in text and '"+1 great flight"' in text and "'=" not in text  # the data as it is
    sheet = export_all(ds, r, sig, tmp_path, fmt="csv_spreadsheet", stem="x")["data"]
    assert sheet.name == "x.cleaned.for-spreadsheets.csv"
    assert "'=HYPERLINK" in sheet.read_text() and "'+1 great flight" in sheet.read_text()  # neutralised
    assert load_recipe(paths["recipe"]) == r.recipe


# --------------------------------------------------------------------------- decisions store

def test_decisions_are_saved_at_once_and_undone(tmp_path):
    store = DecisionStore(tmp_path)
    assert store.decisions() == () and not store.can_undo()
    store.set([Decision(1, "drop")])
    store.set([Decision(2, "keep"), Decision(3, "relabel", "positive")])  # one bulk step
    store.set([Decision(1, "keep")])
    again = DecisionStore(tmp_path)  # a reload reads the file
    assert {str(d.row_id): d.action for d in again.decisions()} == {"1": "keep", "2": "keep", "3": "relabel"}
    assert again.undo() == 1
    assert {str(d.row_id): d.action for d in again.decisions()} == {"1": "drop", "2": "keep", "3": "relabel"}
    assert again.undo() == 2  # the bulk step comes back as one
    assert [d.row_id for d in again.decisions()] == [1]
    assert again.set([(1, None)]) == 1 and again.decisions() == ()
    assert again.set([(1, None)]) == 0  # nothing changed: no undo step
    json.loads((tmp_path / "decisions.json").read_text())  # always a whole JSON file


# --------------------------------------------------------------------------- label next

def test_uncertainty_and_label_next_order():
    p = np.array([[0.5, 0.5, 0.0], [0.9, 0.05, 0.05], [0.4, 0.35, 0.25], [1 / 3, 1 / 3, 1 / 3]])
    assert uncertainty(p, "margin").tolist() == pytest.approx([1.0, 0.15, 0.95, 1.0])
    ent = uncertainty(p, "entropy")
    assert ent[3] == pytest.approx(1.0) and ent[1] < ent[2] < ent[3]
    raw = pd.DataFrame({"text": ["a b", "c d", "e f", "g h"], "label": ["x", "y", "z", "x"]})
    ds = build_dataset(raw, ColumnMapping("text", "label"))
    b = label_next(ds, p, method="entropy", n=2)
    assert b["row_id"].tolist() == [3, 2]
    b = label_next(ds, p, method="margin", n=4)
    assert b["row_id"].tolist() == [0, 3, 2, 1]  # ties by position
    assert label_next(ds, p, method="margin", n=1)["row_id"].tolist() == [0]  # a tie cut by the batch size
    assert label_next(ds, p, method="margin", n=3)["row_id"].tolist() == [0, 3, 2]
    dense = label_next(ds, p, method="margin", density=np.array([0.1, 0.9, 0.9, 0.9]), n=4)
    assert dense["row_id"].tolist()[:2] == [3, 2]  # the sparse row 0 falls behind
    excl = label_next(ds, p, method="margin", n=4, exclude=np.array([False, False, False, True]))
    assert 3 not in excl["row_id"].tolist()


def test_label_next_falls_back_to_the_suggested_label_probability(data):
    ds, sig = data
    b = label_next(ds, None, signals=sig, n=5)
    assert (b["method"] == "least_confidence").all()
    assert b["p_predicted"].is_monotonic_increasing


# --------------------------------------------------------------------------- before / after

@pytest.fixture(scope="module")
def whatif_setup():
    from dq_core.space.clusters import cluster_joint

    ds, ref = make_dataset(160, seed=3), make_reference(90)
    sig = make_signals(ds, seed=3)
    e, er = make_embeddings(ds), make_embeddings(ref, seed=1)
    jc = cluster_joint(e.vectors[e.valid], er.vectors[er.valid], k=5, seed=0)
    return ds, ref, sig, e, er, jc


@pytest.mark.parametrize("recipe", [
    default_recipe(), full_recipe(),
    FilterRecipe(conditions=(ConditionRule("topic == 'music'"),)),  # drops a whole scene
    FilterRecipe(classes=(ClassRule("neutral", "relabel", to="negative"),), row_sets=(RowSet("s", tuple(range(0, 160, 2))),)),
], ids=["default", "everything", "no-music", "relabel-half"])
@pytest.mark.parametrize("k", [2, 32], ids=["short-lists", "long-lists"])
def test_before_after_equals_metrics_from_scratch(whatif_setup, recipe, k):
    ds, ref, sig, e, er, jc = whatif_setup
    config = wi.WhatIfConfig(n_neighbors=k, metadata=("topic", "confidence"), vocab_size=40)
    ctx = wi.prepare_what_if(ds, ref, sig, ds_embeddings=e, ref_embeddings=er, clusters=jc, config=config)
    res = apply_prepared(FilterInputs(ds, sig), recipe, strict=False)
    fast = wi.figures_for(ctx, res)
    after = after_dataset(ds, res)
    keepv = res.keep_mask & e.valid
    pos_valid = np.flatnonzero(e.valid)
    ds_cl = np.full(len(ds), -1)
    ds_cl[pos_valid] = jc.ds_labels
    noise = (sig["is_label_issue"].to_numpy() & ~res.relabelled_mask)[res.keep_mask]
    slow = scratch_figures(after, ref, noise_flag=noise, ds_vectors=e.vectors[keepv],
                           ref_vectors=er.vectors[er.valid], ds_clusters=ds_cl[keepv], ref_clusters=jc.ref_labels,
                           n_clusters=jc.k, radius=ctx.radius, config=config)
    f, s = fast.to_dict(), slow.to_dict()
    assert f["class_counts"] == s["class_counts"]
    for key in wi.FIGURE_LABELS:
        assert f[key] == pytest.approx(s[key], abs=1e-12, nan_ok=True), key
    assert f["js"].keys() == s["js"].keys()
    for view in f["js"]:
        assert f["js"][view] == pytest.approx(s["js"][view], abs=1e-12), view
    if k == 2 and recipe.name == "recipe" and recipe.conditions:
        assert ctx.fallbacks > 0  # the exact fallback was needed and agreed


def test_before_figures_are_the_unfiltered_metrics(whatif_setup):
    from dq_core.metrics.balance import compute_class_balance

    ds, ref, sig, e, er, jc = whatif_setup
    ctx = wi.prepare_what_if(ds, ref, sig, ds_embeddings=e, ref_embeddings=er, clusters=jc)
    b = wi.figures(ctx)
    bal = compute_class_balance(ds.labels)
    assert b.class_counts == bal.class_counts
    assert b.class_balance_index == pytest.approx(bal.class_balance_index)
    assert b.imbalance_ratio == pytest.approx(bal.imbalance_ratio)
    assert b.noise_ratio == pytest.approx(sig["is_label_issue"].mean())
    d = wi.what_if(b, b).table()
    assert (d["delta"].fillna(0) == 0).all()


def test_length_quantile_edges_match_numpy():
    rng = np.random.default_rng(0)
    for _ in range(200):
        vals = rng.integers(0, rng.integers(1, 60), size=rng.integers(1, 400))
        n_bins = int(rng.integers(2, 12))
        hist = np.bincount(vals)
        expected = np.quantile(vals.astype(float), np.linspace(0, 1, n_bins + 1)[1:-1])
        np.testing.assert_array_equal(quantile_edges_from_hist(hist, n_bins), expected)


def test_no_reference_leaves_coverage_and_shift_out(data):
    ds, sig = data
    ctx = wi.prepare_what_if(ds, None, sig)
    f = wi.figures_for(ctx, apply_recipe(ds, sig, default_recipe()))
    assert f.reference_coverage is None and f.scene_coverage is None and f.js == {}
    assert f.noise_ratio == 0.0


# --------------------------------------------------------------------------- training's adapter

def test_training_adapter_uses_the_recipe(data, tmp_path):
    from dq_core.data.workspace import Workspace
    from dq_core.training.recipe import apply_recipe as train_apply

    ds, _ = data
    rec = FilterRecipe(name="meta-only", conditions=(ConditionRule("confidence < 0.4"),),
                       decisions=(Decision(3, "relabel", "neutral"),))
    path = save_recipe(rec, tmp_path / "meta-only.json")
    out = train_apply(ds, str(path), ws=Workspace.default())
    direct = apply_recipe(ds, None, rec)
    np.testing.assert_array_equal(out.keep_mask, direct.keep_mask)
    assert out.relabel == {"3": "neutral"}


def test_signal_settings_round_trip_and_validation():
    r = FilterRecipe(signal_settings={"signals": ["label(method=knn)", "junk"], "seed": 3})
    again = FilterRecipe.from_json(r.to_json())
    assert again.signal_settings == {"signals": ("label(method=knn)", "junk"), "seed": 3}
    assert again == r
    for bad in ({"signals": "junk"}, {"signals": ["junk"], "seed": "x"}, {"signal": ["junk"]}):
        with pytest.raises(DataError, match="signal_settings"):
            FilterRecipe.from_dict({"signal_settings": bad})


def test_a_parameterised_label_signal_relabels_from_its_own_suggestions(data):
    ds, sig = data
    renamed = sig.rename(columns={"label_score": "label_method_knn_score", "is_label_issue": "is_label_method_knn_issue",
                                  "suggested_label": "label_method_knn__suggested_label",
                                  "suggested_label_prob": "label_method_knn__suggested_label_prob"})
    plain = apply_recipe(ds, sig, FilterRecipe(signals=(SignalRule("label", action="relabel", min_prob=0.5),)))
    knn = apply_recipe(ds, renamed, FilterRecipe(signals=(SignalRule("label_method_knn", action="relabel",
                                                                     min_prob=0.5),)))
    assert knn.relabels == plain.relabels and knn.relabels
    ctx = wi.prepare_what_if(ds, None, renamed)
    assert ctx.noise_flag is not None and ctx.noise_flag.sum() == sig["is_label_issue"].sum()


def test_export_bytes_for_downloads(data):
    import io
    import zipfile

    from dq_core.filtering import export_bytes

    ds, sig = data
    out = cleaned_frame(ds, apply_recipe(ds, sig, default_recipe()))
    csv = export_bytes(out, "csv").decode()
    assert '"=HYPERLINK' in csv and "'=HYPERLINK" not in csv
    assert "'=HYPERLINK" in export_bytes(out, "csv_spreadsheet").decode()
    names = zipfile.ZipFile(io.BytesIO(export_bytes(out, "datasets"))).namelist()
    assert any(n.endswith("dataset_info.json") for n in names)
    assert pd.read_parquet(io.BytesIO(export_bytes(out, "parquet")))["row_id"].tolist() == out["row_id"].tolist()
    with pytest.raises(DataError, match="no rows"):
        export_bytes(out.iloc[:0], "csv")
    with pytest.raises(DataError, match="unknown export format"):
        export_bytes(out, "xlsx")


@pytest.mark.parametrize("seed", range(6))
def test_fast_noise_ratio_equals_the_label_signals_estimate(seed):
    from dq_core.signals.label import estimate_joint

    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(30, 400)), int(rng.integers(2, 6))
    probs = rng.dirichlet(np.full(k, 0.6), size=n)
    codes = np.where(rng.random(n) < 0.6, probs.argmax(axis=1), rng.integers(0, k, n))
    codes[rng.random(n) < 0.05] = -1  # unlabelled rows
    if seed % 2:
        codes[codes == k - 1] = 0  # a class absent from the labels
    assert noise_ratio_cl(codes, probs) == pytest.approx(estimate_joint(codes, probs)[1], abs=1e-12)


def test_noise_ratio_from_probabilities_before_and_after(whatif_setup):
    ds, ref, sig, e, er, jc = whatif_setup
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=len(ds))
    ctx = wi.prepare_what_if(ds, None, sig, label_probs=probs)
    from dq_core.signals.label import estimate_joint

    codes = pd.Categorical(ds.labels.astype(object), categories=ds.classes).codes.astype(np.int64)
    assert wi.figures(ctx).noise_ratio == pytest.approx(estimate_joint(codes, probs)[1])
    for recipe in (default_recipe(), full_recipe()):
        res = apply_prepared(FilterInputs(ds, sig), recipe, strict=False)
        fast = wi.figures_for(ctx, res).noise_ratio
        slow = scratch_figures(after_dataset(ds, res), None, label_probs=probs[res.keep_mask],
                               prob_classes=ds.classes).noise_ratio
        assert fast == pytest.approx(slow, abs=1e-12)


def test_recipe_in_words_says_each_step_that_did_something_and_the_total():
    """One home for the recipe in words (the story and the dataset card both say it)."""
    from dq_core.data.io import load_dataset
    from dq_core.filtering import apply_recipe
    from dq_core.filtering.rule_counts import recipe_in_words

    ds, _ = load_dataset("tests/data/good.csv", warn=lambda m: None)
    rec = {"name": "x", "conditions": [{"where": "label == 'neutral'", "action": "drop"},
                                       {"where": "source == 'nowhere'", "action": "drop"}]}
    result = apply_recipe(ds, None, rec, strict=False)
    lines = recipe_in_words(result)
    n_neutral = int((ds.frame["label"] == "neutral").sum())
    assert lines[0] == f"Step 1, condition label == 'neutral': removed {n_neutral} row{'s' if n_neutral != 1 else ''}."
    assert len(lines) == 2  # the step that removed nothing is not said
    assert lines[-1] == f"In all: {len(ds) - n_neutral} of {len(ds)} rows kept."
