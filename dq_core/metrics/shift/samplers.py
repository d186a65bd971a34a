"""How one view's counts are resampled: the bootstrap and the permutation test, both vectorised.

- :class:`CountSampler`: every row falls in exactly one bin (label, length, cluster, metadata). Counts
  are all the statistics need, and the resampling distributions are exact closed forms: a bootstrap of
  n rows with replacement gives multinomial(n, p_hat) bin counts, and shuffling which set each row
  belongs to gives multivariate-hypergeometric counts for P. Both are drawn for all resamples in one call
  (cost O(resamples x bins), independent of the number of rows) and do not depend on row order.
- :class:`RowMatrixSampler`: a row adds to several bins (a text's tokens). The resampling unit stays the
  row (tokens of one text are not independent), so each resample is a weight vector over rows and the
  counts of a chunk of resamples are one sparse-dense product ``X.T @ W.T``. The vocabulary view puts
  rows in a canonical order (by text) first, so a seeded result does not depend on the input's row order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHUNK_CELLS = 5_000_000  # resamples x rows per sparse product: ~20 MB of int32 index draws at a time


def _chunk(rows: int) -> int:
    return int(max(1, min(100, CHUNK_CELLS // max(rows, 1))))


@dataclass(frozen=True, eq=False)
class CountSampler:
    """Bin counts of single-bin rows; resampled in closed form (see module docstring)."""

    counts_p: np.ndarray  # (k,) int64
    counts_q: np.ndarray

    unit = "rows"

    @property
    def n_rows(self) -> tuple[int, int]:
        return int(self.counts_p.sum()), int(self.counts_q.sum())

    def counts(self) -> tuple[np.ndarray, np.ndarray]:
        return self.counts_p, self.counts_q

    def bootstrap(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        n_p, n_q = self.n_rows
        bp = rng.multinomial(n_p, self.counts_p / n_p, size=n)
        bq = rng.multinomial(n_q, self.counts_q / n_q, size=n)
        return bp, bq

    def permute(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        pooled = self.counts_p + self.counts_q
        n_p, _ = self.n_rows
        pp = rng.multivariate_hypergeometric(pooled, n_p, size=n)
        return pp, pooled[None, :] - pp


@dataclass(frozen=True, eq=False)
class RowMatrixSampler:
    """Rows x bins count matrices (CSR); resamples rows, in chunks of sparse-dense products."""

    x_p: object  # scipy.sparse.csr_matrix (n_p, k)
    x_q: object  # scipy.sparse.csr_matrix (n_q, k)

    unit = "tokens"

    @property
    def n_rows(self) -> tuple[int, int]:
        return int(self.x_p.shape[0]), int(self.x_q.shape[0])

    def counts(self) -> tuple[np.ndarray, np.ndarray]:
        return (np.asarray(self.x_p.sum(axis=0)).ravel().astype(np.int64),
                np.asarray(self.x_q.sum(axis=0)).ravel().astype(np.int64))

    def _dtype(self) -> type:
        # float32 halves the memory traffic of the products and is exact for integer sums below 2**24.
        total = int(self.x_p.sum()) + int(self.x_q.sum())
        return np.float32 if total < 2**24 else np.float64

    def _boot_side(self, x, rng: np.random.Generator, n: int) -> np.ndarray:
        rows = x.shape[0]
        dtype = self._dtype()
        xt = x.T.tocsr().astype(dtype)
        out = np.empty((n, x.shape[1]), dtype=np.float64)
        step = _chunk(rows)
        for start in range(0, n, step):
            b = min(step, n - start)
            # Row multiplicities of b bootstrap samples as a (rows, b) C-order matrix, the layout the
            # sparse product reads without a copy: bincount of row * b + resample over the index draws.
            # int32 draws: ~3x faster than int64 here, and rows * b <= CHUNK_CELLS fits easily.
            idx = rng.integers(0, rows, size=(b, rows), dtype=np.int32)
            idx *= b
            idx += np.arange(b, dtype=np.int32)[:, None]
            w = np.bincount(idx.ravel(), minlength=rows * b).reshape(rows, b).astype(dtype)
            out[start:start + b] = (xt @ w).T
        return out

    def bootstrap(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        return self._boot_side(self.x_p, rng, n), self._boot_side(self.x_q, rng, n)

    def permute(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        import scipy.sparse as sp

        n_p, n_q = self.n_rows
        dtype = self._dtype()
        x = sp.vstack([self.x_p, self.x_q]).tocsr()
        total = np.asarray(x.sum(axis=0)).ravel().astype(np.float64)
        xt = x.T.tocsr().astype(dtype)
        rows = n_p + n_q
        # Draw the smaller side's members (sampling without replacement is O(size)), then complement.
        small, small_is_p = (n_p, True) if n_p <= n_q else (n_q, False)
        out = np.empty((n, x.shape[1]), dtype=np.float64)
        step = _chunk(rows)
        for start in range(0, n, step):
            b = min(step, n - start)
            mask = np.zeros((rows, b), dtype=dtype)
            for i in range(b):
                mask[rng.choice(rows, small, replace=False), i] = 1
            side = (xt @ mask).T
            out[start:start + b] = side if small_is_p else total[None, :] - side
        return out, total[None, :] - out


Sampler = CountSampler | RowMatrixSampler
