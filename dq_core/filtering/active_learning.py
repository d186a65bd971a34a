"""Label next (active learning): which rows to review first, by uncertainty optionally weighted by density,
and the label signal's inputs it ranks by (out-of-sample probabilities, neighbour density)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dq_core.data.dataset import TextDataset
from dq_core.errors import DataError
from dq_core.filtering.inputs import align_signals

UNCERTAINTY_METHODS = ("margin", "entropy", "least_confidence")
DENSITY_NEIGHBORS = 10  # density = mean similarity to this many nearest neighbours


def uncertainty(probs: np.ndarray, method: str = "margin") -> np.ndarray:
    """Per-row uncertainty in [0, 1] (1 = most uncertain) of class probabilities (rows sum to 1).

    margin: 1 - (p_top - p_second); entropy: H(p) / log(k); least_confidence: (1 - p_top) k / (k - 1).
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise DataError("uncertainty needs class probabilities for at least two classes")
    k = p.shape[1]
    if method == "margin":
        top2 = -np.partition(-p, 1, axis=1)[:, :2]
        return np.clip(1.0 - (top2[:, 0] - top2[:, 1]), 0.0, 1.0)
    if method == "entropy":
        with np.errstate(divide="ignore", invalid="ignore"):
            h = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
        return np.clip(h / np.log(k), 0.0, 1.0)
    if method == "least_confidence":
        return np.clip((1.0 - p.max(axis=1)) * k / (k - 1), 0.0, 1.0)
    raise DataError(f"unknown uncertainty '{method}'; choose one of: {', '.join(UNCERTAINTY_METHODS)}")


def probabilities_from_signals(signals: pd.DataFrame | None, classes: Sequence[str]) -> np.ndarray | None:
    """The out-of-sample probability matrix when the signals frame carries it (``prob_<class>`` columns)."""
    if signals is None:
        return None
    for prefix in ("prob_", "pred_prob_", "p_"):
        cols = [f"{prefix}{c}" for c in classes]
        if all(c in signals.columns for c in cols):
            return signals[cols].to_numpy(dtype=np.float64)
    return None


