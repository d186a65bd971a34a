"""Format readers: bytes or a path in, a ``RawTable`` out. Every failure is a DataError that says what is
wrong and how to fix it.

Formats: csv, tsv, json (records), jsonl, parquet, a ``datasets.save_to_disk`` folder and a Hugging Face
Hub name (online only). Text files are decoded in the encoding the user chose, else UTF-8 or a guessed code
page (``decoding.decode_bytes``).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dq_core.data.decoding import decode_bytes, ignored_encoding_note
from dq_core.data.limits import check_size, limit
from dq_core.data.paths import (  # noqa: F401 - re-exported: callers import them from here and from io
    TABLE_EXTENSIONS,
    check_datasets_folder,
    data_dir,
    list_data_files,
    path_error,
    resolve_in_data_dir,
)
from dq_core.data.values import arrow_to_pandas, json_integers
from dq_core.errors import DataError


@dataclass(frozen=True)
class RawTable:
    """A table as read from disk, before any column mapping; ``notes`` say what the loader decided."""

    frame: pd.DataFrame
    source: str
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------------- bytes -> table

def _check_header(header: list[str], source: str) -> None:
    seen: dict[str, int] = {}
    for h in header:
        seen[h] = seen.get(h, 0) + 1
    dups = [h for h, n in seen.items() if n > 1]
    if dups:
        raise DataError(f"{source} has duplicate column names ({', '.join(repr(d) for d in dups)}); "
                        "rename them so each column is unique")
    if any(h.strip() == "" for h in header):
        raise DataError(f"{source} has a column with an empty name; give every column a header")


def read_delimited(text: str, *, sep: str, source: str, header: bool = True) -> pd.DataFrame:
    if "\r" in text and "\n" not in text:  # classic Mac line ends: the parsers want \n
        text = text.replace("\r", "\n")
    try:
        first = next(csv.reader(io.StringIO(text, newline=""), delimiter=sep), None)
    except csv.Error as exc:
        raise DataError(f"{source} is not a well-formed {'TSV' if sep == chr(9) else 'CSV'} file ({exc}); "
                        "re-export it") from None
    if not first:
        raise DataError(f"{source} is empty; pick a file with a header row and data rows")
    if header:
        _check_header([c.strip() for c in first], source)
    try:
        # index_col=False + the warning as an error: when every row has one field more than the header,
        # pandas would otherwise make the first column the index and shift the data (the text column
        # would hold the labels); this way it is reported like any other ragged row.
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(io.StringIO(text), sep=sep, header=0 if header else None, dtype=str,
                                keep_default_na=False, na_values=[""], engine="c", index_col=False)
    except pd.errors.ParserWarning:
        n_header = len(first)
        for line_no, row in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=sep), start=1):
            if len(row) > n_header:
                raise DataError(f"{source}: line {line_no} has {len(row)} fields but the header has {n_header}; "
                                f"quote fields that contain '{sep}' or fix the header") from None
        raise DataError(f"{source}: some rows have more fields than the header; fix the header") from None
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if m:
            raise DataError(f"{source}: line {m.group(2)} has {m.group(3)} fields but the header has "
                            f"{m.group(1)}; quote fields that contain '{sep}' or fix that row") from None
        raise DataError(f"{source} is not a well-formed {'TSV' if sep == chr(9) else 'CSV'} file "
                        f"({str(exc).split(':')[0][:80]}); re-export it") from None
    except csv.Error as exc:
        raise DataError(f"{source} is not a well-formed {'TSV' if sep == chr(9) else 'CSV'} file ({exc}); "
                        "re-export it") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{source} is empty; pick a file with a header row and data rows") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(frame) == 0:
        raise DataError(f"{source} has a header but no data rows; add rows or pick another file")
    check_size(source, rows=len(frame), columns=len(frame.columns))
    return frame


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _records_frame(rows: list[dict], text: str) -> pd.DataFrame:
    # A lone surrogate escape (half an emoji, "\ud83d", common in truncated tweets) is valid JSON but not
    # encodable text, and pandas' Arrow-backed strings crash on it with a traceback.
    if re.search(r"\\u[dD][89a-fA-F]", text):
        rows = [{k: _LONE_SURROGATE.sub("\ufffd", v) if isinstance(v, str) else v for k, v in r.items()}
                for r in rows]
    return json_integers(pd.DataFrame.from_records(rows), rows)


def read_json_records(text: str, *, source: str) -> pd.DataFrame:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{source} is not valid JSON (line {exc.lineno}: {exc.msg}); if it has one record "
                        "per line, name it .jsonl") from None
    except RecursionError:
        raise DataError(f"{source} nests JSON too deeply to be a table of records; flatten it") from None
    if isinstance(obj, dict):
        # Accept the common {"data": [...]} wrapper; anything else is not a table of records.
        lists = [v for v in obj.values() if isinstance(v, list) and v and all(isinstance(r, dict) for r in v)]
        if len(obj) == 1 and lists:
            obj = lists[0]
    if not isinstance(obj, list) or not all(isinstance(r, dict) for r in obj):
        raise DataError(f"{source} is JSON but not a list of records; expected [{{\"text\": ..., \"label\": ...}}, ...]")
    if not obj:
        raise DataError(f"{source} holds no records; add rows or pick another file")
    check_size(source, rows=len(obj))
    return _records_frame(obj, text)


def read_jsonl(text: str, *, source: str) -> pd.DataFrame:
    rows = []
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{source}: line {i} is not valid JSON ({exc.msg}); each line must be one record") from None
        except RecursionError:
            raise DataError(f"{source}: line {i} nests JSON too deeply to be a record; flatten it") from None
        if not isinstance(rec, dict):
            raise DataError(f"{source}: line {i} is not a JSON object; each line must be one record like "
                            "{\"text\": ..., \"label\": ...}")
        rows.append(rec)
        if len(rows) > limit("DQ_MAX_ROWS"):
            check_size(source, rows=len(rows))
    if not rows:
        raise DataError(f"{source} holds no records; add rows or pick another file")
    return _records_frame(rows, text)


def read_parquet_bytes(data: bytes, *, source: str) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(pa.BufferReader(data)).metadata
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for corrupt files
        raise DataError(f"{source} is not a readable Parquet file ({type(exc).__name__}); re-export it") from None
    # The footer says how big the table is once decompressed: refuse before materialising it.
    check_size(source, rows=meta.num_rows, columns=meta.num_columns,
               nbytes=sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)))
    try:
        table = pq.read_table(pa.BufferReader(data))
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for corrupt files
        raise DataError(f"{source} is not a readable Parquet file ({type(exc).__name__}); re-export it") from None
    names = table.column_names
    _check_header(names, source)
    frame = arrow_to_pandas(table)
    if len(frame) == 0:
        raise DataError(f"{source} has columns but no rows; add rows or pick another file")
    return frame


SEPARATOR_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes"}


def sniff_separator(text: str, *, sample_rows: int = 20) -> str:
    """The column separator of a delimited text: a comma unless the header has none and another separator
    splits the first rows into one same number (>= 2) of columns.

    Why not csv.Sniffer: it guesses from character frequencies and picks letters or spaces on free text
    (tweets, reviews). Excel in many locales writes ';', and exports are often tab- or pipe-separated; a
    wrong guess would silently re-cut every row, so a header with a comma is never second-guessed."""
    head = text[:65536]
    head = head[: head.rfind("\n") + 1] or head  # whole lines only

    def widths(sep: str) -> list[int]:
        try:
            reader = csv.reader(io.StringIO(head, newline=""), delimiter=sep)
            return [len(r) for r in itertools.islice(reader, sample_rows) if r]
        except csv.Error:
            return []

    comma = widths(",")
    if comma and comma[0] >= 2:
        return ","
    for sep in (";", "\t", "|"):
        w = widths(sep)
        if w and w[0] >= 2 and len(set(w)) == 1:
            return sep
    return ","


def read_table_bytes(data: bytes, filename: str, encoding: str | None = None) -> RawTable:
    """Parse an uploaded or on-disk file by its extension; ``encoding`` (a codec name, None to guess) is for
    the text formats: a Parquet file stores Unicode, so it is ignored there with a note."""
    ext = Path(filename).suffix.lower()
    source = Path(filename).name
    if ext not in TABLE_EXTENSIONS:
        raise DataError(f"'{source}' has an unsupported extension '{ext or '(none)'}'; use one of "
                        f"{', '.join(TABLE_EXTENSIONS)}")
    check_size(source, nbytes=len(data))
    if ext in (".parquet", ".pq"):
        if not data:
            raise DataError(f"{source} is empty; pick a file with rows")
        ignored = ignored_encoding_note(encoding, "Parquet files")
        return RawTable(read_parquet_bytes(data, source=source), source, (ignored,) if ignored else ())
    text, notes = decode_bytes(data, source, encoding)
    if not text.strip():  # a byte-order mark alone, or whitespace in UTF-16
        raise DataError(f"{source} is empty; pick a file with a header row and data rows")
    if ext in (".csv", ".txt"):
        sep = sniff_separator(text)
        if sep != ",":
            notes.append(f"columns separated by {SEPARATOR_NAMES[sep]}, not commas")
        frame = read_delimited(text, sep=sep, source=source)
    elif ext == ".tsv":
        frame = read_delimited(text, sep="\t", source=source)
    elif ext == ".json":
        frame = read_json_records(text, source=source)
    else:
        frame = read_jsonl(text, source=source)
    check_size(source, rows=len(frame), columns=len(frame.columns))  # JSON records may hold any keys
    return RawTable(frame, source, tuple(notes))


# --------------------------------------------------------------------------- paths and folders

def read_hf_disk(path: Path) -> RawTable:
    """A ``datasets.save_to_disk`` folder; a DatasetDict's splits are stacked with a ``split`` column."""
    try:
        import datasets
    except ImportError:  # pragma: no cover
        raise DataError("reading a datasets folder needs the 'datasets' package") from None
    if not ((path / "state.json").is_file() or (path / "dataset_dict.json").is_file()):
        raise DataError(f"'{path.name}' is not a datasets.save_to_disk folder (no state.json or "
                        "dataset_dict.json inside); pick a file or such a folder")
    check_datasets_folder(path)
    from dq_core.data.writers import quiet_datasets

    with quiet_datasets():  # no library bar on a piped stderr
        try:
            obj = datasets.load_from_disk(str(path))
        except Exception as exc:  # noqa: BLE001
            # The type only: the library's message can quote the bytes of the file it choked on.
            raise DataError(f"'{path.name}' is a damaged datasets.save_to_disk folder ({type(exc).__name__}); "
                            "save it again with save_to_disk") from None
        return _hf_to_raw(obj, source=path.name)


