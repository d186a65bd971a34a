"""Writers: atomic file writes (readers never see half a file) and table exporters."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import pandas as pd

from dq_core.errors import DataError


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write to a temp file in the same folder then os.replace: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize_formula(value):
    """Prefix a quote to cells a spreadsheet would run as a formula (CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def frame_to_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    fmt = fmt.lower()
    if fmt == "csv":
        safe = frame.copy()
        for c in safe.columns:
            if safe[c].dtype == object or pd.api.types.is_string_dtype(safe[c]):
                safe[c] = safe[c].map(neutralize_formula)
        return safe.to_csv(index=False).encode("utf-8")
    if fmt == "parquet":
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        return buf.getvalue()
    if fmt == "jsonl":
        return frame.to_json(orient="records", lines=True, force_ascii=False).encode("utf-8")
    if fmt == "json":
        return frame.to_json(orient="records", force_ascii=False).encode("utf-8")
    raise DataError(f"unknown output format '{fmt}'; use csv, parquet, jsonl or json")


def write_frame(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write by extension; a path without a table extension is written as a datasets folder."""
    p = Path(path)
    ext = p.suffix.lower().lstrip(".")
    if ext in ("csv", "parquet", "jsonl", "json"):
        atomic_write_bytes(p, frame_to_bytes(frame, ext))
        return
    if ext == "tsv":
        atomic_write_bytes(p, frame.to_csv(index=False, sep="\t").encode("utf-8"))
        return
    if ext == "":
        import shutil

        import datasets

        tmp = p.with_name(f".{p.name}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        datasets.Dataset.from_pandas(frame, preserve_index=False).save_to_disk(str(tmp))
        if p.exists():
            shutil.rmtree(p)
        os.replace(tmp, p)
        return
    raise DataError(f"cannot write '{p.name}': use .csv, .tsv, .parquet, .jsonl, .json or a folder name")
