"""What-if figures: the Clean page's before/after panel, recomputed from a keep mask in milliseconds.

Everything that depends only on (dataset, reference, embeddings) is computed once into a
:class:`WhatIfContext`: label codes, word counts, a rows x vocabulary count matrix, joint-cluster
assignments and, for each reference row, a ranked list of its nearest dataset rows. A recipe's result
(keep mask + final labels) then only needs bincounts, one sparse mat-vec and a gather:

- class counts, balance index, imbalance ratio, normalised entropy: a bincount of final label codes;
- estimated noise ratio: kept rows the label signal flags and the recipe did not relabel, over kept rows;
- reference coverage: a reference row is covered when its nearest *kept* dataset row lies within the
  radius; that is the first kept entry of its ranked list (rows whose whole list was dropped while still
  inside the radius are settled by an exact search over the kept rows, so the figure stays exact);
- scene / sample coverage: bincount of the kept rows' clusters against the reference's;
- JS per shift view (label, length, vocabulary, embedding clusters, metadata): the same bins as
  :mod:`dq_core.metrics.shift.views` builds from scratch on the filtered rows (pooled quantile length bins,
  the pooled top-V vocabulary, the merged metadata categories), recomputed from histograms.

The radius and the clusters are those of the unfiltered data, held fixed so before and after are measured
with one ruler. :func:`scratch_figures` computes the same figures the slow way (filter the data, call the
metric functions); tests check both agree.

Coverage helpers live here rather than in dq_core/metrics/coverage.py (issue 3, another engineer's
module) because the masked, precomputed versions are specific to this panel; when coverage.py defines a
function with the same meaning, :func:`scratch_figures` calls it so the two pages cannot drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dq_core.data.dataset import TextDataset
from dq_core.errors import DataError
from dq_core.metrics import coverage as cov
from dq_core.util.text import word_counts

NOISE_SIGNAL = "label"  # the label signal; a non-default parameterisation is named label_<params>
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


# --------------------------------------------------------------------------- pure helpers (count based)

def balance_from_counts(counts: dict[str, int]) -> dict:
    """compute_class_balance's headline numbers from class counts (zero-count classes are absent classes)."""
    items = sorted(((str(c), int(v)) for c, v in counts.items() if v > 0), key=lambda kv: (-kv[1], kv[0]))
    n = sum(v for _, v in items)
    k = len(items)
    if k == 0:
        return {"n_labelled": 0, "n_classes": 0, "class_counts": {}, "class_balance_index": float("nan"),
                "imbalance_ratio": float("nan"), "normalized_entropy": float("nan")}
    p = np.array([v / n for _, v in items], dtype=float)
    cbi = float(1.0 - np.sum((p - 1.0 / k) ** 2))
    ratio = float(items[0][1] / items[-1][1])
    ent = float(-(p * np.log(p)).sum() / np.log(k)) if k > 1 else 0.0
    return {"n_labelled": n, "n_classes": k, "class_counts": dict(items), "class_balance_index": cbi,
            "imbalance_ratio": ratio, "normalized_entropy": ent}


def js_or_none(cp: np.ndarray, cq: np.ndarray) -> float | None:
    from dq_core.metrics.shift import js_divergence

    cp = np.asarray(cp, dtype=np.float64)
    cq = np.asarray(cq, dtype=np.float64)
    if cp.size == 0 or cp.sum() <= 0 or cq.sum() <= 0:
        return None
    return float(js_divergence(cp, cq))


