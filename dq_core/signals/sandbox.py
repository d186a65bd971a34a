"""Noise-injection sandbox: flip a known share of labels, then score detectors against the known flips.

Because the flipped rows are known, precision/recall/F1 of a detector's flags and AUROC/average precision
of its scores are exact, which makes the effect of the label signals demonstrable on any dataset. Rows
that were already mislabelled before injection count as false positives, so figures on real data (the
tweets carry real crowd noise) are a lower bound on the detector's true precision.

Modes (all seeded, exact counts, only labelled rows are flipped):

- ``uniform``: ``round(rate * n)`` rows chosen uniformly; each gets one of the other classes uniformly.
- ``class_conditional``: a seeded random noise matrix. Class ``c`` flips at its own rate ``rate * m_c``
  (``m_c ~ U(0.5, 1.5)``, rescaled so that ``rate * n`` rows flip in total) and its flips go to the other
  classes with Dirichlet(0.5) weights, so they concentrate on one or two "confusable" classes, as human
  confusions do. With two classes the targets are forced; only the per-class rates differ.
- ``pairs``: class-to-class flips the user names, ``{from: to}``; ``rate`` is the share of each
  ``from`` class that flips.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dq_core.errors import DataError
from dq_core.util.progress import Progress

MODES = ("uniform", "class_conditional", "pairs")


@dataclass(frozen=True)
class NoisyLabels:
    labels: np.ndarray  # object array of str (None where the original had no label)
    original: np.ndarray
    flipped: np.ndarray  # bool per row
    mode: str
    rate: float
    seed: int

    @property
    def n_flipped(self) -> int:
        return int(self.flipped.sum())

    def transitions(self) -> pd.DataFrame:
        """Counts of flipped rows, original label (rows) by injected label (columns)."""
        f = self.flipped
        if not f.any():
            return pd.DataFrame()
        return pd.crosstab(pd.Series(self.original[f], name="original"), pd.Series(self.labels[f], name="noisy"))

    def to_dict(self) -> dict:
        return {"mode": self.mode, "rate": self.rate, "seed": self.seed, "n_flipped": self.n_flipped,
                "n_rows": len(self.labels)}


def _as_labels(labels) -> np.ndarray:
    s = pd.Series(labels, dtype="string")
    return s.to_numpy(dtype=object, na_value=None)


def inject_label_noise(labels, *, rate: float, mode: str = "uniform", seed: int = 0,
                       pairs: dict[str, str] | None = None) -> NoisyLabels:
    """Flip labels with a seed; returns the new labels and which rows were flipped (input untouched)."""
    if mode not in MODES:
        raise DataError(f"unknown noise mode '{mode}'; use one of {', '.join(MODES)}")
    if not 0.0 <= rate <= 0.9:
        raise DataError(f"noise rate {rate} is out of range; use 0 to 0.9")
    orig = _as_labels(labels)
    labelled = np.flatnonzero(np.array([v is not None for v in orig]))
    classes = sorted({orig[i] for i in labelled})
    if len(classes) < 2:
        raise DataError("noise injection needs at least two classes")
    rng = np.random.default_rng(seed)
    new = orig.copy()
    flipped = np.zeros(len(orig), dtype=bool)
    k = len(classes)
    code = {c: i for i, c in enumerate(classes)}
    lab_codes = np.array([code[orig[i]] for i in labelled], dtype=np.int64)

    if mode == "uniform":
        m = int(round(rate * len(labelled)))
        pick = rng.choice(len(labelled), size=m, replace=False)
        shift = rng.integers(1, k, size=m)  # uniform over the k-1 other classes
        for p, s in zip(pick, shift, strict=True):
            i = labelled[p]
            new[i] = classes[(lab_codes[p] + s) % k]
            flipped[i] = True
    elif mode == "class_conditional":
        counts = np.bincount(lab_codes, minlength=k)
        mult = rng.uniform(0.5, 1.5, size=k)
        total = int(round(rate * len(labelled)))
        share = rate * mult * len(labelled) / max(float((counts * mult).sum()), 1e-12)
        per_class = np.minimum(np.floor(share * counts).astype(int), (counts * 0.9).astype(int))
        # Hand out the rounding remainder to classes with room, largest rate first.
        order = np.argsort(-mult, kind="stable")
        i = 0
        while per_class.sum() < total and i < 10 * k:
            c = order[i % k]
            if per_class[c] < int(counts[c] * 0.9):
                per_class[c] += 1
            i += 1
        targets = np.zeros((k, k))
        for c in range(k):
            w = rng.dirichlet(np.full(k - 1, 0.5)) if k > 2 else np.ones(1)
            targets[c, [j for j in range(k) if j != c]] = w
        for c in range(k):
            rows = labelled[lab_codes == c]
            pick = rng.choice(rows, size=per_class[c], replace=False)
            to = rng.choice(k, size=len(pick), p=targets[c])
            for i, t in zip(pick, to, strict=True):
                new[i] = classes[t]
                flipped[i] = True
    else:
        if not pairs:
            raise DataError("mode 'pairs' needs at least one class-to-class pair, e.g. {'spam': 'ham'}")
        for src, dst in pairs.items():
            if src not in code or dst not in code:
                bad = src if src not in code else dst
                raise DataError(f"class '{bad}' is not in the labels ({', '.join(classes[:10])})")
            if src == dst:
                raise DataError(f"pair '{src}' -> '{dst}' flips nothing; pick two different classes")
            rows = labelled[lab_codes == code[src]]
            m = int(round(rate * len(rows)))
            pick = rng.choice(rows, size=m, replace=False)
            new[pick] = dst
            flipped[pick] = True
    return NoisyLabels(labels=new, original=orig, flipped=flipped, mode=mode, rate=float(rate), seed=int(seed))


@dataclass(frozen=True)
class DetectionResult:
    """How well a detector's flags/scores find the known flips."""

    n_flipped: int
    n_flagged: int
    n_found: int
    precision: float
    recall: float
    f1: float
    auroc: float
    average_precision: float
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"n_flipped": self.n_flipped, "n_flagged": self.n_flagged, "n_found": self.n_found,
                "precision": self.precision, "recall": self.recall, "f1": self.f1, "auroc": self.auroc,
                "average_precision": self.average_precision, **self.extra}


