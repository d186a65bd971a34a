"""What a change of manual decisions does: the rows it brings in, the rows it takes out and the labels it
changes (:func:`decision_effect` -> :class:`DecisionEffect`), as the review says when a decision is made.

The effect is the difference between two applications of the same recipe, one with the decisions before
the change and one with them after, so it is what `dq filter` and the what-if figures see, swaps and all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from dq_core.filtering.apply import EXACT_SIGNAL, apply_prepared
from dq_core.filtering.inputs import FilterInputs
from dq_core.filtering.recipe import FilterRecipe
from dq_core.filtering.repair import regroup_on_repaired
from dq_core.filtering.result import RecipeResult
from dq_core.filtering.rules import Decision
from dq_core.util.jsonsafe import to_native

SHOWN_IDS = 5  # row ids named in a message before "and N more"


@dataclass(frozen=True)
class DecisionEffect:
    """The difference a change of decisions makes to a recipe's result (row ids in the dataset's order)."""

    changes: tuple[tuple, ...]  # (row_id, Decision after or None) per row whose decision changed
    rows_in: tuple  # kept after the change, not before
    rows_out: tuple  # kept before the change, not after
    relabelled: tuple[tuple, ...]  # (row_id, label before, label after): kept on both sides, label changed
    n_kept_before: int
    n_kept_after: int
    reasons_out: dict = field(default_factory=dict)  # {row_id: why} for rows out the change did not name
    copies_kept: dict = field(default_factory=dict)  # {decided row_id: ((kind, row_ids kept after), ...)}

    @property
    def delta(self) -> int:
        return self.n_kept_after - self.n_kept_before

    def message(self, what: str | None = None) -> str:
        """One line for the page, e.g. "Kept row 252: +1 row kept (12,757 → 12,758); its exact duplicate 21100
        stays in." ``what`` replaces the opening words (say "Undo")."""
        head = what or self._what()
        if not self.rows_in and not self.rows_out:
            body = f"no row comes in or goes out ({self.n_kept_after:,} kept)"
        else:
            both = f"{len(self.rows_in):,} in, {len(self.rows_out):,} out: " if self.rows_in and self.rows_out else ""
            body = f"{both}{_signed(self.delta)} kept ({self.n_kept_before:,} → {self.n_kept_after:,})"
        extra = []
        decided = {str(r) for r, _ in self.changes}
        came_back = [r for r in self.rows_in if str(r) not in decided]
        if came_back:
            extra.append(f"{_rows(came_back)} {'comes' if len(came_back) == 1 else 'come'} back in")
        for r in self.rows_out[:SHOWN_IDS]:
            if str(r) not in decided:
                extra.append(f"row {r} goes out: {self.reasons_out.get(r) or 'by the rules'}")
        if len(self.rows_out) > SHOWN_IDS:
            extra.append(f"and {len(self.rows_out) - SHOWN_IDS:,} more rows go out")
        for r, copies in list(self.copies_kept.items())[:SHOWN_IDS]:
            for kind, ids in copies:
                subject = "its" if len(self.copies_kept) == 1 else f"row {r}'s"
                verb = "stays" if len(ids) == 1 else "stay"
                extra.append(f"{subject} {kind}{'' if len(ids) == 1 else 's'} {_ids(ids)} {verb} in")
        for r, a, b in self.relabelled[:SHOWN_IDS]:
            extra.append(f"row {r} relabelled '{a}' → '{b}'")
        if len(self.relabelled) > SHOWN_IDS:
            extra.append(f"and {len(self.relabelled) - SHOWN_IDS:,} more relabelled")
        return f"{head}: {body}" + ("; " + "; ".join(extra) if extra else "") + "."

    def _what(self) -> str:
        after = [d for _, d in self.changes]
        ids = [r for r, _ in self.changes]
        if not after:
            return "No decision changed"
        kinds = {(d.action, d.label) if d is not None else None for d in after}
        if len(kinds) > 1:
            return f"Changed the decisions on {_rows(ids)}"
        kind = next(iter(kinds))
        if kind is None:
            return f"Cleared the decision on {_rows(ids)}"
        action, label = kind
        verb = {"keep": "Kept", "drop": "Dropped", "relabel": "Relabelled"}[action]
        return f"{verb} {_rows(ids)}" + (f" to '{label}'" if action == "relabel" else "")


def _signed(delta: int) -> str:
    word = "row" if abs(delta) == 1 else "rows"
    return f"{'+' if delta > 0 else '−' if delta < 0 else '±'}{abs(delta):,} {word}"


