"""Annotation consistency: how much annotators agree, and how well our label score matches a crowd hint.

- ``compute_annotator_agreement``: with two or more per-annotator label columns, the agreement rate
  (1/N Σ 1[all annotators agree]), Krippendorff's alpha (nominal, missing values allowed) and Fleiss'
  kappa (generalised to a varying number of annotators per row), plus per-row agreement.
- ``compare_with_agreement``: with a per-row agreement column (the tweets' crowd ``confidence``), the
  AUROC of our label-issue score for rows the crowd disagreed on, and the rank correlation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dq_core.errors import DataError


def rating_counts(frame: pd.DataFrame, columns: list[str] | tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    """(n_rows, n_categories) counts of how many annotators chose each category, and the categories."""
    if len(columns) < 2:
        raise DataError("annotation consistency needs two or more annotator columns")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"annotator column(s) {', '.join(missing)} are not in the dataset")
    vals = frame[list(columns)].astype("string")
    cats = sorted(set(pd.unique(vals.to_numpy().ravel())) - {pd.NA, None})
    cats = [c for c in cats if isinstance(c, str)]
    counts = np.zeros((len(frame), len(cats)), dtype=np.int64)
    for c in columns:
        codes = pd.Categorical(vals[c], categories=cats).codes
        ok = codes >= 0
        counts[np.flatnonzero(ok), codes[ok]] += 1
    return counts, cats


def krippendorff_alpha_nominal(counts: np.ndarray) -> float:
    """Krippendorff's alpha for nominal data from per-row category counts (rows with < 2 values drop out)."""
    m = counts.sum(axis=1)
    use = m >= 2
    r = counts[use].astype(np.float64)
    if len(r) == 0:
        return float("nan")
    w = 1.0 / (m[use] - 1.0)
    o = (r * w[:, None]).T @ r - np.diag((r * w[:, None]).sum(axis=0))  # coincidence matrix
    n_c = o.sum(axis=1)
    n = n_c.sum()
    if n <= 1:
        return float("nan")
    d_o = o.sum() - np.trace(o)
    d_e = (n_c.sum() ** 2 - (n_c ** 2).sum()) / (n - 1)
    if d_e == 0:
        return 1.0 if d_o == 0 else float("nan")
    return float(1.0 - d_o / d_e)


def fleiss_kappa(counts: np.ndarray) -> float:
    """Fleiss' kappa; rows with fewer than 2 ratings are skipped, varying raters per row allowed."""
    m = counts.sum(axis=1)
    use = m >= 2
    r = counts[use].astype(np.float64)
    if len(r) == 0:
        return float("nan")
    mu = m[use].astype(np.float64)
    p_i = ((r * (r - 1)).sum(axis=1)) / (mu * (mu - 1))
    p_bar = p_i.mean()
    p_c = r.sum(axis=0) / mu.sum()
    p_e = float((p_c ** 2).sum())
    if p_e >= 1.0:
        return 1.0 if p_bar >= 1.0 else float("nan")
    return float((p_bar - p_e) / (1 - p_e))


@dataclass(frozen=True)
class AgreementResult:
    n_annotators: int
    n_rows_rated: int  # rows with at least two annotations
    agreement_rate: float  # share of rated rows where every annotator agrees
    krippendorff_alpha: float
    fleiss_kappa: float
    per_row_agreement: np.ndarray  # share of a row's annotators that chose its majority label
    majority_label: np.ndarray  # object array, None when no annotation
    categories: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"n_annotators": self.n_annotators, "n_rows_rated": self.n_rows_rated,
                "agreement_rate": self.agreement_rate, "krippendorff_alpha": self.krippendorff_alpha,
                "fleiss_kappa": self.fleiss_kappa, "categories": list(self.categories)}


def compute_annotator_agreement(frame: pd.DataFrame, columns: list[str] | tuple[str, ...]) -> AgreementResult:
    counts, cats = rating_counts(frame, columns)
    m = counts.sum(axis=1)
    rated = m >= 2
    top = counts.max(axis=1) if counts.shape[1] else np.zeros(len(counts), dtype=np.int64)
    per_row = np.where(m > 0, top / np.maximum(m, 1), np.nan)
    maj = np.array([cats[i] if mm > 0 else None for i, mm in
                    zip(counts.argmax(axis=1) if counts.shape[1] else np.zeros(len(counts), int), m, strict=True)],
                   dtype=object)
    rate = float((top[rated] == m[rated]).mean()) if rated.any() else float("nan")
    return AgreementResult(n_annotators=len(columns), n_rows_rated=int(rated.sum()), agreement_rate=rate,
                           krippendorff_alpha=krippendorff_alpha_nominal(counts), fleiss_kappa=fleiss_kappa(counts),
                           per_row_agreement=per_row, majority_label=maj, categories=tuple(cats))


@dataclass(frozen=True)
class AgreementHintResult:
    """How well our label score (low = suspicious) matches a per-row crowd agreement column."""

    column: str
    threshold: float
    n_rows: int
    n_low_agreement: int
    auroc: float  # P(score of a low-agreement row < score of a high-agreement row)
    spearman: float  # rank correlation between our score and the agreement
    mean_score_low: float
    mean_score_high: float

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("column", "threshold", "n_rows", "n_low_agreement", "auroc",
                                              "spearman", "mean_score_low", "mean_score_high")}


def compare_with_agreement(scores, agreement, *, threshold: float = 0.6, column: str = "agreement") -> AgreementHintResult:
    s = np.asarray(scores, dtype=float)
    a = pd.to_numeric(pd.Series(agreement), errors="coerce").to_numpy(dtype=float)
    if len(s) != len(a):
        raise DataError(f"{len(s)} scores for {len(a)} agreement values")
    ok = np.isfinite(s) & np.isfinite(a)
    s, a = s[ok], a[ok]
    low = a < threshold
    auroc = spearman = float("nan")
    if 0 < low.sum() < len(low):
        from sklearn.metrics import roc_auc_score

        auroc = float(roc_auc_score(low, -s))
    if len(s) > 2 and np.std(s) > 0 and np.std(a) > 0:
        from scipy.stats import spearmanr

        spearman = float(spearmanr(s, a).statistic)
    return AgreementHintResult(column=column, threshold=threshold, n_rows=int(len(s)),
                               n_low_agreement=int(low.sum()), auroc=auroc, spearman=spearman,
                               mean_score_low=float(s[low].mean()) if low.any() else float("nan"),
                               mean_score_high=float(s[~low].mean()) if (~low).any() else float("nan"))