def quantile_edges_from_hist(hist: np.ndarray, n_bins: int) -> np.ndarray:
    """``np.quantile`` (linear) of integer data given as a value histogram, at the inner n_bins quantiles.

    Reproduces numpy's arithmetic (virtual index (n-1)q, then its lerp) so the edges equal those
    :func:`dq_core.metrics.shift.views.quantile_bins` computes on the raw values.
    """
    total = int(hist.sum())
    cum = np.cumsum(hist)
    qs = np.linspace(0, 1, n_bins + 1)[1:-1]
    virtual = (total - 1) * qs
    lo = np.floor(virtual)
    gamma = virtual - lo
    lo_i = lo.astype(np.int64)
    hi_i = np.minimum(lo_i + 1, total - 1)
    a = np.searchsorted(cum, lo_i, side="right").astype(np.float64)
    b = np.searchsorted(cum, hi_i, side="right").astype(np.float64)
    diff = b - a
    out = a + diff * gamma
    upper = gamma >= 0.5
    out[upper] = b[upper] - diff[upper] * (1 - gamma[upper])
    return out


def length_counts(hist_p: np.ndarray, hist_q: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts of the pooled-quantile length bins (as shift_views.quantile_bins) from two value histograms."""
    size = max(len(hist_p), len(hist_q))
    hp = np.zeros(size, dtype=np.int64)
    hq = np.zeros(size, dtype=np.int64)
    hp[: len(hist_p)] = hist_p
    hq[: len(hist_q)] = hist_q
    pooled = hp + hq
    nz = np.flatnonzero(pooled)
    vmin, vmax = nz[0], nz[-1]
    edges = np.unique(np.ceil(quantile_edges_from_hist(pooled, n_bins)))
    edges = edges[(edges > vmin) & (edges <= vmax)]
    k = len(edges) + 1
    values = np.arange(size)
    bin_of_value = np.searchsorted(edges, values, side="right")
    return (np.bincount(bin_of_value, weights=hp, minlength=k).astype(np.int64),
            np.bincount(bin_of_value, weights=hq, minlength=k).astype(np.int64))


def category_counts(cp: np.ndarray, cq: np.ndarray, names: Sequence[str], max_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """shift_views._codes on counts: categories present, rarest (pooled) merged into one '(other)' bin."""
    pooled = cp + cq
    present = np.flatnonzero(pooled > 0)
    order = sorted(present, key=lambda i: (-pooled[i], str(names[i])))
    if len(order) > max_bins:
        keep, rest = order[: max_bins - 1], order[max_bins - 1:]
        p = np.r_[cp[keep], cp[rest].sum()]
        q = np.r_[cq[keep], cq[rest].sum()]
        return p, q
    return cp[order], cq[order]


def reference_coverage_exact(ds_vectors: np.ndarray, ref_vectors: np.ndarray, radius: float,
                             block: int = 2048) -> float | None:
    """Share of reference rows whose nearest dataset row (cosine distance) lies within ``radius``
    (exact search, then dq_core.metrics.coverage.reference_coverage)."""
    nearest = nearest_distances(ds_vectors, ref_vectors, block=block)
    if nearest is None:
        return None
    return cov.reference_coverage(nearest, radius)


def nearest_distances(index: np.ndarray, query: np.ndarray, block: int = 2048,
                      mask: np.ndarray | None = None) -> np.ndarray | None:
    """Cosine distance from each query row to its nearest ``index`` row (only rows where ``mask``)."""
    index = np.asarray(index, dtype=np.float32)
    query = np.asarray(query, dtype=np.float32)
    if len(query) == 0:
        return None
    if len(index) == 0 or (mask is not None and not mask.any()):
        return np.full(len(query), np.inf)
    # keep each block's similarity matrix near 200 MB whatever the index size
    block = int(max(1, min(block, 50_000_000 // max(len(index), 1))))
    out = np.empty(len(query), dtype=np.float64)
    for s in range(0, len(query), block):
        sims = query[s:s + block] @ index.T
        if mask is not None:
            sims[:, ~mask] = -np.inf
        out[s:s + block] = 1.0 - sims.max(axis=1)
    return out


def scene_coverage_from_counts(ds_counts: np.ndarray, ref_counts: np.ndarray,
                               min_rows: int = cov.DEFAULT_MIN_ROWS) -> float | None:
    """dq_core.metrics.coverage.scene_coverage, None where it is undefined (no reference-populated cluster)."""
    try:
        return cov.scene_coverage(ds_counts, ref_counts, min_rows=min_rows)
    except DataError:
        return None


def sample_coverage_from_counts(ds_counts: np.ndarray, ref_counts: np.ndarray) -> float | None:
    """dq_core.metrics.coverage.sample_coverage, None where it is undefined (no reference rows)."""
    try:
        return cov.sample_coverage(ds_counts, ref_counts)
    except DataError:
        return None


def noise_ratio_cl(codes: np.ndarray, probs: np.ndarray) -> float:
    """Confident learning's estimated noise ratio, 1 - trace(joint), as the label signal reports it.

    The same computation as ``dq_core.signals.label.estimate_joint`` (cleanlab's calibrated confident
    joint over the labelled rows and the classes present), vectorised with bincounts so the what-if
    panel can recount it for every recipe; tests check the two agree. ``codes`` index ``probs``' columns
    (-1 = unlabelled).
    """
    from cleanlab.internal.constants import CONFIDENT_THRESHOLDS_LOWER_BOUND
    from cleanlab.internal.util import round_preserving_row_totals

    codes = np.asarray(codes)
    lab = (codes >= 0) & (codes < probs.shape[1])
    y = codes[lab]
    k_all = probs.shape[1]
    counts_all = np.bincount(y, minlength=k_all)
    present = np.flatnonzero(counts_all)
    if len(present) < 2:
        return 0.0
    p = probs[lab][:, present]
    p = p / np.clip(p.sum(axis=1, keepdims=True), 1e-12, None)
    remap = np.full(k_all, -1)
    remap[present] = np.arange(len(present))
    y = remap[y]
    k = len(present)
    counts = counts_all[present]
    rows = np.arange(len(y))
    thresholds = np.bincount(y, weights=p[rows, y], minlength=k) / counts
    thresholds = np.clip(thresholds, CONFIDENT_THRESHOLDS_LOWER_BOUND, None)
    confident = p >= thresholds - 1e-6
    n_conf = confident.sum(axis=1)
    guess = np.where(n_conf > 1, p.argmax(axis=1), confident.argmax(axis=1))
    some = n_conf > 0
    cj = np.bincount(y[some] * k + guess[some], minlength=k * k).reshape(k, k).astype(float)
    np.fill_diagonal(cj, np.clip(cj.diagonal(), 1, None))
    cal = (cj.T / np.clip(cj.sum(axis=1), 1e-100, None) * counts).T
    cal = cal / np.clip(cal.sum(), 1e-100, None) * counts.sum()
    cal = round_preserving_row_totals(cal)
    joint = cal / np.clip(float(cal.sum()), 1e-100, None)
    return float(1.0 - np.trace(joint))


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
            rows.append(_delta_row(f"JS {view}", self.before.js.get(view), self.after.js.get(view), -1, f"js:{view}"))
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
                    label_probs: np.ndarray | None = None) -> WhatIfContext:
    """Precompute everything the panel needs; only the mask-dependent counting is left for later.

    ``ds_embeddings``/``ref_embeddings``: EmbeddingResult-like (``vectors``, ``valid``); without them the
    coverage figures and the cluster view are None. ``clusters``: a JointClusters over the valid rows of
    both (computed with dq_core.space.clusters.cluster_joint when None). ``ref_neighbors``: a precomputed
    (indices into the valid dataset rows, distances) pair, e.g. from a shared kNN graph. ``label_probs``:
    the label signal's out-of-sample probabilities (columns in the dataset's class order); with them the
    noise ratio is confident learning's estimate (as the signals report it), else the flagged share.
    """
    from dq_core.filtering import _align_signals

    config = config or WhatIfConfig()
    classes = sorted(ds.labels.dropna().unique().tolist())
    codes = pd.Categorical(ds.labels.astype(object), categories=classes).codes.astype(np.int32)
    noise = None
    sig = _align_signals(ds, signals) if signals is not None else None
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

    # vocabulary: token counts over the pooled vocabulary, exactly as shift_views.vocabulary_view tokenises
    _prepare_vocabulary(ctx, ds, ref, config)

    # metadata views
    for col in config.metadata:
        _prepare_metadata(ctx, ds, ref, col)

    if ds_embeddings is None or ref_embeddings is None:
        ctx.notes.append("no embeddings: reference/scene coverage and the embedding-cluster view are left out")
        return ctx
    vp = np.asarray(ds_embeddings.valid, dtype=bool)
    vq = np.asarray(ref_embeddings.valid, dtype=bool)
    if len(vp) != len(ds) or len(vq) != len(ref):
        raise DataError("the embeddings do not match the rows (different lengths); embed the datasets again")
    xp = np.asarray(ds_embeddings.vectors, dtype=np.float32)[vp]
    xq = np.asarray(ref_embeddings.vectors, dtype=np.float32)[vq]
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
        from dq_core.space.neighbors import find_neighbors

        knn = find_neighbors(xp, xq, k=k, workspace=workspace)
        idx, dist = knn.indices, knn.distances
    ctx.ref_nn_idx = valid_pos[np.asarray(idx, dtype=np.int64)]
    ctx.ref_nn_dist = np.asarray(dist, dtype=np.float32)
    ctx.nn_complete = ctx.ref_nn_idx.shape[1] >= len(xp)

    # clusters of the unfiltered union, held fixed
    jc = clusters
    if jc is None:
        from dq_core.space.clusters import cluster_joint

        jc = cluster_joint(xp, xq, k=config.n_clusters, seed=config.cluster_seed, workspace=workspace)
    if len(jc.ds_labels) != len(xp) or len(jc.ref_labels) != len(xq):
        raise DataError("the clusters do not match the embedded rows; cluster the same embeddings")
    dc = np.full(len(ds), -1, dtype=np.int64)
    dc[valid_pos] = jc.ds_labels
    ctx.ds_cluster = dc
    ctx.n_clusters = int(jc.k)
    ctx.ref_cluster_counts = np.bincount(np.asarray(jc.ref_labels, dtype=np.int64), minlength=jc.k)
    return ctx


def noise_column(signals: pd.DataFrame | None) -> str | None:
    """The label signal's flag column (``is_label_issue``, or a parameterised ``is_label_..._issue``)."""
    if signals is None:
        return None
    if f"is_{NOISE_SIGNAL}_issue" in signals.columns:
        return f"is_{NOISE_SIGNAL}_issue"
    return next((c for c in signals.columns if str(c).startswith(f"is_{NOISE_SIGNAL}_") and str(c).endswith("_issue")),
                None)