def _ids(ids: Sequence) -> str:
    shown = ", ".join(str(r) for r in ids[:SHOWN_IDS])
    return shown + (f" and {len(ids) - SHOWN_IDS:,} more" if len(ids) > SHOWN_IDS else "")


def _rows(ids: Sequence) -> str:
    return f"row {ids[0]}" if len(ids) == 1 else f"rows {_ids(ids)}"


def diff_results(before: RecipeResult, after: RecipeResult) -> tuple[tuple, tuple, tuple]:
    """(rows in, rows out, relabelled) between two results of one dataset: row ids kept by ``after`` only,
    kept by ``before`` only, and (row_id, label before, label after) of rows both keep with another label."""
    came = np.flatnonzero(after.keep_mask & ~before.keep_mask)
    went = np.flatnonzero(before.keep_mask & ~after.keep_mask)
    lb, la = before.final_labels(), after.final_labels()
    both = np.flatnonzero(before.keep_mask & after.keep_mask & (lb != la))
    ids = before.row_ids
    return (tuple(to_native(ids[p]) for p in came), tuple(to_native(ids[p]) for p in went),
            tuple((to_native(ids[p]), lb[p], la[p]) for p in both))


def decision_effect(inputs: FilterInputs, recipe: FilterRecipe, before: Iterable[Decision],
                    after: Iterable[Decision]) -> DecisionEffect:
    """What replacing the decisions ``before`` by ``after`` does to ``recipe`` on ``inputs`` (the recipe's own
    decisions are ignored). Both sides are applied as the page and `dq filter` apply them."""
    before, after = tuple(before), tuple(after)
    res_b = apply_prepared(inputs, recipe.with_decisions(before), strict=False)
    res_a = apply_prepared(inputs, recipe.with_decisions(after), strict=False)
    old = {str(d.row_id): d for d in before}
    new = {str(d.row_id): d for d in after}
    changes = []
    for k in sorted(old.keys() | new.keys(), key=_id_order):
        if new.get(k) != old.get(k):
            changes.append(((new.get(k) or old[k]).row_id, new.get(k)))
    changes = tuple(changes)
    rows_in, rows_out, relabelled = diff_results(res_b, res_a)
    decided = {str(r) for r, _ in changes}
    out_pos, _ = inputs.positions([r for r in rows_out if str(r) not in decided][:SHOWN_IDS])
    reasons_out = {to_native(inputs.row_ids[p]): why for p, why in zip(out_pos, res_a.reasons_at(out_pos),
                                                                         strict=True)}
    kept_ids = [r for r, d in changes if d is not None and d.action != "drop"]
    return DecisionEffect(changes=changes, rows_in=rows_in, rows_out=rows_out, relabelled=relabelled,
                          n_kept_before=res_b.n_kept, n_kept_after=res_a.n_kept, reasons_out=reasons_out,
                          copies_kept=copies_kept(inputs, res_a, kept_ids[:SHOWN_IDS]))


def _id_order(key: str):
    return (0, int(key), "") if key.lstrip("-").isdigit() else (1, 0, key)


DUPLICATE_KINDS = (("exact_duplicate", "exact duplicate"), ("near_duplicate", "near duplicate"))


def copies_kept(inputs: FilterInputs, result: RecipeResult, row_ids: Sequence) -> dict:
    """{row_id: ((kind, row ids), ...)}: for each of ``row_ids`` that ``result`` keeps, the other members of its
    duplicate groups (under each dedupe rule of the result's recipe) that it keeps too."""
    rules = [r for r in result.recipe.signals if r.enabled and r.action == "dedupe"
             and (inputs.flag(r.signal) is not None or inputs.score(r.signal) is not None)]
    if not rules or not len(row_ids):
        return {}
    pos, _ = inputs.positions(list(row_ids))
    out: dict = {}
    for rule in rules:
        groups = inputs.group_codes(rule.signal)
        if result.text_repairs and rule.signal == EXACT_SIGNAL:
            groups, _ = regroup_on_repaired(inputs, groups, np.zeros(inputs.n, dtype=bool), result.text_repairs)
        kind = next((k for s, k in DUPLICATE_KINDS if rule.signal.startswith(s)), f"duplicate ({rule.signal})")
        for p in pos:
            if groups[p] < 0 or not result.keep_mask[p]:
                continue
            rid = to_native(inputs.row_ids[p])
            named = {q for _, ids in out.get(rid, ()) for q in ids}  # an exact copy is a near one too
            peers = [to_native(inputs.row_ids[q]) for q in np.flatnonzero((groups == groups[p]) & result.keep_mask)
                     if q != p]
            peers = tuple(q for q in peers if q not in named)
            if peers:
                out[rid] = (*out.get(rid, ()), (kind, peers))
    return out
