"""Joint clustering of dataset + reference embeddings, and the terms that tell clusters apart.

Coverage (scene / sample coverage) and distribution shift (the embedding-cluster view) both need the
same thing: one partition of the *union* of both sets, so a cluster means the same "scene" on each side.

- :func:`cluster_joint` runs k-means on L2-normalised vectors (Euclidean there ranks like cosine),
  reduced to PCA_DIM principal components and fitted on a sample, then assigns every row.
  ``k=None`` picks k by the silhouette of candidate clusterings fitted on a sample; a fixed ``k``
  skips the search. Deterministic for a given ``seed``.
- :func:`top_terms` / :func:`top_terms_by_cluster` rank words by the weighted log-odds ratio with an
  informative Dirichlet prior (Monroe, Colaresi & Quinn 2008), a cluster against the whole corpus. It
  favours words that are both frequent in the cluster and rare elsewhere, without the noise of raw
  ratios on rare words.

Why not silhouette over every k from 2: on sentence embeddings the silhouette is low and flat, and its
maximum is often k=2, which says nothing about coverage. The grid therefore starts at a handful of
clusters and grows with the data (``k_grid``); ``k`` stays adjustable.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from dq_core.errors import DataError
from dq_core.util.fingerprint import array_fingerprint

CACHE_KIND = "clusters"
CLUSTERS_VERSION = 5
FIT_SAMPLE = 20_000  # rows the final k-means (and the PCA) is fitted on; the rest are predicted
SEARCH_SAMPLE = 6_000  # rows each candidate k is fitted on during the search
SILHOUETTE_SAMPLE = 2_500  # rows the silhouette of each candidate is measured on
PCA_DIM = 50
PCA_SAMPLE = 8_000  # rows the PCA axes are fitted on (50 axes are stable long before 20k rows)
MIN_CLUSTER_ROWS = 10  # the grid never asks for clusters smaller than this on average
MAX_K = 30


@dataclass(frozen=True, eq=False)
class JointClusters:
    """One partition of dataset + reference rows. Labels are 0..k-1, ordered by total size (0 largest)."""

    ds_labels: np.ndarray  # (n_ds,) int64
    ref_labels: np.ndarray  # (n_ref,) int64
    k: int
    centroids: np.ndarray  # (k, d) float32, L2-normalised
    method: str  # "given" (k passed in) or "silhouette" (k searched)
    scores: dict[int, float] = field(default_factory=dict)  # k -> silhouette, when searched
    seed: int = 0

    @property
    def ds_counts(self) -> np.ndarray:
        return np.bincount(self.ds_labels, minlength=self.k)

    @property
    def ref_counts(self) -> np.ndarray:
        return np.bincount(self.ref_labels, minlength=self.k)

    @property
    def how_k_chosen(self) -> str:
        if self.method == "given":
            return f"k={self.k} as given"
        best = self.scores.get(self.k)
        grid = ", ".join(str(k) for k in sorted(self.scores))
        return (f"k={self.k}: best silhouette ({best:.3f}) over k in {{{grid}}} on a sample"
                if best is not None else f"k={self.k}")

    def to_dict(self) -> dict:
        return {"k": self.k, "method": self.method, "how_k_chosen": self.how_k_chosen,
                "silhouette_by_k": {str(k): float(v) for k, v in sorted(self.scores.items())},
                "seed": self.seed, "ds_counts": self.ds_counts.tolist(), "ref_counts": self.ref_counts.tolist()}


# --------------------------------------------------------------------------- clustering

def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def _stack_normalised(parts: list[np.ndarray], block: int = 65536) -> np.ndarray:
    """The row-normalised float32 stack of ``parts`` written block by block into one array: the same
    values as ``_normalise(np.vstack(parts))`` without the two full-size temporaries (3 GB at 1M rows)."""
    n = sum(len(p) for p in parts)
    out = np.empty((n, parts[0].shape[1]), dtype=np.float32)
    at = 0
    for part in parts:
        for i in range(0, len(part), block):
            rows = slice(at + i, at + min(i + block, len(part)))
            out[rows] = _normalise(part[i:i + block])
        at += len(part)
    return out


def k_grid(n: int) -> list[int]:
    """Candidate k for ``n`` rows: a few clusters up to ~sqrt(n/2), never below MIN_CLUSTER_ROWS a cluster."""
    hi = int(min(MAX_K, max(2, np.sqrt(n / 2)), max(2, n // MIN_CLUSTER_ROWS)))
    grid = [k for k in (4, 5, 6, 8, 10, 12, 15, 20, 25, 30) if k <= hi]
    if not grid:
        grid = sorted({max(2, min(hi, k)) for k in (2, 3, 4)})
    return grid


def _reduce(x: np.ndarray, seed: int) -> np.ndarray:
    """Project normalised vectors on their top PCA_DIM principal axes (fitted on a sample).

    k-means cost is linear in the dimension: 384 -> 50 dims makes every fit ~8x cheaper while keeping
    the Euclidean geometry of the normalised vectors (which ranks like cosine) nearly intact.
    """
    if x.shape[1] <= PCA_DIM or len(x) <= PCA_DIM:
        return x
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(seed)
    fit = x[np.sort(rng.choice(len(x), size=PCA_SAMPLE, replace=False))] if len(x) > PCA_SAMPLE else x
    # The d x d covariance and eigh: exact, deterministic (scikit-learn fixes each axis's sign), and
    # ~50x faster than a randomized SVD of the sample (d = 384 here). Fitted in float64: in float32,
    # X'X - n*mean*mean' loses digits to cancellation (the mean of sentence embeddings is far from 0).
    pca = PCA(n_components=PCA_DIM, svd_solver="covariance_eigh").fit(fit.astype(np.float64))
    axes = pca.components_.T.astype(np.float32)
    mean = pca.mean_.astype(np.float32)
    return x @ axes - (mean @ axes)  # (x - mean) @ axes without an n x d temporary


def _one_thread():
    """k-means and silhouettes on one thread.

    sklearn's k-means runs OpenMP threads that spin-wait at every barrier: on 2 cores shared with other
    work, 3 fits took 19 s with 2 threads and 0.5 s with 1 (measured). The problems here are small
    (<= 20k rows x 50 dims), so one thread loses little on an idle machine and saves minutes on a busy one.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _fit(x: np.ndarray, k: int, seed: int):
    from sklearn.cluster import KMeans

    # Lloyd k-means on <= FIT_SAMPLE reduced rows, then predict for the rest: deterministic for a seed
    # and seconds on 100k rows (MiniBatchKMeans on the full 384-d set took minutes on 2 shared cores).
    # n_init=3: with a single start the silhouette of one k could land on a poor local optimum, and the
    # chosen k then changed with the seed (tweets demo: k=5 merging two topics vs k=6 with seed 1;
    # with 3 starts every seed picked k=6, the five reference topics + airlines).
    return KMeans(n_clusters=k, random_state=seed, n_init=3, max_iter=100, tol=1e-4).fit(x)


