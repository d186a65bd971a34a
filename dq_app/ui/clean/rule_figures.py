"""The figures beside each rule of the filter panel and its *Rules in effect* table.

Every number is counted by :func:`dq_core.filtering.count_rules` (the same counts `dq filter` prints); this
module only words them, each figure named by what it counts.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dq_core.filtering import RecipeResult, RuleCount, count_rules
from dq_core.filtering.apply import EXACT_SIGNAL
from dq_core.filtering.rule_counts import rule_counts_frame


def _n(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def rule_caption(c: RuleCount) -> str:
    """The figures beside a rule that is on, each named by what it counts (dq_core counts them)."""
    if c.kind == "dedupe":
        near = "" if c.signal == EXACT_SIGNAL else "near-duplicate "
        overview = " (as on the Overview)" if not near else ""
        text = (f"selects {_n(c.selects, 'row', 'rows')} in {near}duplicate groups · removes "
                f"**{_n(c.removes, near + 'copy', near + 'copies')}** left after the other rules · ")
        if c.copies == c.copies_as_loaded:
            return text + f"{_n(c.copies, near + 'copy', near + 'copies')} in all{overview}"
        return text + (f"{_n(c.copies, near + 'copy', near + 'copies')} in all among the repaired texts, "
                       f"{c.copies_as_loaded:,} among the texts as loaded{overview}")
    text = f"selects {c.selects:,} · removes **{c.removes:,}**"
    if c.removes_new != c.removes:
        text += f" ({c.removes_new:,} more after the rules above)"
    if c.relabels:
        text += f" · relabels **{c.relabels:,}**"
    if c.repairs:
        text += f" · repairs **{c.repairs:,}**"
    return text


def fill_counts(slots: dict[str, tuple], result: RecipeResult) -> None:
    """Next to each signal: the rows it selects on its own, and what it removes / relabels in this recipe."""
    by_signal: dict[str, RuleCount] = {}
    for c in count_rules(result):
        if c.signal is not None:
            by_signal.setdefault(c.signal, c)
    for name, (slot, alone, on) in slots.items():
        if not on or name not in by_signal:
            slot.caption(f"would select **{alone:,}** rows")
            continue
        slot.caption(rule_caption(by_signal[name]))


RULE_COLUMNS = {  # rule_counts column -> (header, what it counts)
    "step": ("step", "the order the rules apply in"),
    "rule": ("rule", None),
    "selects": ("selects", "rows the rule's own test picks, whatever the other rules do (a dedupe rule: the "
                           "rows of its duplicate groups)"),
    "removes": ("removes", "rows it removes; a row two rules remove counts for both"),
    "removes_new": ("more after the rules above", "rows it removes that no rule above it removes: this "
                                                  "column sums to the rows the recipe removes"),
    "relabels": ("relabels", "kept rows whose label it changed"),
    "repairs": ("repairs", "kept rows whose text it repaired"),
    "copies": ("copies in all", "dedupe: the redundant copies in its groups before any rule (rows beyond the "
                                "first of each group)"),
    "copies_as_loaded": ("copies in the texts as loaded", "dedupe: the same count on the texts as loaded "
                                                          "(the Overview's), when a repair made a text a copy"),
}


def rules_in_effect(result: RecipeResult, key: str) -> None:
    """The *Rules in effect* table: every rule in the order it applies, with its figures."""
    frame = rule_counts_frame(count_rules(result))
    if frame["copies"].equals(frame["copies_as_loaded"]):
        frame = frame.drop(columns="copies_as_loaded")
    if not frame["repairs"].any():  # no repair rule: a column of zeros only widens the table
        frame = frame.drop(columns="repairs")
    frame = frame[[c for c in RULE_COLUMNS if c in frame.columns]]
    text_cols = [c for c in ("copies", "copies_as_loaded") if c in frame.columns]
    for c in text_cols:  # a figure of dedupe rules only: blank elsewhere, not "None"
        frame[c] = [f"{v:,}" if pd.notna(v) else "" for v in frame[c]]
    st.caption("The rules apply in this order: signal, class, condition and row-set rules as listed, then your "
               "decisions, then dedupe (one copy kept per group among the rows still in), then caps. "
               f"The recipe removes **{result.n_dropped:,}** of the {result.n_rows:,} rows and keeps "
               f"**{result.n_kept:,}**.")
    st.dataframe(frame, hide_index=True, width="stretch", key=f"{key}_rules",
                 column_config={c: (st.column_config.TextColumn(h, help=why) if c in ("rule", *text_cols) else
                                    st.column_config.NumberColumn(h, help=why, format="localized"))
                                for c, (h, why) in RULE_COLUMNS.items() if c in frame.columns})
