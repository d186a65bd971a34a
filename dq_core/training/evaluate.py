"""Evaluation of test predictions, and the paired bootstrap between two runs on shared test rows.

Pure functions of (true labels, class probabilities) returning frozen *Result dataclasses, so the page,
the CLI and the report show the same numbers; precision/recall/F1/ROC-AUC come from scikit-learn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dq_core.errors import DataError

N_MISCLASSIFIED = 50
MAX_SLICE_VALUES = 20


def _nan_to_none(x):
    if isinstance(x, float) and math.isnan(x):
        return None
    return x


@dataclass(frozen=True)
class ReliabilityBin:
    lower: float
    upper: float
    confidence: float  # mean max-probability of the rows in the bin (nan when empty)
    accuracy: float
    count: int


@dataclass(frozen=True)
class EvaluationResult:
    labels: tuple[str, ...]
    n: int
    accuracy: float
    precision: dict[str, float]  # macro / micro / weighted
    recall: dict[str, float]
    f1: dict[str, float]
    per_class: dict[str, dict[str, float]]  # label -> precision, recall, f1, support, roc_auc
    confusion_matrix: np.ndarray  # counts, rows = true label, columns = predicted
    roc_auc: dict[str, float]  # "macro" (over classes with both outcomes present) + per label
    ece: float
    reliability: tuple[ReliabilityBin, ...]
    misclassified: pd.DataFrame  # row_id, text, label, predicted, confidence (most confident first)
    slices: dict[str, pd.DataFrame] = field(default_factory=dict)  # column -> value, n, accuracy, macro_f1
    warnings: tuple[str, ...] = ()  # a degenerate model said in words (see degenerate_warnings)

    @property
    def macro_f1(self) -> float:
        return self.f1["macro"]

    @property
    def weighted_f1(self) -> float:
        return self.f1["weighted"]

    @property
    def n_misclassified(self) -> int:
        """Test rows predicted wrongly: all of them, not only the ``misclassified`` rows kept for review."""
        return int(self.confusion_matrix.sum() - self.confusion_matrix.trace())

    @property
    def confusion_matrix_normalized(self) -> np.ndarray:
        """Each row (true label) divided by its support: the recall on the diagonal."""
        cm = self.confusion_matrix.astype(float)
        sums = cm.sum(axis=1, keepdims=True)
        return np.divide(cm, sums, out=np.zeros_like(cm), where=sums > 0)

    def to_dict(self) -> dict:
        return {
            "labels": list(self.labels), "n_test": self.n, "accuracy": self.accuracy,
            "macro_f1": self.f1["macro"], "micro_f1": self.f1["micro"], "weighted_f1": self.f1["weighted"],
            "precision": dict(self.precision), "recall": dict(self.recall), "f1": dict(self.f1),
            "per_class": {k: {m: _nan_to_none(v) for m, v in d.items()} for k, d in self.per_class.items()},
            "confusion_matrix": self.confusion_matrix.astype(int).tolist(),
            "confusion_matrix_normalized": self.confusion_matrix_normalized.round(6).tolist(),
            "roc_auc": {k: _nan_to_none(v) for k, v in self.roc_auc.items()},
            "ece": self.ece,
            "reliability": [{"lower": b.lower, "upper": b.upper, "confidence": _nan_to_none(b.confidence),
                             "accuracy": _nan_to_none(b.accuracy), "count": b.count} for b in self.reliability],
            "misclassified": self.misclassified.to_dict(orient="records"),
            "slices": {c: f.to_dict(orient="records") for c, f in self.slices.items()},
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, d: dict) -> EvaluationResult:
        nan = float("nan")
        return cls(
            labels=tuple(d["labels"]), n=int(d.get("n_test", 0)), accuracy=float(d["accuracy"]),
            precision=dict(d.get("precision", {})), recall=dict(d.get("recall", {})),
            f1=dict(d.get("f1") or {"macro": d["macro_f1"], "weighted": d["weighted_f1"],
                                     "micro": d.get("micro_f1", d["accuracy"])}),
            per_class={k: {m: (nan if v is None else v) for m, v in dd.items()} for k, dd in d["per_class"].items()},
            confusion_matrix=np.asarray(d["confusion_matrix"], dtype=np.int64),
            roc_auc={k: (nan if v is None else v) for k, v in d.get("roc_auc", {}).items()},
            ece=float(d.get("ece", nan)),
            reliability=tuple(ReliabilityBin(b["lower"], b["upper"], nan if b["confidence"] is None else
                                             b["confidence"], nan if b["accuracy"] is None else b["accuracy"],
                                             b["count"]) for b in d.get("reliability", [])),
            misclassified=pd.DataFrame(d.get("misclassified", []),
                                       columns=["row_id", "text", "label", "predicted", "confidence"]),
            slices={c: pd.DataFrame(rows) for c, rows in d.get("slices", {}).items()},
            # runs saved before the check have none stored: derive them from the same figures
            warnings=tuple(d["warnings"]) if "warnings" in d else degenerate_warnings(
                np.asarray(d["confusion_matrix"], dtype=np.int64), float(d["macro_f1"]), tuple(d["labels"])),
        )


def _encode(y: Sequence, labels: Sequence[str]) -> np.ndarray:
    index = {lab: i for i, lab in enumerate(labels)}
    y = [str(v) for v in y]
    unknown = sorted({v for v in y if v not in index})
    if unknown:
        raise DataError(f"test labels {', '.join(map(repr, unknown[:5]))} are not among the model's classes")
    return np.fromiter((index[v] for v in y), dtype=np.int64, count=len(y))


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, *,
                               n_bins: int = 10) -> tuple[float, tuple[ReliabilityBin, ...]]:
    """ECE over equal-width confidence bins: sum_b (n_b / N) |accuracy_b - confidence_b|."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # Right-closed bins, the first one including 0: a confidence of exactly 1 lands in the top bin.
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    bins, ece, n = [], 0.0, len(confidence)
    for b in range(n_bins):
        m = which == b
        cnt = int(m.sum())
        conf = float(confidence[m].mean()) if cnt else float("nan")
        acc = float(correct[m].mean()) if cnt else float("nan")
        if cnt:
            ece += cnt / n * abs(acc - conf)
        bins.append(ReliabilityBin(float(edges[b]), float(edges[b + 1]), conf, acc, cnt))
    return float(ece), tuple(bins)


