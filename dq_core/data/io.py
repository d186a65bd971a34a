"""Loaders and writers. Every failure becomes a DataError that says what is wrong and how to fix it.

Sources: csv, tsv, json (records), jsonl, parquet, a ``datasets.save_to_disk`` folder, a Hugging Face
Hub name (online only), and bundled demos (``demo:tweets``, ``demo:sms_spam``, ``demo:tweets_airline``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dq_core.data import assets
from dq_core.data.dataset import ColumnMapping, TextDataset, build_dataset, guess_mapping
from dq_core.errors import DataError

TABLE_EXTENSIONS = (".csv", ".tsv", ".txt", ".json", ".jsonl", ".ndjson", ".parquet", ".pq")
DEMOS = {
    "tweets": "CrowdFlower Twitter sentiment (38k tweets, 3 classes, crowd confidence kept)",
    "sms_spam": "SMS Spam Collection (5.6k messages, ham/spam)",
    "tweets_airline": "Tweets preset: airline tweets as the dataset, the other topics as the reference",
}


@dataclass(frozen=True)
class RawTable:
    """A table as read from disk, before any column mapping; ``notes`` say what the loader decided."""

    frame: pd.DataFrame
    source: str
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------------- bytes -> table

def _decode(data: bytes, source: str) -> tuple[str, list[str]]:
    if not data.strip():
        raise DataError(f"{source} is empty; pick a file with a header row and data rows")
    head = data[:8192]
    if b"\x00" in head and not (head.startswith(b"\xff\xfe") or head.startswith(b"\xfe\xff")):
        raise DataError(f"{source} looks like a binary file, not text; export it as CSV/TSV/JSON/Parquet")
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(enc), []
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    # Mostly UTF-8 with a few broken bytes (common in scraped text, e.g. the tweets demo): keep UTF-8
    # and replace the broken bytes, since re-reading everything in a legacy code page garbles the rest.
    # A legacy-encoded file (latin-1, cp1252) instead has its high bytes inside words ("caf\xe9s").
    replaced = data.decode("utf-8", errors="replace")
    n_bad = replaced.count("\ufffd")
    if n_bad <= max(1, len(data) // 100) and not _high_bytes_inside_words(data):
        return replaced, [f"the file is not valid UTF-8: {n_bad} undecodable byte sequences were replaced by \ufffd"]
    # Not UTF-8: ask charset-normalizer, fall back to cp1252 (never fails on a byte) and say so.
    enc = None
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:200_000]).best()
        enc = best.encoding if best else None
    except Exception:  # noqa: BLE001 - detection is best effort
        enc = None
    # On small samples the detector's guesses are noise (cp1250 for French); trust it only on enough text.
    for candidate in (enc if len(data) > 4096 else None, "cp1252", "latin-1"):
        if not candidate:
            continue
        try:
            text = data.decode(candidate)
            return text, [f"the file is not valid UTF-8; read it as {candidate}"]
        except (UnicodeDecodeError, LookupError):
            continue
    text = data.decode("utf-8", errors="replace")  # pragma: no cover - latin-1 always decodes
    return text, ["the file is not valid UTF-8; undecodable bytes were replaced"]


def _high_bytes_inside_words(data: bytes) -> bool:
    hits = re.findall(rb"(?<=[A-Za-z])[\x80-\xff](?=[A-Za-z])", data[:500_000])
    highs = sum(1 for b in data[:500_000] if b >= 0x80)
    return highs > 0 and len(hits) / highs > 0.5


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
    first = next(csv.reader(io.StringIO(text), delimiter=sep), None)
    if not first:
        raise DataError(f"{source} is empty; pick a file with a header row and data rows")
    if header:
        _check_header([c.strip() for c in first], source)
    try:
        # Fix: index_col=False + the warning as an error. By default, when every row has one field more
        # than the header, pandas silently made the first column the index and shifted the data (the
        # text column then held the labels); now that is reported like any other ragged row.
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(io.StringIO(text), sep=sep, header=0 if header else None, dtype=str,
                                keep_default_na=False, na_values=[""], engine="c", index_col=False)
    except pd.errors.ParserWarning:
        n_header = len(first)
        for line_no, row in enumerate(csv.reader(io.StringIO(text), delimiter=sep), start=1):
            if len(row) > n_header:
                raise DataError(f"{source}: line {line_no} has {len(row)} fields but the header has {n_header}; "
                                f"quote fields that contain '{sep}' or fix the header") from None
        raise DataError(f"{source}: some rows have more fields than the header; fix the header") from None
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if m:
            raise DataError(f"{source}: line {m.group(2)} has {m.group(3)} fields but the header has "
                            f"{m.group(1)}; quote fields that contain '{sep}' or fix that row") from None
        raise DataError(f"{source} is not a well-formed {'TSV' if sep == chr(9) else 'CSV'} file: {exc}") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{source} is empty; pick a file with a header row and data rows") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(frame) == 0:
        raise DataError(f"{source} has a header but no data rows; add rows or pick another file")
    return frame


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _records_frame(rows: list[dict], text: str) -> pd.DataFrame:
    # Fix: a lone surrogate escape (half an emoji, "\ud83d", common in truncated tweets) is valid JSON
    # but not encodable text, and pandas' Arrow-backed strings crashed on it with a traceback.
    if re.search(r"\\u[dD][89a-fA-F]", text):
        rows = [{k: _LONE_SURROGATE.sub("\ufffd", v) if isinstance(v, str) else v for k, v in r.items()}
                for r in rows]
    return pd.DataFrame.from_records(rows)


def read_json_records(text: str, *, source: str) -> pd.DataFrame:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{source} is not valid JSON (line {exc.lineno}: {exc.msg}); if it has one record "
                        "per line, name it .jsonl") from None
    if isinstance(obj, dict):
        # Accept the common {"data": [...]} wrapper; anything else is not a table of records.
        lists = [v for v in obj.values() if isinstance(v, list) and v and all(isinstance(r, dict) for r in v)]
        if len(obj) == 1 and lists:
            obj = lists[0]
    if not isinstance(obj, list) or not all(isinstance(r, dict) for r in obj):
        raise DataError(f"{source} is JSON but not a list of records; expected [{{\"text\": ..., \"label\": ...}}, ...]")
    if not obj:
        raise DataError(f"{source} holds no records; add rows or pick another file")
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
        if not isinstance(rec, dict):
            raise DataError(f"{source}: line {i} is not a JSON object; each line must be one record like "
                            "{\"text\": ..., \"label\": ...}")
        rows.append(rec)
    if not rows:
        raise DataError(f"{source} holds no records; add rows or pick another file")
    return _records_frame(rows, text)


def read_parquet_bytes(data: bytes, *, source: str) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(data))
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for corrupt files
        raise DataError(f"{source} is not a readable Parquet file ({type(exc).__name__}); re-export it") from None
    names = table.column_names
    _check_header(names, source)
    frame = table.to_pandas()
    if len(frame) == 0:
        raise DataError(f"{source} has columns but no rows; add rows or pick another file")
    return frame


def read_table_bytes(data: bytes, filename: str) -> RawTable:
    """Parse an uploaded or on-disk file by its extension."""
    ext = Path(filename).suffix.lower()
    source = Path(filename).name
    if ext not in TABLE_EXTENSIONS:
        raise DataError(f"'{source}' has an unsupported extension '{ext or '(none)'}'; use one of "
                        f"{', '.join(TABLE_EXTENSIONS)}")
    if ext in (".parquet", ".pq"):
        if not data:
            raise DataError(f"{source} is empty; pick a file with rows")
        return RawTable(read_parquet_bytes(data, source=source), source)
    text, notes = _decode(data, source)
    if ext in (".csv", ".txt"):
        sep = "\t" if ext == ".txt" and "\t" in text.splitlines()[0] else ","
        frame = read_delimited(text, sep=sep, source=source)
    elif ext == ".tsv":
        frame = read_delimited(text, sep="\t", source=source)
    elif ext == ".json":
        frame = read_json_records(text, source=source)
    else:
        frame = read_jsonl(text, source=source)
    return RawTable(frame, source, tuple(notes))


# --------------------------------------------------------------------------- paths and folders

def data_dir() -> Path:
    return Path(os.environ.get("DQ_DATA_DIR", "data")).resolve()


def resolve_in_data_dir(path: str | os.PathLike, root: Path | None = None) -> Path:
    """Resolve a user-typed server path, refusing anything outside the data folder (no ../ escapes)."""
    root = (root or data_dir()).resolve()
    p = Path(path)
    candidate = (p if p.is_absolute() else root / p).resolve()
    if candidate != root and root not in candidate.parents:
        raise DataError(f"'{path}' is outside the data folder {root}; copy the file there or set DQ_DATA_DIR")
    if not candidate.exists():
        raise DataError(f"'{path}' does not exist in the data folder {root}")
    return candidate


def list_data_files(root: Path | None = None, limit: int = 500) -> list[str]:
    """Tables and ``save_to_disk`` folders (with a trailing ``/``) under the data folder, sorted."""
    # Fix: the old rglob walk also offered a datasets folder's internals (dataset_info.json, state.json,
    # its split subfolders) as loadable tables, and an `a and b or c` slip let files match the folder test.
    root = (root or data_dir())
    if not root.is_dir():
        return []
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if here != root and ((here / "dataset_info.json").exists() or (here / "dataset_dict.json").exists()):
            out.append(str(here.relative_to(root)) + "/")
            dirnames[:] = []  # its files are the folder's own bookkeeping, not tables
            continue
        out.extend(str((here / f).relative_to(root)) for f in filenames
                   if Path(f).suffix.lower() in TABLE_EXTENSIONS)
        if len(out) >= limit:
            break
    return sorted(out)[:limit]


def read_hf_disk(path: Path) -> RawTable:
    """A ``datasets.save_to_disk`` folder; a DatasetDict's splits are stacked with a ``split`` column."""
    try:
        import datasets
    except ImportError:  # pragma: no cover
        raise DataError("reading a datasets folder needs the 'datasets' package") from None
    try:
        obj = datasets.load_from_disk(str(path))
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"'{path.name}' is not a datasets.save_to_disk folder ({exc})") from None
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
    return RawTable(frame, source, tuple(notes))