def _hf_to_raw(obj, *, source: str) -> RawTable:
    import datasets

    notes = []
    if isinstance(obj, datasets.DatasetDict):
        parts = []
        for split, ds in obj.items():
            f = _hf_frame(ds)
            f["split"] = split
            parts.append(f)
        frame = pd.concat(parts, ignore_index=True)
        notes.append(f"splits {', '.join(obj.keys())} stacked with a 'split' column")
    else:
        frame = _hf_frame(obj)
    if len(frame) == 0:
        raise DataError(f"{source} holds no rows")
    check_size(source, rows=len(frame), columns=len(frame.columns))
    return RawTable(frame, source, tuple(notes))


def _hf_frame(ds) -> pd.DataFrame:
    import datasets
    import pyarrow as pa

    check_size("the datasets folder", rows=ds.num_rows, columns=len(ds.column_names))
    frame = ds.to_pandas()
    labels = tuple(n for n, f in ds.features.items() if isinstance(f, datasets.ClassLabel))
    stored = ds.data.table  # the whole stored table: enough to tell whether any integer column has a gap
    if any(stored.column(n).null_count and pa.types.is_integer(stored.column(n).type)
           for n in stored.column_names if n not in labels):
        frame = arrow_to_pandas(ds.with_format("arrow")[:], skip=labels)  # integers with missing values
    # ClassLabel columns arrive as ints: turn them back into their names so labels read as words.
    for name, feat in ds.features.items():
        if isinstance(feat, datasets.ClassLabel):
            frame[name] = frame[name].map(lambda i, f=feat: f.int2str(int(i)) if i is not None and i >= 0 else None)
    return frame


