"""How well a dataset's embeddings cover a reference set's: three figures and a per-cluster table.

- **Reference coverage**: the share of reference rows whose nearest dataset row (cosine distance) lies
  within a radius ``r``. By default ``r`` is a high percentile (95th) of the dataset's own
  nearest-neighbour distances: "as close as dataset rows usually are to each other".
- **Scene coverage**: cluster both sets together (:func:`dq_core.space.clusters.cluster_joint`); a scene is
  a cluster that holds reference rows. A scene is *covered* when the dataset holds at least ``min_ratio``
  (default 0.5) of the rows it would hold if it followed the reference's mix (coverage ratio
  ``n_c / n_c* >= min_ratio``) and at least ``m`` rows (default 1); otherwise it is *under-covered*, so a
  scene is one or the other, never both. Scene coverage is the share of reference rows that lie in covered
  scenes (``sum_c w_c [covered_c]``): a few stray reference rows in a cluster of dataset rows weigh
  little. Two unrelated corpora read near 0 and two halves of one corpus near 1. (A rule of
  "at least 5 dataset rows" with every scene weighing the same reads BBC news against movie reviews
  1.000; counting scenes unweighted still reads tweets against SMS 0.6-0.8, from clusters of tweets
  holding 2-4 SMS each.) ``n_scenes``/``n_scenes_covered`` give the unweighted count.
- **Sample coverage**: ``sum_c w_c * min(1, n_c / n_c*)`` over clusters, with ``w_c`` the reference's
  share of cluster c and ``n_c* = w_c * N_dataset`` the dataset rows c would hold if the dataset
  followed the reference's mix. 1 when every scene is at least as present as in the reference.

Pure functions on arrays. Rows without an embedding (empty texts; ``valid`` False) are left out and
counted. Neighbour searches go through :func:`dq_core.space.neighbors.find_neighbors` so the graph is shared
with the signals and cached in the workspace.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from dq_core.errors import DataError
from dq_core.util.wording import counted

DEFAULT_PERCENTILE = 95.0
# A scene (cluster holding reference rows) is covered when its coverage ratio n_c / n_c* reaches
# DEFAULT_MIN_RATIO and it holds at least DEFAULT_MIN_ROWS dataset rows; else it is under-covered.
DEFAULT_MIN_RATIO = 0.5
DEFAULT_MIN_ROWS = 1  # m: an absolute floor on top of the ratio (1: the ratio alone decides)


@dataclass(frozen=True)
class ClusterCoverage:
    cluster: int
    n_dataset: int
    n_reference: int
    dataset_share: float
    reference_share: float
    expected_dataset: float  # n_c*: dataset rows if the dataset followed the reference's mix
    coverage_ratio: float | None  # n_c / n_c*; None for clusters without reference rows
    reference_within_radius: float | None  # share of this cluster's reference rows within the radius
    covered: bool  # holds reference rows, coverage ratio >= min_ratio and >= m dataset rows
    under_covered: bool  # holds reference rows and is not covered (False for clusters without reference rows)
    top_terms: tuple[str, ...] = ()
    dataset_examples: tuple[str, ...] = ()
    reference_examples: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"cluster": self.cluster, "n_dataset": self.n_dataset, "n_reference": self.n_reference,
                "dataset_share": self.dataset_share, "reference_share": self.reference_share,
                "expected_dataset": self.expected_dataset, "coverage_ratio": self.coverage_ratio,
                "reference_within_radius": self.reference_within_radius, "covered": self.covered,
                "under_covered": self.under_covered, "top_terms": list(self.top_terms),
                "dataset_examples": list(self.dataset_examples),
                "reference_examples": list(self.reference_examples)}


@dataclass(frozen=True, eq=False)
class CoverageResult:
    reference_coverage: float
    radius: float
    radius_source: str  # "p95 of the dataset's nearest-neighbour distances" or "given"
    scene_coverage: float
    sample_coverage: float
    min_rows: int
    min_ratio: float
    k: int
    how_k_chosen: str
    n_dataset: int  # embedded rows used
    n_reference: int
    n_dataset_skipped: int  # rows without an embedding (empty/missing text)
    n_reference_skipped: int
    clusters: tuple[ClusterCoverage, ...]
    # Per-row arrays over *all* input rows (skipped rows: -1 / nan / False), for maps and tables.
    ds_cluster: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=np.int64))
    ref_cluster: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=np.int64))
    ref_nn_distance: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=np.float32))
    ref_nn_index: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=np.int64))
    ds_nn_distance: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=np.float32))
    joint: object = field(repr=False, default=None)  # the JointClusters of the embedded rows (reusable)

    @property
    def ref_covered(self) -> np.ndarray:
        return np.nan_to_num(self.ref_nn_distance, nan=np.inf) <= self.radius

    @property
    def terms(self) -> dict[int, tuple[str, ...]]:
        return {c.cluster: c.top_terms for c in self.clusters}

    @property
    def under_covered_clusters(self) -> list[int]:
        return [c.cluster for c in self.clusters if c.under_covered]

    @property
    def n_scenes(self) -> int:
        """Clusters holding reference rows."""
        return sum(1 for c in self.clusters if c.n_reference)

    @property
    def n_scenes_covered(self) -> int:
        return sum(1 for c in self.clusters if c.covered)

    @property
    def scene_rule(self) -> str:
        return scene_rule(min_ratio=self.min_ratio, min_rows=self.min_rows)

    @property
    def scene_count(self) -> str:
        """"1 of 5 scenes is covered", "3 of 5 scenes are covered" (the unweighted count, in words)."""
        k, n = self.n_scenes_covered, self.n_scenes
        return f"{k:,} of {counted(n, 'scene')} {'is' if k == 1 or n == 1 else 'are'} covered"

    def to_dict(self) -> dict:
        return {"reference_coverage": self.reference_coverage, "radius": self.radius,
                "radius_source": self.radius_source, "scene_coverage": self.scene_coverage,
                "sample_coverage": self.sample_coverage, "scene_rule": self.scene_rule,
                "n_scenes": self.n_scenes, "n_scenes_covered": self.n_scenes_covered,
                "min_ratio": self.min_ratio, "min_rows": self.min_rows, "k": self.k,
                "how_k_chosen": self.how_k_chosen, "n_dataset": self.n_dataset, "n_reference": self.n_reference,
                "n_dataset_skipped": self.n_dataset_skipped, "n_reference_skipped": self.n_reference_skipped,
                "under_covered_clusters": self.under_covered_clusters,
                "clusters": [c.to_dict() for c in self.clusters]}


# --------------------------------------------------------------------------- the three figures

def _check_pair(ds: np.ndarray, ref: np.ndarray) -> None:
    if ds.ndim != 2 or ref.ndim != 2:
        raise DataError("embeddings must be 2-D arrays (rows x dimensions)")
    if len(ref) == 0:
        raise DataError("the reference has no rows with text to embed; load a reference with text rows")
    if len(ds) == 0:
        raise DataError("the dataset has no rows with text to embed; coverage needs at least 2")
    if ds.shape[1] != ref.shape[1]:
        raise DataError(f"dataset and reference embeddings differ in size ({ds.shape[1]} vs {ref.shape[1]}); "
                        "embed both with the same model")


def dataset_nn_distances(ds_vectors: np.ndarray, *, workspace=None, seed: int = 0) -> np.ndarray:
    """Each dataset row's cosine distance to its nearest *other* dataset row.

    Reads the shared self-graph (``GRAPH_K`` neighbours, stored by the signals) when it is in the
    workspace; otherwise searches only the nearest neighbour, which is what coverage needs (on 20k rows
    the 30-neighbour graph cost 6.2 s against 3.5 s for one neighbour, measured under load).
    """
    from dq_core.space.neighbors import GRAPH_K, cached_self_graph, find_neighbors

    n = len(ds_vectors)
    if n < 2:
        raise DataError(f"the dataset has {n} embedded row(s); the coverage radius needs at least 2 "
                        "(each row's nearest other row), or give the radius yourself")
    shared = cached_self_graph(ds_vectors, k=min(GRAPH_K, n - 1), seed=seed, workspace=workspace)
    if shared is not None:
        return shared.distances[:, 0]
    return find_neighbors(ds_vectors, k=1, seed=seed, workspace=workspace).distances[:, 0]


def default_radius(ds_nn: np.ndarray, percentile: float = DEFAULT_PERCENTILE) -> float:
    if not 0 <= percentile <= 100:
        raise DataError(f"percentile {percentile} is outside 0..100")
    if len(ds_nn) == 0:
        raise DataError("no dataset distances to take a percentile of")
    return float(np.percentile(ds_nn, percentile))


def reference_coverage(ref_nn_distance: np.ndarray, radius: float) -> float:
    """Share of reference rows whose nearest dataset row lies within ``radius`` (cosine distance)."""
    d = np.asarray(ref_nn_distance, dtype=float)
    if len(d) == 0:
        raise DataError("the reference has no rows; coverage needs at least one reference row")
    if not np.isfinite(radius) or radius < 0:
        raise DataError(f"radius {radius} is not a distance; use a value between 0 and 2")
    # A tiny tolerance: float32 dot products of identical normalised vectors give ~1e-7, not 0.
    return float(np.mean(d <= radius + 1e-6))


def _check_scene_params(min_ratio: float, min_rows: int) -> None:
    if not np.isfinite(min_ratio) or min_ratio <= 0:
        raise DataError(f"min_ratio {min_ratio} must be above 0 (0.5: a scene needs half the dataset rows the "
                        "reference's mix would give it)")
    if min_rows < 1:
        raise DataError(f"m={min_rows}: a scene needs at least 1 dataset row to count as covered")


def scene_rule(*, min_ratio: float = DEFAULT_MIN_RATIO, min_rows: int = DEFAULT_MIN_ROWS) -> str:
    """The covered/under-covered rule in words (shown on the Coverage page and in ``dq coverage``)."""
    floor = f" and at least {min_rows} dataset rows" if min_rows > 1 else ""
    return (f"A scene (a cluster holding reference rows) is covered when the dataset holds at least "
            f"{min_ratio:g}× the rows it would hold if it followed the reference's mix (coverage ratio "
            f"n_c / n_c* ≥ {min_ratio:g}){floor}; otherwise it is under-covered. Scene coverage is the share "
            "of reference rows that lie in covered scenes.")


def covered_scenes(ds_counts: Sequence[int], ref_counts: Sequence[int], *, min_ratio: float = DEFAULT_MIN_RATIO,
                   min_rows: int = DEFAULT_MIN_ROWS) -> np.ndarray:
    """Per cluster: True where it holds reference rows and the dataset covers it (see :func:`scene_rule`).

    Clusters without reference rows are False; for the others, under-covered is exactly ``not covered``.
    """
    dc = np.asarray(ds_counts, dtype=np.float64)
    rc = np.asarray(ref_counts, dtype=np.float64)
    if dc.shape != rc.shape:
        raise DataError("dataset and reference cluster counts have different lengths")
    _check_scene_params(min_ratio, min_rows)
    populated = rc > 0
    if not populated.any():
        raise DataError("no cluster holds reference rows; coverage needs at least one reference row")
    exp = expected_counts(dc, rc)
    # n_c >= min_ratio * n_c*, compared without dividing (n_c* is 0 when the dataset is empty)
    return populated & (dc >= min_rows) & (dc >= min_ratio * exp - 1e-9)


def scene_coverage(ds_counts: Sequence[int], ref_counts: Sequence[int], *, min_ratio: float = DEFAULT_MIN_RATIO,
                   min_rows: int = DEFAULT_MIN_ROWS) -> float:
    """Share of reference rows that lie in covered scenes: ``sum_c w_c [covered_c]`` (:func:`covered_scenes`)."""
    rc = np.asarray(ref_counts, dtype=np.float64)
    covered = covered_scenes(ds_counts, ref_counts, min_ratio=min_ratio, min_rows=min_rows)
    return float(rc[covered].sum() / rc.sum())


def expected_counts(ds_counts: Sequence[int], ref_counts: Sequence[int]) -> np.ndarray:
    """n_c*: dataset rows per cluster if the dataset followed the reference's mix."""
    dc = np.asarray(ds_counts, dtype=float)
    rc = np.asarray(ref_counts, dtype=float)
    if rc.sum() <= 0:
        raise DataError("no cluster holds reference rows; coverage needs at least one reference row")
    return rc / rc.sum() * dc.sum()