def _slice_values(values: pd.Series) -> pd.Series | None:
    """A column as slice names: categories as they are, many-valued numbers as quartile ranges."""
    s = pd.Series(values).reset_index(drop=True)
    nunique = s.nunique(dropna=True)
    if nunique < 2:
        return None
    if pd.api.types.is_numeric_dtype(s) and nunique > MAX_SLICE_VALUES:
        try:
            return pd.qcut(s, q=4, duplicates="drop").astype(str).where(s.notna(), "(missing)")
        except ValueError:
            return None
    if nunique > MAX_SLICE_VALUES:
        return None
    return s.astype("string").fillna("(missing)").astype(str)


def slice_metrics(y_true: np.ndarray, y_pred: np.ndarray, values: pd.Series, n_labels: int) -> pd.DataFrame:
    from sklearn.metrics import f1_score

    rows = []
    for v, idx in pd.Series(np.arange(len(values))).groupby(values.to_numpy()).groups.items():
        idx = np.asarray(list(idx))
        t, p = y_true[idx], y_pred[idx]
        present = np.unique(t)
        rows.append({"value": str(v), "n": len(idx), "accuracy": float((t == p).mean()),
                     "macro_f1": float(f1_score(t, p, labels=present, average="macro", zero_division=0))})
    return pd.DataFrame(rows).sort_values("n", ascending=False, kind="stable").reset_index(drop=True)


CHANCE_MARGIN = 1.2  # macro-F1 at or below this many times chance (1/k) is "near chance"


def degenerate_warnings(cm: np.ndarray, macro_f1: float, labels: Sequence[str]) -> tuple[str, ...]:
    """Warnings for a model that learnt nothing useful: it predicts one class for every test row, or
    its macro-F1 is near the 1/k of guessing among k classes. ``cm``: counts, rows = true label."""
    k = len(labels)
    cm = np.asarray(cm)
    if k < 2 or cm.size == 0 or cm.sum() == 0:
        return ()
    out = []
    predicted = np.flatnonzero(cm.sum(axis=0) > 0)
    true_classes = int((cm.sum(axis=1) > 0).sum())
    if len(predicted) == 1 and true_classes > 1:
        out.append(f"the model predicts one class ('{labels[predicted[0]]}') for every test row: it has "
                   "learnt the majority class, not the task (check the labels, the recipe, the learning "
                   "rate or the number of epochs)")
    chance = 1.0 / k
    if math.isfinite(macro_f1) and macro_f1 <= CHANCE_MARGIN * chance:
        out.append(f"macro-F1 {macro_f1:.3f} is near chance for {k} classes (1/{k} = {chance:.3f})")
    return tuple(out)


