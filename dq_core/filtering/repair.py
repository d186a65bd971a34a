"""Repairing text instead of dropping the row: the junk signal proposes ftfy's fix for mojibake in its
``mojibake_fixed_text`` column, and a signal rule with the ``repair`` / ``repair_or_drop`` action puts it in
place of the row's text (see :class:`dq_core.filtering.result.RecipeResult` for where the repairs go).
Exact-duplicate dedupe then groups the repaired texts (:func:`regroup_on_repaired`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dq_core.errors import DataError
from dq_core.filtering.inputs import FilterInputs
from dq_core.filtering.rules import REPAIR_SIGNAL, SignalRule
from dq_core.util.text import exact_duplicate_codes


def extra_column(inp: FilterInputs, signal: str, name: str) -> str | None:
    """A signal's extra column: ``<signal>__<name>`` (a parameterised signal's), else plain ``name`` for
    the default signal."""
    sig = inp.signals
    if sig is None:
        return None
    for col in (f"{signal}__{name}", name if signal == REPAIR_SIGNAL else None):
        if col and col in sig.columns:
            return col
    return None


def find_repairs(inp: FilterInputs, rule: SignalRule, hit: np.ndarray,
                 text_repairs: dict[int, tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``hit`` the rule repairs (their (before, after) added to ``text_repairs``), and flagged rows
    already holding their repair (nothing left to fix: this keeps a repaired row on a second application)."""
    col = extra_column(inp, rule.signal, "mojibake_fixed_text")
    if col is None:
        raise DataError(f"the {rule.action} action needs the 'mojibake_fixed_text' column the junk signal "
                        "writes, and these signals lack it (computed by an older version?); compute the "
                        "signals again, or use the drop action")
    proposed = inp.signals[col]
    pos = np.flatnonzero(hit & proposed.notna().to_numpy())  # the rows with a proposed repair: few
    if rule.action == "repair_or_drop":
        # a row that is also empty, too short, ... stays junk once repaired: repair_or_drop drops it
        kinds = extra_column(inp, rule.signal, "junk_kinds")
        if kinds is not None:
            pos = pos[[k == "mojibake" for k in inp.signals[kinds].iloc[pos].tolist()]]
    fixed = np.zeros(inp.n, dtype=bool)
    settled = np.zeros(inp.n, dtype=bool)
    for p, after, before in zip(pos, proposed.iloc[pos].tolist(), inp.ds.texts.iloc[pos].tolist(), strict=True):
        if not isinstance(after, str) or not after:
            continue
        before = before if isinstance(before, str) else ""
        if after == before:
            settled[p] = True
        else:
            fixed[p] = True
            text_repairs[int(p)] = (before, after)
    return fixed, settled


def regroup_on_repaired(inp: FilterInputs, groups: np.ndarray, hit: np.ndarray,
                        text_repairs: dict[int, tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    """Exact-duplicate groups and hits on the texts as the recipe leaves them: a repaired text that now
    equals another row's text (normalised as the exact_duplicate signal normalises) joins its group, so the
    recipe does not keep two copies of one text. Groups untouched by a repair keep their hits."""
    if not text_repairs:
        return groups, hit
    texts = inp.ds.texts.fillna("").astype(str).to_numpy(dtype=object, copy=True)
    repaired = np.fromiter(text_repairs, dtype=np.int64)
    for p in repaired:
        texts[p] = text_repairs[int(p)][1]
    new_groups = exact_duplicate_codes(pd.Series(texts, dtype=object))
    in_group = new_groups >= 0
    touched = np.unique(new_groups[repaired][new_groups[repaired] >= 0])
    from_repair = np.isin(new_groups, touched) & in_group
    # a row keeps its original hit only while it still has a copy (its own repair may have parted it)
    return new_groups, (hit & in_group) | from_repair