def score_detection(flipped, is_issue, scores=None) -> DetectionResult:
    """Precision/recall/F1 of ``is_issue`` and AUROC/AP of ``scores`` (low = suspicious) vs ``flipped``."""
    y = np.asarray(flipped, dtype=bool)
    flag = np.asarray(is_issue, dtype=bool)
    if len(y) != len(flag):
        raise DataError(f"{len(flag)} flags for {len(y)} rows")
    tp = int((y & flag).sum())
    n_flag = int(flag.sum())
    n_pos = int(y.sum())
    precision = tp / n_flag if n_flag else 0.0
    recall = tp / n_pos if n_pos else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    auroc = ap = float("nan")
    if scores is not None and 0 < n_pos < len(y):
        from sklearn.metrics import average_precision_score, roc_auc_score

        s = -np.asarray(scores, dtype=float)
        s = np.nan_to_num(s, nan=np.nanmin(s) if np.isfinite(s).any() else 0.0)
        auroc = float(roc_auc_score(y, s))
        ap = float(average_precision_score(y, s))
    return DetectionResult(n_flipped=n_pos, n_flagged=n_flag, n_found=tp, precision=float(precision),
                           recall=float(recall), f1=float(f1), auroc=auroc, average_precision=ap)


# The detectors the sandbox compares, by display name: the label signal's parameters for each.
DETECTORS = {"ours (combined)": {}, "cleanlab (LR + CL)": {"method": "cleanlab"},
             "10-NN disagreement": {"method": "knn"}}


@dataclass(frozen=True, eq=False)
class SandboxResult:
    """One sandbox run: the injected noise, each detector's scores against it, and the flipped rows."""

    dataset: str  # fingerprint of the dataset the noise was injected into
    noise: NoisyLabels
    scores: dict[str, DetectionResult]  # detector name -> detection figures
    examples: pd.DataFrame  # the flipped rows: text, original and injected label, suggestion, flagged

    def score_table(self) -> pd.DataFrame:
        return pd.DataFrame({k: v.to_dict() for k, v in self.scores.items()}).T


def run_sandbox(ds, embeddings: np.ndarray, *, rate: float, mode: str = "uniform", seed: int = 0,
                pairs: dict[str, str] | None = None, workspace=None,
                progress: Progress | None = None) -> SandboxResult:
    """Flip ``rate`` of ``ds``'s labels (:func:`inject_label_noise`), run the DETECTORS on the noisy copy and
    score their flags and scores against the known flips.

    ``embeddings``: the dataset's vectors (the signals' own, so nothing is embedded again); ``progress``:
    passed on to :func:`dq_core.signals.compute_signals`.
    """
    from dq_core.signals.runner import compute_signals, get_signal

    noisy = inject_label_noise(ds.labels, rate=rate, mode=mode, seed=seed, pairs=pairs)
    noisy_ds = ds.with_labels(noisy.labels, name=f"{ds.name} + {rate:.0%} {mode} noise")
    detectors = {name: get_signal("label", **params) for name, params in DETECTORS.items()}
    rep = compute_signals(noisy_ds, list(detectors.values()), embeddings=embeddings, workspace=workspace,
                          seed=seed, progress=progress)
    scores = {name: score_detection(noisy.flipped, rep.frame[f"is_{sig.column}_issue"],
                                    rep.frame[f"{sig.column}_score"]) for name, sig in detectors.items()}
    ours = next(iter(detectors.values())).column
    examples = pd.DataFrame({"row_id": ds.row_ids, "text": ds.texts.to_numpy(), "original": noisy.original,
                             "injected": noisy.labels, "suggested": rep.frame["suggested_label"].to_numpy(),
                             "flagged": rep.frame[f"is_{ours}_issue"].to_numpy()})[noisy.flipped]
    return SandboxResult(dataset=ds.fingerprint, noise=noisy, scores=scores, examples=examples)