def choose_k(x: np.ndarray, *, seed: int = 0, grid: Sequence[int] | None = None) -> tuple[int, dict[int, float]]:
    """The k of ``grid`` with the best silhouette, each fitted and scored on samples of ``x``.

    ``x`` is the reduced, normalised embedding (see :func:`_reduce`), where Euclidean ~ cosine.
    """
    from sklearn.metrics import silhouette_score

    n = len(x)
    grid = [k for k in (grid or k_grid(n)) if 2 <= k < n]
    if not grid:
        raise DataError(f"too few rows ({n}) to cluster; at least 3 embedded rows are needed")
    rng = np.random.default_rng(seed + 1)
    fit_idx = rng.choice(n, size=min(n, SEARCH_SAMPLE), replace=False) if n > SEARCH_SAMPLE else np.arange(n)
    xs = x[np.sort(fit_idx)]
    sil_idx = rng.choice(len(xs), size=min(len(xs), SILHOUETTE_SAMPLE), replace=False)
    scores: dict[int, float] = {}
    with _one_thread():
        for k in grid:
            if k >= len(xs):
                continue
            labels = _fit(xs, k, seed).labels_
            sl = labels[sil_idx]
            if len(np.unique(sl)) < 2 or len(np.unique(sl)) >= len(sl):
                continue
            scores[k] = float(silhouette_score(xs[sil_idx], sl, metric="euclidean"))
    if not scores:
        return grid[0], {}
    best = max(scores, key=lambda kk: (round(scores[kk], 4), -kk))  # ties -> fewer clusters
    return best, scores


