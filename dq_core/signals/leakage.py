"""Leakage: dataset rows that also appear (exactly or nearly) in the reference/test rows.

A training row that is a near copy of a test row inflates test scores; such rows should go.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dq_core.signals.base import Signal, SignalResult, register, summarize
from dq_core.util.text import first_exact_match


@register
@dataclass(frozen=True)
class LeakageSignal(Signal):
    threshold: float = 0.08

    ranges = {"threshold": (0.0, 1.0)}
    name = "leakage"
    title = "Leakage into reference/test"
    description = "Exact or near duplicate (cosine ≥ 1 − threshold) of a reference/test row."
    requires = frozenset({"embeddings", "reference"})

    def __call__(self, ctx) -> SignalResult:
        ref = ctx.reference
        nr = ctx.nearest_reference()
        d = nr.distances[:, 0].astype(np.float64)
        idx = nr.indices[:, 0]
        valid = ctx.valid
        ref_valid = np.linalg.norm(ctx.reference_embeddings, axis=1) > 0
        d = np.where(valid & ref_valid[idx], d, 1.0)
        # Exact matches by text as well: they are certain even when the search is approximate.
        match = first_exact_match(ctx.texts, ref.texts)
        exact = match >= 0
        if exact.any():
            pos = np.flatnonzero(exact)
            idx = idx.copy()
            idx[pos] = match[pos]
            d[pos] = 0.0
        issue = d <= self.threshold
        scores = np.clip(d / (2 * self.threshold), 0.0, 1.0) if self.threshold > 0 else (d > 0).astype(float)
        scores = np.where(issue, np.minimum(scores, 0.5), np.maximum(scores, 0.5 + 1e-9))
        ref_ids = ref.row_ids
        reasons = np.array([("identical to" if exact[i] else "near copy of") + f" reference row "
                            f"{ref_ids[idx[i]]} (cosine {1 - d[i]:.3f})" if issue[i] else ""
                            for i in range(len(d))], dtype=object)
        ref_rows_hit = int(len(np.unique(idx[issue])))
        return SignalResult(scores, issue, summarize(issue, n_exact=int(exact.sum()), threshold=self.threshold,
                                                     n_reference_rows_matched=ref_rows_hit,
                                                     n_reference_rows=len(ref)),
                            reasons=reasons)
