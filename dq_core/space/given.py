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


def load_pred_probs_file(path: str | Path, n_rows: int, classes: tuple[str, ...] | list[str]) -> np.ndarray:
    """(n_rows, n_classes) float64 out-of-sample probabilities from .npy or .csv, checked.

    A CSV may have a header naming the classes (then columns are matched by name, any order, extra
    columns such as row_id ignored) or no header (columns taken in sorted class order).
    """
    p = Path(path)
    name = p.name
    k = len(classes)
    ext = p.suffix.lower()
    if ext == ".npy":
        a = np.asarray(_load_npy(path, "--pred-probs"))
    elif ext == ".csv":
        a = _read_probs_csv(p, classes)
    else:
        raise DataError(f"--pred-probs '{name}' must be .npy or .csv (n_rows x n_classes probabilities)")
    if a.dtype.kind not in "fiu":
        raise DataError(f"--pred-probs '{name}' holds {a.dtype} values; probabilities must be numbers")
    if a.ndim != 2:
        raise DataError(f"--pred-probs '{name}' has shape {a.shape}; it must be 2-D: one row per input row, "
                        "one column per class")
    if a.shape[0] != n_rows:
        raise DataError(f"--pred-probs '{name}' has {a.shape[0]:,} rows but the dataset has {n_rows:,}; give "
                        "one row per input row, in input order")
    if a.shape[1] != k:
        raise DataError(f"--pred-probs '{name}' has {a.shape[1]} columns but the dataset has {k} classes "
                        f"({', '.join(map(str, classes))}); give one column per class, in this sorted order")
    a = a.astype(np.float64)
    _check_finite(a, "--pred-probs", name)
    if (a < -PROB_SUM_TOL).any() or (a > 1 + PROB_SUM_TOL).any():
        raise DataError(f"--pred-probs '{name}' has values outside [0, 1]; pass probabilities (softmax "
                        "outputs), not logits")
    sums = a.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1.0) > PROB_SUM_TOL)
    if len(bad):
        raise DataError(f"--pred-probs '{name}': {len(bad):,} rows do not sum to 1 (row {bad[0]} sums to "
                        f"{sums[bad[0]]:.4f}); pass one probability per class, each row summing to 1")
    return np.clip(a, 0.0, 1.0) / np.clip(a, 0.0, 1.0).sum(axis=1, keepdims=True)


def _read_probs_csv(p: Path, classes) -> np.ndarray:
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
            raise DataError(f"--pred-probs '{p.name}' has a header that does not name every class "
                            f"({', '.join(wanted)}) and non-numeric cells; name the columns after the classes "
                            "or write a header-less numeric CSV in sorted class order") from None
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - pandas raises many types for a bad file
        raise DataError(f"--pred-probs '{p.name}' cannot be read as CSV ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0][:160] if str(exc) else ''})") from None
