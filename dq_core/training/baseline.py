"""Baseline: multinomial logistic regression on the cached sentence embeddings (seconds, not minutes).

The embeddings come from dq_core.space.embed (per-text disk cache), so texts the dashboard already embedded
for coverage or signals are not embedded again. The model is stored as plain arrays (no pickle).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dq_core.data.io import atomic_write_bytes, atomic_write_text
from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.util.progress import Progress


@dataclass(frozen=True)
class BaselineModel:
    labels: tuple[str, ...]
    coef: np.ndarray  # (k, d), or (1, d) for two classes as scikit-learn stores it
    intercept: np.ndarray
    embedding_model: str

    def predict_proba(self, vectors: np.ndarray) -> np.ndarray:
        z = vectors @ self.coef.T + self.intercept
        if z.shape[1] == 1:  # binary: sklearn's single decision function for the second class
            p1 = 1.0 / (1.0 + np.exp(-z[:, 0]))
            return np.column_stack([1 - p1, p1])
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def save(self, folder: str | Path) -> None:
        import io

        folder = Path(folder)
        buf = io.BytesIO()
        np.savez(buf, coef=self.coef, intercept=self.intercept)
        atomic_write_bytes(folder / "weights.npz", buf.getvalue())
        atomic_write_text(folder / "baseline.json", json.dumps(
            {"kind": "logistic_regression", "labels": list(self.labels), "embedding_model": self.embedding_model},
            indent=2))

    @classmethod
    def load(cls, folder: str | Path) -> BaselineModel:
        folder = Path(folder)
        meta = json.loads((folder / "baseline.json").read_text())
        with np.load(folder / "weights.npz", allow_pickle=False) as z:
            return cls(labels=tuple(meta["labels"]), coef=z["coef"], intercept=z["intercept"],
                       embedding_model=meta.get("embedding_model", ""))


def embed_frames(frames: list[pd.DataFrame], *, model: str | None, ws: Workspace,
                 progress: Progress | None = None) -> tuple[list[np.ndarray], str]:
    """Embeddings of several frames' texts in one call (identical texts are embedded once)."""
    from dq_core.space.embed import embed_texts

    texts = [t for f in frames for t in f["text"].tolist()]
    res = embed_texts(texts, model=model, workspace=ws, progress=progress)
    out, start = [], 0
    for f in frames:
        out.append(np.asarray(res.vectors[start:start + len(f)], dtype=np.float32))
        start += len(f)
    return out, res.model_name


def train_baseline(x: np.ndarray, y: pd.Series | np.ndarray, *, labels: tuple[str, ...], c: float = 1.0,
                   class_weights: bool = False, seed: int = 0, embedding_model: str = "") -> BaselineModel:
    from sklearn.linear_model import LogisticRegression

    y = np.asarray([str(v) for v in y], dtype=object)
    if len(set(y.tolist())) < 2:
        raise DataError("the baseline needs at least two classes in the training rows")
    clf = LogisticRegression(C=c, max_iter=2000, class_weight="balanced" if class_weights else None,
                             random_state=seed)
    clf.fit(x, y)
    order = [list(clf.classes_).index(lab) for lab in labels]
    coef, intercept = clf.coef_, clf.intercept_
    if coef.shape[0] > 1:
        coef, intercept = coef[order], intercept[order]
    elif list(clf.classes_) != list(labels):  # binary with the classes the other way round
        coef, intercept = -coef, -intercept
    return BaselineModel(labels=tuple(labels), coef=coef.astype(np.float64), intercept=intercept.astype(np.float64),
                         embedding_model=embedding_model)


def log_loss(proba: np.ndarray, y: pd.Series | np.ndarray, labels: tuple[str, ...]) -> float:
    from sklearn.metrics import log_loss as sk_log_loss

    index = {lab: i for i, lab in enumerate(labels)}
    t = np.array([index[str(v)] for v in y])
    if len(t) == 0:
        return float("nan")
    # Column positions as the labels: scikit-learn would sort label names, the columns follow ``labels``.
    return float(sk_log_loss(t, proba, labels=np.arange(len(labels))))
