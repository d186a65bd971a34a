"""The approximate backend (k-means cells searched as dense blocks): recall, edge cases, determinism."""

from __future__ import annotations

import numpy as np

from dq_core.space.cell_search import cell_search, n_cells
from dq_core.space.neighbors import find_neighbors


def mixture(n: int, *, dim: int = 48, centres: int = 30, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centres, dim)).astype(np.float32)
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    x = c[rng.integers(0, centres, n)] + 0.8 * rng.standard_normal((n, dim)).astype(np.float32) / np.sqrt(dim)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_self_search_finds_each_row_and_its_true_neighbours():
    x = mixture(5000)
    idx, sim = cell_search(x, None, 11, probe=8)
    assert n_cells(5000) == 71
    assert idx.shape == sim.shape == (5000, 11) and idx.dtype == np.int64 and sim.dtype == np.float32
    assert (idx >= 0).all()
    # similarities are the true fp32 inner products of the rows returned, best first
    np.testing.assert_allclose(sim, np.einsum("nd,nkd->nk", x, x[idx]), atol=1e-5)
    assert (np.diff(sim, axis=1) <= 1e-6).all()
    assert (idx[:, 0] == np.arange(5000)).mean() > 0.999  # each row is its own nearest
    exact = np.argsort(-(x[:500] @ x.T), axis=1, kind="stable")[:, :11]
    hits = [len(set(a) & set(b)) / 11 for a, b in zip(idx[:500].tolist(), exact.tolist(), strict=True)]
    assert np.mean(hits) >= 0.95


def test_the_same_seed_gives_the_same_graph():
    x = mixture(3000, seed=2)
    a = cell_search(x, None, 6, seed=1, probe=4)
    b = cell_search(x, None, 6, seed=1, probe=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_rows_whose_cells_are_too_small_are_marked_for_the_caller():
    x = mixture(400, seed=3)
    idx, sim = cell_search(x, None, 300, probe=1)  # one cell of ~20 rows cannot hold 300 neighbours
    short = (idx < 0).any(axis=1)
    assert short.all()
    assert np.isneginf(sim[idx < 0]).all()
    # find_neighbors completes such rows exactly: every row gets k real, distinct neighbours
    g = find_neighbors(x, k=300, exact=False)
    assert (g.indices >= 0).all() and all(len(set(r)) == 300 for r in g.indices.tolist())


def test_identical_rows_land_in_one_cell_and_still_get_neighbours():
    x = np.tile(mixture(1, seed=4), (2500, 1))
    g = find_neighbors(x, k=5, exact=False)
    assert not (g.indices == np.arange(2500)[:, None]).any()
    np.testing.assert_allclose(g.distances, 0.0, atol=1e-5)


def test_queries_against_another_set():
    both = mixture(4500, seed=5)
    x, q = both[:4000], both[4000:]
    idx, sim = cell_search(x, q, 5, probe=16)
    true = np.sort(q @ x.T, axis=1)[:, ::-1][:, :5]
    assert (sim >= true[:, 4:5] - 1e-5).mean() >= 0.95
