"""The what-if figures of one recipe result, recounted from a :class:`~.context.WhatIfContext` and a keep
mask (:func:`figures`, :func:`figures_for`), and the before/after table the Clean page shows (:func:`what_if`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dq_core.errors import DataError
from dq_core.filtering.whatif.context import WhatIfContext
from dq_core.filtering.whatif.counts import (
    js_or_none,
    length_counts,
    metadata_js,
    noise_ratio_cl,
    repaired_vocabulary_totals,
    sample_coverage_from_counts,
    scene_coverage_from_counts,
    vocabulary_js,
    vocabulary_js_from_totals,
)
from dq_core.filtering.whatif.repairs import moved_rows
from dq_core.metrics.balance import compute_class_balance_from_counts
from dq_core.space.neighbors import nearest_distances
from dq_core.util.text import word_counts

COVERAGE_TOLERANCE = 1e-6  # as dq_core.metrics.coverage.reference_coverage: float32 dot products of equal vectors

FIGURE_LABELS = {
    "n_rows": "rows", "n_classes": "classes", "class_balance_index": "class-balance index",
    "imbalance_ratio": "imbalance ratio", "normalized_entropy": "normalised label entropy",
    "noise_ratio": "estimated noise ratio", "reference_coverage": "reference coverage",
    "scene_coverage": "scene coverage", "sample_coverage": "sample coverage",
}
# For each figure: +1 when a higher value is better, -1 when lower is better (the page colours deltas).
FIGURE_DIRECTION = {"n_rows": 0, "n_classes": 0, "class_balance_index": 1, "imbalance_ratio": -1,
                    "normalized_entropy": 1, "noise_ratio": -1, "reference_coverage": 1, "scene_coverage": 1,
                    "sample_coverage": 1}
JS_DIRECTION = -1  # a shift view's JS divergence: lower (closer to the reference) is better


@dataclass(frozen=True)
class WhatIfFigures:
    n_rows: int
    n_classes: int
    class_counts: dict[str, int]
    class_balance_index: float
    imbalance_ratio: float
    normalized_entropy: float
    noise_ratio: float | None
    reference_coverage: float | None
    scene_coverage: float | None
    sample_coverage: float | None
    js: dict[str, float | None] = field(default_factory=dict)  # shift view -> JS divergence (base 2)

    def headline(self) -> dict[str, float | None]:
        return {k: getattr(self, k) for k in FIGURE_LABELS}

    def to_dict(self) -> dict:
        return {**self.headline(), "class_counts": dict(self.class_counts), "js": dict(self.js)}


@dataclass(frozen=True)
class WhatIfDelta:
    before: WhatIfFigures
    after: WhatIfFigures

    def table(self) -> pd.DataFrame:
        """One row per figure (then per shift view's JS): before, after, delta, better/worse."""
        rows = []
        for k, label in FIGURE_LABELS.items():
            rows.append(_delta_row(label, getattr(self.before, k), getattr(self.after, k), FIGURE_DIRECTION[k], k))
        for view in dict.fromkeys([*self.before.js, *self.after.js]):
            rows.append(_delta_row(f"JS {view}", self.before.js.get(view), self.after.js.get(view), JS_DIRECTION,
                                   f"js:{view}"))
        return pd.DataFrame(rows)

    def class_table(self) -> pd.DataFrame:
        names = list(dict.fromkeys([*self.before.class_counts, *self.after.class_counts]))
        b = [self.before.class_counts.get(c, 0) for c in names]
        a = [self.after.class_counts.get(c, 0) for c in names]
        nb, na = max(sum(b), 1), max(sum(a), 1)
        return pd.DataFrame({"class": names, "before": b, "after": a, "delta": np.subtract(a, b),
                             "share before": np.divide(b, nb), "share after": np.divide(a, na)})

    def to_dict(self) -> dict:
        return {"before": self.before.to_dict(), "after": self.after.to_dict(),
                "delta": {r["key"]: r["delta"] for r in self.table().to_dict(orient="records")}}


def _delta_row(label: str, b, a, direction: int, key: str) -> dict:
    def num(x):
        return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else float(x)

    b, a = num(b), num(a)
    delta = None if a is None or b is None else a - b
    verdict = ""
    if delta is not None and direction and abs(delta) > 1e-12:
        verdict = "better" if delta * direction > 0 else "worse"
    return {"key": key, "figure": label, "before": b, "after": a, "delta": delta, "change": verdict}


def what_if(before: WhatIfFigures, after: WhatIfFigures) -> WhatIfDelta:
    """The before/after deltas the panel shows."""
    return WhatIfDelta(before, after)


def figures(ctx: WhatIfContext, keep: np.ndarray | None = None, label_codes: np.ndarray | None = None,
            classes: Sequence[str] | None = None, relabelled: np.ndarray | None = None,
            repairs: dict[int, str] | None = None) -> WhatIfFigures:
    """The panel's figures for the rows in ``keep`` with labels ``label_codes`` (codes into ``classes``);
    ``repairs`` ({position: repaired text}) gives the kept rows whose text a recipe repaired, measured by
    that text (in the embedding figures when the context embedded it)."""
    n = ctx.n
    keep = np.ones(n, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    codes = ctx.label_codes if label_codes is None else label_codes
    classes = list(ctx.classes if classes is None else classes)
    n_kept = int(keep.sum())

    kc = codes[keep]
    counts = np.bincount(kc[kc >= 0], minlength=len(classes))
    bal = compute_class_balance_from_counts({c: int(counts[i]) for i, c in enumerate(classes)})

    noise = None
    if ctx.label_probs is not None and n_kept:
        # final labels as given labels; a class a relabel invented has no probability column and is
        # left out like an unlabelled row
        noise = noise_ratio_cl(kc, ctx.label_probs[keep])
    elif ctx.noise_flag is not None and n_kept:
        still = ctx.noise_flag & keep
        if relabelled is not None:
            still &= ~relabelled
        noise = float(still.sum() / n_kept)

    js: dict[str, float | None] = {}
    ref_cov = scene = sample = None
    if ctx.words is not None:  # a reference is present
        if ctx.ref_label_counts is not None:
            names = list(dict.fromkeys([*bal.class_counts, *ctx.ref_label_counts]))
            cp = np.array([bal.class_counts.get(c, 0) for c in names], dtype=np.float64)
            cq = np.array([ctx.ref_label_counts.get(c, 0) for c in names], dtype=np.float64)
            js["label"] = js_or_none(cp, cq)
        else:
            js["label"] = None
    repairs = {int(p): t for p, t in (repairs or {}).items() if keep[p]}
    if ctx.words is not None:
        words = ctx.words
        if repairs:
            words = words.copy()
            pos = np.fromiter(repairs, dtype=np.int64)
            words[pos] = word_counts(pd.Series([repairs[int(p)] for p in pos], dtype="string"))
        wk = words[keep]
        if len(wk):
            hp = np.bincount(wk)
            cp, cq = length_counts(hp, ctx.ref_word_hist, ctx.config.length_bins)
            js["length"] = js_or_none(cp, cq)
        else:
            js["length"] = None
        if ctx.vocab_x is None:
            js["vocabulary"] = None
        elif repairs:
            tp, tq = repaired_vocabulary_totals(ctx.vocab_x, ctx.vocab_ref_totals, ctx.vocab_terms, keep, repairs,
                                                stop_words=ctx.config.stop_words, cache=ctx.repair_cache)
            js["vocabulary"] = vocabulary_js_from_totals(tp, tq, ctx.config.vocab_size)
        else:
            js["vocabulary"] = vocabulary_js(ctx.vocab_x, ctx.vocab_ref_totals, keep, ctx.config.vocab_size)
    if ctx.ds_cluster is not None:
        live = keep & ctx.ds_valid
        # kept repaired rows whose new text was embedded count by that vector and its cluster
        moved, moved_x, moved_c = moved_rows(ctx.repair_texts, ctx.repair_vectors, ctx.repair_clusters, repairs)
        live[moved] = False
        dcounts = np.bincount(ctx.ds_cluster[live], minlength=ctx.n_clusters) + np.bincount(
            moved_c, minlength=ctx.n_clusters)
        js["embedding_clusters"] = js_or_none(dcounts, ctx.ref_cluster_counts)
        scene = scene_coverage_from_counts(dcounts, ctx.ref_cluster_counts, ctx.config.min_cluster_rows)
        sample = sample_coverage_from_counts(dcounts, ctx.ref_cluster_counts)
        ref_cov = _reference_coverage(ctx, live, moved_x)
    for col, spec in ctx.metadata.items():
        js[f"metadata:{col}"] = metadata_js(spec, keep, ctx.config.max_categories, ctx.config.length_bins)
    return WhatIfFigures(n_rows=n_kept, n_classes=bal.n_classes, class_counts=bal.class_counts,
                         class_balance_index=bal.class_balance_index, imbalance_ratio=bal.imbalance_ratio,
                         normalized_entropy=bal.normalized_entropy, noise_ratio=noise,
                         reference_coverage=ref_cov, scene_coverage=scene, sample_coverage=sample, js=js)


def figures_for(ctx: WhatIfContext, result) -> WhatIfFigures:
    """Figures of a :class:`dq_core.filtering.RecipeResult` (kept rows, final labels, repaired texts)."""
    if len(result.keep_mask) != ctx.n:
        raise DataError("the recipe result is for another dataset (different number of rows)")
    repairs = {int(p): result.text_repairs[int(p)][1] for p in np.flatnonzero(result.repaired_mask)}
    return figures(ctx, result.keep_mask, result.label_codes, result.classes, result.relabelled_mask,
                   repairs=repairs)


def _reference_coverage(ctx: WhatIfContext, live: np.ndarray, extra: np.ndarray) -> float | None:
    idx, dist, r = ctx.ref_nn_idx, ctx.ref_nn_dist, ctx.radius
    if idx is None or r is None or len(idx) == 0:
        return None
    kept = live[idx]
    any_kept = kept.any(axis=1)
    first = kept.argmax(axis=1)
    d = dist[np.arange(len(idx)), first]
    reach = r + COVERAGE_TOLERANCE
    covered = any_kept & (d <= reach)
    ctx.fallbacks = 0
    if not ctx.nn_complete:
        # every listed neighbour was dropped but the list still reached inside the radius: the nearest
        # kept row may be just past the list, so measure it exactly
        open_rows = np.flatnonzero(~any_kept & (dist[:, -1] <= reach))
        if len(open_rows):
            ctx.fallbacks = len(open_rows)
            near = nearest_distances(ctx.ds_vectors, ctx.ref_vectors[open_rows], mask=live[ctx.ds_valid])
            covered[open_rows] = near <= reach
    if len(extra):  # rows outside ``live`` with new vectors (repaired texts)
        covered |= 1.0 - (ctx.ref_vectors @ extra.T).max(axis=1) <= reach
    return float(covered.mean())
