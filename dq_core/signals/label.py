"""Label issues: rows whose given label is probably wrong, with a suggested label and its probability.

Default method "combined" (see docs/benchmarks.md, "How the label default was chosen", for why):

1. out-of-sample probabilities from K-fold logistic regression on the embeddings (shared in the context);
2. the label distribution of the row's k nearest neighbours (distance-weighted, own row excluded);
3. their weighted average ``p = w * p_lr + (1 - w) * p_knn``: the linear model sees global structure, the
   neighbours local structure, and their errors are only weakly correlated;
4. score = p[given label] (cleanlab's self-confidence on ``p``); flag: the rows with the lowest scores, as
   many as confident learning estimates are mislabelled (``flag_by="noise_rate"``: estimated noise ratio
   x labelled rows), so the share flagged is the noise ratio shown on the page;
5. suggested label = argmax p, with its probability.

Other methods kept for comparison: "cleanlab" (cleanlab.filter.find_label_issues on the LR
probabilities) and "knn" (plain k-NN majority disagreement). Rows of classes with fewer than
``min_class_rows`` rows get a score but no flag: the out-of-sample estimate is unreliable there.
The info carries confident learning's joint (given x estimated true label) and the noise ratio.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dq_core.errors import DataError
from dq_core.signals.base import Signal, SignalResult, register, summarize

METHODS = ("combined", "cleanlab", "knn")
FLAG_RULES = ("noise_rate", "argmax", "prune_by_noise_rate", "confident_learning", "both")


def knn_label_probabilities(ctx, k: int, *, weighted: bool = True) -> np.ndarray:
    """Label distribution of each row's k nearest labelled neighbours (own row excluded)."""
    def compute():
        g = ctx.knn(k)
        codes = ctx.label_codes
        n, kk = len(codes), len(ctx.classes)
        nb = codes[g.indices]
        w = np.clip(1.0 - g.distances.astype(np.float64), 1e-3, None) if weighted else np.ones(nb.shape)
        w = np.where(nb >= 0, w, 0.0)
        probs = np.zeros((n, kk))
        rows = np.repeat(np.arange(n), g.k)
        np.add.at(probs, (rows, np.maximum(nb, 0).ravel()), w.ravel())
        tot = probs.sum(axis=1, keepdims=True)
        prior = np.bincount(codes[codes >= 0], minlength=kk) / max(int((codes >= 0).sum()), 1)
        return np.where(tot > 0, probs / np.where(tot > 0, tot, 1.0), prior[None, :])
    return ctx.memo(f"knn_label_probs:{k}:{weighted}", compute)


def flag_issues(codes: np.ndarray, probs: np.ndarray, rule: str, *, eligible: np.ndarray | None = None,
                noise_ratio: float | None = None) -> np.ndarray:
    """Label-issue flags for labelled rows (``codes >= 0``) under one of FLAG_RULES.

    ``noise_rate``: the ``round(noise_ratio * n_labelled)`` eligible rows with the lowest P(given label),
    where ``noise_ratio`` is confident learning's estimate (1 - trace of the calibrated joint). So the
    share flagged is the estimated noise ratio the page shows, and the count adapts to each dataset
    (the argmax rule over-flags on overlapping classes, prune_by_noise_rate under-flags on SMS spam).
    """
    lab = codes >= 0
    out = np.zeros(len(codes), dtype=bool)
    if rule == "noise_rate":
        ok = lab if eligible is None else lab & eligible
        if noise_ratio is None:
            noise_ratio = estimate_joint(codes, probs)[1]
        n_flag = int(round(noise_ratio * int(lab.sum())))
        idx = np.flatnonzero(ok)
        if n_flag > 0 and len(idx):
            given = probs[idx, codes[idx]]
            out[idx[np.argsort(given, kind="stable")[:n_flag]]] = True
        return out
    if rule == "argmax":
        p = probs[lab]
        given = p[np.arange(len(p)), codes[lab]]
        out[lab] = p.max(axis=1) > given + 1e-12
        return out
    from cleanlab.filter import find_label_issues

    y = codes[lab]
    k = probs.shape[1]
    present = np.unique(y)
    if len(present) < 2:
        return out
    # cleanlab wants every class present in the labels; drop absent columns and renormalise.
    remap = np.full(k, -1)
    remap[present] = np.arange(len(present))
    p = probs[lab][:, present]
    p = p / np.clip(p.sum(axis=1, keepdims=True), 1e-12, None)
    # n_jobs=1: cleanlab's default forks a multiprocessing pool, and forking a process that runs threads
    # (the Streamlit server, torch, a Ray driver) can hang the fork for good -- seen in the test suite,
    # where a Pool worker waited forever on a lock after a Ray test had run in the same process.
    out[lab] = find_label_issues(remap[y], p, filter_by=rule, n_jobs=1)
    return out