def sample_coverage(ds_counts: Sequence[int], ref_counts: Sequence[int]) -> float:
    """sum_c w_c * min(1, n_c / n_c*), w_c the reference share of cluster c."""
    dc = np.asarray(ds_counts, dtype=float)
    rc = np.asarray(ref_counts, dtype=float)
    if dc.shape != rc.shape:
        raise DataError("dataset and reference cluster counts have different lengths")
    exp = expected_counts(dc, rc)
    w = rc / rc.sum()
    if dc.sum() <= 0:
        return 0.0
    pos = w > 0
    return float(np.sum(w[pos] * np.minimum(1.0, dc[pos] / exp[pos])))


# --------------------------------------------------------------------------- everything together

def _examples(vectors: np.ndarray, labels: np.ndarray, centroids: np.ndarray, texts: Sequence[str] | None,
              n: int) -> dict[int, tuple[str, ...]]:
    """For each cluster, the ``n`` texts closest to its centroid (the most typical rows)."""
    if texts is None or n <= 0 or len(vectors) == 0:
        return {}
    sims = np.einsum("ij,ij->i", vectors, centroids[labels])
    out: dict[int, tuple[str, ...]] = {}
    order = np.lexsort((-sims, labels))  # by cluster, most central first
    bounds = np.searchsorted(labels[order], np.arange(len(centroids) + 1))
    for c in range(len(centroids)):
        rows = order[bounds[c]:bounds[c + 1]][:n]
        out[c] = tuple(str(texts[i]) for i in rows)
    return out


