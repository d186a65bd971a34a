"""count_rules: each rule's figures, named by what they count, on hand-built rows with known answers; the
dedupe rule's "copies in all" is the Overview's count of redundant exact copies (one function)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.filtering import (
    ConditionRule,
    Decision,
    FilterInputs,
    FilterRecipe,
    SignalRule,
    apply_prepared,
    apply_recipe,
    count_rules,
    removal_summary,
)
from dq_core.filtering.rule_counts import application_order, rule_counts_frame
from dq_core.metrics.profile import (
    compute_profile,
    count_groups,
    count_redundant_copies,
    find_exact_duplicates,
)
from dq_core.signals import run_signals
from dq_core.signals.duplicates import ExactDuplicateSignal
from tests.filtering.test_repair_aware import RECIPE as REPAIR_RECIPE
from tests.filtering.test_repair_aware import data  # noqa: F401 - the fixture of the repaired-copies rows

# rows 0-2: one text three times (case and spacing differ); 3-4 a pair whose copy (4) junk drops; 5-6 a pair
# junk drops whole; 7-11 unique, junk flags 8, the condition drops 8 and 9
TEXTS = ["the flight was late", "The flight  was late", "the flight was late", "great food", "great food",
         "ok", "ok", "a unique row", "zzzz", "another one", "and one more", "the last row"]
LABELS = ["neg", "neg", "neg", "pos", "pos", "pos", "pos", "neg", "pos", "neg", "pos", "neg"]
TOPIC = ["a"] * 8 + ["x", "x", "a", "a"]
JUNK = [4, 5, 6, 8]


@pytest.fixture(scope="module")
def rows():
    ds = build_dataset(pd.DataFrame({"text": TEXTS, "label": LABELS, "topic": TOPIC}),
                       ColumnMapping(text="text", label="label", metadata=("topic",)), name="counts")
    sig = run_signals(ds, [ExactDuplicateSignal()], use_cache=False)
    junk = np.zeros(len(ds), dtype=bool)
    junk[JUNK] = True
    sig = sig.assign(is_junk_issue=junk, junk_score=np.where(junk, 0.0, 1.0))
    return ds, FilterInputs(ds, sig)


RECIPE = FilterRecipe(name="counts", signals=(SignalRule("exact_duplicate", action="dedupe"), SignalRule("junk")),
                      conditions=(ConditionRule("topic == 'x'"),), decisions=(Decision(1, "drop"),))


def test_each_rule_in_the_order_it_applies(rows):
    ds, inp = rows
    res = apply_prepared(inp, RECIPE)
    got = {c.rule: c for c in count_rules(res)}
    assert [c.step for c in count_rules(res)] == [1, 2, 3, 4]
    assert [c.kind for c in count_rules(res)] == ["signal", "condition", "decisions", "dedupe"]
    junk, cond = got["junk (is_junk_issue)"], got["condition topic == 'x'"]
    manual, dedupe = got["manual decisions"], got["duplicate copy (is_exact_duplicate_issue)"]
    assert (junk.selects, junk.removes, junk.removes_new) == (4, 4, 4)
    assert (cond.selects, cond.removes, cond.removes_new) == (2, 2, 1)  # row 8 went with junk already
    assert (manual.selects, manual.removes, manual.removes_new) == (1, 1, 1)
    # dedupe: 7 rows in 3 groups, 4 copies in all. Its survivors are chosen by the rules alone (a decision
    # never moves them): row 0 survives, so it removes rows 1 and 2, of which only row 2 is new (row 1 goes
    # by decision first); 4 goes by junk, the 5-6 pair by junk entirely
    assert (dedupe.selects, dedupe.removes, dedupe.removes_new) == (7, 2, 1)
    assert dedupe.copies == dedupe.copies_as_loaded == 4 == compute_profile(ds).n_exact_duplicates
    assert dedupe.signal == "exact_duplicate" and junk.signal == "junk" and cond.signal is None
    # the "more after the rules above" column sums to what the recipe removes
    assert sum(c.removes_new for c in count_rules(res)) == res.n_dropped == 7
    assert sorted(res.row_ids[~res.keep_mask].tolist()) == [1, 2, 4, 5, 6, 8, 9]


def test_cli_summary_and_table_carry_the_same_counts(rows):
    ds, inp = rows
    res = apply_prepared(inp, RECIPE)
    summary = removal_summary(res)["rules"]
    assert summary == [c.to_dict() for c in count_rules(res)]
    assert set(summary[0]) == {"step", "rule", "kind", "signal", "selects", "removes", "removes_new", "relabels",
                               "repairs", "copies", "copies_as_loaded"}
    frame = rule_counts_frame(count_rules(res))
    assert frame["removes_new"].sum() == res.n_dropped
    assert frame["copies"].isna().tolist() == [True, True, True, False]


def test_dedupe_and_caps_apply_after_the_decisions():
    kinds = ("dedupe", "signal", "cap", "class", "dedupe", "condition")
    assert application_order(kinds) == [1, 3, 5, None, 0, 4, 2]


def test_relabels_and_the_manual_relabel():
    ds = build_dataset(pd.DataFrame({"text": ["a b", "c d", "e f", "g h"], "label": ["x", "x", "y", "y"]}),
                       ColumnMapping(text="text", label="label"), name="relabels")
    sig = pd.DataFrame({"row_id": ds.row_ids, "label_score": [0.1, 0.9, 0.1, 0.9],
                        "is_label_issue": [True, False, True, False], "suggested_label": ["y", "x", "x", "y"],
                        "suggested_label_prob": [0.9, 0.9, 0.3, 0.9]})
    recipe = FilterRecipe(signals=(SignalRule("label", action="relabel_or_drop", min_prob=0.7),),
                          decisions=(Decision(3, "relabel", "x"),))
    res = apply_recipe(ds, sig, recipe)
    label, manual = count_rules(res)
    assert (label.selects, label.relabels, label.removes) == (2, 1, 1)  # row 0 relabelled, row 2 dropped
    assert (manual.selects, manual.relabels, manual.removes) == (1, 1, 0)


def test_copies_on_repaired_texts_and_as_loaded(data):  # noqa: F811 - the imported fixture
    ds, sig = data
    res = apply_recipe(ds, sig, REPAIR_RECIPE)
    dedupe = next(c for c in count_rules(res) if c.kind == "dedupe")
    # as loaded only rows 3-4 repeat; once repaired, 1 copies 0 and 5 copies 2 as well
    assert (dedupe.copies, dedupe.copies_as_loaded) == (3, 1)
    assert dedupe.copies_as_loaded == compute_profile(ds).n_exact_duplicates
    assert dedupe.removes == 3


@pytest.mark.parametrize("group", [[-1, -1], [0, 0, 0, -1, 3, 3], [5, -1, 5, 2, 2, 2, 7]])
def test_redundant_copies_is_the_profile_count(group):
    g = np.array(group)
    assert count_redundant_copies(g) == int((g >= 0).sum()) - len(set(g[g >= 0].tolist()))
    assert count_groups(g) == len(set(g[g >= 0].tolist()))


def test_profile_counts_are_the_grouping_counts(rows):
    ds, _ = rows
    d = find_exact_duplicates(ds.texts, ds.labels)
    p = compute_profile(ds)
    assert p.n_exact_duplicates == count_redundant_copies(d.group_of_row) == 4
    assert (p.n_rows_in_duplicate_groups, p.n_duplicate_groups) == (7, 3)
    assert p.to_dict()["n_rows_in_duplicate_groups"] == 7 and p.to_dict()["n_duplicate_groups"] == 3


def test_class_rows_counts_each_class_as_loaded_in_class_order():
    from dq_core.filtering import class_rows

    frame = pd.DataFrame({"text": [f"t{i}" for i in range(7)], "label": ["b", "a", "b", None, "c", "b", "a"]})
    inputs = FilterInputs(build_dataset(frame, ColumnMapping(text="text", label="label"), require_labels=False), None)
    assert class_rows(inputs) == {"a": 2, "b": 3, "c": 1}  # the missing label counts for no class