def label_next(ds: TextDataset, probs: np.ndarray | None = None, *, signals: pd.DataFrame | None = None,
               method: str = "margin", density: np.ndarray | None = None, beta: float = 1.0, n: int = 100,
               exclude: np.ndarray | None = None, classes: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows worth relabelling first: highest uncertainty, optionally weighted by density (Settles & Craven).

    ``probs`` (n, k): out-of-sample class probabilities in ``classes`` order (default: the dataset's
    classes); without it they are read from the signals frame, and failing that only the suggested
    label's probability is used (least confidence). ``density`` (n,) in [0, 1], high = typical: the
    score becomes uncertainty * density**beta, so outliers do not crowd the batch. ``exclude``: rows
    already decided or dropped; empty texts are left out too. Ties break by row position, so the batch
    is deterministic. Linear in the rows (a partial sort), so it stays quick on large sets.
    """
    classes = list(classes or ds.classes)
    aligned = align_signals(ds, signals) if signals is not None else None
    if probs is None:
        probs = probabilities_from_signals(aligned, classes)
    n_rows = len(ds)
    if probs is not None:
        probs = np.asarray(probs, dtype=np.float64)
        if probs.shape != (n_rows, len(classes)):
            raise DataError(f"probabilities of shape {probs.shape} do not match {n_rows} rows x {len(classes)} classes")
        u = uncertainty(probs, method)
    else:
        if aligned is None or "suggested_label_prob" not in aligned.columns:
            raise DataError("label-next needs the out-of-sample probabilities of the label signal; compute "
                            "the signals first")
        method = "least_confidence"
        p_sugg = pd.to_numeric(aligned["suggested_label_prob"], errors="coerce").fillna(1.0).to_numpy(dtype=np.float64)
        k = max(len(classes), 2)
        u = np.clip((1.0 - p_sugg) * k / (k - 1), 0.0, 1.0)
    score = u
    d = None
    if density is not None:
        d = np.clip(np.nan_to_num(np.asarray(density, dtype=np.float64), nan=0.0), 0.0, 1.0)
        if len(d) != n_rows:
            raise DataError(f"{len(d)} density values for {n_rows} rows")
        score = u * d ** float(beta)
    candidates = np.ones(n_rows, dtype=bool) if exclude is None else ~np.asarray(exclude, dtype=bool)
    candidates &= ds.texts.fillna("").str.strip().ne("").to_numpy()  # nothing to read in an empty row
    pos = np.flatnonzero(candidates)
    take = max(int(n), 0)
    if take < len(pos):
        # the take-th largest score, then everything above it and the earliest rows tied with it
        kth = np.partition(score[pos], len(pos) - take)[len(pos) - take]
        above = pos[score[pos] > kth]
        tied = pos[score[pos] == kth][: take - len(above)]
        pos = np.r_[above, tied]
    pos = pos[np.lexsort((pos, -score[pos]))][:take]
    out = pd.DataFrame({"rank": np.arange(1, len(pos) + 1), "row_id": ds.row_ids[pos],
                        "text": ds.texts.to_numpy(dtype=object)[pos], "label": ds.labels.to_numpy(dtype=object)[pos]})
    if probs is not None:
        pp = probs[pos]
        order = np.argsort(-pp, axis=1, kind="stable")
        cls = np.array(classes, dtype=object)
        rows = np.arange(len(pos))
        out["predicted"] = cls[order[:, 0]] if len(pos) else []
        out["p_predicted"] = pp[rows, order[:, 0]] if len(pos) else []
        out["second"] = cls[order[:, 1]] if len(pos) else []
        out["p_second"] = pp[rows, order[:, 1]] if len(pos) else []
        out["margin"] = out["p_predicted"] - out["p_second"]
    else:
        out["predicted"] = aligned["suggested_label"].to_numpy(dtype=object)[pos] if "suggested_label" in aligned \
            else None
        out["p_predicted"] = p_sugg[pos]
    out["uncertainty"] = u[pos]
    if d is not None:
        out["density"] = d[pos]
    out["score"] = score[pos]
    out["method"] = method + (" × density" if d is not None else "")
    return out


def knn_density(distances: np.ndarray) -> np.ndarray:
    """Density per row from its k nearest neighbours' cosine distances: mean similarity, in [0, 1]."""
    d = np.asarray(distances, dtype=np.float64)
    return np.clip(1.0 - d.mean(axis=1), 0.0, 1.0)


@dataclass(frozen=True, eq=False)
class LabelInputs:
    """What label-next and the what-if noise ratio rank by; ``note`` says where it came from."""

    probs: np.ndarray | None  # (n, k) out-of-sample probabilities, the dataset's class order
    density: np.ndarray | None  # (n,) in [0, 1]; 0 for rows without an embedding
    note: str


def label_inputs(ds: TextDataset, embeddings, *, label_key: str = "label", seed: int = 0,
                 workspace=None) -> LabelInputs:
    """The label signal's own probabilities and the neighbour density, for label-next and the noise ratio.

    ``embeddings``: an EmbeddingResult-like (``vectors``, ``valid``) or None. ``label_key``: the label
    signal's key as the signals were computed (e.g. ``label(method=knn)``), so the probabilities are
    those it flagged from; with the signals' ``workspace`` and ``seed`` they come from its caches
    (out-of-sample probabilities, kNN graph) rather than being computed again.
    """
    if embeddings is None or len(ds.classes) < 2:
        return LabelInputs(None, None, "no cached embeddings: ranking by the suggested label's probability only")
    from dq_core.signals import SignalContext, parse_signal_spec

    ctx = SignalContext(ds, embeddings=embeddings.vectors, workspace=workspace, seed=seed)
    probs = np.asarray(parse_signal_spec(label_key).probabilities(ctx), dtype=np.float64)
    density = None
    if len(ds) > 2:
        density = knn_density(ctx.knn(DENSITY_NEIGHBORS).distances)
        density[~np.asarray(embeddings.valid, dtype=bool)] = 0.0
    return LabelInputs(probs, density, "out-of-sample probabilities of the label signal")