def compute_coverage(ds_vectors: np.ndarray, ref_vectors: np.ndarray, *, ds_valid: np.ndarray | None = None,
                     ref_valid: np.ndarray | None = None, ds_texts: Sequence[str] | None = None,
                     ref_texts: Sequence[str] | None = None, radius: float | None = None,
                     percentile: float = DEFAULT_PERCENTILE, min_ratio: float = DEFAULT_MIN_RATIO,
                     min_rows: int = DEFAULT_MIN_ROWS, k: int | None = None, clusters=None,
                     terms: dict[int, Sequence[str]] | None = None,
                     seed: int = 0, workspace=None, n_terms: int = 8, n_examples: int = 3) -> CoverageResult:
    """Reference, scene and sample coverage plus the per-cluster table.

    ``ds_vectors``/``ref_vectors`` are L2-normalised embeddings of all rows; ``*_valid`` marks the rows
    that have one (default: all). ``radius=None`` takes the ``percentile`` of the dataset's own
    nearest-neighbour distances. ``min_ratio`` and ``min_rows`` (m) decide which scenes are covered
    (:func:`scene_rule`). ``clusters`` reuses a :class:`~dq_core.space.clusters.JointClusters` of the
    valid rows (else :func:`~dq_core.space.clusters.cluster_joint` runs with ``k``, ``seed``, ``workspace``).
    Texts, when given, feed the top terms and examples; ``terms`` reuses top terms already computed
    for these ``clusters`` (so moving the radius does not re-count words).
    """
    from dq_core.space.clusters import cluster_joint
    from dq_core.space.neighbors import find_neighbors

    ds_all, ref_all, vd, vr = _checked_inputs(ds_vectors, ref_vectors, ds_valid, ref_valid, ds_texts, ref_texts)
    xd, xr = ds_all[vd], ref_all[vr]
    _check_pair(xd, xr)
    _check_scene_params(min_ratio, min_rows)

    # 1. reference coverage
    r, source, ds_nn = _radius(ds_all, vd, radius, percentile, workspace=workspace, seed=seed)
    knn = find_neighbors(xd, xr, k=1, seed=seed, workspace=workspace)
    ref_nn = np.full(len(ref_all), np.nan, dtype=np.float32)
    ref_nn[vr] = knn.distances[:, 0]
    ref_idx = np.full(len(ref_all), -1, dtype=np.int64)
    ref_idx[vr] = np.flatnonzero(vd)[knn.indices[:, 0]]  # positions in the full dataset
    ref_cov = reference_coverage(ref_nn[vr], r)

    # 2. clusters -> scene and sample coverage
    jc = clusters if clusters is not None else cluster_joint(xd, xr, k=k, seed=seed, workspace=workspace)
    if len(jc.ds_labels) != len(xd) or len(jc.ref_labels) != len(xr):
        raise DataError("the clusters do not match the embedded rows; cluster the same embeddings")
    dc = np.bincount(jc.ds_labels, minlength=jc.k)
    rc = np.bincount(jc.ref_labels, minlength=jc.k)
    scene = scene_coverage(dc, rc, min_ratio=min_ratio, min_rows=min_rows)
    sample = sample_coverage(dc, rc)

    # 3. the per-cluster table
    dtexts = [ds_texts[i] for i in np.flatnonzero(vd)] if ds_texts is not None else None
    rtexts = [ref_texts[i] for i in np.flatnonzero(vr)] if ref_texts is not None else None
    rows = _cluster_rows(jc, dc, rc, xd, xr, dtexts, rtexts, ref_nn[vr] <= r + 1e-6, terms=terms,
                         n_terms=n_terms, n_examples=n_examples, min_ratio=min_ratio, min_rows=min_rows)
    ds_cluster = np.full(len(ds_all), -1, dtype=np.int64)
    ds_cluster[vd] = jc.ds_labels
    ref_cluster = np.full(len(ref_all), -1, dtype=np.int64)
    ref_cluster[vr] = jc.ref_labels
    return CoverageResult(
        reference_coverage=ref_cov, radius=r, radius_source=source, scene_coverage=scene, sample_coverage=sample,
        min_rows=int(min_rows), min_ratio=float(min_ratio), k=int(jc.k),
        how_k_chosen=getattr(jc, "how_k_chosen", f"k={jc.k}"),
        n_dataset=int(vd.sum()), n_reference=int(vr.sum()), n_dataset_skipped=int((~vd).sum()),
        n_reference_skipped=int((~vr).sum()), clusters=rows, ds_cluster=ds_cluster, ref_cluster=ref_cluster,
        ref_nn_distance=ref_nn, ref_nn_index=ref_idx, ds_nn_distance=ds_nn, joint=jc)


