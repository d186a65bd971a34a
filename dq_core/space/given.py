"""Vectors and class probabilities a user brings: read, checked against the data, explained when wrong.

`--embeddings FILE.npy` replaces the embedding model (one float16/float32 row per input row, in input
order); `--pred-probs FILE` (.npy or .csv) replaces the label signal's K-fold out-of-sample probabilities
(columns in the dataset's sorted class order, as cleanlab takes them). Every check fails with a
DataError that says what is wrong and how to fix it; the CLI turns it into `error: ...`, exit 2.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dq_core.errors import DataError
from dq_core.space.embed import EmbeddingResult

PROB_SUM_TOL = 1e-3  # row sums of probabilities may be off by this much (float16/float32 rounding)


def _load_npy(path: str | Path, what: str) -> np.ndarray:
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{what} file '{path}' does not exist")
    try:
        # Memory-mapped: a 1M x 384 float16 file is not read in full just to check its shape.
        return np.load(p, mmap_mode="r", allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - numpy raises ValueError/OSError/EOFError for bad files
        raise DataError(f"{what} file '{p.name}' is not a readable .npy array ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0][:160] if str(exc) else ''}); save it with numpy.save") from None


def _check_finite(a: np.ndarray, what: str, name: str, step: int = 65536) -> None:
    for s in range(0, len(a), step):
        block = np.asarray(a[s:s + step])
        if not np.isfinite(block).all():
            r = s + int(np.flatnonzero(~np.isfinite(block).all(axis=1))[0])
            raise DataError(f"{what} '{name}' has NaN or infinite values (first at row {r}); "
                            "replace or drop those rows before passing the file")


def load_embeddings_file(path: str | Path, n_rows: int, *, dim: int | None = None, what: str = "--embeddings",
                         rows_of: str = "the dataset") -> EmbeddingResult:
    """An EmbeddingResult from a user's .npy: shape, dtype and values checked, rows L2-normalised.

    All-zero rows count as rows without an embedding (``valid`` False), as `dq embed` writes empty texts.
    ``dim`` is the width the other side of a comparison has (e.g. the reference's embeddings).
    """
    name = Path(path).name
    if Path(path).suffix.lower() != ".npy":
        raise DataError(f"{what} '{name}' must be a .npy file (numpy.save of an (n_rows, dim) float32 or "
                        "float16 array); `dq embed DATA --out FILE.npy` writes one")
    a = _load_npy(path, what)
    if a.dtype.kind != "f" or a.dtype.itemsize > 8:
        raise DataError(f"{what} '{name}' holds {a.dtype} values; save float32 or float16 vectors "
                        "(array.astype('float32'))")
    if a.ndim != 2:
        raise DataError(f"{what} '{name}' has shape {a.shape}; it must be 2-D: one row per input row, "
                        "one column per embedding dimension")
    if a.shape[0] != n_rows:
        raise DataError(f"{what} '{name}' has {a.shape[0]:,} rows but {rows_of} has {n_rows:,}; give one "
                        "vector per input row, in input order (the same file, filters and row order)")
    if a.shape[1] < 2:
        raise DataError(f"{what} '{name}' has {a.shape[1]} column(s); embeddings need at least 2 dimensions")
    if dim is not None and a.shape[1] != dim:
        raise DataError(f"{what} '{name}' has {a.shape[1]} dimensions but the vectors it is compared with have "
                        f"{dim}; use vectors from the same model on both sides (or give both files)")
    _check_finite(a, what, name)
    v = np.array(a, dtype=np.float32)  # a writable copy, never the memory map
    norms = np.linalg.norm(v, axis=1)
    valid = norms > 0
    # Rows already unit length are kept bit for bit (vectors from `dq embed` give the very same results).
    off = valid & (np.abs(norms - 1.0) > 1e-4)
    if off.any():
        v[off] /= norms[off, None]
    return EmbeddingResult(vectors=np.ascontiguousarray(v), valid=valid, n_truncated=0, n_cached=0,
                           n_computed=0, model_name=f"given:{name}", max_seq_length=0)


def load_pred_probs_file(path: str | Path, n_rows: int, classes: tuple[str, ...] | list[str], *,
                         what: str = "--pred-probs") -> np.ndarray:
    """(n_rows, n_classes) float64 out-of-sample probabilities from .npy or .csv, checked.

    A CSV may have a header naming the classes (then columns are matched by name, any order, extra
    columns such as row_id ignored) or no header (columns taken in sorted class order).
    """
    p = Path(path)
    name = p.name
    k = len(classes)
    ext = p.suffix.lower()
    if ext == ".npy":
        a = np.asarray(_load_npy(path, what))
    elif ext == ".csv":
        a = _read_probs_csv(p, classes, what)
    else:
        raise DataError(f"{what} '{name}' must be .npy or .csv (n_rows x n_classes probabilities)")
    if a.dtype.kind not in "fiu":
        raise DataError(f"{what} '{name}' holds {a.dtype} values; probabilities must be numbers")
    if a.ndim != 2:
        raise DataError(f"{what} '{name}' has shape {a.shape}; it must be 2-D: one row per input row, "
                        "one column per class")
    if a.shape[0] != n_rows:
        raise DataError(f"{what} '{name}' has {a.shape[0]:,} rows but the dataset has {n_rows:,}; give "
                        "one row per input row, in input order")
    if a.shape[1] != k:
        raise DataError(f"{what} '{name}' has {a.shape[1]} columns but the dataset has {k} classes "
                        f"({', '.join(map(str, classes))}); give one column per class, in this sorted order")
    a = a.astype(np.float64)
    _check_finite(a, what, name)
    if (a < -PROB_SUM_TOL).any() or (a > 1 + PROB_SUM_TOL).any():
        raise DataError(f"{what} '{name}' has values outside [0, 1]; pass probabilities (softmax "
                        "outputs), not logits")
    sums = a.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1.0) > PROB_SUM_TOL)
    if len(bad):
        raise DataError(f"{what} '{name}': {len(bad):,} rows do not sum to 1 (row {bad[0]} sums to "
                        f"{sums[bad[0]]:.4f}); pass one probability per class, each row summing to 1")
    return np.clip(a, 0.0, 1.0) / np.clip(a, 0.0, 1.0).sum(axis=1, keepdims=True)


def _read_probs_csv(p: Path, classes, what: str = "--pred-probs") -> np.ndarray:
    import pandas as pd

    try:
        head = pd.read_csv(p, nrows=0)
        names = [str(c) for c in head.columns]
        wanted = [str(c) for c in classes]
        if set(wanted) <= set(names):
            return pd.read_csv(p, usecols=wanted)[wanted].to_numpy()
        frame = pd.read_csv(p, header=None)
        try:
            return frame.to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            raise DataError(f"{what} '{p.name}' has a header that does not name every class "
                            f"({', '.join(wanted)}) and non-numeric cells; name the columns after the classes "
                            "or write a header-less numeric CSV in sorted class order") from None
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - pandas raises many types for a bad file
        raise DataError(f"{what} '{p.name}' cannot be read as CSV ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0][:160] if str(exc) else ''})") from None


# --------------------------------------------------------------------------- datasets stored with them


def attach_given(ds, *, workspace, embeddings: EmbeddingResult | None = None, pred_probs: np.ndarray | None = None,
                 source: str = "", pred_probs_source: str = "", kind: str = "upload"):
    """``ds`` as a dataset of its own that carries these vectors and/or probabilities (see given_store).

    What ``ds`` already carries and is not given again is kept (probabilities added to earlier vectors).
    The caller stores the returned dataset (``workspace.save_dataset``); the arrays are written here.
    """
    from dataclasses import replace

    from dq_core.space.given_store import given_fingerprint, given_meta, load_given_embeddings, save_given
    from dq_core.util.fingerprint import array_fingerprint

    old = given_meta(workspace, ds.fingerprint) or {}
    base_fp, base_name = old.get("base_fingerprint", ds.fingerprint), old.get("base_name", ds.name)
    vectors = valid = None
    model_name = ""
    if embeddings is not None:
        vectors, valid, model_name = embeddings.vectors, embeddings.valid, embeddings.model_name
    elif old.get("embeddings"):
        vectors, valid, prev = load_given_embeddings(workspace, ds.fingerprint, len(ds), ds.name)
        source, model_name, kind = prev.get("source", ""), prev.get("model_name", ""), prev.get("kind", kind)
    if pred_probs is None and old.get("pred_probs"):
        from dq_core.space.given_store import load_given_pred_probs

        pred_probs = load_given_pred_probs(workspace, ds.fingerprint, len(ds), len(ds.classes))
        pred_probs_source = old.get("pred_probs_source", "")
    if vectors is None and pred_probs is None:
        raise DataError("give a vectors file or a probabilities file")
    parts = [array_fingerprint(np.ascontiguousarray(vectors, dtype=np.float32)) if vectors is not None else "-",
             array_fingerprint(np.ascontiguousarray(pred_probs, dtype=np.float64)) if pred_probs is not None else "-"]
    fp = given_fingerprint(base_fp, *parts)
    save_given(workspace, fp, n_rows=len(ds), base_fingerprint=base_fp, base_name=base_name, vectors=vectors,
               valid=valid, source=source, kind=kind, model_name=model_name, pred_probs=pred_probs,
               pred_probs_source=pred_probs_source)
    suffix = ("dq compute" if kind == "compute" else "your vectors") if vectors is not None else "your probabilities"
    return replace(ds, fingerprint=fp, name=f"{base_name} · {suffix}")


def given_record(ds, workspace) -> dict | None:
    """What ``ds`` carries of the user's own (source names, width, kind), or None for plain data."""
    from dq_core.space.given_store import given_meta

    return given_meta(workspace, ds.fingerprint)


def without_given(ds, workspace):
    """The same rows as the plain dataset (the model's vectors, K-fold probabilities)."""
    from dataclasses import replace

    rec = given_record(ds, workspace)
    if rec is None:
        return ds
    return replace(ds, fingerprint=rec["base_fingerprint"], name=rec.get("base_name", ds.name))


def model_dimension(model: str | None = None) -> int | None:
    """The embedding width of a sentence-transformers folder, read from its config (no model loaded);
    None when the folder does not say."""
    import json

    from dq_core.space.embed_model import resolve_model

    try:
        folder = Path(resolve_model(model))
        for cfg, field in (("1_Pooling/config.json", "word_embedding_dimension"), ("config.json", "hidden_size")):
            f = folder / cfg
            if f.is_file():
                value = json.loads(f.read_text(encoding="utf-8")).get(field)
                if isinstance(value, int):
                    return value
    except (OSError, ValueError, DataError):
        return None
    return None


def subset_with_given(ds, mask, *, workspace, name: str):
    """``ds.subset(mask)`` that keeps the rows' given vectors (and probabilities, where the subset still has
    every class): splitting a dataset into dataset and reference keeps the user's vectors on both sides."""
    from dq_core.space.given_store import load_given_embeddings, load_given_pred_probs

    sub = ds.subset(mask, name=name)
    rec = given_record(ds, workspace)
    if rec is None or not len(sub):
        return sub
    m = np.asarray(mask, dtype=bool)
    emb = probs = None
    if rec.get("embeddings"):
        vec, valid, meta = load_given_embeddings(workspace, ds.fingerprint, len(ds), ds.name)
        emb = EmbeddingResult(vectors=np.ascontiguousarray(vec[m]), valid=valid[m], n_truncated=0, n_cached=0,
                              n_computed=0, model_name=meta.get("model_name", ""), max_seq_length=0)
    if rec.get("pred_probs") and sub.classes == ds.classes:
        probs = load_given_pred_probs(workspace, ds.fingerprint, len(ds), len(ds.classes))[m]
    if emb is None and probs is None:
        return sub
    from dataclasses import replace

    kept = attach_given(sub, workspace=workspace, embeddings=emb, pred_probs=probs, source=rec.get("source", ""),
                        pred_probs_source=rec.get("pred_probs_source", ""), kind=rec.get("kind", "upload"))
    return replace(kept, name=name)  # the caller's name already says whose vectors (it derives from ds.name)
