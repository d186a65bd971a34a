"""What the signals flag, counted and ranked: the Clean page's figures and tables, the review table's order.

Rows are ranked most suspicious first: by the lowest of their signal scores (scores are in [0, 1], low =
suspicious; a row without scores counts as 1), ties by row position, so a list is deterministic. Among the
rows any signal flags, the rows more signals flag come first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dq_core.signals.runner import SignalReport

SCORE_SUFFIX = "_score"


@dataclass(frozen=True)
class FlagCounts:
    """Rows flagged per signal and by any signal, of ``n_rows``."""

    n_rows: int
    any_signal: int  # rows at least one signal flags
    per_signal: dict[str, int]  # signal key -> rows it flags

    def share(self, n: int) -> float:
        """``n`` rows as a share of every row (0 for an empty frame)."""
        return n / max(self.n_rows, 1)


def flag_counts(report: SignalReport) -> FlagCounts:
    f = report.frame
    return FlagCounts(n_rows=len(f), any_signal=int((f["n_issues"] > 0).sum()),
                      per_signal={k: int(f[report.issue_column(k)].sum()) for k in report.summaries})


def lowest_score(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> np.ndarray:
    """Per row, the lowest of its scores in ``columns`` (None: every ``*_score`` column); 1.0 without any."""
    cols = [c for c in frame.columns if str(c).endswith(SCORE_SUFFIX)] if columns is None else list(columns)
    return frame[cols].min(axis=1).fillna(1.0).to_numpy() if cols else np.ones(len(frame))


def rank_suspicious(frame: pd.DataFrame | None, rows: np.ndarray, *, columns: Sequence[str] | None = None,
                    most_flags_first: bool = False) -> np.ndarray:
    """Positions of the ``rows`` (a boolean mask over ``frame``'s rows) most suspicious first, by
    :func:`lowest_score` of ``columns``; with ``most_flags_first``, by ``n_issues`` (descending) before that.
    ``frame`` None (no signals): the rows in their order."""
    pos = np.flatnonzero(np.asarray(rows, dtype=bool))
    if frame is None:
        return pos
    keys = [pos, lowest_score(frame, columns)[pos]]
    if most_flags_first:
        keys.append(-frame["n_issues"].to_numpy(dtype=np.int64)[pos])
    return pos[np.lexsort(keys)]


def most_suspicious(report: SignalReport, signal: str | None = None) -> np.ndarray:
    """Positions of the rows ``signal`` flags, ranked by its score; ``signal`` None: the rows any signal flags,
    those more signals flag first, then by the lowest of the report's scores."""
    f = report.frame
    if signal is None:
        return rank_suspicious(f, f["n_issues"].to_numpy() > 0, most_flags_first=True,
                               columns=[report.score_column(k) for k in report.summaries])
    return rank_suspicious(f, f[report.issue_column(signal)].to_numpy(dtype=bool),
                           columns=[report.score_column(signal)])
