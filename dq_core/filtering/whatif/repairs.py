"""Repaired rows in the what-if embedding figures (reference, scene and sample coverage, the cluster view).

A recipe that repairs mojibake changes a row's text, so its embedding changes too. :func:`embed_proposed`
embeds, once per context, every repair the junk signal proposes (few rows) and places each in the fixed
clusters by its nearest centroid (as the clustering assigns rows); :func:`moved_rows` then gives, for one
recipe result, the kept repaired rows with their new vectors and clusters, which the figures count in place
of the original ones. Without an embedding function (user-given vectors from another model), repaired
rows keep their original embedding.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

FIXED_COLUMN = "mojibake_fixed_text"


def proposed_repairs(ds_texts: pd.Series, signals: pd.DataFrame | None) -> dict[int, str]:
    """{position: repaired text} for every row whose text the junk signal proposes to change."""
    if signals is None:
        return {}
    col = next((c for c in map(str, signals.columns) if c == FIXED_COLUMN or c.endswith(f"__{FIXED_COLUMN}")), None)
    if col is None:
        return {}
    fixed = signals[col]
    pos = np.flatnonzero(fixed.notna().to_numpy())
    texts = ds_texts.iloc[pos].tolist()
    return {int(p): str(a) for p, a, b in zip(pos, fixed.iloc[pos].tolist(), texts, strict=True)
            if isinstance(a, str) and a and a != b}


def embed_proposed(proposals: dict[int, str], embed: Callable[[list[str]], np.ndarray],
                   centroids: np.ndarray) -> tuple[dict[int, str], np.ndarray, np.ndarray]:
    """(the proposals embedded, their L2-normalised vectors in that order, their nearest centroid)."""
    if not proposals:
        return {}, np.zeros((0, centroids.shape[1]), dtype=np.float32), np.zeros(0, dtype=np.int64)
    x = np.asarray(embed(list(proposals.values())), dtype=np.float32)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return dict(proposals), x, np.argmax(x @ np.asarray(centroids, dtype=np.float32).T, axis=1).astype(np.int64)


def moved_rows(texts: dict[int, str] | None, vectors: np.ndarray | None, clusters: np.ndarray | None,
               repairs: dict[int, str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(positions, vectors, clusters) of the rows in ``repairs`` (kept repaired rows) whose repaired text was
    embedded: the same text the recipe put in, so the vector is that text's."""
    if not texts or vectors is None or not repairs:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32), np.zeros(0, dtype=np.int64)
    order = {p: i for i, p in enumerate(texts)}
    pos = np.array([p for p, t in repairs.items() if texts.get(p) == t], dtype=np.int64)
    idx = np.array([order[int(p)] for p in pos], dtype=np.int64)
    return pos, vectors[idx], clusters[idx]
