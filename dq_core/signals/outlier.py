"""Outliers: rows far from their k nearest neighbours in embedding space (shared approximate graph).

The mean cosine distance to the k nearest neighbours is turned into a robust z-score (median/MAD), so
the flag adapts to how spread out a corpus is; the score is a logistic of that z, 0.5 at the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dq_core.signals.base import Signal, SignalResult, register, summarize


@register
@dataclass(frozen=True)
class OutlierSignal(Signal):
    k: int = 10
    z_threshold: float = 3.0

    ranges = {"k": (1, 1000), "z_threshold": (0.0, 100.0)}
    name = "outlier"
    title = "Outliers"
    description = "Far from its nearest neighbours in embedding space (robust z of the mean kNN distance)."
    requires = frozenset({"embeddings"})

    def __call__(self, ctx) -> SignalResult:
        g = ctx.knn(self.k)
        valid = ctx.valid
        d = g.distances.mean(axis=1).astype(np.float64)
        ok = valid & np.isfinite(d)
        n = len(d)
        if ok.sum() < 3:
            z = np.zeros(n)
        else:
            med = float(np.median(d[ok]))
            mad = float(np.median(np.abs(d[ok] - med))) * 1.4826
            z = (d - med) / max(mad, 1e-6)
        z = np.where(ok, z, 0.0)  # empty texts have no embedding: the junk signal reports them
        scores = 1.0 / (1.0 + np.exp(np.clip(z - self.z_threshold, -50, 50)))
        issue = ok & (z > self.z_threshold)
        reasons = np.array([f"far from its neighbours (mean cosine distance {d[i]:.2f}, z {z[i]:.1f})"
                            if issue[i] else "" for i in range(n)], dtype=object)
        summary = summarize(issue, k=self.k, median_distance=float(np.median(d[ok])) if ok.any() else None,
                            exact_search=bool(g.exact))
        return SignalResult(scores, issue, summary, reasons=reasons,
                            columns={"outlier_knn_distance": d.astype(np.float32)})
