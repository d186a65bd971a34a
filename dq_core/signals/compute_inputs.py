"""`dq compute`'s input files: which they are, their rows, and a fingerprint of the columns it reads.

DATA (a Parquet file, folder or glob) is listed in sorted path order and read by global row range.

A compute's results are only as good as the rows they were computed from, and row counts say nothing of a
text changed in place or rows put in another order. So every input file gets a fingerprint: a hash of the
Arrow types and the values, in row order, of the columns the compute reads (text, label, id); the file's
other columns do not count. Hashing reads the whole file once, which at 10M rows is worth remembering:
``fingerprints.json`` in the output folder maps each file's path to its fingerprint and the stats it had
when hashed (size, mtime, ctime, inode, device). A file whose stats are unchanged is not read again; any
write to it changes its ctime (which no user call can set back), so a remembered fingerprint is never
trusted for a file that changed. The cache is only a cache: a damaged one is ignored and rewritten.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from dq_core.errors import DataError

FINGERPRINTS = "fingerprints.json"  # in the compute's output folder
FINGERPRINT_FORMAT = 1  # bump when file_fingerprint's hashing changes: remembered ones are then recomputed


def list_parquet_files(spec: str) -> list[Path]:
    """A Parquet file, a folder (every *.parquet below it) or a glob; sorted, so row order is fixed."""
    p = Path(spec)
    if p.is_dir():
        files = sorted(q for q in p.rglob("*.parquet") if q.is_file())
        where = f"folder '{spec}'"
    elif p.is_file():
        files = [p]
        where = spec
    else:
        files = sorted(Path(q) for q in glob.glob(spec, recursive=True) if Path(q).is_file())
        where = f"pattern '{spec}'"
        if not files:
            raise DataError(f"'{spec}' is not a file, a folder or a glob that matches any file")
    files = [f for f in files if f.suffix.lower() in (".parquet", ".pq")]
    if not files:
        raise DataError(f"{where} holds no .parquet files; dq compute reads Parquet (convert other formats "
                        "with pandas: pd.read_csv(...).to_parquet(...))")
    return files


def row_counts(files: list[Path]) -> list[int]:
    import pyarrow.parquet as pq

    out = []
    for f in files:
        try:
            out.append(int(pq.ParquetFile(f).metadata.num_rows))
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a bad file
            raise DataError(f"'{f}' is not a readable Parquet file ({type(exc).__name__})") from None
    return out


def read_rows(files: tuple[str, ...], file_rows: tuple[int, ...], start: int, stop: int,
              columns: list[str]) -> pd.DataFrame:
    """Global rows [start, stop) of the concatenated files, reading only the row groups they touch."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = []
    offset = 0
    for f, n in zip(files, file_rows, strict=True):
        lo, hi = max(start, offset), min(stop, offset + n)
        if lo < hi:
            pf = pq.ParquetFile(f)
            groups, g_off = [], 0
            first = None
            for g in range(pf.metadata.num_row_groups):
                g_n = pf.metadata.row_group(g).num_rows
                if g_off + g_n > lo - offset and g_off < hi - offset:
                    groups.append(g)
                    first = g_off if first is None else first
                g_off += g_n
            t = pf.read_row_groups(groups, columns=columns)
            parts.append(t.slice(lo - offset - first, hi - lo))
        offset += n
    table = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    return table.to_pandas()


def file_stats(path: str | os.PathLike) -> dict:
    """The stats a remembered fingerprint is keyed by (any write to the file changes at least ctime)."""
    st = os.stat(path)
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns, "ino": st.st_ino,
            "dev": st.st_dev}


def _column_parts(arr) -> tuple:
    """One column chunk as (each value's length, all values' bytes, the null mask): together they spell
    the values in order exactly, and chunk after chunk they concatenate to the whole column's, so the
    file's row-group layout does not count."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    binary = pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type)
    try:
        arr = pc.cast(arr, pa.large_binary() if binary else pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # nested values: no cast to text; spell them out
        arr = pa.array([repr(v) for v in arr.to_pylist()], type=pa.large_string())
    nulls = arr.is_null().to_numpy(zero_copy_only=False).astype(np.uint8)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + len(arr) + 1]
    data = arr.buffers()[2]
    values = memoryview(b"") if data is None or len(arr) == 0 else memoryview(data)[offsets[0]:offsets[-1]]
    return np.diff(offsets).tobytes(), values, nulls.tobytes()


def file_fingerprint(path: str | os.PathLike, columns: list[str]) -> str:
    """A hash of ``columns`` of the Parquet file ``path``: their Arrow types and their values in row order
    (read one row group at a time, so memory stays at one row group)."""
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        schema = pf.schema_arrow
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a bad file
        raise DataError(f"'{path}' is not a readable Parquet file ({type(exc).__name__})") from None
    missing = [c for c in columns if c not in schema.names]
    if missing:
        raise DataError(f"'{path}' has no column {', '.join(repr(c) for c in missing)}; every input file needs "
                        "the columns dq compute reads (--text-col, --label-col, --id-col)")
    streams = [[hashlib.blake2b(digest_size=20) for _ in range(3)] for _ in columns]  # lengths, values, nulls
    for g in range(pf.metadata.num_row_groups):
        table = pf.read_row_group(g, columns=columns)
        for c, hs in zip(columns, streams, strict=True):
            for h, part in zip(hs, _column_parts(table.column(c).combine_chunks()), strict=True):
                h.update(part)
    top = hashlib.blake2b(digest_size=20)
    top.update(json.dumps([FINGERPRINT_FORMAT, [[c, str(schema.field(c).type)] for c in columns]]).encode())
    for hs in streams:
        for h in hs:
            top.update(h.digest())
    return top.hexdigest()


class FingerprintCache:
    """The remembered fingerprints of one output folder (``folder/fingerprints.json``)."""

    def __init__(self, folder: str | os.PathLike | None):
        self.path = Path(folder) / FINGERPRINTS if folder is not None else None
        self.entries: dict = {}
        self.hashed: list[str] = []  # the files this cache had to hash (read) rather than remember
        if self.path is not None and self.path.is_file():
            try:
                got = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                got = None  # a damaged cache is ignored: every file is hashed again
            if isinstance(got, dict) and got.get("format") == FINGERPRINT_FORMAT and isinstance(got.get("files"), dict):
                self.entries = got["files"]

    def fingerprint(self, path: str | os.PathLike, columns: list[str]) -> str:
        """The file's fingerprint: remembered when its stats and the columns are the ones it was hashed with."""
        key = str(Path(path).resolve())
        stats = file_stats(key)  # taken before reading: a write during the hash leaves other stats
        got = self.entries.get(key)
        if isinstance(got, dict) and got.get("stats") == stats and got.get("columns") == list(columns) \
                and isinstance(got.get("fingerprint"), str):
            return got["fingerprint"]
        fp = file_fingerprint(key, list(columns))
        self.entries[key] = {"stats": stats, "columns": list(columns), "fingerprint": fp}
        self.hashed.append(key)
        return fp

    def save(self) -> None:
        from dq_core.data.io import atomic_write_text

        if self.path is not None:
            atomic_write_text(self.path, json.dumps({"format": FINGERPRINT_FORMAT, "files": self.entries}, indent=1))
