"""Where a stored dataset's own vectors and class probabilities live in the workspace.

A dataset opened with the user's vectors (the Load page's upload, or a `dq compute` output folder) is
stored as a dataset of its own: the same rows under a fingerprint that also hashes the vectors and the
probabilities (:func:`given_fingerprint`). Every cache keyed by the fingerprint (consolidated embeddings,
signals, maps, coverage, shift) is then that variant's own, so given vectors and the model's never mix,
and the same rows without them keep the model's. The arrays sit in ``cache/given/<fingerprint>*``:
``embed_cache`` serves them wherever the dataset's embeddings are asked for, and the signals' context
takes the probabilities in place of the K-fold classifier's, exactly as `--embeddings` / `--pred-probs`.

Kept free of the embedding modules (they import this one), so it returns plain arrays.
"""

from __future__ import annotations

import numpy as np

from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.util.fingerprint import text_fingerprint

KIND = "given"
GONE = ("the vectors given for dataset '{name}' are no longer in the workspace cache ({why}); "
        "open the data again on Load and give the file again")


def given_fingerprint(base_fingerprint: str, *parts: str) -> str:
    """The variant's fingerprint: the rows' own one plus the given arrays' (32 hex digits, as content's)."""
    return text_fingerprint(base_fingerprint, "given", *parts, digest_size=16)


def given_meta(ws: Workspace, fingerprint: str) -> dict | None:
    """What was given for this dataset fingerprint, or None for an ordinary dataset (one stat when absent)."""
    if not fingerprint or not ws.has_json(KIND, fingerprint):
        return None
    meta = ws.load_json(KIND, fingerprint)
    return meta if isinstance(meta, dict) else None


def save_given(ws: Workspace, fingerprint: str, *, n_rows: int, base_fingerprint: str, base_name: str,
               vectors: np.ndarray | None = None, valid: np.ndarray | None = None, source: str = "",
               kind: str = "upload", model_name: str = "", pred_probs: np.ndarray | None = None, pred_probs_source: str = "") -> None:
    """Write the arrays, then the record (its presence means the arrays are complete)."""
    if vectors is not None:
        ws.save_array(KIND, fingerprint + "-vectors", np.ascontiguousarray(vectors, dtype=np.float32))
        ws.save_array(KIND, fingerprint + "-valid", np.asarray(valid, dtype=bool))
    if pred_probs is not None:
        ws.save_array(KIND, fingerprint + "-pred_probs", np.ascontiguousarray(pred_probs, dtype=np.float64))
    ws.save_json(KIND, fingerprint, {
        "n_rows": int(n_rows), "base_fingerprint": base_fingerprint, "base_name": base_name, "kind": kind,
        "embeddings": vectors is not None, "source": source, "model_name": model_name or f"given:{source}",
        "dim": int(vectors.shape[1]) if vectors is not None else None,
        "pred_probs": pred_probs is not None, "pred_probs_source": pred_probs_source})


def load_given_embeddings(ws: Workspace, fingerprint: str, n_rows: int,
                          name: str = "") -> tuple[np.ndarray, np.ndarray, dict] | None:
    """(vectors, valid, record) when vectors were given for this fingerprint, else None.

    A record whose arrays are gone or damaged is an error, never a silent fall back to the model: the
    dataset's caches are keyed as given vectors.
    """
    meta = given_meta(ws, fingerprint)
    if meta is None or not meta.get("embeddings"):
        return None
    vec = ws.load_array(KIND, fingerprint + "-vectors")
    valid = ws.load_array(KIND, fingerprint + "-valid")
    if vec is None or valid is None:
        raise DataError(GONE.format(name=name or fingerprint[:16], why="files missing or damaged"))
    if vec.ndim != 2 or vec.shape[0] != n_rows or valid.shape != (n_rows,):
        raise DataError(GONE.format(name=name or fingerprint[:16], why=f"{vec.shape[0]} rows for {n_rows}"))
    return vec, valid.astype(bool), meta


def load_given_pred_probs(ws: Workspace, fingerprint: str, n_rows: int,
                          n_classes: int | None = None) -> np.ndarray | None:
    """The given out-of-sample probabilities (n_rows, n_classes), or None when none were given (one stat)."""
    meta = given_meta(ws, fingerprint)
    if meta is None or not meta.get("pred_probs"):
        return None
    probs = ws.load_array(KIND, fingerprint + "-pred_probs")
    if probs is None or probs.ndim != 2 or probs.shape[0] != n_rows or (n_classes is not None
                                                                        and probs.shape[1] != n_classes):
        raise DataError(GONE.format(name=fingerprint[:16], why="probabilities missing or of another shape"))
    return probs
