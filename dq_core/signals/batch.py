"""`dq compute`: embeddings and signals over Parquet too large for one pass, in resumable shards.

The rows of a Parquet file, folder or glob (files in sorted path order) are cut into shards of
contiguous rows. Two stages:

1. map, once per shard and in any order: embed the shard's texts and run the row-local signals (junk,
   PII: each row's result depends on that row alone); write ``embeddings/part-NNNNN.parquet`` (row_id,
   embedding) and ``rows/part-NNNNN.parquet`` (row_id + those signals' columns). With the ``local``
   backend the shards run one after another in this process; with ``ray`` a Ray Data ``map_batches``
   over the pending shards, on an actor pool whose actors each hold the model (a GPU each where the
   cluster has them).
2. global, once: the signals that compare rows (the kNN graph behind near duplicates, outliers and the
   label signal, exact-duplicate groups, K-fold label probabilities) run on the gathered embeddings
   through the same code as `dq signals`; their columns are joined with stage 1's and written as
   ``signals/part-NNNNN.parquet``, one per shard, keyed by row_id.

Every file is written to a temporary name and renamed, so an interrupted run leaves whole files only;
``manifest.json`` (written first) fixes the inputs, the settings and the shard plan, and a rerun with
the same settings skips every shard whose files exist. So a resumed run equals an uninterrupted one.
"""

from __future__ import annotations

import glob
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dq_core.data.dataset import ColumnMapping, TextDataset, build_dataset
from dq_core.data.io import atomic_write_bytes, atomic_write_text, mapping_for
from dq_core.errors import DataError
from dq_core.util.jsonsafe import dumps_json

COMPUTE_VERSION = 1
MANIFEST = "manifest.json"
REPORT = "report.json"  # signals/report.json: the global signals' summaries and infos
ROW_SIGNALS = ("junk", "pii")  # row-local: computed per shard in the map stage
DEFAULT_SHARD_ROWS = 50_000
ROW_ID = "__dq_row_id"  # the global row position, when the data maps no id column

Say = Callable[[str], None]


@dataclass(frozen=True)
class ComputeConfig:
    text_col: str | None = None
    label_col: str | None = None
    id_col: str | None = None
    model: str | None = None
    precision: str | None = None  # None/auto: dq_core.space.embed's default for the device
    shard_rows: int = DEFAULT_SHARD_ROWS
    seed: int = 0
    signals: tuple[str, ...] | None = None  # None: every default signal that applies
    batch_size: int | None = None

    def validate(self) -> ComputeConfig:
        if self.shard_rows < 1:
            raise DataError(f"--shard-rows {self.shard_rows} must be at least 1")
        return self


@dataclass(frozen=True)
class Plan:
    """What manifest.json fixes: inputs, mapping, settings and the shard boundaries."""

    files: tuple[str, ...]
    file_rows: tuple[int, ...]
    mapping: dict
    config: dict
    shards: tuple[tuple[int, int], ...]  # [start, stop) global row positions
    version: int = COMPUTE_VERSION
    extra: dict = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return int(sum(self.file_rows))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["shards"] = [list(s) for s in self.shards]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Plan:
        return cls(files=tuple(d["files"]), file_rows=tuple(d["file_rows"]), mapping=d["mapping"],
                   config=d["config"], shards=tuple(tuple(s) for s in d["shards"]), version=d["version"],
                   extra=d.get("extra", {}))

    def same_work(self, other: Plan) -> bool:
        return (self.version, self.files, self.file_rows, self.mapping, self.config, self.shards) == \
            (other.version, other.files, other.file_rows, other.mapping, other.config, other.shards)


# --------------------------------------------------------------------------- inputs


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


def _row_counts(files: list[Path]) -> list[int]:
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


def make_plan(data: str, config: ComputeConfig, say: Say | None = None) -> Plan:
    import pyarrow.parquet as pq

    files = list_parquet_files(data)
    counts = _row_counts(files)
    n = sum(counts)
    if n == 0:
        raise DataError(f"'{data}' has no rows")
    sample = pq.ParquetFile(files[0]).read_row_groups([0]).slice(0, 2000).to_pandas()
    m = mapping_for(sample, text_col=config.text_col, label_col=config.label_col, id_col=config.id_col,
                    warn=(lambda msg: say(f"note: {msg}")) if say else None, label_optional=True)
    mapping = ColumnMapping(text=m.text, label=m.label, id=m.id)  # metadata is not needed for the signals
    for f in files[1:]:
        names = set(pq.ParquetFile(f).schema_arrow.names)
        missing = [c for c in (mapping.text, mapping.label, mapping.id) if c and c not in names]
        if missing:
            raise DataError(f"'{f}' has no column {', '.join(repr(c) for c in missing)} (the first file has); "
                            "every file needs the same columns")
    shards = tuple((s, min(s + config.shard_rows, n)) for s in range(0, n, config.shard_rows))
    return Plan(files=tuple(str(f.resolve()) for f in files), file_rows=tuple(counts), mapping=mapping.to_dict(),
                config=asdict(config), shards=shards)