def evaluate_predictions(y_true: Sequence, proba: np.ndarray, labels: Sequence[str], *,
                         row_ids: Sequence | None = None, texts: Sequence[str] | None = None,
                         slices: dict[str, Sequence] | None = None, n_bins: int = 10,
                         n_misclassified: int = N_MISCLASSIFIED) -> EvaluationResult:
    """All test metrics from the true labels and the (n, k) class probabilities in ``labels`` order."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support, roc_auc_score

    labels = tuple(str(x) for x in labels)
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] != len(labels):
        raise DataError(f"probabilities have shape {proba.shape}, expected (n, {len(labels)})")
    t = _encode(y_true, labels)
    if len(t) != len(proba):
        raise DataError(f"{len(t)} labels but {len(proba)} predictions")
    if len(t) == 0:
        raise DataError("the test set is empty")
    k = len(labels)
    p = proba.argmax(axis=1)
    idx = np.arange(k)
    acc = float((t == p).mean())
    prec, rec, f1 = {}, {}, {}
    for avg in ("macro", "micro", "weighted"):
        pr, rc, ff, _ = precision_recall_fscore_support(t, p, labels=idx, average=avg, zero_division=0)
        prec[avg], rec[avg], f1[avg] = float(pr), float(rc), float(ff)
    pr, rc, ff, sup = precision_recall_fscore_support(t, p, labels=idx, average=None, zero_division=0)
    roc = {}
    for i, lab in enumerate(labels):
        pos = t == i
        roc[lab] = float(roc_auc_score(pos, proba[:, i])) if 0 < pos.sum() < len(t) else float("nan")
    defined = [v for v in roc.values() if not math.isnan(v)]
    roc_all = {"macro": float(np.mean(defined)) if defined else float("nan"), **roc}
    per_class = {lab: {"precision": float(pr[i]), "recall": float(rc[i]), "f1": float(ff[i]),
                       "support": int(sup[i]), "roc_auc": roc[lab]} for i, lab in enumerate(labels)}
    cm = confusion_matrix(t, p, labels=idx)
    conf = proba.max(axis=1)
    ece, bins = expected_calibration_error(conf, t == p, n_bins=n_bins)

    wrong = np.flatnonzero(t != p)
    wrong = wrong[np.argsort(-conf[wrong], kind="stable")][:n_misclassified]
    mis = pd.DataFrame({
        "row_id": [str(r) for r in np.asarray(row_ids, dtype=object)[wrong]] if row_ids is not None else wrong,
        "text": np.asarray(texts, dtype=object)[wrong] if texts is not None else [""] * len(wrong),
        "label": [labels[i] for i in t[wrong]], "predicted": [labels[i] for i in p[wrong]],
        "confidence": conf[wrong].round(6)})
    sl = {}
    for col, values in (slices or {}).items():
        vals = _slice_values(pd.Series(values))
        if vals is not None:
            sl[col] = slice_metrics(t, p, vals, k)
    return EvaluationResult(labels=labels, n=len(t), accuracy=acc, precision=prec, recall=rec, f1=f1,
                            per_class=per_class, confusion_matrix=cm, roc_auc=roc_all, ece=ece,
                            reliability=bins, misclassified=mis, slices=sl,
                            warnings=degenerate_warnings(cm, f1["macro"], labels))


# --------------------------------------------------------------------------- paired bootstrap

METRICS = ("accuracy", "macro_f1")


@dataclass(frozen=True)
class BootstrapResult:
    metric: str
    a: float  # metric of run A on the shared rows
    b: float
    delta: float  # b - a
    ci_low: float
    ci_high: float
    confidence: float
    n: int  # shared test rows
    n_resamples: int
    p_value: float  # two-sided: how often a resample's delta falls on the other side of zero

    @property
    def significant(self) -> bool:
        return self.ci_low > 0 or self.ci_high < 0

    def to_dict(self) -> dict:
        return {"metric": self.metric, "a": self.a, "b": self.b, "delta": self.delta, "ci_low": self.ci_low,
                "ci_high": self.ci_high, "confidence": self.confidence, "n": self.n,
                "n_resamples": self.n_resamples, "p_value": self.p_value, "significant": self.significant}


def _macro_f1_from_counts(t: np.ndarray, p: np.ndarray, k: int, weights: np.ndarray | None = None) -> float:
    tp = np.bincount(t[t == p], weights=None if weights is None else weights[t == p], minlength=k)
    true_n = np.bincount(t, weights=weights, minlength=k)
    pred_n = np.bincount(p, weights=weights, minlength=k)
    denom = true_n + pred_n
    f1 = np.divide(2 * tp, denom, out=np.zeros(k, dtype=float), where=denom > 0)
    present = true_n > 0
    return float(f1[present].mean()) if present.any() else 0.0


def paired_bootstrap(y_true: Sequence, pred_a: Sequence, pred_b: Sequence, *, metric: str = "accuracy",
                     n_resamples: int = 1000, confidence: float = 0.95,
                     rng: np.random.Generator) -> BootstrapResult:
    """Resample the shared test rows with replacement; the interval of metric(B) - metric(A).

    Paired: each resample scores both runs on the same rows, so row difficulty cancels out and a real
    gain is told from noise with far fewer rows than two independent intervals would need.
    """
    return paired_bootstrap_runs(y_true, [pred_a], [pred_b], metric=metric, n_resamples=n_resamples,
                                 confidence=confidence, rng=rng)


def paired_bootstrap_runs(y_true: Sequence, runs_a: Sequence[Sequence], runs_b: Sequence[Sequence], *,
                          metric: str = "accuracy", n_resamples: int = 1000, confidence: float = 0.95,
                          rng: np.random.Generator) -> BootstrapResult:
    """:func:`paired_bootstrap` for A and B each trained several times (different seeds): a resample draws
    the test rows and, for each side, one of its runs, so the interval holds the training randomness too
    (a fine-tune's data order moves accuracy by as much as a small cleaning gain). The point figures are the
    runs' means. One run a side is exactly the paired bootstrap (no extra random draws)."""
    if metric not in METRICS:
        raise DataError(f"unknown metric '{metric}'; use one of {', '.join(METRICS)}")
    if not len(runs_a) or not len(runs_b):
        raise DataError("the paired bootstrap needs at least one run a side")
    t_raw = np.asarray([str(v) for v in y_true], dtype=object)
    labels = sorted(set(t_raw.tolist()).union(*({str(v) for v in r} for r in (*runs_a, *runs_b))))
    t = _encode(t_raw, labels)
    a_runs, b_runs = [_encode(r, labels) for r in runs_a], [_encode(r, labels) for r in runs_b]
    n, k = len(t), len(labels)
    if n == 0 or any(len(r) != n for r in (*a_runs, *b_runs)):
        raise DataError("the paired bootstrap needs the same, non-empty set of test rows for both runs")

    def score(pred: np.ndarray, w: np.ndarray | None = None) -> float:
        if metric == "accuracy":
            c = (pred == t).astype(float)
            return float(c.mean() if w is None else (c * w).sum() / w.sum())
        return _macro_f1_from_counts(t, pred, k, w)

    sa, sb = (float(np.mean([score(r) for r in runs])) for runs in (a_runs, b_runs))
    deltas = np.empty(n_resamples)
    single = len(a_runs) == 1 and len(b_runs) == 1
    # Each resample as per-row counts (bincount of drawn indices): weighted scores, no copied arrays.
    for i in range(n_resamples):
        w = np.bincount(rng.integers(0, n, size=n), minlength=n).astype(float)
        a = a_runs[0] if single else a_runs[rng.integers(len(a_runs))]
        b = b_runs[0] if single else b_runs[rng.integers(len(b_runs))]
        deltas[i] = score(b, w) - score(a, w)
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(deltas, [alpha, 1 - alpha])
    d = sb - sa
    p = 2 * min((deltas <= 0).mean(), (deltas >= 0).mean())
    return BootstrapResult(metric=metric, a=sa, b=sb, delta=float(d), ci_low=float(lo), ci_high=float(hi),
                           confidence=confidence, n=n, n_resamples=n_resamples, p_value=float(min(1.0, p)))