def cluster_joint(ds_vectors, ref_vectors, *, k=None, seed=0, workspace=None) -> JointClusters:
    """Cluster dataset and reference embeddings together.

    ``ds_vectors`` (n_ds, d) and ``ref_vectors`` (n_ref, d) should hold only real embeddings (drop the
    rows of empty texts first). ``k=None`` searches k (see :func:`choose_k`); an int fixes it.
    With a ``workspace`` the result is cached on disk keyed by both arrays' content, k and seed.
    """
    # No float32 copies here: at 1M float16 rows each is 1.5 GB; _stack_normalised casts block by block.
    ds_vectors = np.asarray(ds_vectors)
    ref_vectors = np.asarray(ref_vectors)
    if ds_vectors.ndim != 2 or ref_vectors.ndim != 2:
        raise DataError("embeddings must be 2-D arrays (rows x dimensions)")
    if len(ds_vectors) == 0:
        raise DataError("the dataset has no embedded rows to cluster (are all its texts empty?)")
    if len(ref_vectors) == 0:
        raise DataError("the reference has no embedded rows to cluster (is it empty, or are all its texts empty?)")
    if ds_vectors.shape[1] != ref_vectors.shape[1]:
        raise DataError(f"dataset and reference embeddings differ in size ({ds_vectors.shape[1]} vs "
                        f"{ref_vectors.shape[1]}); embed both with the same model")
    n = len(ds_vectors) + len(ref_vectors)
    if k is not None:
        k = int(k)
        if k < 2:
            raise DataError(f"k={k} clusters asked for; use at least 2")
        if k > n:
            raise DataError(f"k={k} clusters asked for but only {n} rows exist; lower k")

    key = None
    if workspace is not None:
        from dq_core.data.workspace import config_key

        key = config_key(CACHE_KIND, CLUSTERS_VERSION, array_fingerprint(np.asarray(ds_vectors, np.float32)),
                         array_fingerprint(np.asarray(ref_vectors, np.float32)), k, seed)
        hit = _load(workspace, key, len(ds_vectors))
        if hit is not None:
            return hit

    x = _stack_normalised([ds_vectors, ref_vectors])
    z = _reduce(x, seed)
    if k is None:
        k_used, scores = choose_k(z, seed=seed)
        method = "silhouette"
    else:
        k_used, scores, method = k, {}, "given"
    rng = np.random.default_rng(seed + 2)
    fit_rows = np.sort(rng.choice(n, size=FIT_SAMPLE, replace=False)) if n > FIT_SAMPLE else np.arange(n)
    with _one_thread():
        model = _fit(z[fit_rows], k_used, seed)
        labels = model.predict(z).astype(np.int64)
    k_used = int(k_used)
    # Centroids in the original space (mean direction of each cluster's vectors), for callers that
    # place new rows or name clusters by their nearest member.
    from scipy.sparse import csr_matrix

    onehot = csr_matrix((np.ones(n, dtype=np.float32), (labels, np.arange(n))), shape=(k_used, n))
    centroids = _normalise(np.asarray(onehot @ x, dtype=np.float32))
    # Relabel by size (largest first) so cluster ids read the same across runs and pages.
    sizes = np.bincount(labels, minlength=k_used)
    order = np.lexsort((np.arange(k_used), -sizes))
    remap = np.empty(k_used, dtype=np.int64)
    remap[order] = np.arange(k_used)
    labels = remap[labels]
    centroids = centroids[order]
    res = JointClusters(ds_labels=labels[:len(ds_vectors)], ref_labels=labels[len(ds_vectors):], k=k_used,
                        centroids=centroids.astype(np.float32), method=method, scores=scores, seed=int(seed))
    if workspace is not None and key is not None:
        workspace.save_array(CACHE_KIND, key + "-labels", labels)
        workspace.save_array(CACHE_KIND, key + "-centroids", res.centroids)
        workspace.save_json(CACHE_KIND, key, {"k": k_used, "method": method, "seed": int(seed),
                                              "scores": {str(kk): v for kk, v in scores.items()}})
    return res


