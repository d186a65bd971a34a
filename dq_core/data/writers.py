"""Writers: atomic file writes (readers never see half a file) and table exporters."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import stat
import tempfile
from pathlib import Path

import pandas as pd

from dq_core.errors import DataError
from dq_core.util.jsonsafe import to_jsonable


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _target_mode(path: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o644 & ~_umask()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write to a temp file in the same folder then os.replace: readers never see half a file.

    The result keeps the mode of the file it replaces; a new file gets 0644 less the umask (mkstemp's
    0600 would hide every output from the group and from a web server reading the folder).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _target_mode(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
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


# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def neutralize_formula(value):
    """Prefix an apostrophe to a cell a spreadsheet would run as a formula (CSV injection).

    Only for the "for spreadsheets" CSV: the apostrophe changes the text, so a dataset export never
    applies it. A plain number such as ``-1`` is left alone (a spreadsheet reads it as the number).
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _csv_bytes(frame: pd.DataFrame, *, sep: str = ",", spreadsheet_safe: bool = False) -> bytes:
    # Every non-numeric field quoted and "\n" between records: a text holding a bare "\r", a newline,
    # a quote or the separator reads back as the same one field (QUOTE_MINIMAL left a bare "\r" unquoted,
    # which readers take for a line end).
    if spreadsheet_safe:
        frame = frame.copy()
        for c in frame.columns:
            if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c]):
                frame[c] = frame[c].map(neutralize_formula)
    text = frame.to_csv(index=False, sep=sep, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    return text.encode("utf-8")


# Characters str.splitlines() breaks on that json.dumps leaves raw: escaped so a JSONL reader that splits
# lines that way still sees one record per line.
_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _json_records(frame: pd.DataFrame) -> list[str]:
    """One JSON object per row: missing values as null, floats at full precision (pandas' to_json
    rounds to 10 digits by default and writes U+2028 raw)."""
    cols = []
    for c in frame.columns:
        s = frame[c]
        missing = s.isna().to_numpy()  # element-wise: a list in a cell is not missing
        cols.append([None if m else v for v, m in zip(s.astype(object).tolist(), missing, strict=True)])
    names = [str(c) for c in frame.columns]
    out = []
    for row in zip(*cols, strict=True) if cols else ():
        line = json.dumps(to_jsonable(dict(zip(names, row, strict=True))), ensure_ascii=False, allow_nan=False)
        for ch, esc in _LINE_BREAKS.items():
            if ch in line:
                line = line.replace(ch, esc)
        out.append(line)
    return out


def frame_to_bytes(frame: pd.DataFrame, fmt: str, *, spreadsheet_safe: bool = False) -> bytes:
    """A table as file bytes that read back as the same rows and texts.

    ``spreadsheet_safe`` (CSV only) neutralises cells a spreadsheet would run as formulas: for opening
    in Excel or LibreOffice, not for training, since it changes texts such as "@user ...".
    """
    fmt = fmt.lower()
    if spreadsheet_safe and fmt not in ("csv", "tsv"):
        raise DataError(f"the spreadsheet-safe variant is a CSV; '{fmt}' keeps every cell as it is")
    if fmt in ("csv", "tsv"):
        return _csv_bytes(frame, sep="," if fmt == "csv" else "\t", spreadsheet_safe=spreadsheet_safe)
    if fmt == "parquet":
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        return buf.getvalue()
    if fmt == "jsonl":
        lines = _json_records(frame)
        return ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8")
    if fmt == "json":
        return ("[" + ",\n".join(_json_records(frame)) + "]\n").encode("utf-8")
    raise DataError(f"unknown output format '{fmt}'; use csv, tsv, parquet, jsonl or json")


def _class_label_dataset(frame: pd.DataFrame, label_col: str | None):
    """A ``datasets.Dataset`` of ``frame`` whose label column is a ``ClassLabel`` (missing labels: -1)."""
    import datasets

    if not label_col or label_col not in frame.columns:
        return datasets.Dataset.from_pandas(frame, preserve_index=False)
    labels = frame[label_col]
    names = class_label_names(labels)
    index = {n: i for i, n in enumerate(names)}
    codes = [-1 if pd.isna(v) else index[str(v)] for v in labels.astype(object)]
    plain = frame.drop(columns=[label_col])
    ds = datasets.Dataset.from_pandas(plain, preserve_index=False)
    ds = ds.add_column(label_col, codes)
    ds = ds.cast_column(label_col, datasets.ClassLabel(names=names))
    return ds.select_columns([str(c) for c in frame.columns])


def class_label_names(labels: pd.Series) -> list[str]:
    """The ``ClassLabel`` names a datasets folder stores for ``labels``, in code order (missing labels left out):
    what the folder's data and its card both say."""
    return sorted(labels.dropna().astype(str).unique(), key=_label_order)


def _label_order(name: str):
    # Integer labels in numeric order, so class 10 does not sit between 1 and 2 and code i reads as "i"
    # where the labels are 0..n-1.
    try:
        return (0, int(name), "")
    except ValueError:
        return (1, 0, name)


def write_frame(frame: pd.DataFrame, path: str | os.PathLike, *, label_col: str | None = None,
                spreadsheet_safe: bool = False, folder: bool = False,
                extra_files: dict[str, str] | None = None) -> None:
    """Write by extension; a path without an extension (or any path with ``folder``) is written as a
    datasets folder, ``label_col`` stored as a ``ClassLabel`` feature, with ``extra_files`` ({file name:
    text}, such as its README.md card) beside the data. ``extra_files`` are for a datasets folder only.
    """
    p = Path(path)
    ext = "" if folder else p.suffix.lower().lstrip(".")
    if extra_files and ext != "":
        raise DataError(f"'{p.name}' is one file; only a datasets folder holds files beside its data")
    if ext in ("csv", "tsv", "parquet", "jsonl", "json"):
        atomic_write_bytes(p, frame_to_bytes(frame, ext, spreadsheet_safe=spreadsheet_safe))
        return
    if ext == "":
        if spreadsheet_safe:
            raise DataError("the spreadsheet-safe variant is a CSV; give a .csv file name")
        _write_datasets_folder(frame, p, label_col, extra_files or {})
        return
    raise DataError(f"cannot write '{p.name}': use .csv, .tsv, .parquet, .jsonl, .json or a folder name")


# --------------------------------------------------------------------------- datasets folders

DATASETS_MARKER = ".dq-datasets"  # in every datasets folder dq writes: the entries it wrote there


def _entries(folder: Path) -> list[str]:
    """Every file and folder under ``folder`` (links not followed), as sorted relative paths."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        rel = Path(dirpath).relative_to(folder)
        out += [(rel / n).as_posix() for n in (*dirnames, *filenames)]
    return sorted(e for e in out if e != DATASETS_MARKER)


def foreign_datasets_entries(folder: str | os.PathLike) -> str | None:
    """Why the existing folder ``folder`` may not be replaced by a datasets folder, or None when it may: it
    is empty, or it holds nothing but what dq wrote there (the entries its DATASETS_MARKER lists; some may
    be gone). A folder without the marker, or holding anything else, is the user's and is never deleted."""
    folder = Path(folder)
    entries = _entries(folder)
    if not entries and not (folder / DATASETS_MARKER).exists():
        return None
    try:
        written = json.loads((folder / DATASETS_MARKER).read_text(encoding="utf-8"))["entries"]
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return (f"is not a datasets folder written by dq (no readable {DATASETS_MARKER} file inside); "
                "nothing in it was touched: delete it yourself to replace it, or choose another name")
    extra = [e for e in entries if e not in set(written if isinstance(written, list) else ())]
    if extra:
        shown = ", ".join(extra[:5]) + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
        return (f"holds entries dq did not write there ({shown}); nothing in it was touched: move them out "
                "to replace the folder, or choose another name")
    return None


def _extra_name(name: str) -> str:
    # A plain file name at the folder's top: no path, nothing hidden, nothing datasets or the marker own.
    if (not name or Path(name).name != name or name.startswith(".") or "\\" in name
            or name in ("state.json", "dataset_info.json", "dataset_dict.json") or name.endswith(".arrow")):
        raise DataError(f"'{name}' cannot be written beside a datasets folder's data: give a plain file name")
    return name


def _write_datasets_folder(frame: pd.DataFrame, p: Path, label_col: str | None,
                           extra_files: dict[str, str]) -> None:
    """Save to a fresh temporary sibling with ``extra_files``, list what was written in DATASETS_MARKER, then
    swap it in; an earlier folder is replaced only when it holds nothing but what dq wrote there."""
    import shutil

    if p.is_symlink() or (p.exists() and not p.is_dir()):
        raise DataError(f"'{p}' is {'a symbolic link' if p.is_symlink() else 'a file'}; a datasets folder "
                        "replaces only a folder dq wrote: choose another name")
    if p.exists() and (why := foreign_datasets_entries(p)):
        raise DataError(f"'{p}' {why}")
    extra = {_extra_name(name): text for name, text in extra_files.items()}
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp"))
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp's 0700 would hide the folder as mkstemp's 0600 would a file
        with quiet_datasets():
            _class_label_dataset(frame, label_col).save_to_disk(str(tmp))
        for name, text in extra.items():  # listed in the marker with the data: the next export replaces them
            atomic_write_text(tmp / name, text)
        atomic_write_text(tmp / DATASETS_MARKER, json.dumps({"written_by": "dq", "entries": _entries(tmp)}))
        if p.exists():
            shutil.rmtree(p)
        os.replace(tmp, p)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def quiet_datasets():
    """No progress bar from the `datasets` library ("Casting the dataset", "Saving the dataset") on stderr
    while dq writes or reads a datasets folder: piped output would hold them, and dq shows its own progress.
    The library's setting is put back afterwards."""
    from datasets.utils import logging as ds_logging

    was = ds_logging.is_progress_bar_enabled()
    ds_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was:
            ds_logging.enable_progress_bar()
