"""2-D maps of dataset + reference embeddings: a quick PCA view and a cached UMAP (cosine).

UMAP is fitted on at most ``fit_sample`` rows (stratified by side) with an exact kNN graph handed in
as ``precomputed_knn``; the rest are placed at the weighted mean of their nearest fitted rows (how
UMAP's ``transform`` initialises new points), so 100k rows cost about what 12k do. Results are cached on disk in the workspace,
keyed by both arrays' content and the parameters: a later visit is one ``np.load``.

The numba compile cost of umap-learn (15-30 s on the first fit of every process) is paid by
:func:`warm_umap`, which fits a tiny problem through the same code path. Call it once per long-lived process in a background thread (the dashboard
does so at start) and the first real projection pays only its own compute.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from dq_core.errors import DataError
from dq_core.util.fingerprint import array_fingerprint
from dq_core.util.progress import Progress

CACHE_KIND = "projection"
PROJECTION_VERSION = 1
FIT_SAMPLE = 12_000  # rows UMAP is fitted on; the rest go through transform
MAX_PLOT_POINTS = 50_000


@dataclass(frozen=True, eq=False)
class Projection:
    """2-D coordinates for every input row (NaN where a row has no embedding)."""

    ds_xy: np.ndarray  # (n_ds, 2) float32
    ref_xy: np.ndarray  # (n_ref, 2) float32
    method: str  # "umap" or "pca"
    n_fit: int  # rows the model was fitted on
    n_transformed: int  # rows placed with transform (0 when everything was fitted)
    seconds: float  # compute time (0 when served from the cache)
    cached: bool = False

    @property
    def note(self) -> str:
        if self.method == "pca":
            return "quick PCA view (first two principal axes); the UMAP map replaces it when ready"
        if self.n_transformed:
            return (f"UMAP (cosine) fitted on a stratified sample of {self.n_fit:,} rows; the other "
                    f"{self.n_transformed:,} were placed among their 10 nearest fitted rows")
        return f"UMAP (cosine) of all {self.n_fit:,} embedded rows"

    def to_dict(self) -> dict:
        return {"method": self.method, "n_fit": self.n_fit, "n_transformed": self.n_transformed,
                "seconds": self.seconds, "cached": self.cached}


def _valid_stack(ds_vectors, ref_vectors, ds_valid, ref_valid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xd = np.asarray(ds_vectors, dtype=np.float32)
    xr = np.asarray(ref_vectors, dtype=np.float32)
    if xd.ndim != 2 or (len(xr) and xr.ndim != 2):
        raise DataError("embeddings must be 2-D arrays (rows x dimensions)")
    if xr.ndim == 2 and len(xr) and xr.shape[1] != xd.shape[1]:
        raise DataError(f"dataset and reference embeddings differ in size ({xd.shape[1]} vs {xr.shape[1]})")
    vd = np.ones(len(xd), bool) if ds_valid is None else np.asarray(ds_valid, dtype=bool)
    vr = np.ones(len(xr), bool) if ref_valid is None else np.asarray(ref_valid, dtype=bool)
    if len(vd) != len(xd) or len(vr) != len(xr):
        raise DataError("the valid masks do not match the embeddings (different lengths)")
    parts = [xd[vd]] + ([xr[vr]] if len(xr) else [])
    return np.vstack(parts) if parts else np.zeros((0, xd.shape[1]), np.float32), vd, vr


def _split(xy: np.ndarray, vd: np.ndarray, vr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ds_xy = np.full((len(vd), 2), np.nan, dtype=np.float32)
    ref_xy = np.full((len(vr), 2), np.nan, dtype=np.float32)
    nd = int(vd.sum())
    ds_xy[vd] = xy[:nd]
    ref_xy[vr] = xy[nd:]
    return ds_xy, ref_xy


def project_pca(ds_vectors, ref_vectors, *, ds_valid=None, ref_valid=None, seed: int = 0) -> Projection:
    """The first two principal axes: well under a second on 100k rows, shown while UMAP runs."""
    from sklearn.decomposition import PCA

    t0 = time.perf_counter()
    x, vd, vr = _valid_stack(ds_vectors, ref_vectors, ds_valid, ref_valid)
    if len(x) < 2:
        raise DataError(f"a map needs at least 2 embedded rows; got {len(x)}")
    rng = np.random.default_rng(seed)
    fit = x[rng.choice(len(x), size=20_000, replace=False)] if len(x) > 20_000 else x
    pca = PCA(n_components=2, svd_solver="randomized" if x.shape[1] > 2 else "full", random_state=seed).fit(fit)
    xy = pca.transform(x).astype(np.float32)
    ds_xy, ref_xy = _split(xy, vd, vr)
    return Projection(ds_xy, ref_xy, "pca", n_fit=len(fit), n_transformed=len(x) - len(fit),
                      seconds=time.perf_counter() - t0)


def projection_key(ds_vectors, ref_vectors, *, ds_valid=None, ref_valid=None, seed: int = 0,
                   fit_sample: int = FIT_SAMPLE, n_neighbors: int = 15, min_dist: float = 0.1) -> str:
    from dq_core.data.workspace import config_key

    vd = np.ones(len(ds_vectors), bool) if ds_valid is None else np.asarray(ds_valid, dtype=bool)
    vr = np.ones(len(ref_vectors), bool) if ref_valid is None else np.asarray(ref_valid, dtype=bool)
    return config_key(CACHE_KIND, PROJECTION_VERSION, array_fingerprint(np.asarray(ds_vectors, np.float32)),
                      array_fingerprint(np.asarray(ref_vectors, np.float32)), array_fingerprint(vd), array_fingerprint(vr),
                      seed, fit_sample, n_neighbors, float(min_dist))


def cached_umap(ds_vectors, ref_vectors, *, workspace, key: str | None = None, **params) -> Projection | None:
    """The UMAP projection if it is already on disk (never computes, never imports umap)."""
    key = key or projection_key(ds_vectors, ref_vectors, **params)
    meta = workspace.load_json(CACHE_KIND, key)
    if meta is None:
        return None
    ds_xy = workspace.load_array(CACHE_KIND, key + "-ds")
    ref_xy = workspace.load_array(CACHE_KIND, key + "-ref")
    if ds_xy is None or ref_xy is None or len(ds_xy) != len(ds_vectors) or len(ref_xy) != len(ref_vectors):
        return None
    return Projection(ds_xy, ref_xy, "umap", n_fit=int(meta["n_fit"]), n_transformed=int(meta["n_transformed"]),
                      seconds=0.0, cached=True)


def _stratified_fit_rows(n_ds: int, n_ref: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Positions (in the stacked array) of a fit sample holding each side in proportion, both present."""
    n = n_ds + n_ref
    take_ds = int(round(size * n_ds / n)) if n else 0
    take_ds = min(n_ds, max(take_ds, min(n_ds, size // 10)))
    take_ref = min(n_ref, size - take_ds)
    take_ds = min(n_ds, size - take_ref)
    a = rng.choice(n_ds, size=take_ds, replace=False) if take_ds else np.zeros(0, np.int64)
    b = n_ds + rng.choice(n_ref, size=take_ref, replace=False) if take_ref else np.zeros(0, np.int64)
    return np.sort(np.r_[a, b]).astype(np.int64)


def project_umap(ds_vectors, ref_vectors, *, ds_valid=None, ref_valid=None, seed: int = 0, workspace=None,
                 fit_sample: int = FIT_SAMPLE, n_neighbors: int = 15, min_dist: float = 0.1,
                 progress: Progress | None = None) -> Projection:
    """UMAP (cosine) of dataset + reference together; fitted on a sample when large; cached on disk."""
    params = dict(ds_valid=ds_valid, ref_valid=ref_valid, seed=seed, fit_sample=fit_sample,
                  n_neighbors=n_neighbors, min_dist=min_dist)
    key = None
    if workspace is not None:
        key = projection_key(ds_vectors, ref_vectors, **params)
        hit = cached_umap(ds_vectors, ref_vectors, workspace=workspace, key=key)
        if hit is not None:
            return hit
    if fit_sample < 10:
        raise DataError(f"fit_sample={fit_sample} is too small for UMAP; use at least 10")
    t0 = time.perf_counter()
    x, vd, vr = _valid_stack(ds_vectors, ref_vectors, ds_valid, ref_valid)
    n = len(x)
    if n < 4:
        raise DataError(f"a UMAP map needs at least 4 embedded rows; got {n}")
    say = progress or (lambda phase, frac: None)
    rng = np.random.default_rng(seed)
    nd = int(vd.sum())
    fit_rows = _stratified_fit_rows(nd, n - nd, fit_sample, rng) if n > fit_sample else np.arange(n)
    x_fit = np.ascontiguousarray(x[fit_rows])
    nn = int(max(2, min(n_neighbors, len(fit_rows) - 1)))
    say(f"nearest neighbours of {len(fit_rows):,} rows", 0.05)
    # Exact kNN by matmul (BLAS), handed to UMAP as precomputed_knn: faster than UMAP's NN-descent on
    # these sizes and, above all, no pynndescent index whose query function numba compiles anew for
    # every fitted model (that compile alone cost ~100 s on the first transform under load).
    knn_idx, knn_dist = _knn_including_self(x_fit, nn)
    with _UMAP_LOCK:  # one fit at a time per process: numba compiles once, 2 cores are not shared out
        say("fitting UMAP" + ("" if warm_state()["state"] == "warm" else " (compiling on the first run of a process)"),
            0.15)
        xy = np.empty((n, 2), dtype=np.float32)
        xy[fit_rows] = _fit_umap(x_fit, nn, min_dist, seed, knn_idx, knn_dist)
    rest = np.setdiff1d(np.arange(n), fit_rows, assume_unique=True)
    if len(rest):
        say(f"placing the other {len(rest):,} rows", 0.9)
        xy[rest] = _place(x_fit, xy[fit_rows], x[rest])
    say("done", 1.0)
    ds_xy, ref_xy = _split(xy, vd, vr)
    res = Projection(ds_xy, ref_xy, "umap", n_fit=len(fit_rows), n_transformed=len(rest),
                     seconds=time.perf_counter() - t0)
    if workspace is not None and key is not None:
        workspace.save_array(CACHE_KIND, key + "-ds", ds_xy)
        workspace.save_array(CACHE_KIND, key + "-ref", ref_xy)
        workspace.save_json(CACHE_KIND, key, res.to_dict())  # written last: its presence means complete
    return res


def _knn_including_self(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """k nearest rows of each row (itself first, as UMAP expects), exact cosine."""
    from dq_core.space.neighbors import find_neighbors

    knn = find_neighbors(x, x, k=k, exact=True)
    idx, dist = knn.indices.astype(np.int32), np.maximum(knn.distances, 0.0).astype(np.float32)
    # Exact duplicates may list a twin before the row itself; UMAP wants the row first at distance 0.
    own = np.arange(len(x))
    not_first = idx[:, 0] != own
    if not_first.any():
        for r in np.flatnonzero(not_first):
            keep = np.flatnonzero(idx[r] != r)[: k - 1]
            idx[r] = np.r_[r, idx[r][keep]]
            dist[r] = np.r_[0.0, dist[r][keep]]
    dist[:, 0] = 0.0
    return idx, dist


def _fit_umap(x: np.ndarray, nn: int, min_dist: float, seed: int, knn_idx: np.ndarray,
              knn_dist: np.ndarray) -> np.ndarray:
    import warnings

    import umap

    reducer = umap.UMAP(n_components=2, metric="cosine", n_neighbors=nn, min_dist=min_dist, random_state=seed,
                        n_jobs=1, n_epochs=200, init="spectral" if len(knn_idx) > nn + 2 else "random",
                        low_memory=True, precomputed_knn=(knn_idx, knn_dist, None), transform_seed=seed)
    with warnings.catch_warnings():
        # Both are expected here: a seed means one thread, and we never call transform (see _place).
        warnings.filterwarnings("ignore", message=".*overridden to 1 by setting random_state.*")
        warnings.filterwarnings("ignore", message=".*transforming new data with transform will be unavailable.*")
        return reducer.fit_transform(x).astype(np.float32)


def _place(x_fit: np.ndarray, xy_fit: np.ndarray, x_new: np.ndarray, k: int = 10) -> np.ndarray:
    """Rows outside the fit sample go to the distance-weighted mean of their k nearest fitted rows.

    That is how UMAP's own ``transform`` initialises new points; its few extra optimisation epochs
    are skipped, as is the pynndescent index they need.
    """
    from dq_core.space.neighbors import find_neighbors

    k = int(min(k, len(x_fit)))
    knn = find_neighbors(x_fit, x_new, k=k, exact=True)
    w = 1.0 / (np.maximum(knn.distances, 0.0) + 1e-3)
    w /= w.sum(axis=1, keepdims=True)
    return np.einsum("ij,ijd->id", w, xy_fit[knn.indices]).astype(np.float32)


# --------------------------------------------------------------------------- warm-up

_UMAP_LOCK = threading.Lock()
_WARM = {"state": "cold", "seconds": None, "error": None}
_WARM_THREAD: list[threading.Thread] = []
_WARM_LOCK = threading.Lock()


def warm_umap() -> float:
    """Compile umap-learn's numba code in this process by fitting a tiny problem; returns seconds.

    The tiny problem goes through the very code path of :func:`project_umap` (precomputed kNN,
    fuzzy simplicial set, spectral init, layout optimisation), so a real fit afterwards compiles nothing.
    Idempotent.
    """
    with _WARM_LOCK:
        if _WARM["state"] == "warm":
            return 0.0
        _WARM["state"] = "warming"
    t0 = time.perf_counter()
    try:
        with _UMAP_LOCK:
            rng = np.random.default_rng(0)
            x = rng.normal(size=(300, 8)).astype(np.float32)
            x /= np.linalg.norm(x, axis=1, keepdims=True)
            idx, dist = _knn_including_self(x, 15)
            _fit_umap(x, 15, 0.1, 0, idx, dist)
    except Exception as exc:  # noqa: BLE001 - warming is an optimisation; the real fit reports errors
        with _WARM_LOCK:
            _WARM.update(state="failed", error=f"{type(exc).__name__}: {exc}")
        return time.perf_counter() - t0
    secs = time.perf_counter() - t0
    with _WARM_LOCK:
        _WARM.update(state="warm", seconds=secs)
    return secs


def warm_umap_in_background() -> threading.Thread | None:
    """Start :func:`warm_umap` in a daemon thread unless it is warm or warming; returns the thread."""
    with _WARM_LOCK:
        if _WARM["state"] in ("warm", "warming"):
            return None
    t = threading.Thread(target=warm_umap, name="dq-umap-warmup", daemon=True)
    _WARM_THREAD[:] = [t]
    t.start()
    return t


def wait_for_warmup(timeout: float | None = None) -> bool:
    """Join a background warm-up if one runs; False when it is still running after ``timeout``."""
    for t in list(_WARM_THREAD):
        t.join(timeout)
        if t.is_alive():
            return False
    return True


def warm_state() -> dict:
    with _WARM_LOCK:
        return dict(_WARM)


