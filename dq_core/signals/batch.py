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
``manifest.json`` (written first) fixes the inputs (each file with its fingerprint, see
dq_core.signals.compute_inputs), the settings and the shard plan, and a rerun with the same settings
skips every shard whose files exist and whose inputs are unchanged (dq_core.signals.compute_folder says
which folder may be written and what a rerun keeps). So a resumed run equals an uninterrupted one.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd

from dq_core.data.dataset import ColumnMapping, TextDataset, build_dataset
from dq_core.data.io import atomic_write_bytes, atomic_write_text, mapping_for
from dq_core.errors import DataError
from dq_core.signals.compute_inputs import list_parquet_files, read_rows, row_counts
from dq_core.util.jsonsafe import dumps_json

COMPUTE_VERSION = 2  # 2: the plan holds DATA and each input file's fingerprint
MANIFEST = "manifest.json"
REPORT = "report.json"  # signals/report.json: the global signals' summaries and infos
ROW_SIGNALS = ("junk", "pii")  # row-local: computed per shard in the map stage
DEFAULT_SHARD_ROWS = 50_000
ROW_ID = "__dq_row_id"  # the global row position, when the data maps no id column
COLUMN_OPTIONS = ("text_col", "label_col", "id_col")  # ComputeConfig fields that choose the plan's mapping

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
        """Every setting checked before anything is written: a run refused later would leave a manifest
        that then refuses the corrected command."""
        from dq_core.signals.runner import parse_signal_spec
        from dq_core.space.embed import check_batch_size
        from dq_core.space.embed_model import resolve_model
        from dq_core.util.seeds import check_seed

        if self.shard_rows < 1:
            raise DataError(f"--shard-rows {self.shard_rows} must be at least 1")
        check_seed(self.seed, "--seed")
        if self.batch_size is not None:
            check_batch_size(self.batch_size)
        resolve_model(self.model)
        for key in self.signals or ():
            parse_signal_spec(key)
        return self


def _config_ok(cfg: dict) -> bool:
    """Whether ``cfg`` is a ComputeConfig as a manifest stores it (its fields, each of its type)."""
    def whole(v, optional=False):
        return (v is None and optional) or (isinstance(v, int) and not isinstance(v, bool))

    text = ("text_col", "label_col", "id_col", "model", "precision")
    return (set(cfg) == {f.name for f in fields(ComputeConfig)}
            and all(isinstance(cfg[k], (str, type(None))) for k in text)
            and whole(cfg["shard_rows"]) and whole(cfg["seed"]) and whole(cfg["batch_size"], optional=True)
            and (cfg["signals"] is None or (isinstance(cfg["signals"], list)
                                            and all(isinstance(k, str) for k in cfg["signals"]))))


_PLAN_TYPES = {"data": str, "files": list, "file_rows": list, "fingerprints": list, "mapping": dict,
               "config": dict, "shards": list, "version": int}


@dataclass(frozen=True)
class Plan:
    """What manifest.json fixes: inputs (DATA as given, each file, its rows and fingerprint), mapping,
    settings and the shard boundaries."""

    data: str  # DATA, absolute: a rerun naming the same DATA is a compute of these inputs
    files: tuple[str, ...]
    file_rows: tuple[int, ...]
    fingerprints: tuple[str, ...]  # dq_core.signals.compute_inputs.file_fingerprint of each file
    mapping: dict
    config: dict
    shards: tuple[tuple[int, int], ...]  # [start, stop) global row positions
    version: int = COMPUTE_VERSION
    extra: dict = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return int(sum(self.file_rows))

    def to_dict(self) -> dict:
        """The plan as manifest.json holds it (lists, not tuples): what from_dict reads back."""
        d = asdict(self)
        for k in ("files", "file_rows", "fingerprints"):
            d[k] = list(d[k])
        d["shards"] = [list(s) for s in self.shards]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Plan:
        """The plan a manifest holds; ValueError when it is not one this version wrote (any JSON can sit
        in a file named manifest.json)."""
        if not isinstance(d, dict) or any(not isinstance(d.get(k), t) for k, t in _PLAN_TYPES.items()):
            raise ValueError("not a plan")
        n = len(d["files"])
        ints = d["file_rows"] + [x for s in d["shards"] if isinstance(s, list) for x in s]
        if (len(d["file_rows"]) != n or len(d["fingerprints"]) != n
                or not all(isinstance(x, str) for x in d["files"] + d["fingerprints"])
                or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in ints)
                or not all(isinstance(s, list) and len(s) == 2 for s in d["shards"])
                or not isinstance(d["mapping"].get("text"), str)
                or not all(isinstance(d["mapping"].get(k), (str, type(None))) for k in ("label", "id"))
                or not _config_ok(d["config"])):
            raise ValueError("not a plan")
        return cls(data=d["data"], files=tuple(d["files"]), file_rows=tuple(d["file_rows"]),
                   fingerprints=tuple(d["fingerprints"]), mapping=d["mapping"], config=d["config"],
                   shards=tuple(tuple(s) for s in d["shards"]), version=d["version"],
                   extra=d.get("extra") if isinstance(d.get("extra"), dict) else {})

    def same_settings(self, other: Plan) -> bool:
        """Same format and settings; the column options are left to ``mapping`` (what they resolved to), so
        naming the column that was guessed before is the same compute."""
        def settings(p: Plan) -> dict:
            return {k: v for k, v in p.config.items() if k not in COLUMN_OPTIONS}

        return (self.version, settings(self)) == (other.version, settings(other))

    def shard_inputs(self, i: int) -> list[tuple[str, str, int, int]]:
        """What shard ``i`` is computed from: (file, fingerprint, first row, end row) of each file it
        covers. A shard whose inputs and place are unchanged keeps its files on a rerun; any other is
        computed again."""
        start, stop = self.shards[i]
        got, offset = [], 0
        for f, n, fp in zip(self.files, self.file_rows, self.fingerprints, strict=True):
            lo, hi = max(start, offset), min(stop, offset + n)
            if lo < hi:
                got.append((f, fp, lo - offset, hi - offset))
            offset += n
        return got