def _checked_inputs(ds_vectors, ref_vectors, ds_valid, ref_valid, ds_texts, ref_texts) -> tuple:
    """(both sides' vectors as float32, their valid masks: all rows when not given); DataError when the
    shapes, masks or texts do not match or the reference is empty."""
    ds_all = np.asarray(ds_vectors, dtype=np.float32)
    ref_all = np.asarray(ref_vectors, dtype=np.float32)
    if ds_all.ndim != 2 or ref_all.ndim != 2:
        raise DataError("embeddings must be 2-D arrays (rows x dimensions)")
    vd = np.ones(len(ds_all), dtype=bool) if ds_valid is None else np.asarray(ds_valid, dtype=bool)
    vr = np.ones(len(ref_all), dtype=bool) if ref_valid is None else np.asarray(ref_valid, dtype=bool)
    if len(vd) != len(ds_all) or len(vr) != len(ref_all):
        raise DataError("the valid masks do not match the embeddings (different lengths)")
    for name, t, n in (("dataset", ds_texts, len(ds_all)), ("reference", ref_texts, len(ref_all))):
        if t is not None and len(t) != n:
            raise DataError(f"{len(t)} {name} texts for {n} {name} embeddings")
    if len(ref_all) == 0:
        raise DataError("the reference has no rows; load a reference with text rows")
    return ds_all, ref_all, vd, vr


