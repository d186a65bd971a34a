"""Known answers on tiny data for what the Clean page reads from dq_core.filtering: which rows to review and
in what order, several recipes side by side, the label signal's inputs, and finding the label signal's key."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.errors import DataError
from dq_core.filtering import (
    ConditionRule,
    Decision,
    FilterInputs,
    FilterRecipe,
    SignalRule,
    apply_prepared,
    compare_recipes,
    label_inputs,
    parse_row_ids,
    review_frame,
)
from dq_core.filtering import whatif as wi
from dq_core.signals import find_signal_key
from dq_core.space.neighbors import nearest_distances
from tests.filter_data import make_dataset, make_embeddings


@pytest.fixture(scope="module")
def tiny():
    """Six rows, a/b alternating; junk flags rows 1 and 3, the label signal row 0.

    Lowest score per row (low = suspicious): 0.2, 0.1, 0.05, 0.1, 0.6, 0.3 (a missing score is skipped).
    """
    frame = pd.DataFrame({"text": [f"row {i}" for i in range(6)], "label": ["a", "b"] * 3})
    ds = build_dataset(frame, ColumnMapping(text="text", label="label"), name="tiny")
    sig = pd.DataFrame({
        "row_id": ds.row_ids,
        "junk_score": [0.9, 0.1, 0.5, 0.1, 1.0, 0.3],
        "is_junk_issue": [False, True, False, True, False, False],
        "label_score": [0.2, 0.8, 0.05, 0.9, 0.6, np.nan],
        "is_label_issue": [True, False, False, False, False, False],
        "suggested_label": ["b", "b", "a", "b", "a", "b"],
    })
    inputs = FilterInputs(ds, sig)
    return ds, sig, inputs, apply_prepared(inputs, FilterRecipe(signals=(SignalRule("junk"),)))


def test_review_rows_are_chosen_and_ranked_most_suspicious_first(tiny):
    ds, sig, inputs, res = tiny
    decisions = {"4": Decision(4, "keep")}
    rows = {view: review_frame(inputs, res, decisions, view)["row_id"].tolist()
            for view in ("touched by the recipe", "flagged but kept", "most suspicious", "with a decision")}
    assert rows == {"touched by the recipe": [1, 3],  # tied at 0.1: by position
                    "flagged but kept": [0],
                    "most suspicious": [2, 1, 3, 0, 5, 4],
                    "with a decision": [4]}
    f = review_frame(inputs, res, decisions, "most suspicious", limit=3)
    assert f["row_id"].tolist() == [2, 1, 3]
    assert f["recipe"].tolist() == ["keep", "drop", "drop"]
    assert list(f.columns) == ["decision", "relabel to", "row_id", "text", "label", "recipe", "reasons",
                               "suggested_label", "label_score"]  # the reviewer's columns first
    d = review_frame(inputs, res, decisions, "with a decision")
    assert (d["decision"].tolist(), d["relabel to"].tolist()) == (["keep"], [None])
    with pytest.raises(DataError, match="unknown review view"):
        review_frame(inputs, res, decisions, "everything")


def test_row_ids_typed_by_hand(tiny):
    _, _, inputs, _ = tiny
    assert parse_row_ids("3, 1\n5", inputs) == [3, 1, 5]
    with pytest.raises(DataError, match="not in the dataset: 9"):
        parse_row_ids("1, 9", inputs)
    with pytest.raises(DataError, match="type one or more"):
        parse_row_ids(" , ", inputs)


def test_recipes_side_by_side(tiny):
    ds, sig, inputs, _ = tiny
    ctx = wi.prepare_what_if(ds, None, sig)
    recipes = {"all": FilterRecipe(), "junk": FilterRecipe(signals=(SignalRule("junk"),)),
               "no b": FilterRecipe(conditions=(ConditionRule("label == 'b'"),)),
               "broken": FilterRecipe(signals=(SignalRule("nope"),))}
    cmp = compare_recipes(inputs, ctx, recipes, before=wi.figures(ctx))
    assert list(cmp.columns) == ["before", "all", "junk", "no b"]
    assert list(cmp.errors) == ["broken"] and "nope" in cmp.errors["broken"]
    assert [cmp.value(c, "n_rows") for c in cmp.columns] == [6, 6, 4, 3]
    # junk drops rows 1 and 3 (both b): a 3, b 1
    assert cmp.value("junk", "class_counts") == {"a": 3, "b": 1}
    assert cmp.value("junk", "imbalance_ratio") == 3.0
    assert cmp.value("junk", "class_balance_index") == pytest.approx(1 - 2 * 0.25 ** 2)
    # the label signal flags row 0, which every recipe keeps
    assert cmp.value("before", "noise_ratio") == pytest.approx(1 / 6)
    assert cmp.value("junk", "noise_ratio") == pytest.approx(1 / 4)
    assert cmp.value("junk", "relabelled") == 0 and cmp.value("before", "relabelled") is None
    assert list(cmp.problems()) == ["no b"] and "class 'b'" in cmp.problems()["no b"]
    table = cmp.table()
    assert table.index[0] == "rows" and "relabelled" in table.index
    assert table.loc["rows"].tolist() == [6, 6, 4, 3]


def test_label_inputs_are_the_label_signals_probabilities():
    from dq_core.signals import SignalContext, parse_signal_spec

    ds = make_dataset(60)
    e = make_embeddings(ds)
    got = label_inputs(ds, e, label_key="label(method=knn)")
    want = parse_signal_spec("label(method=knn)").probabilities(SignalContext(ds, embeddings=e.vectors))
    np.testing.assert_allclose(got.probs, want)
    assert got.density.shape == (len(ds),) and ((got.density >= 0) & (got.density <= 1)).all()
    assert (got.density[~e.valid] == 0).all()
    none = label_inputs(ds, None)
    assert none.probs is None and none.density is None and "no cached embeddings" in none.note


def test_one_way_to_find_the_label_signals_key():
    assert find_signal_key(["junk", "label(method=knn)", "outlier"], "label") == "label(method=knn)"
    assert find_signal_key(["label(k=5)", "label"], "label") == "label"  # the plain key first
    assert find_signal_key({"junk": 1, "labels_x": 2}, "label") is None


def test_nearest_distances_with_a_mask():
    index = np.array([[1, 0], [0, 1]], dtype=np.float32)
    query = np.array([[1, 0], [0.6, 0.8]], dtype=np.float32)
    np.testing.assert_allclose(nearest_distances(index, query), [0.0, 0.2], atol=1e-6)
    np.testing.assert_allclose(nearest_distances(index, query, mask=np.array([False, True])), [1.0, 0.2], atol=1e-6)
    assert np.isinf(nearest_distances(index, query, mask=np.array([False, False]))).all()
    assert nearest_distances(index, query[:0]) is None