# --------------------------------------------------------------------------- inputs


def make_plan(data: str, config: ComputeConfig, say: Say | None = None, *, known=None) -> Plan:
    """The plan for DATA under ``config``: files, rows, mapping, shards and each file's fingerprint
    (``known``: a :class:`~dq_core.signals.compute_inputs.FingerprintCache` that remembers them)."""
    import pyarrow.parquet as pq

    from dq_core.signals.compute_inputs import FingerprintCache

    files = list_parquet_files(data)
    counts = row_counts(files)
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
    known = known if known is not None else FingerprintCache(None)
    columns = mapping_columns(mapping.to_dict())
    return Plan(data=os.path.abspath(data), files=tuple(str(f.resolve()) for f in files),
                file_rows=tuple(counts), fingerprints=tuple(known.fingerprint(f, columns) for f in files),
                mapping=mapping.to_dict(), config=config_record(config), shards=shards)


def config_record(config: ComputeConfig) -> dict:
    """``config`` as a plan stores it, JSON-shaped (signals a list), so a plan read back from
    manifest.json compares equal to the one a rerun makes."""
    d = asdict(config)
    d["signals"] = list(d["signals"]) if d["signals"] is not None else None
    return d


def mapping_columns(mapping: dict) -> list[str]:
    """The columns a compute reads (and fingerprints) for ``mapping``."""
    return [c for c in dict.fromkeys([mapping["text"], mapping.get("label"), mapping.get("id")]) if c]


def shard_dataset(plan: Plan, start: int, stop: int) -> TextDataset:
    """Rows [start, stop) as a TextDataset whose row_ids are the global ones."""
    frame = read_rows(plan.files, plan.file_rows, start, stop, mapping_columns(plan.mapping))
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
    """Every part file of shard ``i`` is there (rows is written last; a part deleted since, say by hand, makes
    the shard pending again, so a resume recomputes it instead of failing on the missing file)."""
    return all((out / sub / part_name(i)).is_file() for sub in ("embeddings", "rows"))  # signals/: the global step


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


def load_manifest(out: str | Path) -> tuple[dict, Plan] | None:
    """``out``'s manifest and plan; None when it has no manifest.json; a DataError saying what to do when
    the file is not a manifest this version of dq compute wrote (not JSON, other JSON, other types)."""
    out = Path(out)
    p = out / MANIFEST
    if not p.is_file():
        if p.exists() or p.is_symlink():
            raise DataError(f"'{p}' is not a file: '{out}' is not a `dq compute` output folder, and nothing in it "
                            "was touched; run `dq compute` into a new or empty folder")
        return None
    try:
        manifest = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # UnicodeDecodeError is a ValueError
        manifest = None
    plan_d = manifest.get("plan") if isinstance(manifest, dict) else None
    if isinstance(plan_d, dict) and isinstance(plan_d.get("version"), int) and plan_d["version"] != COMPUTE_VERSION:
        raise DataError(f"'{out}' was written by another version of dq compute (format {plan_d['version']}, this one "
                        f"reads {COMPUTE_VERSION}); run dq compute into a new folder (or delete '{out}' to start over)")
    try:
        plan = Plan.from_dict(plan_d)
        summary = manifest.get("summary", {})
        if not isinstance(manifest.get("state"), str) or not isinstance(summary, dict) \
                or not all(isinstance(v, dict) for v in (summary.get("signals") or {}).values()):
            raise ValueError("not a manifest")
    except (ValueError, TypeError, AttributeError):
        raise DataError(f"'{p}' is not a `dq compute` manifest (not JSON, or not what dq compute writes): '{out}' "
                        "is not a `dq compute` output folder, and nothing in it was touched; run `dq compute` "
                        "into a new or empty folder") from None
    return manifest, plan


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
    got = load_manifest(out)
    if got is None:
        raise DataError(f"'{out}' has no {MANIFEST}; run dq compute first")
    plan = got[1]
    return pd.concat([pd.read_parquet(out / what / part_name(i)) for i in range(len(plan.shards))],
                     ignore_index=True)