def default_radius(ds_vectors_all: np.ndarray, valid: np.ndarray, percentile: float = cov.DEFAULT_PERCENTILE, *,
                   workspace=None, seed: int = 0) -> float:
    """The Coverage page's radius: ``percentile`` of the dataset's own nearest-neighbour distances, from the
    self-graph over all rows (the signals' graph, same cache entry), valid rows only."""
    nn = cov.dataset_nn_distances(np.asarray(ds_vectors_all, dtype=np.float32), workspace=workspace, seed=seed)
    return cov.default_radius(nn[np.asarray(valid, dtype=bool)], percentile)


def _vectorizer(stop_words: bool):
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    from dq_core.metrics.shift.views import _token_pattern

    return CountVectorizer(lowercase=True, token_pattern=_token_pattern(), dtype=np.int64,
                           stop_words=sorted(ENGLISH_STOP_WORDS) if stop_words else None)


def _prepare_vocabulary(ctx: WhatIfContext, ds: TextDataset, ref: TextDataset, config: WhatIfConfig) -> None:
    tp = ds.texts.fillna("").astype(str).tolist()
    tq = ref.texts.fillna("").astype(str).tolist()
    vec = _vectorizer(config.stop_words)
    try:
        x = vec.fit_transform(tp + tq).tocsr()
    except ValueError:
        ctx.vocab_skipped = "no words in either set"
        return
    xp = x[: len(tp)]
    ctx.vocab_x = xp.astype(np.float64).T.tocsr()  # (V, n): X^T @ keep is one CSR mat-vec
    ctx.vocab_ref_totals = np.asarray(x[len(tp):].sum(axis=0)).ravel().astype(np.float64)


