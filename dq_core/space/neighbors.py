"""Nearest neighbours in embedding space, computed once and shared.

Coverage, duplicates, outliers and label signals all read the same graph instead of each searching on
its own. Vectors are L2-normalised, so cosine distance = 1 - dot product.

Small problems use exact blocked search (BLAS matmul, deterministic); large ones search k-means cells
(cell_search.py): ~sqrt(n) cells, each compared with its nearest cells by one matrix product, ~n^1.5
instead of the exact search's n^2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dq_core import settings
from dq_core.data.workspace import Workspace, config_key
from dq_core.errors import DataError
from dq_core.space.cell_search import CELL_PROBE, KMEANS_ITERS, cell_search
from dq_core.util.cores import usable_cores
from dq_core.util.fingerprint import array_fingerprint

EXACT_MAX_PAIRS = 4e8  # n_query * n_index under which exact search beats the approximate graph here
BLOCK = 2048
# The shared self-graph width. Signals (dq_core.signals.context.GRAPH_K) and coverage ask for this many
# neighbours so they hit one cache entry; any caller reads the first columns it needs.
GRAPH_K = 30


@dataclass(frozen=True)
class KnnResult:
    indices: np.ndarray  # (n_query, k) int64 positions in the index set, nearest first
    distances: np.ndarray  # (n_query, k) float32 cosine distances in [0, 2]
    exact: bool

    @property
    def k(self) -> int:
        return int(self.indices.shape[1])


def _topk(sims: np.ndarray, kk: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the kk largest entries per row, largest first.

    torch.topk when torch is importable (it is, for the embeddings): ~10x faster here than numpy's
    argpartition + argsort, which took 40% of a 15k x 23k coverage run.
    """
    try:
        import torch
    except ImportError:  # pragma: no cover - torch ships with sentence-transformers
        part = np.argpartition(-sims, kth=kk - 1, axis=1)[:, :kk]
        psims = np.take_along_axis(sims, part, axis=1)
        order = np.argsort(-psims, axis=1, kind="stable")
        return np.take_along_axis(part, order, axis=1), np.take_along_axis(psims, order, axis=1)
    vals, idx = torch.from_numpy(sims).topk(kk, dim=1, largest=True, sorted=True)
    return idx.numpy(), vals.numpy()


BF16_MIN_PAIRS = 2e7  # below this the fp32 search is fast anyway
BF16_MARGIN = 16  # extra bf16 candidates re-ranked in fp32 per row


def _bf16_native() -> bool:
    try:
        import torch

        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except Exception:  # noqa: BLE001 - private torch helpers; fall back to fp32
        return False


def _exact(index: np.ndarray, query: np.ndarray, k: int, exclude_self: bool) -> tuple[np.ndarray, np.ndarray]:
    n_q = len(query)
    kk = k + 1 if exclude_self else k
    kk = min(kk, len(index))
    if n_q * len(index) >= BF16_MIN_PAIRS and kk + BF16_MARGIN < len(index) and _bf16_native():
        return _exact_bf16_rerank(index, query, kk, exclude_self)
    idx = np.empty((n_q, kk), dtype=np.int64)
    dist = np.empty((n_q, kk), dtype=np.float32)
    for start in range(0, n_q, BLOCK):
        sims = query[start:start + BLOCK] @ index.T
        if exclude_self:
            rows = np.arange(start, min(start + BLOCK, n_q))
            sims[rows - start, rows] = np.inf  # self always first, removed below
        top_idx, top_sims = _topk(sims, kk)
        idx[start:start + BLOCK] = top_idx
        dist[start:start + BLOCK] = 1.0 - top_sims
    if exclude_self:
        idx, dist = idx[:, 1:], dist[:, 1:]
    return idx, np.clip(dist, 0.0, 2.0)


def _exact_bf16_rerank(index: np.ndarray, query: np.ndarray, kk: int,
                       exclude_self: bool) -> tuple[np.ndarray, np.ndarray]:
    """Candidates from a bf16 matmul, then the exact fp32 similarity of each candidate, re-sorted.

    On CPUs with native bf16 the all-pairs product is ~3.3x faster than fp32 (20k x 20k x 384: 1.7 s
    vs 5.5 s, measured), and it is that product which made coverage slow. bf16 similarities are off by
    ~0.004, so the true k nearest are among the top k + BF16_MARGIN bf16 candidates unless more than
    BF16_MARGIN rows tie within that error; their distances, recomputed in fp32, are the exact ones.
    """
    import torch

    n_q, n_i = len(query), len(index)
    n_cand = min(kk + BF16_MARGIN, n_i)
    xi = torch.from_numpy(np.ascontiguousarray(index, dtype=np.float32))
    xi_bf = xi.to(torch.bfloat16)
    xq = torch.from_numpy(np.ascontiguousarray(query, dtype=np.float32))
    idx = np.empty((n_q, kk), dtype=np.int64)
    sim = np.empty((n_q, kk), dtype=np.float32)
    block = 1024
    with torch.no_grad():
        for start in range(0, n_q, block):
            q = xq[start:start + block]
            approx = q.to(torch.bfloat16) @ xi_bf.T
            rows = torch.arange(start, start + len(q))
            if exclude_self:
                approx[torch.arange(len(q)), rows] = float("inf")
            cand = approx.topk(n_cand, dim=1).indices
            exact = torch.einsum("bd,bcd->bc", q, xi[cand])
            if exclude_self:
                exact = exact.masked_fill(cand == rows[:, None], float("inf"))
            top = exact.topk(kk, dim=1)
            idx[start:start + len(q)] = cand.gather(1, top.indices).numpy()
            sim[start:start + len(q)] = top.values.numpy()
    dist = 1.0 - sim
    if exclude_self:
        idx, dist = idx[:, 1:], dist[:, 1:]
    return idx, np.clip(dist, 0.0, 2.0)