def _columns(plan: Plan) -> list[str]:
    m = plan.mapping
    return [c for c in dict.fromkeys([m["text"], m.get("label"), m.get("id")]) if c]


def shard_dataset(plan: Plan, start: int, stop: int) -> TextDataset:
    """Rows [start, stop) as a TextDataset whose row_ids are the global ones."""
    frame = read_rows(plan.files, plan.file_rows, start, stop, _columns(plan))
    m = ColumnMapping.from_dict(plan.mapping)
    if not m.id:
        frame[ROW_ID] = np.arange(start, stop, dtype=np.int64)
        m = ColumnMapping(text=m.text, label=m.label, id=ROW_ID)
    return build_dataset(frame, m, name="compute", require_labels=False)


def full_dataset(plan: Plan) -> TextDataset:
    return shard_dataset(plan, 0, plan.n_rows)


# --------------------------------------------------------------------------- stage 1: per shard


def part_name(i: int) -> str:
    return f"part-{i:05d}.parquet"


def shard_done(out: Path, i: int) -> bool:
    return (out / "rows" / part_name(i)).exists()  # written after the shard's embeddings


def _write_parquet(frame, path: Path) -> None:
    """A DataFrame or an Arrow table to ``path``, atomically (temporary file, then rename)."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    buf = io.BytesIO()
    pq.write_table(table, buf)
    atomic_write_bytes(path, buf.getvalue())


def embeddings_table(row_ids: np.ndarray, vectors: np.ndarray, valid: np.ndarray):
    """row_id, embedding (fixed-size list of float32: one Arrow buffer, read back without copies), valid."""
    import pyarrow as pa

    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).ravel())
    col = pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1])
    return pa.table({"row_id": pa.array(row_ids), "embedding": col, "valid": pa.array(np.asarray(valid, bool))})


def run_shard(plan: Plan, i: int, out: str | Path) -> int:
    """Stage 1 for shard ``i``: embeddings + row-local signals, written under ``out``. Returns its rows."""
    from dq_core.signals.runner import compute_signals, parse_signal_spec
    from dq_core.space.embed import embed_texts

    out = Path(out)
    start, stop = plan.shards[i]
    ds = shard_dataset(plan, start, stop)
    cfg = plan.config
    res = embed_texts(ds.texts, model=cfg["model"], batch_size=cfg["batch_size"], use_cache=False,
                      precision=cfg["precision"])
    _write_parquet(embeddings_table(ds.row_ids, res.vectors, res.valid), out / "embeddings" / part_name(i))
    row_sigs = [parse_signal_spec(s) for s in _row_signal_keys(plan)]
    if row_sigs:
        frame = compute_signals(ds, row_sigs, use_cache=False, seed=cfg["seed"]).frame
        frame = frame.drop(columns=["label"])
    else:
        frame = pd.DataFrame({"row_id": ds.row_ids, "n_issues": 0, "reasons": ""})
    _write_parquet(frame, out / "rows" / part_name(i))
    return stop - start


def _all_signal_keys(plan: Plan) -> list[str]:
    from dq_core.signals.runner import DEFAULT_SIGNALS, parse_signal_spec

    # No reference and no annotator columns here: leakage and annotator agreement never apply.
    keys = plan.config["signals"] or [s for s in DEFAULT_SIGNALS if s not in ("leakage", "annotator_agreement")]
    return [parse_signal_spec(k).key for k in keys]


def _row_signal_keys(plan: Plan) -> list[str]:
    from dq_core.signals.runner import parse_signal_spec

    return [k for k in _all_signal_keys(plan) if parse_signal_spec(k).name in ROW_SIGNALS]


# --------------------------------------------------------------------------- stage 2: global


def gather_embeddings(plan: Plan, out: Path) -> tuple[np.ndarray, np.ndarray]:
    import pyarrow.parquet as pq

    vecs, valid = [], []
    for i in range(len(plan.shards)):
        t = pq.read_table(out / "embeddings" / part_name(i))
        col = t.column("embedding").combine_chunks()
        dim = col.type.list_size
        vecs.append(col.flatten().to_numpy(zero_copy_only=False).reshape(-1, dim))
        valid.append(t.column("valid").to_numpy())
    return np.ascontiguousarray(np.vstack(vecs), dtype=np.float32), np.concatenate(valid)


def run_global(plan: Plan, out: Path, *, workspace=None, say: Say | None = None) -> dict:
    """Stage 2: the signals that compare rows, on the gathered embeddings; writes signals/part-*.parquet."""
    from dq_core.signals.runner import DEFAULT_SIGNALS, compute_signals, parse_signal_spec

    say = say or (lambda _m: None)
    ds = full_dataset(plan)
    emb, _valid = gather_embeddings(plan, out)
    keys = _all_signal_keys(plan)
    row_keys = set(_row_signal_keys(plan))
    global_sigs = [parse_signal_spec(k) for k in keys if k not in row_keys]
    t0 = time.perf_counter()
    summaries: dict = {}
    skipped: dict = {}
    if global_sigs:
        rep = compute_signals(ds, global_sigs, embeddings=emb, workspace=workspace, seed=plan.config["seed"],
                              progress=lambda m, f: None)
        frame = rep.frame
        summaries, skipped = rep.summaries, rep.skipped
    else:
        frame = pd.DataFrame({"row_id": ds.row_ids, "label": ds.labels.to_numpy(dtype=object, na_value=None),
                              "n_issues": 0, "reasons": ""})
    say(f"global signals: {time.perf_counter() - t0:.1f} s")
    order = {k: j for j, k in enumerate(DEFAULT_SIGNALS)}
    pos = 0
    for i, (start, stop) in enumerate(plan.shards):
        rows = pd.read_parquet(out / "rows" / part_name(i))
        part = frame.iloc[pos:pos + (stop - start)].reset_index(drop=True)
        pos += stop - start
        merged = _merge(part, rows, order)
        _write_parquet(merged, out / "signals" / part_name(i))
    if global_sigs:  # the report's facts (noise ratio, joint, ...) for the dashboard (signals.compute_output)
        atomic_write_text(out / "signals" / REPORT, dumps_json(rep.to_dict(), indent=None))
    return {"summaries": summaries, "skipped": skipped}


def _merge(glob_part: pd.DataFrame, rows: pd.DataFrame, order: dict) -> pd.DataFrame:
    if not rows["row_id"].astype(str).equals(glob_part["row_id"].astype(str)):
        raise RuntimeError("shard rows and gathered rows disagree on row order")
    extra = rows.drop(columns=["row_id", "n_issues", "reasons"])
    merged = pd.concat([glob_part.drop(columns=["n_issues", "reasons"]), extra], axis=1)
    issue_cols = [c for c in merged.columns if c.startswith("is_") and c.endswith("_issue")]
    merged["n_issues"] = merged[issue_cols].sum(axis=1).astype(np.int64) if issue_cols else 0
    reasons = [r for r in (glob_part["reasons"], rows["reasons"])]
    merged["reasons"] = ["; ".join(x for x in pair if x) for pair in zip(*reasons, strict=True)]
    return merged


# --------------------------------------------------------------------------- driver


def load_manifest(out: Path) -> dict | None:
    p = out / MANIFEST
    if not p.exists():
        return None
    try:
        return json.loads(p.read_text())
    except ValueError:
        raise DataError(f"'{p}' is not valid JSON; remove it (or the folder) to start over") from None


def prepare(data: str, out: str | Path, config: ComputeConfig, *, say: Say | None = None) -> tuple[Plan, Path]:
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DataError(f"--out '{out}' is a file; give a folder")
    plan = make_plan(data, config.validate(), say)
    old = load_manifest(out)
    if old is not None:
        prev = Plan.from_dict(old["plan"])
        if not prev.same_work(plan):
            raise DataError(f"'{out}' holds a compute of other inputs or settings; use another --out folder "
                            "(or delete it to start over)")
    for sub in ("embeddings", "rows", "signals"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    if old is None:
        write_manifest(out, plan, state="running")
    return plan, out


def write_manifest(out: Path, plan: Plan, **status) -> None:
    atomic_write_text(out / MANIFEST, dumps_json({"plan": plan.to_dict(), **status,
                                                            "updated_at": time.time()}))


def pending_shards(plan: Plan, out: Path) -> list[int]:
    return [i for i in range(len(plan.shards)) if not shard_done(out, i)]


def run_local(plan: Plan, out: Path, *, stop_after: int | None = None, say: Say | None = None) -> int:
    done = 0
    for i in pending_shards(plan, out):
        if stop_after is not None and done >= stop_after:
            break
        n = run_shard(plan, i, out)
        done += 1
        if say:
            say(f"shard {i + 1}/{len(plan.shards)}: {n:,} rows")
    return done


def read_output(out: str | Path, what: str = "signals") -> pd.DataFrame:
    """All shards of ``what`` (signals, rows or embeddings) of a finished compute, in row order."""
    out = Path(out)
    m = load_manifest(out)
    if m is None:
        raise DataError(f"'{out}' has no {MANIFEST}; run dq compute first")
    plan = Plan.from_dict(m["plan"])
    return pd.concat([pd.read_parquet(out / what / part_name(i)) for i in range(len(plan.shards))],
                     ignore_index=True)