def _prepare_metadata(ctx: WhatIfContext, ds: TextDataset, ref: TextDataset, col: str) -> None:
    if col not in ds.frame.columns or col not in ref.frame.columns:
        ctx.notes.append(f"metadata column '{col}' is not on both sides; its view is left out")
        return
    sp_, sq_ = ds.frame[col], ref.frame[col]
    numeric = pd.api.types.is_numeric_dtype(sp_) and pd.api.types.is_numeric_dtype(sq_) \
        and not pd.api.types.is_bool_dtype(sp_)
    if numeric and pd.concat([sp_, sq_]).nunique(dropna=True) > ctx.config.max_categories:
        vp = sp_.to_numpy(dtype=float, na_value=np.nan)
        vq = sq_.dropna().to_numpy(dtype=float)
        ctx.metadata[col] = ("num", vp, vq[np.isfinite(vq)])
        return

    def as_cat(s: pd.Series) -> pd.Series:
        try:
            out = s.astype("string")
        except (TypeError, ValueError):
            out = s.map(lambda v: None if v is None else str(v)).astype("string")
        return out.fillna("(missing)")

    cp, cq = as_cat(sp_), as_cat(sq_)
    names = sorted(set(cp.unique()) | set(cq.unique()))
    codes = pd.Categorical(cp, categories=names).codes.astype(np.int64)
    ref_counts = np.bincount(pd.Categorical(cq, categories=names).codes, minlength=len(names))
    ctx.metadata[col] = ("cat", codes, ref_counts, names)


