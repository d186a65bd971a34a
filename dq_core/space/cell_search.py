"""Approximate nearest neighbours by k-means cells searched as dense blocks (an inverted-file index
whose scan is one matrix product per cell).

The index rows are split into ~sqrt(n) spherical k-means cells. The queries of one cell are compared,
by one BLAS product, with every index row of the CELL_PROBE cells whose centres are nearest that cell's
centre; the top k of each product row are the row's neighbours, with exact fp32 similarities. A graph
library probes cells (or graph nodes) query by query, at a few GFLOP/s; here the candidates are scored
at matrix-product speed, which made the 100k self-graph about half the CPU of faiss HNSW (M 32) at
recall@30 0.96-0.999 on this 2-core machine (bench/bench_ann.py, docs/benchmarks.md). No threads race,
so the result is the same run to run for a given seed and thread count.

Cost: n x CELL_PROBE x (n / n_cells) x dim multiply-adds, so ~n^1.5 with n_cells ~ sqrt(n): ~10 % of the
exact search at 100k rows, ~3 % at 1M.
"""

from __future__ import annotations

import numpy as np

CELL_PROBE = 32  # cells searched per query cell: 24 fell under recall@10 0.95 on jittered MiniLM vectors
KMEANS_ITERS = 10
KMEANS_ROWS_PER_CELL = 32  # k-means runs on a sample of this many rows per cell
BLOCK_ELEMS = 25_000_000  # similarity entries per product (100 MB of float32), whatever the cell sizes
ASSIGN_BLOCK = 16_384


def n_cells(n_index: int) -> int:
    return int(max(1, round(np.sqrt(n_index))))


def _kmeans(x, n_cells: int, seed: int):
    """Spherical k-means centres (unit rows) on a seeded sample of ``x`` (a float32 torch tensor)."""
    import torch

    rng = np.random.default_rng(seed)
    n = x.shape[0]
    m = min(n, KMEANS_ROWS_PER_CELL * n_cells)
    sample = x[torch.from_numpy(np.sort(rng.choice(n, m, replace=False)))]
    centres = sample[torch.from_numpy(rng.choice(m, n_cells, replace=False))].clone()
    for _ in range(KMEANS_ITERS):
        owner = (sample @ centres.T).argmax(dim=1)
        sums = torch.zeros_like(centres).index_add_(0, owner, sample)
        empty = torch.bincount(owner, minlength=n_cells) == 0
        sums[empty] = centres[empty]  # a cell that lost every row keeps its centre
        centres = sums / sums.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return centres


def _nearest_cell(x, centres) -> np.ndarray:
    import torch

    out = torch.empty(x.shape[0], dtype=torch.int64)
    for s in range(0, x.shape[0], ASSIGN_BLOCK):
        out[s:s + ASSIGN_BLOCK] = (x[s:s + ASSIGN_BLOCK] @ centres.T).argmax(dim=1)
    return out.numpy()


def cell_search(index: np.ndarray, query: np.ndarray | None, kk: int, *, seed: int = 0,
                probe: int = CELL_PROBE, threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Approximate top-``kk`` ``index`` rows by inner product for each ``query`` row (``index`` itself
    when None: each row then finds itself too). Returns (indices int64, similarities float32), best
    first; -1 / -inf where a query's cells held fewer than ``kk`` rows (the caller completes those)."""
    import torch

    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        with torch.no_grad():
            return _search(index, query, kk, seed, probe)
    finally:
        torch.set_num_threads(before)


def _search(index: np.ndarray, query: np.ndarray | None, kk: int, seed: int,
            probe: int) -> tuple[np.ndarray, np.ndarray]:
    import torch

    xi = torch.from_numpy(np.ascontiguousarray(index, dtype=np.float32))
    xq = xi if query is None else torch.from_numpy(np.ascontiguousarray(query, dtype=np.float32))
    nc = n_cells(len(index))
    centres = _kmeans(xi, nc, seed)
    cell_i = _nearest_cell(xi, centres)
    cell_q = cell_i if query is None else _nearest_cell(xq, centres)
    # index rows sorted by cell, so a cell's members are one contiguous slice
    order_i = np.argsort(cell_i, kind="stable")
    starts = np.r_[0, np.cumsum(np.bincount(cell_i, minlength=nc))]
    xs = xi[torch.from_numpy(order_i)]
    order_q = np.argsort(cell_q, kind="stable")
    q_starts = np.r_[0, np.cumsum(np.bincount(cell_q, minlength=nc))]
    # Cells probed per query cell, by centre similarity (a cell's own centre comes first). Probing per
    # query instead (a classic inverted file) reaches the same recall with half the probes but splits
    # the work into one short top-k per (query, cell), which measured slower here than these long rows.
    near_cells = (centres @ centres.T).topk(min(probe, nc), dim=1).indices.numpy()

    n_q = xq.shape[0]
    idx = np.full((n_q, kk), -1, dtype=np.int64)
    sim = np.full((n_q, kk), -np.inf, dtype=np.float32)
    for c in range(nc):
        if q_starts[c] == q_starts[c + 1]:
            continue
        cand = np.concatenate([np.arange(starts[p], starts[p + 1]) for p in near_cells[c]])
        if len(cand) == 0:
            continue
        xc = xs[torch.from_numpy(cand)]
        width = min(kk, len(cand))
        rows_all = order_q[q_starts[c]:q_starts[c + 1]]
        block = max(1, BLOCK_ELEMS // len(cand))
        for s in range(0, len(rows_all), block):
            rows = rows_all[s:s + block]
            top = (xq[torch.from_numpy(rows)] @ xc.T).topk(width, dim=1)
            idx[rows, :width] = order_i[cand[top.indices.numpy()]]
            sim[rows, :width] = top.values.numpy()
    return idx, sim
