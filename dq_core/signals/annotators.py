"""Annotator disagreement: rows whose annotators disagree with each other or with the given label.

Runs when two or more per-annotator label columns are mapped (ColumnMapping.annotators); the summary
carries the dataset-level agreement rate, Krippendorff's alpha and Fleiss' kappa.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dq_core.signals.base import Signal, SignalResult, register, summarize


@register
@dataclass(frozen=True)
class AnnotatorAgreementSignal(Signal):
    min_agreement: float = 0.5  # flag when at most this share of annotators back the given label

    ranges = {"min_agreement": (0.0, 1.0)}
    name = "annotator_agreement"
    title = "Annotator disagreement"
    description = "Share of annotators who chose the given label (or the majority label when unlabelled)."
    requires = frozenset({"annotators"})

    def __call__(self, ctx) -> SignalResult:
        from dq_core.metrics.consistency import compute_annotator_agreement, rating_counts

        cols = list(ctx.ds.mapping.annotators)
        res = compute_annotator_agreement(ctx.ds.frame, cols)
        counts, cats = rating_counts(ctx.ds.frame, cols)
        m = counts.sum(axis=1)
        given = ctx.ds.labels.astype("string").to_numpy(dtype=object, na_value=None)
        pos = {c: i for i, c in enumerate(cats)}
        backing = np.array([counts[i, pos[g]] if g in pos else 0 for i, g in enumerate(given)], dtype=float)
        support = np.where(np.array([g is not None for g in given]), backing / np.maximum(m, 1),
                           np.nan_to_num(res.per_row_agreement, nan=1.0))
        support = np.where(m > 0, support, 1.0)  # no annotations: nothing to say
        issue = (m >= 2) & (support <= self.min_agreement)
        reasons = np.array([f"{int(backing[i])}/{int(m[i])} annotators chose '{given[i]}' "
                            f"(majority '{res.majority_label[i]}')" if issue[i] else ""
                            for i in range(len(m))], dtype=object)
        return SignalResult(support, issue, summarize(issue, **res.to_dict()), reasons=reasons,
                            columns={"annotator_majority": res.majority_label})