def _hf_frame(ds) -> pd.DataFrame:
    import datasets

    frame = ds.to_pandas()
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
    # Fix: huggingface_hub treats 1/ON/YES/TRUE (any case) as on; only "1" was recognised here.
    if any(os.environ.get(v, "").strip().upper() in ("1", "ON", "YES", "TRUE")
           for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")):
        raise DataError(f"cannot load '{name}' from the Hugging Face Hub: offline mode is on "
                        "(HF_HUB_OFFLINE=1); download it elsewhere with save_to_disk and load that folder")
    try:
        obj = datasets.load_dataset(name, split=split)
    except Exception as exc:  # noqa: BLE001 - network, auth and not-found errors all end here
        msg = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise DataError(f"could not load '{name}' from the Hugging Face Hub ({msg}). The Hub needs internet "
                        "access; offline, save the dataset with save_to_disk elsewhere and load that folder") from None
    return _hf_to_raw(obj, source=f"hf:{name}")


def read_path(path: str | os.PathLike) -> RawTable:
    """Read a local file or datasets folder (no data-folder confinement: the CLI's user owns the path)."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"'{path}' does not exist; check the path")
    if p.is_dir():
        return read_hf_disk(p)
    if p.suffix.lower() not in TABLE_EXTENSIONS:
        raise DataError(f"'{p.name}' has an unsupported extension '{p.suffix or '(none)'}'; use one of "
                        f"{', '.join(TABLE_EXTENSIONS)} or a datasets.save_to_disk folder")
    return read_table_bytes(p.read_bytes(), p.name)


# --------------------------------------------------------------------------- demos

TWEET_TOPICS = {
    # Keyword rules for the tweets corpus, which ships without a topic column; checked in order.
    "airlines": r"@united|@americanair|@usairways|@southwestair|@jetblue|@virginamerica|\bflight|airline",
    "driverless cars": r"driverless|self-driving|self driving|autonomous|google car|robot car",
    "deflategate": r"deflategate|deflate|patriots|brady|belichick",
    "coachella": r"coachella",
    "apple": r"apple|iphone|\bipad|\bmac\b|\bios\b|itunes|watch",
}


def tweet_topics(texts: pd.Series) -> pd.Series:
    lower = texts.fillna("").str.lower()
    topic = pd.Series("other", index=texts.index, dtype=object)
    assigned = pd.Series(False, index=texts.index)
    for name, pattern in TWEET_TOPICS.items():
        hit = lower.str.contains(pattern, regex=True) & ~assigned
        topic[hit] = name
        assigned |= hit
    return topic.astype("string")


def _demo_tweets() -> tuple[RawTable, ColumnMapping]:
    raw = read_table_bytes(assets.tweets_csv_path().read_bytes(), "tweets.csv")
    frame = raw.frame
    frame["confidence"] = pd.to_numeric(frame["confidence"], errors="coerce")
    frame["topic"] = tweet_topics(frame["text"])
    mapping = ColumnMapping(text="text", label="sentiment", metadata=("confidence", "topic"),
                            agreement="confidence")
    return RawTable(frame, "demo:tweets", (*raw.notes, "topic derived from keywords (airlines, driverless "
                                           "cars, deflategate, coachella, apple, other)")), mapping


def _demo_sms() -> tuple[RawTable, ColumnMapping]:
    data = assets.sms_spam_tsv_path().read_bytes()
    text, notes = _decode(data, "SMSSpamCollection.tsv")
    # The file has no header and unquoted text, so read it line by line rather than as CSV.
    rows = [line.split("\t", 1) for line in text.splitlines() if "\t" in line]
    frame = pd.DataFrame(rows, columns=["label", "text"])
    return RawTable(frame, "demo:sms_spam", tuple(notes)), ColumnMapping(text="text", label="label")


def load_demo(name: str) -> tuple[TextDataset, TextDataset | None]:
    """A demo dataset and, for presets, its reference."""
    if name == "tweets":
        raw, mapping = _demo_tweets()
        return build_dataset(raw.frame, mapping, name="demo:tweets", source=raw.source, notes=raw.notes), None
    if name == "sms_spam":
        raw, mapping = _demo_sms()
        return build_dataset(raw.frame, mapping, name="demo:sms_spam", source=raw.source, notes=raw.notes), None
    if name == "tweets_airline":
        full, _ = load_demo("tweets")
        is_air = (full.frame["topic"] == "airlines").to_numpy()
        return (full.subset(is_air, name="demo:tweets (airlines)"),
                full.subset(~is_air, name="demo:tweets (other topics)"))
    raise DataError(f"unknown demo '{name}'; choose one of: {', '.join('demo:' + d for d in DEMOS)}")


# --------------------------------------------------------------------------- one entry point for the CLI

def load_dataset(spec: str, *, text_col: str | None = None, label_col: str | None = None,
                 id_col: str | None = None, require_labels: bool = True,
                 warn=None) -> tuple[TextDataset, TextDataset | None]:
    """Load ``spec`` (a path, ``demo:NAME`` or ``hf:NAME``) and map its columns.

    Missing column names are guessed and each guess is passed to ``warn`` (the CLI prints it to stderr).
    Returns the dataset and, for demo presets, a bundled reference.
    """
    if spec.startswith("demo:"):
        ds, ref = load_demo(spec.split(":", 1)[1])
        if text_col or label_col:
            raise DataError("demo datasets come with their column mapping; drop --text-col/--label-col")
        return ds, ref
    raw = read_hf_hub(spec[3:]) if spec.startswith("hf:") else read_path(spec)
    mapping = mapping_for(raw.frame, text_col=text_col, label_col=label_col, id_col=id_col, warn=warn,
                          label_optional=not require_labels)
    return build_dataset(raw.frame, mapping, name=Path(spec).name, source=spec, notes=raw.notes,
                         require_labels=require_labels), None


def mapping_for(frame: pd.DataFrame, *, text_col: str | None, label_col: str | None,
                id_col: str | None = None, warn=None, label_optional: bool = False) -> ColumnMapping:
    """Map columns: the user's choices first, guesses for the rest (each guess passed to ``warn``).

    With ``label_optional`` (a reference set) a frame without the label column, or without anything
    label-like, is read as unlabelled instead of failing.
    """
    # Fix: the user's columns go into the guess, so only the missing roles are guessed; before, an
    # unguessable label dropped the guessed text too and the error named the wrong column. And an
    # unlabelled reference (allowed by require_labels=False) could never get past this function.
    cols = [str(c) for c in frame.columns]
    unlabelled = label_optional and label_col is not None and label_col not in cols
    guess = guess_mapping(frame, text=text_col, label=None if unlabelled else label_col)
    g = guess.mapping
    text = g.text if g else guess.text
    if text is None or (g is None and not label_optional):
        role = "text" if text is None else "label"
        raise DataError(f"could not guess the {role} column; pass --{role}-col NAME "
                        f"(columns: {', '.join(cols[:12])})")
    label = "" if g is None or unlabelled else g.label
    if warn:
        if not text_col:
            warn(f"guessed text column '{text}' (pass --text-col to choose)")
        if label and not label_col:
            warn(f"guessed label column '{label}' (pass --label-col to choose)")
        if not label:
            warn("no label column found: read as unlabelled (text-only views still work)")
    used = {text, label, id_col}
    meta = tuple(c for c in frame.columns if c not in used)
    agreement = g.agreement if g and g.agreement in meta else None
    split = g.split if g and g.split in meta else None
    meta = tuple(c for c in meta if c != split)
    return ColumnMapping(text=text, label=label, id=id_col, split=split, metadata=meta, agreement=agreement)


# --------------------------------------------------------------------------- writers

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