def read_hf_hub(name: str, *, split: str | None = None) -> RawTable:
    try:
        import datasets
    except ImportError:  # pragma: no cover
        raise DataError("loading from the Hub needs the 'datasets' package") from None
    from dq_core.util.hub import hub_offline, hub_unreachable

    if hub_offline(datasets=True):
        raise DataError(f"cannot load '{name}' from the Hugging Face Hub: offline mode is on "
                        "(HF_HUB_OFFLINE=1); download it elsewhere with save_to_disk and load that folder")
    if why := hub_unreachable():  # the library would retry for a minute and more before failing
        raise DataError(f"cannot load '{name}' from the Hugging Face Hub: this machine cannot reach it ({why}); "
                        "download it elsewhere with save_to_disk and load that folder")
    try:
        obj = datasets.load_dataset(name, split=split)
    except Exception as exc:  # noqa: BLE001 - network, auth and not-found errors all end here
        msg = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise DataError(f"could not load '{name}' from the Hugging Face Hub ({msg}). The Hub needs internet "
                        "access; offline, save the dataset with save_to_disk elsewhere and load that folder") from None
    return _hf_to_raw(obj, source=f"hf:{name}")


def read_path(path: str | os.PathLike, encoding: str | None = None) -> RawTable:
    """Read a local file or datasets folder (no data-folder confinement: the CLI's user owns the path);
    ``encoding`` as for :func:`read_table_bytes` (ignored with a note for a datasets folder)."""
    p = Path(path)
    try:
        st = os.stat(p)  # follows symlinks: a loop, a NUL or an over-long name fails here
    except (OSError, ValueError) as exc:
        raise path_error(path, exc) from None
    if stat.S_ISDIR(st.st_mode):
        return with_note(read_hf_disk(p), ignored_encoding_note(encoding, "datasets folders"))
    if not stat.S_ISREG(st.st_mode):
        # Opening a FIFO blocks until a writer appears, a device never ends: refuse before opening.
        raise DataError(f"'{p.name}' is not a regular file (a pipe, socket or device); save the data to a file")
    if p.suffix.lower() not in TABLE_EXTENSIONS:
        raise DataError(f"'{p.name}' has an unsupported extension '{p.suffix or '(none)'}'; use one of "
                        f"{', '.join(TABLE_EXTENSIONS)} or a datasets.save_to_disk folder")
    check_size(p.name, nbytes=st.st_size)
    try:
        with open(p, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):  # swapped for a pipe since the stat
                raise DataError(f"'{p.name}' is not a regular file; save the data to a file")
            data = fh.read(limit("DQ_MAX_BYTES") + 1)
    except OSError as exc:
        raise path_error(path, exc) from None
    return read_table_bytes(data, p.name, encoding)


def with_note(raw: RawTable, note: str | None) -> RawTable:
    return RawTable(raw.frame, raw.source, (*raw.notes, note)) if note else raw

