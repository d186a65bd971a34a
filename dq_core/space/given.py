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


NPY_MAGIC = b"\x93NUMPY"  # how every numpy.save file begins
ZIP_MAGIC = b"PK\x03\x04"  # numpy.savez / savez_compressed write a zip archive


def _load_npy(path: str | Path, what: str) -> np.ndarray:
    """The array of a .npy file, memory-mapped; what the file is instead (an .npz, text, ...) said plainly."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{what} file '{path}' does not exist")
    with open(p, "rb") as fh:
        head = fh.read(len(NPY_MAGIC))
    if head != NPY_MAGIC:
        raise DataError(_not_npy_message(p, head, what))
    try:
        # Memory-mapped: a 1M x 384 float16 file is not read in full just to check its shape.
        a = np.load(p, mmap_mode="r", allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - numpy raises ValueError/OSError/EOFError for bad files
        raise DataError(f"{what} file '{p.name}' is not a readable .npy array ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0][:160] if str(exc) else ''}); save it with numpy.save") from None
    if not isinstance(a, np.ndarray):  # a .npy header never gives anything else, but never trust it blindly
        raise DataError(f"{what} file '{p.name}' does not hold one array; save it with numpy.save")
    return a


def _not_npy_message(p: Path, head: bytes, what: str) -> str:
    """Why a file named .npy is not one: an .npz archive (name its arrays), text, or something else."""
    if head.startswith(ZIP_MAGIC):
        try:
            with np.load(p, allow_pickle=False) as z:
                names = list(z.files)
        except Exception:  # noqa: BLE001 - a damaged archive: the message below still says what it is
            names = []
        inside = f" holding {', '.join(map(repr, names[:5]))}{' ...' if len(names) > 5 else ''}" if names else ""
        pick = names[0] if names else "KEY"
        return (f"{what} file '{p.name}' is a NumPy .npz archive (numpy.savez){inside}, not a .npy array; "
                f"save the one array with numpy.save, e.g. numpy.save('{p.stem}-{pick}.npy', "
                f"numpy.load('{p.name}')['{pick}']) and pass that file")
    with open(p, "rb") as fh:
        sample = fh.read(512)
    looks_text = bool(sample) and b"\x00" not in sample  # binary formats (pickles included) hold NUL bytes
    kind = "it holds text" if looks_text else ("it is empty" if not sample else "it lacks the .npy header")
    csv_hint = " (a CSV of probabilities must be named .csv)" if what == "--pred-probs" else ""
    return (f"{what} file '{p.name}' is not a NumPy .npy file ({kind}); write the array with "
            f"numpy.save{csv_hint}")


def _check_finite(a: np.ndarray, what: str, name: str, step: int = 65536) -> None:
    for s in range(0, len(a), step):
        block = np.asarray(a[s:s + step])
        if not np.isfinite(block).all():
            r = s + int(np.flatnonzero(~np.isfinite(block).all(axis=1))[0])
            raise DataError(f"{what} '{name}' has NaN or infinite values (first at row {r}); "
                            "replace or drop those rows before passing the file")


def _check_vector_shape(a: np.ndarray, n_rows: int, dim: int | None, what: str, name: str, rows_of: str) -> None:
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


def unit_vectors(a: np.ndarray, what: str, name: str, step: int = 16384) -> tuple[np.ndarray, np.ndarray]:
    """(float32 unit rows, valid) from a file's vectors, block by block (a memory map is never read whole).

    The working precision is float32: every value must be finite there, so a float64 value beyond
    float32's range (|x| > 3.4e38, e.g. 1e300) is refused with its row rather than becoming inf/NaN in the
    cast. Each row is scaled by its largest value and normalised in float64, so a row of 3e38 (whose
    float32 norm overflows) or of 1e-30 (whose float32 squares underflow) is a proper unit vector; only a
    row of exact zeros is a row without an embedding. Rows already unit length in float32 are kept bit for
    bit (vectors from `dq embed` give the very same results).
    """
    out = np.empty(a.shape, dtype=np.float32)
    valid = np.empty(len(a), dtype=bool)
    for s in range(0, len(a), step):
        block = np.asarray(a[s:s + step])
        with np.errstate(over="ignore"):
            cast = block.astype(np.float32)
        bad = ~np.isfinite(cast).all(axis=1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            if not np.isfinite(block[i]).all():
                raise DataError(f"{what} '{name}' has NaN or infinite values (first at row {s + i}); "
                                "replace or drop those rows before passing the file")
            raise DataError(f"{what} '{name}' has values too large for float32 (beyond ±3.4e38, first at row "
                            f"{s + i}), the precision vectors are used in; rescale or drop those rows before "
                            "passing the file")
        wide = block.astype(np.float64)
        peak = np.abs(wide).max(axis=1)
        ok = peak > 0
        scaled = wide[ok] / peak[ok, None]
        unit = (scaled / np.linalg.norm(scaled, axis=1)[:, None]).astype(np.float32)
        keep = np.abs(np.linalg.norm(cast[ok].astype(np.float64), axis=1) - 1.0) <= 1e-4
        unit[keep] = cast[ok][keep]
        out[s:s + step] = 0.0
        out[s:s + step][ok] = unit
        valid[s:s + step] = ok
    return out, valid


def load_embeddings_file(path: str | Path, n_rows: int, *, dim: int | None = None, what: str = "--embeddings",
                         rows_of: str = "the dataset") -> EmbeddingResult:
    """An EmbeddingResult from a user's .npy: shape, dtype and values checked, rows L2-normalised.

    All-zero rows count as rows without an embedding (``valid`` False), as `dq embed` writes empty texts;
    a file with no other row is refused (nothing can be computed from it). Values are checked in float32,
    the precision the vectors are used in (:func:`unit_vectors`).
    ``dim`` is the width the other side of a comparison has (e.g. the reference's embeddings).
    """
    name = Path(path).name
    if Path(path).suffix.lower() != ".npy":
        raise DataError(f"{what} '{name}' must be a .npy file (numpy.save of an (n_rows, dim) float32 or "
                        "float16 array); `dq embed DATA --out FILE.npy` writes one")
    a = _load_npy(path, what)
    _check_vector_shape(a, n_rows, dim, what, name, rows_of)
    v, valid = unit_vectors(a, what, name)
    if len(valid) and not valid.any():
        raise DataError(f"{what} '{name}': every row is all zeros, and an all-zero row means 'no embedding', so "
                        "no row has a vector and nothing can be computed from them; check how the file was "
                        "written, or drop the option to let the embedding model embed the texts")
    return EmbeddingResult(vectors=np.ascontiguousarray(v), valid=valid, n_truncated=0, n_cached=0,
                           n_computed=0, model_name=f"given:{name}", max_seq_length=0)


def load_pred_probs_file(path: str | Path, n_rows: int, classes: tuple[str, ...] | list[str], *,
                         what: str = "--pred-probs", row_ids=None) -> np.ndarray:
    """(n_rows, n_classes) float64 out-of-sample probabilities from .npy or .csv, checked.

    A CSV may have a header naming the classes (then columns are matched by name, any order; a row_id or id
    column puts the rows in the dataset's order by ``row_ids``, any other column is refused) or no header
    (columns taken in sorted class order, rows in input order).
    """
    p = Path(path)
    name = p.name
    k = len(classes)
    ext = p.suffix.lower()
    if ext == ".npy":
        a = np.asarray(_load_npy(path, what))
    elif ext == ".csv":
        a = _read_probs_csv(p, classes, what, row_ids)
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
    if len(a) and np.isin(a, (0.0, 1.0)).all():
        # Hard labels: cleanlab ranks rows by the given label's predicted probability, and with only 0 and
        # 1 every agreeing row ties at 1 and every disagreeing row at 0, so the label signal means nothing.
        raise DataError(f"{what} '{name}' holds hard predictions (every row a single 1, the rest 0), not "
                        "probabilities; pass your model's out-of-sample predicted probabilities (predict_proba "
                        "on held-out folds), or drop the option to let the label signal fit its own")
    return np.clip(a, 0.0, 1.0) / np.clip(a, 0.0, 1.0).sum(axis=1, keepdims=True)


def _read_probs_csv(p: Path, classes, what: str = "--pred-probs", row_ids=None) -> np.ndarray:
    import pandas as pd

    try:
        head = pd.read_csv(p, nrows=0)
        names = [str(c) for c in head.columns]
        wanted = [str(c) for c in classes]
        if set(wanted) <= set(names):
            extra = [n for n in names if n not in wanted and not _row_key_column(n)]
            if extra:
                # A column beyond the dataset's classes is a model of other classes (or labels mapped
                # another way): its probabilities mean something else even where they sum to 1.
                raise DataError(f"{what} '{p.name}' has {'a column' if len(extra) == 1 else 'columns'} "
                                f"{', '.join(repr(n) for n in extra[:5])} that {'is' if len(extra) == 1 else 'are'} "
                                f"no class of the dataset ({', '.join(wanted)}); give one column per class (a "
                                "row_id or id column may stay)")
            keys = [n for n in names if _row_key_column(n) and not n.startswith("Unnamed: ")]
            frame = pd.read_csv(p, dtype={k: str for k in keys})
            if keys and row_ids is not None:
                frame = frame.iloc[_rows_by_key(frame, keys, row_ids, what, p.name)]
            return frame[wanted].to_numpy()
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


def _rows_by_key(frame, keys: list[str], row_ids, what: str, name: str) -> np.ndarray:
    """Positions that put the CSV's rows in the dataset's order by its row_id / id column: a file listed in
    another order is then scored on the right rows, and ids that are missing, repeated, unknown or that
    disagree between two key columns are refused (positions would silently score the wrong rows)."""
    import pandas as pd

    expected = pd.Index([str(r) for r in row_ids])
    first = frame[keys[0]].astype(str).str.strip()
    for k in keys[1:]:
        if not first.equals(frame[k].astype(str).str.strip()):
            raise DataError(f"{what} '{name}': its columns '{keys[0]}' and '{k}' name different rows; keep one")
    if first.duplicated().any():
        raise DataError(f"{what} '{name}': {keys[0]} '{first[first.duplicated()].iloc[0]}' appears twice; give "
                        "one row per dataset row")
    pos = pd.Index(first).get_indexer(expected)
    if (pos < 0).any() or len(first) != len(expected):
        missing = expected[pos < 0]
        what_wrong = (f"has no row for {keys[0]} '{missing[0]}'" if len(missing) else
                      f"has {len(first) - len(expected):,} rows whose {keys[0]} is no row of the dataset")
        raise DataError(f"{what} '{name}' {what_wrong}; its {keys[0]} column must name every dataset row once "
                        "(or drop the column: rows are then taken in input order)")
    return pos


def _row_key_column(name: str) -> bool:
    """Columns a probabilities CSV may hold besides the classes: a row key, or the index pandas writes."""
    return name.strip().lower() in ("row_id", "id", "index") or name.startswith("Unnamed: ")


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
