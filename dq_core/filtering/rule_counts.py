"""What each rule of an applied recipe does, as figures named by what they count: the Clean page's caption
beside each rule and its *Rules in effect* table, `dq filter`'s ``rules`` and the export's summary.

The rules apply in a fixed order (see :mod:`dq_core.filtering`): signal, class, condition and row-set rules
in recipe order, then the manual decisions, then the dedupe rules (one copy kept per group among the rows
still in), then the class caps. :func:`count_rules` lists them in that order, and for each:

- ``selects``: rows its own test picks, whatever the other rules do (a signal's flag or threshold, a class,
  a condition, a row set, the rows with a decision; a dedupe rule: the rows of the duplicate groups it
  touches; a cap: the class's rows left when it applies);
- ``removes``: rows it asks to drop that the recipe drops (a row two rules drop counts for both);
- ``removes_new``: of those, the rows no rule applied before it drops. They sum to the recipe's
  ``n_dropped``. A dedupe rule only ever drops rows the other rules leave, so its two figures are equal;
- ``relabels`` / ``repairs``: kept rows whose label / text it changed;
- ``copies`` (dedupe rules): the redundant copies in its groups before any rule, the rows beyond the first
  of each group (for exact duplicates, the Overview's and `dq profile`'s ``n_exact_duplicates``), counted
  on the texts as the rule grouped them (repaired texts included); ``copies_as_loaded``: the same count on
  the texts as loaded, which differs only when a repair made a text copy another.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from dq_core.filtering.inputs import FilterInputs
    from dq_core.filtering.result import RecipeResult

MANUAL = "manual decisions"
LATE_STEPS = ("dedupe", "cap")  # applied after the manual decisions, on the rows the others leave


@dataclass(frozen=True)
class RuleCount:
    step: int  # 1 = applied first
    rule: str
    kind: str  # signal | class | condition | row_set | decisions | dedupe | cap
    signal: str | None  # the signal a signal or dedupe rule reads
    selects: int
    removes: int
    removes_new: int
    relabels: int
    repairs: int
    copies: int | None = None
    copies_as_loaded: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def application_order(kinds: tuple[str, ...]) -> list[int | None]:
    """Rule indices in the order they apply; ``None`` stands for the manual decisions."""
    early = [i for i, k in enumerate(kinds) if k not in LATE_STEPS]
    late = [i for k in LATE_STEPS for i, kk in enumerate(kinds) if kk == k]
    return [*early, None, *late]


def count_rules(result: RecipeResult) -> tuple[RuleCount, ...]:
    """Per rule, in the order the rules apply, what it selects, removes, relabels and repairs."""
    n = result.n_rows
    none = np.zeros(n, dtype=bool)
    dropped = ~result.keep_mask
    k = len(result.rule_names)
    kinds = result.rule_kinds or ("signal",) * k
    selects = result.select_hits or tuple(d | r for d, r in zip(result.drop_hits, result.relabel_hits, strict=True))
    signals = result.rule_signals or (None,) * k
    fixes = result.repair_hits or (none,) * k
    by_rules = np.zeros(n, dtype=bool)
    for r in result.relabel_hits:
        by_rules |= r
    seen = np.zeros(n, dtype=bool)
    out = []
    for step, i in enumerate(application_order(kinds), start=1):
        if i is None:
            removed = result.manual_drop & dropped
            row = dict(rule=MANUAL, kind="decisions", signal=None,
                       selects=int((result.manual_drop | result.manual_keep).sum()),
                       relabels=int((result.manual_keep & result.relabelled_mask & ~by_rules).sum()), repairs=0)
        else:
            removed = result.drop_hits[i] & dropped
            row = dict(rule=result.rule_names[i], kind=kinds[i], signal=signals[i], selects=int(selects[i].sum()),
                       relabels=int((result.relabel_hits[i] & result.relabelled_mask).sum()),
                       repairs=int((fixes[i] & result.repaired_mask).sum()))
            if i in result.dedupe_copies:
                row["copies"], row["copies_as_loaded"] = result.dedupe_copies[i]
        out.append(RuleCount(step=step, removes=int(removed.sum()), removes_new=int((removed & ~seen).sum()),
                             **row))
        seen |= removed
    return tuple(out)


def recipe_in_words(result: RecipeResult) -> list[str]:
    """The recipe as applied, one plain sentence per step that did something, in the order the steps apply:
    what the story, the dataset card and any other document say the cleaning did (one home, so they agree).
    A removal counts once, at the first step that removed the row ("N more" when an earlier step took some)."""
    from dq_core.util.wording import counted

    lines = []
    for c in count_rules(result):
        did = []
        if c.removes:
            more = c.removes_new
            did.append(f"removed {counted(c.removes, 'row')}" + (f" ({more:,} not removed by an earlier step)"
                                                                  if more != c.removes else ""))
        if c.relabels:
            did.append(f"relabelled {counted(c.relabels, 'row')}")
        if c.repairs:
            did.append(f"repaired the text of {counted(c.repairs, 'row')}")
        if did:
            lines.append(f"Step {c.step}, {c.rule}: {', '.join(did)}.")
    kept = f"{result.n_kept:,} of {result.n_rows:,} rows kept"
    return [*lines, f"In all: {kept}" + (f", {result.n_relabelled:,} relabelled" if result.n_relabelled else "")
            + (f", {result.n_repaired:,} repaired" if result.n_repaired else "") + "."]


def rule_counts_frame(counts: tuple[RuleCount, ...]) -> pd.DataFrame:
    """The counts as a table (the Clean page's *Rules in effect*); copies are blank for non-dedupe rules."""
    cols = list(RuleCount.__dataclass_fields__)
    frame = pd.DataFrame([c.to_dict() for c in counts], columns=cols)
    for c in ("copies", "copies_as_loaded"):
        frame[c] = frame[c].astype("Int64")
    return frame


def class_rows(inputs: FilterInputs) -> dict[str, int]:
    """Rows per class as loaded, in the inputs' class order: what a class rule selects on its own (the
    count beside each class in the Clean page's per-class rules)."""
    counts = np.bincount(inputs.label_codes[inputs.label_codes >= 0], minlength=len(inputs.classes))
    return {c: int(counts[i]) for i, c in enumerate(inputs.classes)}