def _radius(ds_all: np.ndarray, vd: np.ndarray, radius: float | None, percentile: float, *, workspace,
            seed: int) -> tuple[float, str, np.ndarray]:
    """(the radius, where it comes from, each dataset row's nearest-neighbour distance: NaN unless the
    radius was derived from them)."""
    ds_nn = np.full(len(ds_all), np.nan, dtype=np.float32)
    if radius is not None:
        r = float(radius)
        if not np.isfinite(r) or not 0 <= r <= 2:
            raise DataError(f"radius {radius} is not a cosine distance; use a value between 0 and 2")
        return r, "given", ds_nn
    if int(vd.sum()) < 2:
        raise DataError(f"the dataset has {int(vd.sum())} embedded row(s); the default radius needs at least 2 "
                        "(each row's nearest other row); give the radius yourself")
    # The self-graph runs on *all* dataset rows (zero vectors included) so it is the very graph the
    # signals use (same cache key); skipped rows are dropped afterwards.
    nn_all = dataset_nn_distances(ds_all, workspace=workspace, seed=seed)
    ds_nn[vd] = nn_all[vd]
    return default_radius(ds_nn[vd], percentile), f"p{percentile:g} of the dataset's nearest-neighbour distances", ds_nn


def _cluster_rows(jc, dc: np.ndarray, rc: np.ndarray, xd: np.ndarray, xr: np.ndarray, dtexts: list | None,
                  rtexts: list | None, covered_ref: np.ndarray, *, terms: dict | None, n_terms: int,
                  n_examples: int, min_ratio: float, min_rows: int) -> tuple[ClusterCoverage, ...]:
    """The per-cluster table of the joint clusters ``jc`` over the valid rows ``xd`` / ``xr`` (``dc`` /
    ``rc``: their rows per cluster; texts ``dtexts`` / ``rtexts`` when known); ``covered_ref``: which valid
    reference rows lie within the radius."""
    from dq_core.space.clusters import top_terms_by_cluster

    covered = covered_scenes(dc, rc, min_ratio=min_ratio, min_rows=min_rows)
    exp = expected_counts(dc, rc)
    if terms is None and (dtexts is not None or rtexts is not None):
        joint_texts = (dtexts or [""] * len(xd)) + (rtexts or [""] * len(xr))
        terms = top_terms_by_cluster(joint_texts, np.r_[jc.ds_labels, jc.ref_labels], n_terms)
    terms = terms or {}
    dex = _examples(xd, jc.ds_labels, jc.centroids, dtexts, n_examples)
    rex = _examples(xr, jc.ref_labels, jc.centroids, rtexts, n_examples)
    rows = []
    for c in range(jc.k):
        has_ref = rc[c] > 0
        ratio = float(dc[c] / exp[c]) if has_ref else None
        within = float(covered_ref[jc.ref_labels == c].mean()) if has_ref else None
        rows.append(ClusterCoverage(
            cluster=c, n_dataset=int(dc[c]), n_reference=int(rc[c]),
            dataset_share=float(dc[c] / max(dc.sum(), 1)), reference_share=float(rc[c] / max(rc.sum(), 1)),
            expected_dataset=float(exp[c]), coverage_ratio=ratio, reference_within_radius=within,
            covered=bool(covered[c]), under_covered=bool(has_ref and not covered[c]),
            top_terms=tuple(terms.get(c, ()))[:n_terms], dataset_examples=dex.get(c, ()), reference_examples=rex.get(c, ())))
    return tuple(rows)


def coverage_for_datasets(ds, ref, ds_emb, ref_emb, **kwargs) -> CoverageResult:
    """:func:`compute_coverage` for two TextDatasets and their EmbeddingResults (texts feed the table)."""
    if ref is None or len(ref) == 0:
        raise DataError("coverage needs a reference with rows; load a reference (same forms as the data)")
    if len(ds_emb.vectors) != len(ds) or len(ref_emb.vectors) != len(ref):
        raise DataError("the embeddings do not match the rows (different lengths); embed the datasets again")
    return compute_coverage(ds_emb.vectors, ref_emb.vectors, ds_valid=ds_emb.valid, ref_valid=ref_emb.valid,
                            ds_texts=ds.texts.fillna("").tolist(), ref_texts=ref.texts.fillna("").tolist(),
                            **kwargs)
