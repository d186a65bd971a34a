"""Decisions do what they say: keeping a copy a dedupe rule drops keeps it beside its group's kept copy
(+1 row), dropping the group's kept copy takes out that row alone (−1 row), for exact and near duplicates,
in the library, the what-if figures and `dq filter`; and decision_effect says what a change does."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.filtering import (
    ClassRule,
    ConditionRule,
    Decision,
    FilterInputs,
    FilterRecipe,
    SignalRule,
    apply_prepared,
    decision_effect,
    save_recipe,
)
from dq_core.filtering import whatif as wi
from tests.cli_helpers import dq

# Rows 0, 2, 5 are copies of one text (row 5 labelled differently); rows 1 and 4 another pair. The rest are
# distinct. The dedupe rule keeps the first copy of each group: rows 2, 5 and 4 go.
TEXTS = ["the gate crew was friendly", "the soup was cold and late", "The gate crew  was friendly",
         "my battery died on the flight", "the soup was cold and late", "the gate crew was friendly",
         "the concert was loud and great", "a lovely cake at the airport"]
LABELS = ["positive", "negative", "positive", "neutral", "negative", "neutral", "positive", "positive"]
CONFIDENCE = [0.95, 0.8, 0.9, 0.7, 0.8, 0.4, 0.9, 0.2]
GROUPS = [0, 1, 0, -1, 1, 0, -1, -1]  # the same groups, as the signal's <name>_group column holds them


def dataset():
    frame = pd.DataFrame({"text": TEXTS, "label": LABELS, "confidence": CONFIDENCE})
    return build_dataset(frame, ColumnMapping(text="text", label="label", metadata=("confidence",)),
                         name="dedupe decisions")


def signals(ds, signal: str) -> pd.DataFrame:
    groups = np.array(GROUPS)
    flag = groups >= 0
    return pd.DataFrame({"row_id": ds.row_ids, f"{signal}_score": np.where(flag, 0.0, 1.0),
                         f"is_{signal}_issue": flag, f"{signal}_group": groups})


def recipe(signal: str, *decisions: Decision, **parts) -> FilterRecipe:
    return FilterRecipe(name="dedupe", signals=(SignalRule(signal, action="dedupe"),), **parts,
                        decisions=tuple(decisions))


def kept(inputs: FilterInputs, rec: FilterRecipe) -> list:
    return apply_prepared(inputs, rec).kept_row_ids.tolist()


@pytest.fixture(params=["exact_duplicate", "near_duplicate"])
def case(request):
    ds = dataset()
    return request.param, ds, FilterInputs(ds, signals(ds, request.param))


def test_keeping_a_dropped_copy_keeps_it_beside_the_groups_kept_copy(case):
    signal, ds, inputs = case
    assert kept(inputs, recipe(signal)) == [0, 1, 3, 6, 7]
    after = kept(inputs, recipe(signal, Decision(5, "keep")))
    assert after == [0, 1, 3, 5, 6, 7]  # +1: row 5 in, its copy row 0 still in, row 2 still out
    # two kept copies of one group: both stay, the third stays out
    assert kept(inputs, recipe(signal, Decision(5, "keep"), Decision(2, "keep"))) == [0, 1, 2, 3, 5, 6, 7]

    eff = decision_effect(inputs, recipe(signal), [], [Decision(5, "keep")])
    assert (eff.rows_in, eff.rows_out, eff.n_kept_before, eff.n_kept_after) == ((5,), (), 5, 6)
    kind = signal.replace("_", " ")
    assert eff.copies_kept == {5: ((kind, (0,)),)}
    assert eff.message() == f"Kept row 5: +1 row kept (5 → 6); its {kind} 0 stays in."


def test_dropping_the_groups_kept_copy_takes_out_that_row_alone(case):
    signal, ds, inputs = case
    assert kept(inputs, recipe(signal, Decision(0, "drop"))) == [1, 3, 6, 7]  # −1: rows 2 and 5 stay out
    eff = decision_effect(inputs, recipe(signal), [], [Decision(0, "drop")])
    assert (eff.rows_in, eff.rows_out, eff.delta) == ((), (0,), -1)
    assert eff.message() == "Dropped row 0: −1 row kept (5 → 4)."
    # dropping a copy the rule drops already changes nothing, and says so
    eff = decision_effect(inputs, recipe(signal), [], [Decision(2, "drop")])
    assert (eff.rows_in, eff.rows_out) == ((), ())
    assert eff.message() == "Dropped row 2: no row comes in or goes out (5 kept)."


def test_keeping_a_copy_that_another_rule_drops_leaves_the_survivor_in(case):
    """Row 0 goes by a condition, so the dedupe keeps row 2; keeping row 0 brings it back beside row 2."""
    signal, ds, inputs = case
    cond = {"conditions": (ConditionRule("confidence > 0.92"),)}
    assert kept(inputs, recipe(signal, **cond)) == [1, 2, 3, 6, 7]
    assert kept(inputs, recipe(signal, Decision(0, "keep"), **cond)) == [0, 1, 2, 3, 6, 7]
    # a relabel decision keeps the row too, in addition, and says what it relabels
    eff = decision_effect(inputs, recipe(signal, **cond), [], [Decision(5, "relabel", "positive")])
    assert (eff.rows_in, eff.rows_out) == ((5,), ())
    assert eff.message().startswith("Relabelled row 5 to 'positive': +1 row kept (5 → 6)")


def test_clearing_and_undoing_say_what_comes_back(case):
    signal, ds, inputs = case
    eff = decision_effect(inputs, recipe(signal), [Decision(5, "keep"), Decision(0, "drop")], [Decision(0, "drop")])
    assert (eff.rows_in, eff.rows_out) == ((), (5,))
    assert eff.message() == "Cleared the decision on row 5: −1 row kept (5 → 4)."
    assert eff.message("Undo").startswith("Undo: −1 row kept")
    mixed = decision_effect(inputs, recipe(signal), [], [Decision(5, "keep"), Decision(0, "drop")])
    assert (mixed.rows_in, mixed.rows_out, mixed.delta) == ((5,), (0,), 0)
    assert mixed.message() == "Changed the decisions on rows 0, 5: 1 in, 1 out: ±0 rows kept (5 → 5)."


def test_a_swap_that_a_cap_makes_is_said():
    """A class cap counts manual keeps first (its documented rule): keeping a capped row pushes another out of
    the class, and the effect names that row and why."""
    ds = dataset()
    inputs = FilterInputs(ds, signals(ds, "exact_duplicate"))
    rec = FilterRecipe(classes=(ClassRule("positive", "cap", max_rows=2, seed=0),))
    base = apply_prepared(inputs, rec)
    positive_kept = [r for r, lab in zip(base.kept_row_ids, base.final_labels()[base.keep_mask], strict=True)
                     if lab == "positive"]
    capped = next(r for r, lab in zip(ds.row_ids, LABELS, strict=True) if lab == "positive" and r not in positive_kept)
    eff = decision_effect(inputs, rec, [], [Decision(capped, "keep")])
    assert eff.rows_in == (capped,) and len(eff.rows_out) == 1 and eff.delta == 0
    gone = eff.rows_out[0]
    assert gone in positive_kept
    assert f"row {gone} goes out: class 'positive' capped at 2 rows (random)" in eff.message()


def test_the_what_if_figures_count_the_kept_copy(case):
    signal, ds, inputs = case
    ctx = wi.prepare_what_if(ds, None, signals(ds, signal))
    before = wi.figures_for(ctx, apply_prepared(inputs, recipe(signal)))
    after = wi.figures_for(ctx, apply_prepared(inputs, recipe(signal, Decision(5, "keep"))))
    assert (before.n_rows, after.n_rows) == (5, 6)


def test_dq_filter_keeps_the_decided_copy_beside_the_survivor(tmp_path):
    """`dq filter` with a recipe carrying the decision: the text's exact duplicates are computed by the CLI."""
    pd.DataFrame({"text": TEXTS, "label": LABELS}).to_csv(tmp_path / "data.csv", index=False)
    rec = FilterRecipe(name="keep-a-copy", signals=(SignalRule("exact_duplicate", action="dedupe"),),
                       decisions=(Decision(5, "keep"),))
    path = save_recipe(rec, tmp_path / "r.json")
    r = dq("filter", "data.csv", "--recipe", str(path), "--out", "clean.csv", "--log", "removed.csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    clean = pd.read_csv(tmp_path / "clean.csv")
    assert clean["row_id"].tolist() == [0, 1, 3, 5, 6, 7]
    removed = pd.read_csv(tmp_path / "removed.csv")
    assert removed["row_id"].tolist() == [2, 4]
    assert json.loads(r.stdout)["n_kept"] == 6