def estimate_joint(codes: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, float]:
    """Confident learning's joint P(given, true) (rows: given label) and the implied noise ratio."""
    from cleanlab.count import estimate_joint as cl_joint

    lab = codes >= 0
    k = probs.shape[1]
    y = codes[lab]
    present = np.unique(y)
    joint = np.zeros((k, k))
    if len(present) < 2:
        return joint, 0.0
    p = probs[lab][:, present]
    p = p / np.clip(p.sum(axis=1, keepdims=True), 1e-12, None)
    remap = np.full(k, -1)
    remap[present] = np.arange(len(present))
    j = cl_joint(remap[y], p)
    joint[np.ix_(present, present)] = j
    return joint, float(1.0 - np.trace(joint))


@register
@dataclass(frozen=True)
class LabelSignal(Signal):
    method: str = "combined"
    folds: int = 5
    C: float = 1.0
    k: int = 30
    weight: float = 0.6  # share of the logistic-regression probabilities in the combined estimate
    flag_by: str = "noise_rate"
    min_class_rows: int = 10

    ranges = {"folds": (2, 50), "C": (1e-6, 1e6), "k": (1, 1000), "weight": (0.0, 1.0), "min_class_rows": (1, 1_000_000)}
    name = "label"
    title = "Label issues"
    description = ("Given label disagrees with out-of-sample predictions: K-fold logistic regression on "
                   "embeddings averaged with the labels of the nearest neighbours.")
    requires = frozenset({"embeddings", "labels"})

    def __post_init__(self):
        if self.method not in METHODS:
            raise DataError(f"unknown label method '{self.method}'; use one of {', '.join(METHODS)}")
        if self.flag_by not in FLAG_RULES:
            raise DataError(f"unknown flag rule '{self.flag_by}'; use one of {', '.join(FLAG_RULES)}")
        if not 0.0 <= self.weight <= 1.0:
            raise DataError(f"weight {self.weight} must be within [0, 1]")
        if self.folds < 2:
            raise DataError(f"folds={self.folds}: K-fold needs at least 2 folds")

    def probabilities(self, ctx) -> np.ndarray:
        if self.method == "knn":
            return knn_label_probabilities(ctx, 10, weighted=False)
        oof = ctx.oof_probabilities(folds=self.folds, C=self.C, min_class_rows=self.min_class_rows).probs
        if self.method == "cleanlab":
            return oof
        return self.weight * oof + (1.0 - self.weight) * knn_label_probabilities(ctx, self.k)

    def __call__(self, ctx) -> SignalResult:
        codes = ctx.label_codes
        classes = ctx.classes
        n = len(codes)
        if len(classes) < 2:
            raise DataError("label checks need at least two classes")
        probs = self.probabilities(ctx)
        valid = ctx.valid  # empty texts have no embedding: nothing to judge (the junk signal reports them)
        lab = codes >= 0
        given_p = np.where(lab & valid, probs[np.arange(n), np.maximum(codes, 0)], 1.0)
        counts = np.bincount(codes[lab], minlength=len(classes))
        small = counts < self.min_class_rows
        unreliable_row = lab & small[np.maximum(codes, 0)]
        joint, noise = estimate_joint(codes, probs)
        if self.method == "knn":
            issue = lab & (probs.argmax(axis=1) != codes)
        else:
            rule = "prune_by_noise_rate" if self.method == "cleanlab" else self.flag_by
            issue = flag_issues(codes, probs, rule, eligible=~unreliable_row & valid, noise_ratio=noise)
        issue &= ~unreliable_row & valid
        suggested_code = probs.argmax(axis=1)
        suggested = np.array([classes[c] for c in suggested_code], dtype=object)
        suggested_prob = probs[np.arange(n), suggested_code]
        given = ctx.ds.labels.astype("string").to_numpy(dtype=object, na_value=None)
        reasons = np.full(n, "", dtype=object)
        for i in np.flatnonzero(issue):
            if suggested[i] == given[i]:  # among the least likely labels, yet no other class is likelier
                reasons[i] = f"label '{given[i]}' is doubtful (P(given) {given_p[i]:.2f}), no clearly better label"
            else:
                reasons[i] = (f"label '{given[i]}' looks wrong: likely '{suggested[i]}' ({suggested_prob[i]:.2f}); "
                              f"P(given) {given_p[i]:.2f}")
        for i in np.flatnonzero(unreliable_row):
            reasons[i] = f"label score unreliable: class '{given[i]}' has only {counts[codes[i]]} rows"
        unreliable = [c for c, s in zip(classes, small, strict=True) if s]
        per_class = {c: int((issue & (codes == j)).sum()) for j, c in enumerate(classes)}
        summary = summarize(issue, method=self.method, estimated_noise_ratio=noise,
                            n_unlabelled=int((~lab).sum()), unreliable_classes=unreliable,
                            issues_per_class=per_class)
        if unreliable:
            summary["note"] = (f"class(es) {', '.join(repr(c) for c in unreliable)} have fewer than "
                               f"{self.min_class_rows} rows: their label score is unreliable and not flagged")
        info = {"classes": list(classes), "joint": joint.tolist(), "class_counts": counts.tolist()}
        return SignalResult(given_p, issue, summary, info, reasons=reasons,
                            columns={"suggested_label": suggested, "suggested_label_prob": suggested_prob})