def figures(ctx: WhatIfContext, keep: np.ndarray | None = None, label_codes: np.ndarray | None = None,
            classes: Sequence[str] | None = None, relabelled: np.ndarray | None = None) -> WhatIfFigures:
    """The panel's figures for the rows in ``keep`` with labels ``label_codes`` (codes into ``classes``)."""
    n = ctx.n
    keep = np.ones(n, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    codes = ctx.label_codes if label_codes is None else label_codes
    classes = list(ctx.classes if classes is None else classes)
    n_kept = int(keep.sum())

    kc = codes[keep]
    counts = np.bincount(kc[kc >= 0], minlength=len(classes))
    bal = balance_from_counts({c: int(counts[i]) for i, c in enumerate(classes)})

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
            names = list(dict.fromkeys([*bal["class_counts"], *ctx.ref_label_counts]))
            cp = np.array([bal["class_counts"].get(c, 0) for c in names], dtype=np.float64)
            cq = np.array([ctx.ref_label_counts.get(c, 0) for c in names], dtype=np.float64)
            js["label"] = js_or_none(cp, cq)
        else:
            js["label"] = None
    if ctx.words is not None:
        wk = ctx.words[keep]
        if len(wk):
            hp = np.bincount(wk)
            cp, cq = length_counts(hp, ctx.ref_word_hist, ctx.config.length_bins)
            js["length"] = js_or_none(cp, cq)
        else:
            js["length"] = None
        js["vocabulary"] = _vocab_js(ctx, keep)
    if ctx.ds_cluster is not None:
        live = keep & ctx.ds_valid
        dcounts = np.bincount(ctx.ds_cluster[live], minlength=ctx.n_clusters)
        js["embedding_clusters"] = js_or_none(dcounts, ctx.ref_cluster_counts)
        scene = scene_coverage_from_counts(dcounts, ctx.ref_cluster_counts, ctx.config.min_cluster_rows)
        sample = sample_coverage_from_counts(dcounts, ctx.ref_cluster_counts)
        ref_cov = _reference_coverage(ctx, live)
    for col, spec in ctx.metadata.items():
        js[f"metadata:{col}"] = _metadata_js(ctx, spec, keep)
    return WhatIfFigures(n_rows=n_kept, n_classes=bal["n_classes"], class_counts=bal["class_counts"],
                         class_balance_index=bal["class_balance_index"], imbalance_ratio=bal["imbalance_ratio"],
                         normalized_entropy=bal["normalized_entropy"], noise_ratio=noise,
                         reference_coverage=ref_cov, scene_coverage=scene, sample_coverage=sample, js=js)


def figures_for(ctx: WhatIfContext, result) -> WhatIfFigures:
    """Figures of a :class:`dq_core.filtering.RecipeResult` (kept rows, final labels)."""
    if len(result.keep_mask) != ctx.n:
        raise DataError("the recipe result is for another dataset (different number of rows)")
    return figures(ctx, result.keep_mask, result.label_codes, result.classes, result.relabelled_mask)


def _vocab_js(ctx: WhatIfContext, keep: np.ndarray) -> float | None:
    if ctx.vocab_x is None:
        return None
    totals_p = ctx.vocab_x @ keep.astype(np.float64)
    pooled = totals_p + ctx.vocab_ref_totals
    v = ctx.config.vocab_size
    if len(pooled) > v:
        top = np.argpartition(-pooled, v - 1)[:v]
        # the same top-V as a stable sort by (-count, word), which is what the view takes
        thr = pooled[top].min()
        tied = np.flatnonzero(pooled == thr)
        above = np.flatnonzero(pooled > thr)
        top = np.r_[above, tied[: v - len(above)]]
    else:
        top = np.arange(len(pooled))
    cp = totals_p[top]
    cq = ctx.vocab_ref_totals[top]
    other_p = totals_p.sum() - cp.sum()
    other_q = ctx.vocab_ref_totals.sum() - cq.sum()
    if other_p > 0 or other_q > 0:
        cp, cq = np.r_[cp, other_p], np.r_[cq, other_q]
    if totals_p.sum() == 0 or ctx.vocab_ref_totals.sum() == 0:
        return None
    return js_or_none(cp, cq)


def _metadata_js(ctx: WhatIfContext, spec: tuple, keep: np.ndarray) -> float | None:
    if spec[0] == "cat":
        _, codes, ref_counts, names = spec
        cp = np.bincount(codes[keep], minlength=len(names))
        p, q = category_counts(cp, ref_counts, names, ctx.config.max_categories)
        return js_or_none(p, q)
    _, vp, vq = spec
    v = vp[keep]
    v = v[np.isfinite(v)]
    if len(v) == 0 or len(vq) == 0:
        return None
    from dq_core.metrics.shift.views import quantile_bins

    integer = bool(np.all(np.mod(np.concatenate([v, vq]), 1) == 0))
    _, cp, cq = quantile_bins(v, vq, n_bins=ctx.config.length_bins, integer=integer)
    return js_or_none(cp, cq)


def _reference_coverage(ctx: WhatIfContext, live: np.ndarray) -> float | None:
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
    return float(covered.mean())


# --------------------------------------------------------------------------- the slow way (tests, bench)

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
    from dq_core.metrics.balance import compute_class_balance
    from dq_core.metrics.shift import js_divergence
    from dq_core.metrics.shift import views as sv

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
        from dq_core.signals.label import estimate_joint

        codes = pd.Categorical(ds_after.labels.astype(object), categories=list(prob_classes)).codes
        noise = estimate_joint(np.asarray(codes, dtype=np.int64), np.asarray(label_probs))[1]
    return WhatIfFigures(n_rows=n, n_classes=bal.n_classes, class_counts=dict(bal.class_counts),
                         class_balance_index=bal.class_balance_index, imbalance_ratio=bal.imbalance_ratio,
                         normalized_entropy=bal.normalized_entropy, noise_ratio=noise,
                         reference_coverage=ref_cov, scene_coverage=scene, sample_coverage=sample, js=js)
