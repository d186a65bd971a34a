"""Exact and near duplicates, reported as groups.

Exact: same text after case/whitespace normalisation, by hashing (never via neighbours: a group larger
than k would be split, which is how cleanlab's near-duplicate check misses exact copies). Near: cosine
distance to a neighbour in the shared kNN graph at or under ``threshold``; groups are the connected
components of those edges merged with the exact groups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dq_core.errors import DataError
from dq_core.metrics.profile import count_groups, count_redundant_copies
from dq_core.signals.base import Signal, SignalResult, register, summarize
from dq_core.util.jsonsafe import to_native
from dq_core.util.text import empty_texts, exact_duplicate_codes, first_row_of_group

NEAR_METHODS = ("embedding", "minhash", "both")


def exact_groups(ctx) -> np.ndarray:
    """Group id per row (position of the group's first row), -1 when the text is unique or empty."""
    return ctx.memo("exact_groups", lambda: first_row_of_group(exact_duplicate_codes(ctx.texts)))


def near_groups(ctx, threshold: float, k: int, method: str = "both", jaccard: float = 0.8):
    """Near-duplicate groups: connected components of embedding edges (cosine distance <= threshold in the
    shared kNN graph), MinHash edges (estimated character-shingle Jaccard >= jaccard) and exact groups.

    Returns (group id per row or -1, row score in [0, 1] with 0.5 at the thresholds, partner row position,
    why per row: "cosine" / "jaccard" / "exact" / "").
    """
    def compute():
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        n = len(ctx)
        ex = exact_groups(ctx)
        rows_l, cols_l = [], []
        score = np.ones(n)
        partner = np.arange(n)
        why = np.full(n, "", dtype=object)
        if method in ("embedding", "both"):
            g = ctx.knn(k)
            valid = ctx.valid
            close = (g.distances <= threshold) & valid[:, None] & valid[g.indices]
            rows_l.append(np.repeat(np.arange(n), g.k)[close.ravel()])
            cols_l.append(g.indices.ravel()[close.ravel()])
            d1 = np.where(valid, g.distances[:, 0], 1.0).astype(np.float64)
            s_emb = np.clip(d1 / (2 * threshold), 0.0, 1.0) if threshold > 0 else (d1 > 0).astype(float)
            better = s_emb < score
            score = np.where(better, s_emb, score)
            partner = np.where(better, g.indices[:, 0], partner)
            why = np.where(better & close.any(axis=1), "cosine", why)
        if method in ("minhash", "both"):
            from dq_core.signals.minhash import minhash_pairs

            skip = (ex >= 0) & (ex != np.arange(n))  # copies of an exact group: its first row stands for it
            skip |= empty_texts(ctx.texts)  # empties are junk
            pi, pj, est = minhash_pairs(ctx.texts, jaccard=jaccard, seed=ctx.seed, skip=skip)
            rows_l.append(pi)
            cols_l.append(pj)
            s_jac = np.clip((1.0 - est) / (2 * max(1.0 - jaccard, 1e-9)), 0.0, 0.5)
            for a, b in ((pi, pj), (pj, pi)):
                better = s_jac < score[a]
                score[a[better]] = s_jac[better]
                partner[a[better]] = b[better]
                why[a[better]] = "jaccard"
        em = np.flatnonzero(ex >= 0)
        rows_l.append(em)
        cols_l.append(ex[em])
        rows, cols = np.concatenate(rows_l), np.concatenate(cols_l)
        adj = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
        _, comp = connected_components(adj, directed=False)
        sizes = np.bincount(comp)
        in_group = sizes[comp] > 1
        # Name each component by its first row so ids are stable and point at a real row.
        first = np.full(len(sizes), n, dtype=np.int64)
        np.minimum.at(first, comp, np.arange(n))
        group = np.where(in_group, first[comp], -1)
        # exact copies score 0 and point at their group's first row (or the next copy for the first row)
        is_ex = ex >= 0
        score = np.where(is_ex, 0.0, score)
        nxt = _next_in_group(ex)
        partner = np.where(is_ex, np.where(ex == np.arange(n), nxt, ex), partner)
        why = np.where(is_ex, "exact", why)
        # flagged rows stay at or under 0.5, the others over it (a transitive member may sit over its edge)
        score = np.where(in_group, np.minimum(score, 0.5), np.maximum(score, 0.5 + 1e-9))
        return group, score, partner, why
    return ctx.memo(f"near_groups:{threshold}:{k}:{method}:{jaccard}", compute)


def _next_in_group(ex: np.ndarray) -> np.ndarray:
    """For each row of an exact group, another row of the same group (the next one, wrapping)."""
    out = np.arange(len(ex))
    m = np.flatnonzero(ex >= 0)
    if len(m):
        order = m[np.argsort(ex[m], kind="stable")]
        g = ex[order]
        nxt = np.roll(order, -1)
        last = np.r_[g[1:] != g[:-1], True]
        first_of = order[np.r_[True, g[1:] != g[:-1]]][np.cumsum(np.r_[True, g[1:] != g[:-1]]) - 1]
        out[order] = np.where(last, first_of, nxt)
    return out


def _group_summary(group: np.ndarray, row_ids: np.ndarray, *, top: int = 20) -> tuple[dict, list]:
    m = group >= 0
    ids, sizes = np.unique(group[m], return_counts=True)
    order = np.argsort(-sizes, kind="stable")[:top]
    largest = [{"group": int(ids[i]), "size": int(sizes[i]), "first_row_id": to_native(row_ids[ids[i]])}
               for i in order]
    stats = {"n_groups": count_groups(group), "n_rows_in_groups": int(m.sum()),
             "n_redundant": count_redundant_copies(group), "largest_group": int(sizes.max()) if len(sizes) else 0}
    return stats, largest


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
        first_id = np.array([to_native(row_ids[g]) if g >= 0 else None for g in group], dtype=object)
        reasons = np.array([f"exact duplicate (group of row {first_id[i]})" if issue[i] else ""
                            for i in range(len(group))], dtype=object)
        return SignalResult(scores, issue, summarize(issue, **stats), {"largest_groups": largest},
                            reasons=reasons, columns={"exact_duplicate_group": group})


@register
@dataclass(frozen=True)
class NearDuplicateSignal(Signal):
    """Rows close to another row (exact copies included), as groups."""

    threshold: float = 0.08
    jaccard: float = 0.8
    method: str = "both"  # embedding | minhash | both
    k: int = 10

    ranges = {"threshold": (0.0, 1.0), "jaccard": (0.01, 1.0), "k": (1, 1000)}
    name = "near_duplicate"
    title = "Near duplicates"
    description = ("Embedding cosine similarity ≥ 1 − threshold to another row, or character-shingle Jaccard "
                   "≥ jaccard (MinHash: catches 'RT @user:' prefixes and changed links), as groups.")
    requires = frozenset({"embeddings"})

    def __post_init__(self):
        if self.method not in NEAR_METHODS:
            raise DataError(f"unknown near-duplicate method '{self.method}'; use one of {', '.join(NEAR_METHODS)}")

    def __call__(self, ctx) -> SignalResult:
        group, scores, partner, why = near_groups(ctx, self.threshold, self.k, self.method, self.jaccard)
        issue = group >= 0
        row_ids = ctx.ds.row_ids
        stats, largest = _group_summary(group, row_ids)
        what = {"cosine": "near duplicate of row {r}", "jaccard": "near duplicate (shared wording) of row {r}",
                "exact": "exact duplicate of row {r}", "": "in a near-duplicate group with row {r}"}
        reasons = np.array([what[why[i]].format(r=to_native(row_ids[partner[i]])) if issue[i] else ""
                            for i in range(len(group))], dtype=object)
        by = {w: int((issue & (why == w)).sum()) for w in ("exact", "cosine", "jaccard")}
        return SignalResult(scores, issue, summarize(issue, **stats, threshold=self.threshold, by_kind=by),
                            {"largest_groups": largest},
                            reasons=reasons, columns={"near_duplicate_group": group})


@register
@dataclass(frozen=True)
class ConflictingLabelSignal(Signal):
    """Rows sharing an exact or near-duplicate group with rows of another label."""

    threshold: float = 0.08
    jaccard: float = 0.8
    method: str = "both"
    k: int = 10

    ranges = {"threshold": (0.0, 1.0), "jaccard": (0.01, 1.0), "k": (1, 1000)}
    name = "conflicting_label"
    # Titled apart from the Overview's "mixed-label exact copies": this one counts near duplicates too.
    title = "Near duplicates with mixed labels"
    description = ("Rows in a group of near duplicates (exact copies included) whose members carry different labels. "
                   "The Overview's 'mixed-label exact copies' counts exact copies only.")
    requires = frozenset({"embeddings", "labels"})

    def __call__(self, ctx) -> SignalResult:
        group = near_groups(ctx, self.threshold, self.k, self.method, self.jaccard)[0]
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