# The approximate graph: k-means cells searched as dense blocks (cell_search.py), chosen on 100k rows
# (bench/bench_ann.py, docs/benchmarks.md) over faiss HNSW (M 32, efConstruction 80, efSearch 64):
# about half the CPU at recall@30 0.96-0.999 (recall@10 0.02 lower than HNSW's on MiniLM
# tweets), because each cell's candidates are scored by one matrix product instead of query by query.
# Both are compiled code: no per-process compilation.
APPROX_BACKEND = f"cells-sqrt-probe{CELL_PROBE}-kmeans{KMEANS_ITERS}"


def ann_threads() -> int:
    """Threads for the graph: all cores, or ``DQ_ANN_THREADS``."""
    pinned = settings.get("DQ_ANN_THREADS")
    return pinned if pinned is not None else usable_cores()


def _approx(index: np.ndarray, query: np.ndarray | None, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Approximate k nearest by inner product on unit vectors (distance = 1 - cos); the same result for
    the same ``seed`` (it seeds the k-means cells) and thread count."""
    n = len(index)
    self_graph = query is None
    q = index if self_graph else query
    kk = min(k + 1, n) if self_graph else k
    idx, sims = cell_search(index, None if self_graph else q, kk, seed=seed, threads=ann_threads())
    idx = idx.astype(np.int64)
    dist = np.clip(1.0 - sims.astype(np.float32), 0.0, 2.0)
    short = np.flatnonzero((idx < 0).any(axis=1))
    if len(short):  # the cells held fewer than kk rows (tiny or degenerate sets): exact for those rows
        idx[short], dist[short] = _exact(index, q[short], kk, exclude_self=False)
    if self_graph:
        # Drop each row itself wherever it appears: with exact duplicates (distance-0 ties) it is not
        # always listed first. Rows whose search missed themselves drop their farthest neighbour instead.
        is_self = idx == np.arange(n)[:, None]
        keep = ~is_self
        keep[~is_self.any(axis=1), -1] = False
        idx = idx[keep].reshape(n, kk - 1)[:, :k]
        dist = dist[keep].reshape(n, kk - 1)[:, :k]
    return idx, dist


def nearest_distances(index: np.ndarray, query: np.ndarray, *, mask: np.ndarray | None = None,
                      block: int = BLOCK) -> np.ndarray | None:
    """Cosine distance from each ``query`` row to its nearest ``index`` row (only rows where ``mask``).

    Exact blocked search without a cache: callers that recount coverage for many masks (the Clean page's
    what-if panel) need only the nearest distance, over a different subset of rows each time. None when
    there are no query rows; inf where no index row is allowed.
    """
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


def _cache_key(index: np.ndarray, query: np.ndarray | None, k: int, use_exact: bool, seed: int) -> str:
    backend = () if use_exact else (APPROX_BACKEND,)  # approximate graphs of another library never mix in
    return config_key("knn", array_fingerprint(index), None if query is None else array_fingerprint(query), k,
                      use_exact, seed, *backend)


def _load(workspace: Workspace, key: str, use_exact: bool) -> KnnResult | None:
    hit = workspace.load_array("knn", key + "-idx")
    hd = workspace.load_array("knn", key + "-dist")
    if hit is not None and hd is not None:
        return KnnResult(hit, hd, use_exact)
    return None


def cached_self_graph(index: np.ndarray, *, k: int, seed: int = 0, workspace: Workspace | None = None) -> KnnResult | None:
    """The self-graph of ``index`` with ``k`` neighbours if a caller already stored it, else None (no search)."""
    if workspace is None or k < 1 or len(index) <= k:
        return None
    index = np.ascontiguousarray(index, dtype=np.float32)
    use_exact = len(index) * len(index) <= EXACT_MAX_PAIRS or len(index) < 64
    return _load(workspace, _cache_key(index, None, k, use_exact, seed), use_exact)


def find_neighbors(index: np.ndarray, query: np.ndarray | None = None, *, k: int = 10, seed: int = 0,
                   workspace: Workspace | None = None, exact: bool | None = None) -> KnnResult:
    """k nearest neighbours of each ``query`` row among ``index`` rows (cosine).

    With ``query=None`` it is the self-graph of ``index`` with each row's own position excluded.
    Results are cached in the workspace keyed by the arrays' content, so every caller shares one search.
    """
    if k < 1:
        raise DataError(f"k={k} neighbours asked for; use at least 1")
    n_index = len(index)
    self_graph = query is None
    available = n_index - 1 if self_graph else n_index
    if available < 1:
        raise DataError(f"nearest neighbours need at least {2 if self_graph else 1} rows; "
                        f"got {n_index}")
    if k > available:
        raise DataError(f"{k} neighbours asked for but only {available} other rows exist; lower k")
    index = np.ascontiguousarray(index, dtype=np.float32)
    q = index if self_graph else np.ascontiguousarray(query, dtype=np.float32)
    use_exact = exact if exact is not None else (len(q) * n_index <= EXACT_MAX_PAIRS or n_index < 64)
    key = None
    if workspace is not None:
        key = _cache_key(index, None if self_graph else q, k, use_exact, seed)
        hit = _load(workspace, key, use_exact)
        if hit is not None:
            return hit
    if use_exact:
        idx, dist = _exact(index, q, k, exclude_self=self_graph)
    else:
        idx, dist = _approx(index, None if self_graph else q, k, seed)
    if workspace is not None and key is not None:
        workspace.save_array("knn", key + "-idx", idx)
        workspace.save_array("knn", key + "-dist", dist)
    return KnnResult(idx, dist, use_exact)