def _load(ws, key: str, n_ds: int) -> JointClusters | None:
    meta = ws.load_json(CACHE_KIND, key)
    labels = ws.load_array(CACHE_KIND, key + "-labels") if meta else None
    cents = ws.load_array(CACHE_KIND, key + "-centroids") if labels is not None else None
    if meta is None or labels is None or cents is None:
        return None
    return JointClusters(ds_labels=labels[:n_ds], ref_labels=labels[n_ds:], k=int(meta["k"]), centroids=cents,
                         method=meta["method"], scores={int(kk): float(v) for kk, v in meta["scores"].items()},
                         seed=int(meta["seed"]))


# --------------------------------------------------------------------------- distinguishing terms

TOKEN_PATTERN = r"(?u)(?<![\w@#])[@#]?[^\W\d_][\w'-]*[^\W_]"  # words of 2+ chars, @mentions and #tags kept
_URL = re.compile(r"https?://\S+|www\.\S+")
_EXTRA_STOP = {"rt", "amp", "http", "https", "co", "im", "dont", "don't", "it's", "i'm", "via", "just"}


def _vectorizer(min_df: int):
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    return CountVectorizer(lowercase=True, token_pattern=TOKEN_PATTERN, min_df=min_df,
                           stop_words=sorted(ENGLISH_STOP_WORDS | _EXTRA_STOP),
                           preprocessor=lambda t: _URL.sub(" ", t.lower()), dtype=np.int64)


def _clean(texts) -> list[str]:
    return [t if isinstance(t, str) else "" for t in texts]


def _log_odds(cluster_counts: np.ndarray, all_counts: np.ndarray, prior_scale: float = 1.0) -> np.ndarray:
    """z-scores of the weighted log-odds ratio, cluster vs corpus, informative Dirichlet prior = corpus."""
    y_i = cluster_counts.astype(np.float64)
    y_j = all_counts.astype(np.float64)
    n_i, n_j = y_i.sum(), y_j.sum()
    alpha = prior_scale * y_j / max(n_j, 1.0) * min(n_j, 10_000.0)  # prior worth <= 10k tokens
    a0 = alpha.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        d = (np.log((y_i + alpha) / np.maximum(n_i + a0 - y_i - alpha, 1e-9))
             - np.log((y_j + alpha) / np.maximum(n_j + a0 - y_j - alpha, 1e-9)))
        var = 1.0 / (y_i + alpha) + 1.0 / (y_j + alpha)
        z = d / np.sqrt(var)
    z[~np.isfinite(z) | (y_i == 0)] = -np.inf
    return z


def top_terms(texts_in_cluster, texts_all, n: int = 8) -> list[str]:
    """The ``n`` words that most distinguish ``texts_in_cluster`` from ``texts_all`` (best first)."""
    all_texts = _clean(texts_all)
    if not any(t.strip() for t in all_texts):
        return []
    vec = _vectorizer(min_df=1)
    try:
        x_all = vec.fit_transform(all_texts)
    except ValueError:  # empty vocabulary (only stop words / numbers)
        return []
    x_in = vec.transform(_clean(texts_in_cluster))
    z = _log_odds(np.asarray(x_in.sum(axis=0)).ravel(), np.asarray(x_all.sum(axis=0)).ravel())
    return _best(z, vec.get_feature_names_out(), n)


def top_terms_by_cluster(texts, labels, n: int = 8, *, min_df: int = 2) -> dict[int, list[str]]:
    """:func:`top_terms` for every cluster of ``labels`` in one vectorising pass over ``texts``."""
    texts = _clean(texts)
    labels = np.asarray(labels)
    if len(texts) != len(labels):
        raise DataError(f"{len(texts)} texts but {len(labels)} cluster labels")
    vec = _vectorizer(min_df=min_df if len(texts) >= 50 else 1)
    try:
        x = vec.fit_transform(texts).tocsr()
    except ValueError:
        return {int(c): [] for c in np.unique(labels)}
    names = vec.get_feature_names_out()
    all_counts = np.asarray(x.sum(axis=0)).ravel()
    out: dict[int, list[str]] = {}
    for c in np.unique(labels):
        rows = np.flatnonzero(labels == c)
        z = _log_odds(np.asarray(x[rows].sum(axis=0)).ravel(), all_counts)
        out[int(c)] = _best(z, names, n)
    return out


def _best(z: np.ndarray, names: np.ndarray, n: int) -> list[str]:
    if n <= 0 or not len(z):
        return []
    top = np.argsort(-z, kind="stable")[: n]
    return [str(names[i]) for i in top if np.isfinite(z[i]) and z[i] > 0]
