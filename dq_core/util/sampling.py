"""Stratified sampling: the one way dq_core keeps a subset of rows with every group's share (training caps,
held-out sets, the coverage map's plotted points)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dq_core.errors import DataError


def stratified_sample(groups: Sequence, n: int, rng: np.random.Generator | int = 0) -> np.ndarray:
    """Sorted positions of ``n`` rows keeping each group's share: quotas by largest remainder, every group
    keeps at least one row (a small class, or a small under-covered cluster on a map, must stay), so with
    more groups than ``n`` the sample holds one row per group. All positions when ``n >= len(groups)``.

    ``groups`` are compared as strings; ``rng`` is a Generator or a seed. Groups are visited in sorted order
    and each draws one permutation, so a seed gives the same rows on every machine."""
    g = np.asarray(groups, dtype=object)
    if n >= len(g):
        return np.arange(len(g))
    if n < 1:
        raise DataError(f"a stratified sample needs at least 1 row, not {n}")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    as_str = g.astype(str)
    classes, counts = np.unique(as_str, return_counts=True)
    quota = counts / counts.sum() * n
    take = np.minimum(np.maximum(np.floor(quota).astype(int), 1), counts)
    rest = n - int(take.sum())
    order = np.argsort(-(quota - np.floor(quota)), kind="stable")
    for i in order:
        if rest <= 0:
            break
        if take[i] < counts[i]:
            take[i] += 1
            rest -= 1
    picked = [rng.permutation(np.flatnonzero(as_str == c))[:k] for c, k in zip(classes, take, strict=True)]
    return np.sort(np.concatenate(picked))
