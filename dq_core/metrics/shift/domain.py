"""Domain classifier: how well a linear model tells dataset rows from reference rows by their embeddings.

Cross-validated ROC-AUC of a logistic regression (0.5 = indistinguishable), with the rows each side is
most recognisable by.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dq_core.errors import DataError
from dq_core.util.jsonsafe import to_native


@dataclass(frozen=True, eq=False)
class DomainClassifierResult:
    """How well a linear model tells dataset rows from reference rows (0.5 = not at all)."""

    auc: float | None
    auc_std: float | None = None
    fold_aucs: tuple[float, ...] = ()
    n_dataset: int = 0
    n_reference: int = 0
    distinctive_dataset: tuple[dict, ...] = ()  # rows the model is surest are from the dataset
    distinctive_reference: tuple[dict, ...] = ()
    notes: tuple[str, ...] = ()
    skipped: str | None = None
    scores_dataset: np.ndarray | None = field(default=None, repr=False)  # out-of-fold P(dataset)
    scores_reference: np.ndarray | None = field(default=None, repr=False)

    @property
    def verdict(self) -> str:
        if self.auc is None:
            return "skipped"
        a = self.auc
        if a < 0.6:
            return "indistinguishable"
        if a < 0.75:
            return "partly distinguishable"
        if a < 0.9:
            return "clearly distinguishable"
        return "almost perfectly separable"

    def to_dict(self) -> dict:
        return {"auc": self.auc, "auc_std": self.auc_std, "fold_aucs": list(self.fold_aucs),
                "verdict": self.verdict, "n_dataset": self.n_dataset, "n_reference": self.n_reference,
                "distinctive_dataset": list(self.distinctive_dataset),
                "distinctive_reference": list(self.distinctive_reference), "notes": list(self.notes),
                "skipped": self.skipped}


def classify_domains(ds_vectors: np.ndarray, ref_vectors: np.ndarray, *,
                     ds_rows: pd.DataFrame | None = None, ref_rows: pd.DataFrame | None = None,
                     folds: int = 5, max_rows: int = 5000, seed: int = 0,
                     n_examples: int = 8) -> DomainClassifierResult:
    """Cross-validated ROC-AUC of a logistic regression separating the two sets' embeddings.

    ``ds_rows``/``ref_rows`` (same length as the vectors; ``row_id`` and ``text`` columns) name the
    distinctive examples. Above ``max_rows`` rows a side, a seeded sample of that size is used.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    xp = np.asarray(ds_vectors, dtype=np.float32)
    xq = np.asarray(ref_vectors, dtype=np.float32)
    if xp.ndim != 2 or xq.ndim != 2 or (len(xp) and len(xq) and xp.shape[1] != xq.shape[1]):
        raise DataError("dataset and reference embeddings must be 2-D with the same width; embed both "
                        "with the same model")
    n_min = min(len(xp), len(xq))
    if n_min < 2:
        side = "dataset" if len(xp) < 2 else "reference"
        return DomainClassifierResult(auc=None, skipped=f"the {side} has {min(len(xp), len(xq))} embedded "
                                      "row(s); the domain classifier needs at least 2 on each side")
    rng = np.random.default_rng([int(seed), zlib.crc32(b"domain")])
    notes = []
    ip = np.sort(rng.choice(len(xp), max_rows, replace=False)) if len(xp) > max_rows else np.arange(len(xp))
    iq = np.sort(rng.choice(len(xq), max_rows, replace=False)) if len(xq) > max_rows else np.arange(len(xq))
    if len(ip) < len(xp) or len(iq) < len(xq):
        notes.append(f"fitted on a seeded sample of {len(ip):,} dataset and {len(iq):,} reference rows")
    x = np.vstack([xp[ip], xq[iq]])
    y = np.r_[np.ones(len(ip), dtype=np.int64), np.zeros(len(iq), dtype=np.int64)]
    k = int(min(folds, len(ip), len(iq)))
    if k < folds:
        notes.append(f"{k} folds instead of {folds}: a side has only {k} rows")
    oof = np.zeros(len(y), dtype=np.float64)
    aucs = []
    for train, test in StratifiedKFold(n_splits=k, shuffle=True, random_state=int(seed)).split(x, y):
        # tol 1e-3: the AUC is settled long before the default 1e-4 (3x fewer lbfgs iterations here).
        model = LogisticRegression(C=1.0, tol=1e-3, max_iter=1000, class_weight="balanced")
        model.fit(x[train], y[train])
        oof[test] = model.predict_proba(x[test])[:, 1]
        if len(np.unique(y[test])) == 2:
            aucs.append(float(roc_auc_score(y[test], oof[test])))
    auc = float(np.mean(aucs)) if aucs else float(roc_auc_score(y, oof))
    sp, sq = oof[: len(ip)], oof[len(ip):]

    def examples(rows: pd.DataFrame | None, idx: np.ndarray, scores: np.ndarray, top_high: bool) -> tuple:
        order = np.argsort(-scores if top_high else scores, kind="stable")[:n_examples]
        out = []
        for j in order:
            rec = {"p_dataset": float(scores[j])}
            if rows is not None:
                r = rows.iloc[int(idx[j])]
                rec = {"row_id": to_native(r["row_id"]),
                       "text": None if pd.isna(r["text"]) else str(r["text"]), **rec}
            else:
                rec = {"position": int(idx[j]), **rec}
            out.append(rec)
        return tuple(out)

    return DomainClassifierResult(
        auc=auc, auc_std=float(np.std(aucs)) if len(aucs) > 1 else None, fold_aucs=tuple(aucs),
        n_dataset=len(ip), n_reference=len(iq),
        distinctive_dataset=examples(ds_rows, ip, sp, True), distinctive_reference=examples(ref_rows, iq, sq, False),
        notes=tuple(notes), scores_dataset=sp, scores_reference=sq)
