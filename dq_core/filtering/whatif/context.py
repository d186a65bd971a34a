"""The what-if context: everything the before/after figures need that a recipe does not change, computed
once per (dataset, reference, signals, embeddings) by :func:`prepare_what_if`.

Label codes, word counts, a rows x vocabulary count matrix, the metadata views' specs, joint-cluster
assignments and, for each reference row, a ranked list of its nearest dataset rows. The radius and the
clusters are those of the unfiltered data, held fixed so before and after are measured with one ruler.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dq_core.data.dataset import TextDataset
from dq_core.errors import DataError
from dq_core.filtering.inputs import LABEL_SIGNAL, align_signals, is_label_signal
from dq_core.filtering.whatif.counts import metadata_spec, vocabulary_matrix
from dq_core.filtering.whatif.repairs import embed_proposed, proposed_repairs
from dq_core.metrics import coverage as cov
from dq_core.space.clusters import cluster_joint
from dq_core.space.neighbors import find_neighbors
from dq_core.util.text import word_counts


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
    # the junk signal's proposed repairs, embedded (.repairs): {position: text}, vectors, clusters
    repair_texts: dict[int, str] | None = None
    repair_vectors: np.ndarray | None = None
    repair_clusters: np.ndarray | None = None
    repair_cache: dict = field(default_factory=dict)  # the repaired texts' vocabulary (.counts)

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
    sig = align_signals(ds, signals) if signals is not None else None
    ctx = _label_context(ds, sig, config, label_probs)
    if ref is None:
        ctx.notes.append("no reference set: coverage and shift figures need one")
        return ctx
    _add_text_views(ctx, ds, ref, config)
    if ds_embeddings is None or ref_embeddings is None:
        ctx.notes.append("no embeddings: reference/scene coverage and the embedding-cluster view are left out")
        return ctx
    if not _add_vectors(ctx, ds, ref, ds_embeddings, ref_embeddings):
        return ctx
    _add_reference_neighbours(ctx, ds_embeddings.vectors, config, workspace=workspace, ref_neighbors=ref_neighbors)
    jc = _add_clusters(ctx, clusters, config, workspace=workspace)
    if embed_repairs is not None:
        ctx.repair_texts, ctx.repair_vectors, ctx.repair_clusters = embed_proposed(
            proposed_repairs(ds.texts, sig), embed_repairs, jc.centroids)
    return ctx


def _label_context(ds: TextDataset, sig: pd.DataFrame | None, config: WhatIfConfig,
                   label_probs: np.ndarray | None) -> WhatIfContext:
    """The context of the label figures (class counts, the noise ratio), which need no reference."""
    classes = sorted(ds.labels.dropna().unique().tolist())
    codes = pd.Categorical(ds.labels.astype(object), categories=classes).codes.astype(np.int32)
    noise = None
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
    return ctx


def _add_text_views(ctx: WhatIfContext, ds: TextDataset, ref: TextDataset, config: WhatIfConfig) -> None:
    """The reference's side of the label, length, vocabulary and metadata views, and the dataset's counts."""
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

    for col in config.metadata:
        if col not in ds.frame.columns or col not in ref.frame.columns:
            ctx.notes.append(f"metadata column '{col}' is not on both sides; its view is left out")
            continue
        ctx.metadata[col] = metadata_spec(ds.frame[col], ref.frame[col], config.max_categories)


def _add_vectors(ctx: WhatIfContext, ds: TextDataset, ref: TextDataset, ds_embeddings, ref_embeddings) -> bool:
    """Both sides' embedded rows; False, with a note, when one side has none (coverage is then left out)."""
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
    if len(xp) == 0 or len(xq) == 0:
        ctx.notes.append("no embedded rows on one side: coverage left out")
        return False
    return True


def _add_reference_neighbours(ctx: WhatIfContext, ds_vectors_all: np.ndarray, config: WhatIfConfig, *, workspace,
                              ref_neighbors: tuple[np.ndarray, np.ndarray] | None) -> None:
    """The coverage radius and each reference row's ranked nearest dataset rows, both from the unfiltered
    dataset and held fixed (``ds_vectors_all``: every dataset row's vector, embedded or not)."""
    xp = ctx.ds_vectors
    ctx.radius = config.radius if config.radius is not None else default_radius(
        ds_vectors_all, ctx.ds_valid, config.radius_percentile, workspace=workspace, seed=config.cluster_seed)
    k = min(config.n_neighbors, len(xp))
    if ref_neighbors is not None:
        idx, dist = ref_neighbors
    else:
        knn = find_neighbors(xp, ctx.ref_vectors, k=k, workspace=workspace)
        idx, dist = knn.indices, knn.distances
    ctx.ref_nn_idx = np.flatnonzero(ctx.ds_valid)[np.asarray(idx, dtype=np.int64)]
    ctx.ref_nn_dist = np.asarray(dist, dtype=np.float32)
    ctx.nn_complete = ctx.ref_nn_idx.shape[1] >= len(xp)


def _add_clusters(ctx: WhatIfContext, clusters, config: WhatIfConfig, *, workspace):
    """The joint clusters of the unfiltered union (``clusters``, else clustered here), held fixed; returns them."""
    xp, xq = ctx.ds_vectors, ctx.ref_vectors
    jc = clusters
    if jc is None:
        jc = cluster_joint(xp, xq, k=config.n_clusters, seed=config.cluster_seed, workspace=workspace)
    if len(jc.ds_labels) != len(xp) or len(jc.ref_labels) != len(xq):
        raise DataError("the clusters do not match the embedded rows; cluster the same embeddings")
    dc = np.full(ctx.n, -1, dtype=np.int64)
    dc[np.flatnonzero(ctx.ds_valid)] = jc.ds_labels
    ctx.ds_cluster = dc
    ctx.n_clusters = int(jc.k)
    ctx.ref_cluster_counts = np.bincount(np.asarray(jc.ref_labels, dtype=np.int64), minlength=jc.k)
    return jc


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
