"""The advisor's candidate recipes: no cleaning, the default recipe, relabel only, drop only, duplicates and
junk only, a conservative recipe acting on the most certain flags, and, when the dataset maps an agreement
column holding a share in [0, 1], a recipe dropping the rows the annotators agreed on least
(training/advisor.py evaluates them)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dq_core.data.dataset import TextDataset
from dq_core.filtering import DEFAULT_RELABEL_PROB, ConditionRule, FilterRecipe, SignalRule, default_recipe

AGREEMENT_THRESHOLD = 0.7  # rows whose annotators agreed less than this are dropped by the agreement candidate
CONFIDENT_PROB = 0.8  # conservative: relabel only when the suggestion is at least this likely
CERTAIN_SCORE = 0.1  # conservative: acts below this label score when no row is flagged
NO_CLEANING = "none"


@dataclass(frozen=True)
class Candidate:
    key: str
    title: str
    recipe: FilterRecipe
    note: str = ""


def certain_threshold(signals: pd.DataFrame | None) -> float:
    """The label score below which the conservative recipe acts: the median score of the flagged rows (the
    more certain half of the flags), or CERTAIN_SCORE when nothing is flagged."""
    if signals is None or "label_score" not in signals or "is_label_issue" not in signals:
        return CERTAIN_SCORE
    flagged = pd.to_numeric(signals.loc[signals["is_label_issue"].astype(bool), "label_score"], errors="coerce")
    flagged = flagged.dropna()
    if flagged.empty:
        return CERTAIN_SCORE
    return float(np.clip(np.ceil(float(flagged.median()) * 100) / 100, 0.01, 1.0))


def candidate_recipes(ds: TextDataset, signals: pd.DataFrame | None = None, *,
                      agreement_threshold: float = AGREEMENT_THRESHOLD) -> list[Candidate]:
    """The recipes the advisor compares, no cleaning first (``signals`` sets the conservative threshold)."""
    certain = certain_threshold(signals)
    dupes_junk = (SignalRule("exact_duplicate", action="dedupe", required=False),
                  SignalRule("conflicting_label", action="drop", threshold=0.2, use_flag=False, required=False),
                  SignalRule("junk", action="drop", required=False))
    out = [
        Candidate(NO_CLEANING, "no cleaning", FilterRecipe(name="no cleaning", description="keep every row")),
        Candidate("default", "the default recipe", default_recipe()),
        Candidate("relabel_only", "relabel only", FilterRecipe(
            name="relabel only", description=f"relabel flagged label issues whose suggested label has p >= "
                                             f"{DEFAULT_RELABEL_PROB:g}; drop nothing",
            signals=(SignalRule("label", action="relabel", min_prob=DEFAULT_RELABEL_PROB, required=False),))),
        Candidate("drop_only", "drop only", FilterRecipe(
            name="drop only", description="drop every flagged label issue, duplicate copy, conflicting "
                                          "duplicate and junk row; relabel nothing",
            signals=(*dupes_junk, SignalRule("label", action="drop", required=False)))),
        Candidate("duplicates_junk", "duplicates and junk only", FilterRecipe(
            name="duplicates and junk only", description="drop exact-duplicate copies, conflicting duplicates "
                                                         "outside their group's majority and junk",
            signals=dupes_junk)),
        Candidate("conservative", "conservative", FilterRecipe(
            name="conservative", description=f"duplicates and junk; of the label issues only the more certain half "
                                             f"(P(given label) < {certain:.2f}, the flagged rows' median): relabel "
                                             f"those whose suggestion has p >= {CONFIDENT_PROB:g}, drop the rest; "
                                             "leave the other flags alone",
            # one rule per signal, so the page's controls can show it
            signals=(*dupes_junk, SignalRule("label", action="relabel_or_drop", threshold=certain, use_flag=False,
                                             min_prob=CONFIDENT_PROB, required=False)))),
    ]
    agreement = agreement_candidate(ds, agreement_threshold)
    if agreement is not None:
        out.append(agreement)
    return out


def agreement_raw(ds: TextDataset) -> pd.Series | None:
    col = ds.mapping.agreement
    if not col:
        return None
    for name in (col, f"meta_{col}"):
        if name in ds.frame.columns:
            return ds.frame[name]
    return None


def agreement_values(ds: TextDataset) -> pd.Series | None:
    raw = agreement_raw(ds)
    return None if raw is None else pd.to_numeric(raw, errors="coerce")


def agreement_unusable(ds: TextDataset) -> str | None:
    """Why a mapped agreement column gives no candidate (said in the advice), or None."""
    col = ds.mapping.agreement
    values = agreement_values(ds)
    if not col or values is None:
        return None
    present = values.dropna()
    if present.empty:
        return f"the agreement column '{col}' has no numeric values: no agreement candidate"
    if present.min() < 0 or present.max() > 1:
        # a fixed threshold means nothing on an unknown scale (votes, a 1-5 score)
        return (f"the agreement column '{col}' is not a share in [0, 1] (values {present.min():g} to "
                f"{present.max():g}): no agreement candidate; rescale it to the share of annotators who agree")
    return None


def agreement_candidate(ds: TextDataset, threshold: float) -> Candidate | None:
    """Drop rows whose agreement is below ``threshold``; rows without a value are kept (and counted)."""
    values = agreement_values(ds)
    if values is None or agreement_unusable(ds):
        return None
    col = ds.mapping.agreement
    n_missing = int(values.isna().sum())
    raw = agreement_raw(ds)
    words = raw[values.isna() & raw.notna() & raw.astype(str).str.strip().astype(bool)]
    note = (f"{n_missing:,} rows have no '{col}' value and are kept" if n_missing else "")
    if len(words):  # not a number: read as missing, and said, so a typo or a word scale is not lost silently
        note += (f" ({len(words):,} of them hold a non-number, e.g. {str(words.iloc[0])!r}, read as missing)")
    return Candidate("agreement", f"agreement ({col} >= {threshold:g})", FilterRecipe(
        name=f"agreement {col}", description=f"drop rows whose '{col}' is below {threshold:g}",
        conditions=(ConditionRule(f"{col} < {threshold:g}", action="drop"),)), note=note)
