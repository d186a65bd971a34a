"""Which rows to review, ranked: the Clean page's review table (and any other page or command) reads it here.

Rows are ranked most suspicious first, as :mod:`dq_core.signals.flagged` ranks them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from dq_core.errors import DataError
from dq_core.filtering.inputs import FilterInputs
from dq_core.filtering.recipe import Decision
from dq_core.filtering.result import RecipeResult
from dq_core.signals.flagged import rank_suspicious
from dq_core.util.jsonsafe import to_native

# Which rows a review shows: the recipe drops, relabels or repairs them; a signal flags them but the recipe keeps
# them as they are; every row; rows with a manual decision.
REVIEW_VIEWS = ("touched by the recipe", "flagged but kept", "most suspicious", "with a decision")
REVIEW_LIMIT = 500
# Signal columns shown next to the text when the signals frame has them.
REVIEW_SIGNAL_COLUMNS = ("suggested_label", "suggested_label_prob", "label_score")


def review_mask(inputs: FilterInputs, result: RecipeResult, decided: np.ndarray, view: str) -> np.ndarray:
    """The rows ``view`` (one of REVIEW_VIEWS) shows; ``decided`` marks the rows with a manual decision."""
    if view == "touched by the recipe":
        return ~result.keep_mask | result.relabelled_mask | result.repaired_mask
    if view == "flagged but kept":
        flagged = np.zeros(inputs.n, dtype=bool)
        for s in inputs.signal_names:
            f = inputs.flag(s)
            if f is not None:
                flagged |= f
        return flagged & result.keep_mask & ~result.relabelled_mask & ~result.repaired_mask
    if view == "with a decision":
        return decided
    if view == "most suspicious":
        return np.ones(inputs.n, dtype=bool)
    raise DataError(f"unknown review view '{view}'; use one of: {', '.join(REVIEW_VIEWS)}")


def review_frame(inputs: FilterInputs, result: RecipeResult, decisions: Mapping[str, Decision], view: str, *,
                 limit: int = REVIEW_LIMIT) -> pd.DataFrame:
    """At most ``limit`` rows of ``view``, most suspicious first: the row's manual decision (and the label of
    a relabel decision), row_id, text, label, what the recipe does with the row, why, and the label signal's
    suggestion and score. When the recipe repairs texts, a ``repaired text`` column after ``text`` holds the
    text after the repair (None for rows it does not repair).

    ``decisions``: {str(row_id): Decision}, as :meth:`DecisionStore.as_dict` returns them.
    """
    ds = inputs.ds
    sig = inputs.signals
    decided = np.zeros(inputs.n, dtype=bool)
    if decisions:
        pos, _ = inputs.positions([d.row_id for d in decisions.values()])
        decided[pos] = True
    pos = rank_suspicious(sig, review_mask(inputs, result, decided, view))[:limit]
    labels = result.final_labels()
    kept = np.where(result.relabelled_mask[pos], "relabel → " + labels[pos].astype(str), "keep")
    fixed = result.repaired_mask[pos]
    kept = np.where(fixed, np.where(kept == "keep", "repair", np.char.add(kept.astype(str), " · repair")), kept)
    status = np.where(~result.keep_mask[pos], "drop", kept)
    rid = ds.row_ids[pos]
    dec = [decisions.get(str(r)) for r in rid]
    frame = pd.DataFrame({
        # the reviewer's columns first, so a wide table never hides them behind a horizontal scroll
        "decision": [d.action if d else "" for d in dec],
        "relabel to": [d.label if d and d.action == "relabel" else None for d in dec],
        "row_id": rid,
        "text": ds.texts.to_numpy(dtype=object)[pos],
        "label": ds.labels.to_numpy(dtype=object)[pos],
        "recipe": status,
        "reasons": result.reasons_at(pos),
    })
    if result.text_repairs:
        frame.insert(frame.columns.get_loc("text") + 1, "repaired text",
                     np.where(fixed, result.final_texts(ds)[pos], None))
    if sig is not None:
        for c in REVIEW_SIGNAL_COLUMNS:
            if c in sig.columns:
                frame[c] = sig[c].to_numpy()[pos]
    return frame


def parse_row_ids(text: str, inputs: FilterInputs) -> list:
    """Row ids typed by hand (comma or newline separated) as the dataset's own ids; a DataError names the
    ones the dataset does not have."""
    parts = [p.strip() for p in text.replace("\n", ",").split(",") if p.strip()]
    if not parts:
        raise DataError("type one or more row ids, separated by commas")
    pos, missing = inputs.positions(parts)
    if missing:
        raise DataError(f"row ids not in the dataset: {', '.join(map(str, missing[:5]))}"
                        + (" …" if len(missing) > 5 else ""))
    return [to_native(inputs.row_ids[p]) for p in pos]
