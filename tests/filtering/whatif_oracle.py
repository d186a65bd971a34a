"""The test oracle of the what-if figures: the slow way, filter the data, then call the metric modules on the
filtered rows.

Tests and bench/bench_whatif.py compare :mod:`dq_core.filtering.whatif`'s recounts against these, so the
panel's numbers stay the metrics' numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dq_core.data.dataset import TextDataset
from dq_core.filtering.whatif import WhatIfConfig, WhatIfFigures
from dq_core.metrics import coverage as cov
from dq_core.metrics.balance import compute_class_balance
from dq_core.metrics.shift import js_divergence
from dq_core.metrics.shift import views as sv
from dq_core.signals.label import estimate_joint
from dq_core.space.neighbors import nearest_distances


def reference_coverage_exact(ds_vectors: np.ndarray, ref_vectors: np.ndarray, radius: float,
                             block: int = 2048) -> float | None:
    """Share of reference rows whose nearest dataset row (cosine distance) lies within ``radius``
    (exact search, then dq_core.metrics.coverage.reference_coverage)."""
    nearest = nearest_distances(ds_vectors, ref_vectors, block=block)
    if nearest is None:
        return None
    return cov.reference_coverage(nearest, radius)


def scratch_figures(ds_after: TextDataset, ref: TextDataset | None, *, noise_flag: np.ndarray | None = None,
                    label_probs: np.ndarray | None = None, prob_classes: Sequence[str] | None = None,
                    ds_vectors: np.ndarray | None = None, ref_vectors: np.ndarray | None = None,
                    ds_clusters: np.ndarray | None = None, ref_clusters: np.ndarray | None = None,
                    n_clusters: int = 0, radius: float | None = None,
                    config: WhatIfConfig | None = None) -> WhatIfFigures:
    """The panel's figures computed from scratch on an already-filtered dataset with the metric modules.

    ``noise_flag``: label-issue flags still standing on the filtered rows, or ``label_probs`` (the filtered
    rows' label-signal probabilities, columns ``prob_classes``) for confident learning's estimate through
    dq_core.signals.label.estimate_joint; vectors/clusters: the valid (embedded) rows' vectors and
    cluster ids of the filtered dataset and of the reference.
    """
    config = config or WhatIfConfig()
    bal = compute_class_balance(ds_after.labels)
    js: dict[str, float | None] = {}

    def view_js(build):
        try:
            v = build()
        except sv.ViewSkipped:
            return None
        cp, cq = v.sampler.counts()
        if cp.sum() == 0 or cq.sum() == 0:
            return None
        return float(js_divergence(cp, cq))

    ref_cov = scene = sample = None
    if ref is not None:
        js["label"] = view_js(lambda: sv.label_view(ds_after, ref))
        js["length"] = view_js(lambda: sv.length_view(ds_after, ref, n_bins=config.length_bins))
        js["vocabulary"] = view_js(lambda: sv.vocabulary_view(ds_after, ref, vocab_size=config.vocab_size,
                                                              stop_words=config.stop_words))
        if ds_clusters is not None and ref_clusters is not None:
            js["embedding_clusters"] = view_js(lambda: sv.cluster_view(ds_clusters, ref_clusters, n_clusters))
            dcounts = np.bincount(np.asarray(ds_clusters, dtype=np.int64), minlength=n_clusters)
            rcounts = np.bincount(np.asarray(ref_clusters, dtype=np.int64), minlength=n_clusters)
            scene = cov.scene_coverage(dcounts, rcounts, min_rows=config.min_cluster_rows)
            sample = cov.sample_coverage(dcounts, rcounts)
        if ds_vectors is not None and ref_vectors is not None and radius is not None:
            ref_cov = reference_coverage_exact(ds_vectors, ref_vectors, radius)
        for col in config.metadata:
            js[f"metadata:{col}"] = view_js(lambda c=col: sv.metadata_view(
                ds_after, ref, c, max_categories=config.max_categories, n_bins=config.length_bins))
    n = len(ds_after)
    noise = float(np.asarray(noise_flag).sum() / n) if noise_flag is not None and n else None
    if label_probs is not None and n:
        codes = pd.Categorical(ds_after.labels.astype(object), categories=list(prob_classes)).codes
        noise = estimate_joint(np.asarray(codes, dtype=np.int64), np.asarray(label_probs))[1]
    return WhatIfFigures(n_rows=n, n_classes=bal.n_classes, class_counts=dict(bal.class_counts),
                         class_balance_index=bal.class_balance_index, imbalance_ratio=bal.imbalance_ratio,
                         normalized_entropy=bal.normalized_entropy, noise_ratio=noise,
                         reference_coverage=ref_cov, scene_coverage=scene, sample_coverage=sample, js=js)
