"""Exact and near duplicates, reported as groups.

Exact: same text after case/whitespace normalisation, by hashing (never via neighbours: a group larger
than k would be split, which is how cleanlab's near-duplicate check misses exact copies). Near: cosine
distance to a neighbour in the shared kNN graph at or under ``threshold``; groups are the connected
components of those edges merged with the exact groups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dq_core.signals.base import Signal, SignalResult, register, summarize


def exact_groups(ctx) -> np.ndarray:
    """Group id per row (position of the group's first row), -1 when the text is unique or empty."""
    def compute():
        from dq_core.metrics.profile import find_exact_duplicates

        d = find_exact_duplicates(ctx.texts, ctx.ds.labels)
        return _first_position_ids(d.group_of_row)
    return ctx.memo("exact_groups", compute)


def _first_position_ids(group: np.ndarray) -> np.ndarray:
    out = np.full(len(group), -1, dtype=np.int64)
    m = group >= 0
    if m.any():
        g = group[m]
        pos = np.flatnonzero(m)
        first = {}
        for gi, p in zip(g.tolist(), pos.tolist(), strict=True):
            first.setdefault(gi, p)
        out[m] = [first[gi] for gi in g.tolist()]
    return out


def near_groups(ctx, threshold: float, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(group id per row or -1, nearest-neighbour distance, nearest-neighbour position)."""
    def compute():
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        n = len(ctx)
        g = ctx.knn(k)
        valid = ctx.valid
        d1 = np.where(valid, g.distances[:, 0], 1.0).astype(np.float64)
        nn = g.indices[:, 0]
        close = (g.distances <= threshold) & valid[:, None] & valid[g.indices]
        rows = np.repeat(np.arange(n), g.k)[close.ravel()]
        cols = g.indices.ravel()[close.ravel()]
        ex = exact_groups(ctx)
        em = np.flatnonzero(ex >= 0)
        rows = np.concatenate([rows, em])
        cols = np.concatenate([cols, ex[em]])
        adj = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
        _, comp = connected_components(adj, directed=False)
        sizes = np.bincount(comp)
        in_group = sizes[comp] > 1
        # Name each component by its first row so ids are stable and point at a real row.
        first = np.full(len(sizes), n, dtype=np.int64)
        np.minimum.at(first, comp, np.arange(n))
        group = np.where(in_group, first[comp], -1)
        d1 = np.where(ex >= 0, 0.0, d1)  # exact copies are at distance 0 even if the graph missed them
        return group, d1, nn
    return ctx.memo(f"near_groups:{threshold}:{k}", compute)


def _group_summary(group: np.ndarray, row_ids: np.ndarray, *, top: int = 20) -> tuple[dict, list]:
    m = group >= 0
    ids, sizes = np.unique(group[m], return_counts=True)
    order = np.argsort(-sizes, kind="stable")[:top]
    largest = [{"group": int(ids[i]), "size": int(sizes[i]), "first_row_id": _py(row_ids[ids[i]])}
               for i in order]
    stats = {"n_groups": int(len(ids)), "n_rows_in_groups": int(m.sum()),
             "n_redundant": int(m.sum() - len(ids)), "largest_group": int(sizes.max()) if len(sizes) else 0}
    return stats, largest


def _py(v):
    return v.item() if hasattr(v, "item") else v


@register
@dataclass(frozen=True)
class ExactDuplicateSignal(Signal):
    """Rows whose normalised text repeats another row's."""

    name = "exact_duplicate"
    title = "Exact duplicates"
    description = "Same text after lower-casing and collapsing whitespace."
    requires = frozenset({"text"})

    def __call__(self, ctx) -> SignalResult:
        group = exact_groups(ctx)
        issue = group >= 0
        scores = np.where(issue, 0.0, 1.0)
        row_ids = ctx.ds.row_ids
        stats, largest = _group_summary(group, row_ids)
        first_id = np.array([_py(row_ids[g]) if g >= 0 else None for g in group], dtype=object)
        reasons = np.array([f"exact duplicate (group of row {first_id[i]})" if issue[i] else ""
                            for i in range(len(group))], dtype=object)
        return SignalResult(scores, issue, summarize(issue, **stats), {"largest_groups": largest},
                            reasons=reasons, columns={"exact_duplicate_group": group})


@register
@dataclass(frozen=True)
class NearDuplicateSignal(Signal):
    """Rows within ``threshold`` cosine distance of another row (exact copies included), as groups."""

    threshold: float = 0.05
    k: int = 10

    name = "near_duplicate"
    title = "Near duplicates"
    description = "Cosine similarity ≥ 1 − threshold to another row in embedding space (groups)."
    requires = frozenset({"embeddings"})

    def __call__(self, ctx) -> SignalResult:
        group, d1, nn = near_groups(ctx, self.threshold, self.k)
        issue = group >= 0
        # 0.5 exactly at the threshold, 0 for exact copies, 1 from twice the threshold on.
        scores = np.clip(d1 / (2 * self.threshold), 0.0, 1.0) if self.threshold > 0 else (d1 > 0).astype(float)
        scores = np.where(issue, np.minimum(scores, 0.5), np.maximum(scores, 0.5 + 1e-9 * ~issue))
        row_ids = ctx.ds.row_ids
        stats, largest = _group_summary(group, row_ids)
        reasons = np.array([f"near duplicate of row {_py(row_ids[nn[i]])} (cosine {1 - d1[i]:.3f})"
                            if issue[i] else "" for i in range(len(group))], dtype=object)
        return SignalResult(scores, issue, summarize(issue, **stats, threshold=self.threshold),
                            {"largest_groups": largest},
                            reasons=reasons, columns={"near_duplicate_group": group})


@register
@dataclass(frozen=True)
class ConflictingLabelSignal(Signal):
    """Rows sharing an exact or near-duplicate group with rows of another label."""

    threshold: float = 0.05
    k: int = 10

    name = "conflicting_label"
    title = "Conflicting labels"
    description = "The same or nearly the same text appears with different labels."
    requires = frozenset({"embeddings", "labels"})

    def __call__(self, ctx) -> SignalResult:
        group, _, _ = near_groups(ctx, self.threshold, self.k)
        codes = ctx.label_codes
        n = len(group)
        scores = np.ones(n)
        issue = np.zeros(n, dtype=bool)
        reasons = np.full(n, "", dtype=object)
        m = (group >= 0) & (codes >= 0)
        if m.any():
            import pandas as pd

            f = pd.DataFrame({"g": group[m], "c": codes[m]})
            size = f.groupby("g")["c"].transform("size").to_numpy()
            same = f.groupby(["g", "c"])["c"].transform("size").to_numpy()
            n_lab = f.groupby("g")["c"].transform("nunique").to_numpy()
            agree = (same - 1) / np.maximum(size - 1, 1)  # share of the *other* members with my label
            pos = np.flatnonzero(m)
            scores[pos] = np.where(n_lab > 1, agree * 0.5, 1.0)  # conflicting rows stay under 0.5
            issue[pos] = n_lab > 1
            classes = ctx.classes
            labels_in = f[n_lab > 1].groupby("g")["c"].agg(lambda s: sorted(set(s)))
            for p, g, c in zip(pos, f["g"], f["c"], strict=True):
                if issue[p]:
                    others = [classes[x] for x in labels_in[g] if x != c]
                    reasons[p] = f"same/near-same text labelled {', '.join(repr(o) for o in others)} elsewhere"
        n_groups = int(len(np.unique(group[issue]))) if issue.any() else 0
        return SignalResult(scores, issue, summarize(issue, n_conflicting_groups=n_groups,
                                                     threshold=self.threshold),
                            reasons=reasons)
