"""What-if figures: the Clean page's before/after panel, recomputed from a keep mask in milliseconds.

Everything that depends only on (dataset, reference, embeddings) is computed once into a
:class:`WhatIfContext`: label codes, word counts, a rows x vocabulary count matrix, joint-cluster
assignments and, for each reference row, a ranked list of its nearest dataset rows. A recipe's result
(keep mask + final labels) then only needs bincounts, one sparse mat-vec and a gather:

- class counts, balance index, imbalance ratio, normalised entropy: a bincount of final label codes;
- estimated noise ratio: confident learning's estimate (the label signal's own ``estimate_joint``) on the
  kept rows' label probabilities, held fixed; without them, the share of kept rows the label signal flags
  and the recipe did not relabel;
- reference coverage: a reference row is covered when its nearest *kept* dataset row lies within the
  radius; that is the first kept entry of its ranked list (rows whose whole list was dropped while still
  inside the radius are settled by an exact search over the kept rows, so the figure stays exact);
- scene / sample coverage: bincount of the kept rows' clusters against the reference's;
- JS per shift view (label, length, vocabulary, embedding clusters, metadata): the same bins as
  :mod:`dq_core.metrics.shift.views` builds from scratch on the filtered rows (pooled quantile length bins,
  the pooled top-V vocabulary, the merged metadata categories), recomputed from histograms.

A row a recipe repaired counts by its repaired text: in the length and vocabulary views always, in the
embedding figures when the context embedded the proposed repairs (:mod:`.whatif_repairs`).

The radius and the clusters are those of the unfiltered data, held fixed so before and after are measured
with one ruler. The count-based pieces are in :mod:`.whatif_counts`; they end in the metric modules' own
functions (balance, coverage, JS divergence, confident learning's joint), so the Clean page, the Overview
and the Coverage page share one formula each. The tests' oracle (tests/filtering/whatif_oracle.py) computes
the same figures the slow way (filter the data, call the metric functions), and the tests check both agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dq_core.data.dataset import TextDataset
from dq_core.errors import DataError
from dq_core.filtering.inputs import LABEL_SIGNAL, align_signals, is_label_signal
from dq_core.filtering.whatif_counts import (
    js_or_none,
    length_counts,
    metadata_js,
    metadata_spec,
    noise_ratio_cl,
    repaired_vocabulary_totals,
    sample_coverage_from_counts,
    scene_coverage_from_counts,
    vocabulary_js,
    vocabulary_js_from_totals,
    vocabulary_matrix,
)
from dq_core.filtering.whatif_repairs import embed_proposed, moved_rows, proposed_repairs
from dq_core.metrics import coverage as cov
from dq_core.metrics.balance import compute_class_balance_from_counts
from dq_core.space.clusters import cluster_joint
from dq_core.space.neighbors import find_neighbors, nearest_distances
from dq_core.util.text import word_counts

COVERAGE_TOLERANCE = 1e-6  # as dq_core.metrics.coverage.reference_coverage: float32 dot products of equal vectors


@dataclass(frozen=True)
class WhatIfConfig:
    n_neighbors: int = 32  # ranked dataset neighbours kept per reference row
    radius: float | None = None  # cosine distance; None: radius_percentile of the dataset's own 1-NN distances
    radius_percentile: float = cov.DEFAULT_PERCENTILE
    min_cluster_rows: int = cov.DEFAULT_MIN_ROWS  # scene coverage: dataset rows a covered scene needs
    n_clusters: int | None = None
    cluster_seed: int = 0
    vocab_size: int = 500
    stop_words: bool = True
    length_bins: int = 10
    max_categories: int = 30
    metadata: tuple[str, ...] = ()

    def __post_init__(self):
        if self.n_neighbors < 1:
            raise DataError(f"n_neighbors {self.n_neighbors} must be at least 1")
        if self.radius is not None and not (math.isfinite(self.radius) and 0 <= self.radius <= 2):
            raise DataError(f"radius {self.radius} must be a cosine distance in [0, 2]")
        if not 0 < self.radius_percentile <= 100:
            raise DataError(f"radius percentile {self.radius_percentile} must lie in (0, 100]")
        if self.min_cluster_rows < 1:
            raise DataError(f"min_cluster_rows {self.min_cluster_rows} must be at least 1")


# --------------------------------------------------------------------------- figures

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


# --------------------------------------------------------------------------- the precomputed context

@dataclass(eq=False)
class WhatIfContext:
    n: int
    classes: list[str]
    label_codes: np.ndarray  # int32, -1 missing
    noise_flag: np.ndarray | None  # is_label_issue per row (the fallback when no probabilities are given)
    ref_label_counts: dict[str, int] | None  # None: no reference, or an unlabelled one
    words: np.ndarray | None = None  # dataset word counts
    ref_word_hist: np.ndarray | None = None
    vocab_x: object | None = None  # CSR (n, V_full) of the dataset's token counts
    vocab_ref_totals: np.ndarray | None = None
    vocab_skipped: str | None = None
    vocab_terms: np.ndarray | None = None  # the V terms of vocab_x's rows, sorted
    ds_valid: np.ndarray | None = None  # rows with an embedding
    ref_nn_idx: np.ndarray | None = None  # (n_ref_valid, K) dataset positions, nearest first
    ref_nn_dist: np.ndarray | None = None
    nn_complete: bool = False  # K covers every valid dataset row: no exact fallback ever needed
    radius: float | None = None
    ds_vectors: np.ndarray | None = None  # kept for the exact fallback
    ref_vectors: np.ndarray | None = None  # valid reference rows only
    ds_cluster: np.ndarray | None = None  # per dataset row, -1 when not embedded
    ref_cluster_counts: np.ndarray | None = None
    n_clusters: int = 0
    metadata: dict[str, tuple] = field(default_factory=dict)  # col -> ("cat", codes, ref_counts, names) | ("num", values, ref_values)
    config: WhatIfConfig = field(default_factory=WhatIfConfig)
    notes: list[str] = field(default_factory=list)
    fallbacks: int = 0  # reference rows settled by exact search (last call), for the bench
    label_probs: np.ndarray | None = None  # (n, k) the label signal's out-of-sample probabilities, classes order
    # the junk signal's proposed repairs, embedded (whatif_repairs): {position: text}, vectors, clusters
    repair_texts: dict[int, str] | None = None
    repair_vectors: np.ndarray | None = None
    repair_clusters: np.ndarray | None = None
    repair_cache: dict = field(default_factory=dict)  # the repaired texts' vocabulary (whatif_counts)

    @property
    def noise_method(self) -> str | None:
        if self.label_probs is not None:
            return "confident learning on the label signal's probabilities (held fixed)"
        if self.noise_flag is not None:
            return "share of kept rows the label signal flags that the recipe did not relabel"
        return None


def prepare_what_if(ds: TextDataset, ref: TextDataset | None, signals: pd.DataFrame | None = None, *,
                    ds_embeddings=None, ref_embeddings=None, clusters=None,
                    config: WhatIfConfig | None = None, workspace=None,
                    ref_neighbors: tuple[np.ndarray, np.ndarray] | None = None,
                    label_probs: np.ndarray | None = None,
                    embed_repairs: Callable[[list[str]], np.ndarray] | None = None) -> WhatIfContext:
    """Precompute everything the panel needs; only the mask-dependent counting is left for later.

    ``ds_embeddings``/``ref_embeddings``: EmbeddingResult-like (``vectors``, ``valid``); without them the
    coverage figures and the cluster view are None. ``clusters``: a JointClusters over the valid rows of
    both (computed with dq_core.space.clusters.cluster_joint when None). ``ref_neighbors``: a precomputed
    (indices into the valid dataset rows, distances) pair, e.g. from a shared kNN graph. ``label_probs``:
    the label signal's out-of-sample probabilities (columns in the dataset's class order); with them the
    noise ratio is confident learning's estimate (as the signals report it), else the flagged share.
    ``embed_repairs`` (texts -> vectors, the model of ``ds_embeddings``): embeds the repairs the junk signal
    proposes, so a recipe's repaired rows count by their new text in the embedding figures too.
    """
    config = config or WhatIfConfig()
    classes = sorted(ds.labels.dropna().unique().tolist())
    codes = pd.Categorical(ds.labels.astype(object), categories=classes).codes.astype(np.int32)
    noise = None
    sig = align_signals(ds, signals) if signals is not None else None
    col = noise_column(sig)
    if col is not None:
        noise = sig[col].fillna(False).to_numpy(dtype=bool)
    ctx = WhatIfContext(n=len(ds), classes=classes, label_codes=codes, noise_flag=noise, ref_label_counts=None,
                        config=config)
    if label_probs is not None:
        lp = np.asarray(label_probs, dtype=np.float64)
        if lp.shape != (len(ds), len(classes)):
            raise DataError(f"label probabilities of shape {lp.shape} do not match {len(ds)} rows x "
                            f"{len(classes)} classes")
        ctx.label_probs = lp
    if ref is None:
        ctx.notes.append("no reference set: coverage and shift figures need one")
        return ctx
    lq = ref.labels.dropna().astype(str)
    ctx.ref_label_counts = {str(k): int(v) for k, v in lq.value_counts().items()} if len(lq) else None

    # length: dataset word counts, reference histogram
    ctx.words = word_counts(ds.texts)
    ctx.ref_word_hist = np.bincount(word_counts(ref.texts))

    # vocabulary: token counts over the pooled vocabulary, exactly as shift.views.vocabulary_view tokenises
    vocab = vocabulary_matrix(ds.texts, ref.texts, stop_words=config.stop_words)
    if vocab is None:
        ctx.vocab_skipped = "no words in either set"
    else:
        ctx.vocab_x, ctx.vocab_ref_totals, ctx.vocab_terms = vocab

    # metadata views
    for col in config.metadata:
        if col not in ds.frame.columns or col not in ref.frame.columns:
            ctx.notes.append(f"metadata column '{col}' is not on both sides; its view is left out")
            continue
        ctx.metadata[col] = metadata_spec(ds.frame[col], ref.frame[col], config.max_categories)

    if ds_embeddings is None or ref_embeddings is None:
        ctx.notes.append("no embeddings: reference/scene coverage and the embedding-cluster view are left out")
        return ctx
    vp = np.asarray(ds_embeddings.valid, dtype=bool)
    vq = np.asarray(ref_embeddings.valid, dtype=bool)
    if len(vp) != len(ds) or len(vq) != len(ref):
        raise DataError("the embeddings do not match the rows (different lengths); embed the datasets again")
    # one float32 copy (a float16 memmap of 1M x 384 is 1.5 GB in float32): index only when rows are invalid
    xp = np.asarray(ds_embeddings.vectors, dtype=np.float32)
    xp = xp if vp.all() else xp[vp]
    xq = np.asarray(ref_embeddings.vectors, dtype=np.float32)
    xq = xq if vq.all() else xq[vq]
    ctx.ds_valid = vp
    ctx.ds_vectors, ctx.ref_vectors = xp, xq
    valid_pos = np.flatnonzero(vp)
    if len(xp) == 0 or len(xq) == 0:
        ctx.notes.append("no embedded rows on one side: coverage left out")
        return ctx

    # radius from the unfiltered dataset, held fixed
    ctx.radius = config.radius if config.radius is not None else default_radius(
        ds_embeddings.vectors, vp, config.radius_percentile, workspace=workspace, seed=config.cluster_seed)
    k = min(config.n_neighbors, len(xp))
    if ref_neighbors is not None:
        idx, dist = ref_neighbors
    else:
        knn = find_neighbors(xp, xq, k=k, workspace=workspace)
        idx, dist = knn.indices, knn.distances
    ctx.ref_nn_idx = valid_pos[np.asarray(idx, dtype=np.int64)]
    ctx.ref_nn_dist = np.asarray(dist, dtype=np.float32)
    ctx.nn_complete = ctx.ref_nn_idx.shape[1] >= len(xp)

    # clusters of the unfiltered union, held fixed
    jc = clusters
    if jc is None:
        jc = cluster_joint(xp, xq, k=config.n_clusters, seed=config.cluster_seed, workspace=workspace)
    if len(jc.ds_labels) != len(xp) or len(jc.ref_labels) != len(xq):
        raise DataError("the clusters do not match the embedded rows; cluster the same embeddings")
    dc = np.full(len(ds), -1, dtype=np.int64)
    dc[valid_pos] = jc.ds_labels
    ctx.ds_cluster = dc
    ctx.n_clusters = int(jc.k)
    ctx.ref_cluster_counts = np.bincount(np.asarray(jc.ref_labels, dtype=np.int64), minlength=jc.k)
    if embed_repairs is not None:
        ctx.repair_texts, ctx.repair_vectors, ctx.repair_clusters = embed_proposed(
            proposed_repairs(ds.texts, sig), embed_repairs, jc.centroids)
    return ctx


def noise_column(signals: pd.DataFrame | None) -> str | None:
    """The label signal's flag column (``is_label_issue``, or a parameterised ``is_label_..._issue``)."""
    if signals is None:
        return None
    if f"is_{LABEL_SIGNAL}_issue" in signals.columns:
        return f"is_{LABEL_SIGNAL}_issue"
    return next((c for c in map(str, signals.columns)
                 if c.startswith("is_") and c.endswith("_issue") and is_label_signal(c[3:-6])), None)


def default_radius(ds_vectors_all: np.ndarray, valid: np.ndarray, percentile: float = cov.DEFAULT_PERCENTILE, *,
                   workspace=None, seed: int = 0) -> float:
    """The Coverage page's radius: ``percentile`` of the dataset's own nearest-neighbour distances, from the
    self-graph over all rows (the signals' graph, same cache entry), valid rows only."""
    nn = cov.dataset_nn_distances(np.asarray(ds_vectors_all, dtype=np.float32), workspace=workspace, seed=seed)
    return cov.default_radius(nn[np.asarray(valid, dtype=bool)], percentile)


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
