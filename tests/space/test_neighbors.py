"""The shared neighbour search: the approximate backend (space.cell_search) against the exact one."""

from __future__ import annotations

import numpy as np
import pytest

from dq_core.data.workspace import Workspace
from dq_core.space.neighbors import find_neighbors


def clustered(n: int, *, dim: int = 64, centres: int = 20, seed: int = 0, dup_rows: int = 0) -> np.ndarray:
    """Unit vectors from a Gaussian mixture, with ``dup_rows`` exact copies of other rows."""
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centres, dim)).astype(np.float32)
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    comp = rng.integers(0, centres, n)
    x = c[comp] + rng.standard_normal((n, dim)).astype(np.float32) / np.sqrt(dim)
    if dup_rows:
        src = rng.choice(n // 2, dup_rows, replace=False)
        x[n // 2:n // 2 + dup_rows] = x[src]  # some rows repeated (several copies where src repeats below)
        x[-dup_rows // 2:] = x[0]  # and one row with many copies: more than k ties at distance 0
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def recall(approx: np.ndarray, exact_idx: np.ndarray, exact_dist: np.ndarray, x: np.ndarray, k: int) -> float:
    """Share of returned neighbours at least as close as the true k-th (ties make the true set ambiguous)."""
    got = np.einsum("nd,nkd->nk", x, x[approx[:, :k]])
    kth = 1.0 - exact_dist[:, k - 1:k]
    return float((got >= kth - 1e-5).mean())


def test_approximate_recall_vs_exact_on_clustered_vectors():
    x = clustered(4000, dim=384, centres=40, dup_rows=40)
    ex = find_neighbors(x, k=10, exact=True)
    ap = find_neighbors(x, k=10, exact=False)
    assert ex.exact and not ap.exact
    assert ap.indices.shape == ex.indices.shape == (4000, 10)
    assert recall(ap.indices, ex.indices, ex.distances, x, 10) >= 0.95
    # Distances are cosine distances of the rows returned, nearest first.
    d = 1.0 - np.einsum("nd,nkd->nk", x, x[ap.indices])
    np.testing.assert_allclose(ap.distances, d, atol=1e-4)
    assert (np.diff(ap.distances, axis=1) >= -1e-6).all()
    assert ap.distances.dtype == np.float32 and ap.indices.dtype == np.int64


def test_approximate_self_graph_never_lists_the_row_itself_with_duplicates():
    x = clustered(3000, dup_rows=300)  # 150 copies of row 0: far more ties at distance 0 than k
    g = find_neighbors(x, k=15, exact=False)
    assert not (g.indices == np.arange(len(x))[:, None]).any()
    # Each row's neighbours are distinct rows.
    assert all(len(set(r)) == len(r) for r in g.indices.tolist())
    # A copy of row 0 finds other copies at distance 0.
    assert g.distances[-1, 0] == pytest.approx(0.0, abs=1e-5)


def test_approximate_query_against_another_set():
    both = clustered(3500, seed=1)  # queries from the same mixture, as a reference set is to its dataset
    x, q = both[:3000], both[3000:]
    ex = find_neighbors(x, q, k=5, exact=True)
    ap = find_neighbors(x, q, k=5, exact=False)
    got = np.einsum("nd,nkd->nk", q, x[ap.indices])
    assert float((got >= (1.0 - ex.distances[:, 4:5]) - 1e-5).mean()) >= 0.95


def test_one_thread_is_deterministic_and_results_are_cached(monkeypatch, tmp_path):
    monkeypatch.setenv("DQ_ANN_THREADS", "1")
    x = clustered(2000, seed=3)
    a = find_neighbors(x, k=10, exact=False, seed=7)
    b = find_neighbors(x, k=10, exact=False, seed=7)
    np.testing.assert_array_equal(a.indices, b.indices)
    ws = Workspace(tmp_path / "ws")
    c = find_neighbors(x, k=10, exact=False, seed=7, workspace=ws)
    np.testing.assert_array_equal(c.indices, a.indices)
    assert len(list((ws.root / "cache" / "knn").glob("*-idx.npy"))) == 1
    np.testing.assert_array_equal(find_neighbors(x, k=10, exact=False, seed=7, workspace=ws).indices, c.indices)


def test_exact_search_still_serves_small_problems():
    x = clustered(500)
    assert find_neighbors(x, k=10).exact
