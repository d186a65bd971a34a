"""Open a `dq compute` output folder as a dataset with its embeddings and signals, without recomputing.

The folder (see dq_core.signals.batch) holds manifest.json, embeddings/, rows/ and signals/ part files and
signals/report.json. :func:`check_compute_output` says what is wrong with a folder that is not one, is
unfinished (an interrupted compute) or no longer matches its inputs; :func:`open_compute_output` stores
the rows in a workspace as a dataset carrying the computed vectors (dq_core.space.given_store: its caches
are its own) and puts the signals in the signals cache under the key the Clean page and `dq filter` ask
for, so they are read, not computed again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dq_core.data.dataset import ColumnMapping, TextDataset, build_dataset
from dq_core.errors import DataError
from dq_core.signals.base import summarize
from dq_core.signals.batch import (
    MANIFEST,
    REPORT,
    Plan,
    gather_embeddings,
    load_manifest,
    part_name,
    read_rows,
)
from dq_core.signals.compute_folder import changed_input

RERUN = "run `dq compute` again with the same arguments and --out '{out}' (it resumes where it stopped)"
RECOMPUTE = ("run `dq compute` again with the same arguments and --out '{out}' (it computes the shards of the "
             "changed input again)")


@dataclass(frozen=True)
class ComputeOutput:
    folder: Path
    plan: Plan
    manifest: dict
    report: dict  # the global signals' summaries, infos, skipped, titles, columns

    @property
    def n_rows(self) -> int:
        return self.plan.n_rows

    @property
    def model(self) -> str:
        return self.plan.config.get("model") or "all-MiniLM-L6-v2, bundled"


def check_compute_output(folder: str | Path, *, inputs_under: Path | None = None) -> ComputeOutput:
    """The folder's plan and report after every check, or a DataError saying what is wrong and what to do.

    ``inputs_under``: the input files the manifest names must lie in this folder (the app's data folder).
    """
    out = Path(folder)
    if not out.is_dir():
        raise DataError(f"'{folder}' is not a folder; give the --out folder of a `dq compute` run")
    got = load_manifest(out)  # a manifest.json dq did not write is refused here, as `dq compute` refuses it
    if got is None:
        raise DataError(f"'{out.name}' has no {MANIFEST}: it is not a `dq compute` output folder "
                        "(run `dq compute DATA --out DIR` and open DIR)")
    manifest, plan = got
    rerun = RERUN.format(out=out)
    n = len(plan.shards)
    missing = {sub: [i for i in range(n) if not (out / sub / part_name(i)).is_file()]
               for sub in ("embeddings", "rows", "signals")}
    if manifest.get("state") != "done" or any(missing.values()):
        done = n - len(set(missing["embeddings"]) | set(missing["rows"]))
        raise DataError(f"'{out.name}' is an unfinished compute (state '{manifest.get('state', '?')}'; {done} of {n} "
                        f"shards embedded, signals written for {n - len(missing['signals'])}): {rerun}")
    if not (out / "signals" / REPORT).is_file():
        raise DataError(f"'{out.name}' has no signals/{REPORT} (written by an older dq compute): {rerun}; only the "
                        "final step runs again")
    try:
        report = json.loads((out / "signals" / REPORT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise DataError(f"'{out.name}/signals/{REPORT}' is damaged: {rerun}") from None
    _check_inputs(plan, out, inputs_under)
    return ComputeOutput(folder=out, plan=plan, manifest=manifest, report=report)


def _check_inputs(plan: Plan, out: Path, inputs_under: Path | None) -> None:
    import pyarrow.parquet as pq

    root = inputs_under.resolve() if inputs_under is not None else None
    for f, n in zip(plan.files, plan.file_rows, strict=True):
        p = Path(f)
        if root is not None and not p.resolve().is_relative_to(root):
            raise DataError(f"'{out.name}' was computed from '{p}', outside the data folder '{root}'; the "
                            "dashboard reads only files inside it: move the data and run dq compute there")
        if not p.is_file():
            raise DataError(f"'{out.name}' was computed from '{p}', which no longer exists; the texts are read "
                            "from the inputs: put the file back, or run dq compute on the data you have")
        try:
            rows = pq.ParquetFile(p).metadata.num_rows
        except Exception:  # noqa: BLE001 - pyarrow raises several types for a damaged file
            raise DataError(f"'{p.name}', an input of '{out.name}', is no longer a readable Parquet file") from None
        if rows != n:
            raise DataError(f"'{p.name}' now has {rows:,} rows but '{out.name}' was computed from {n:,}: the "
                            f"input changed since the compute; {RECOMPUTE.format(out=out)}")
    why = changed_input(plan, out)
    if why:
        raise DataError(f"{why}: the stored signals no longer describe its rows; {RECOMPUTE.format(out=out)}")


def read_dataset(co: ComputeOutput) -> TextDataset:
    """The computed rows as a labelled dataset (row_ids as the compute keyed them)."""
    m = ColumnMapping.from_dict(co.plan.mapping)
    if not m.label:
        raise DataError(f"'{co.folder.name}' was computed without a label column; the dashboard needs labels "
                        "(run dq compute with --label-col)")
    cols = [c for c in dict.fromkeys([m.text, m.label, m.id]) if c]
    frame = read_rows(co.plan.files, co.plan.file_rows, 0, co.n_rows, cols)
    return build_dataset(frame, m, name=co.folder.name, source=str(co.folder))


def read_signals(co: ComputeOutput, ds: TextDataset) -> pd.DataFrame:
    frame = pd.concat([pd.read_parquet(co.folder / "signals" / part_name(i)) for i in range(len(co.plan.shards))],
                      ignore_index=True)
    if len(frame) != len(ds) or not frame["row_id"].astype(str).equals(pd.Series(ds.row_ids).astype(str)):
        raise DataError(f"the signals in '{co.folder.name}' do not match its inputs' rows (other rows or order); "
                        "run dq compute again into a new folder")
    frame["row_id"] = ds.row_ids
    return frame


def report_meta(co: ComputeOutput, frame: pd.DataFrame) -> tuple[dict, list[str]]:
    """(the report record the signals cache holds, the signal keys in the frame): the global signals' own
    facts from signals/report.json; the row-local ones (junk, PII) counted from their flags."""
    from dq_core.signals.batch import _all_signal_keys
    from dq_core.signals.runner import parse_signal_spec

    rep = {k: dict(co.report.get(k) or {}) for k in ("summaries", "infos", "skipped", "titles", "columns", "timings")}
    keys = _all_signal_keys(co.plan)
    for key in keys:
        sig = parse_signal_spec(key)
        rep["titles"].setdefault(key, sig.title or sig.name)
        rep["columns"].setdefault(key, sig.column)
        issue = f"is_{sig.column}_issue"
        if key not in rep["summaries"] and key not in rep["skipped"] and issue in frame.columns:
            rep["summaries"][key] = summarize(frame[issue].to_numpy(bool))
    rep["agreement_hint"] = None
    return rep, keys


def open_compute_output(folder: str | Path, *, workspace, inputs_under: Path | None = None) -> TextDataset:
    """Store the compute's rows with its vectors and signals in ``workspace``; returns the dataset to activate."""
    from dq_core.signals.runner import DEFAULT_SIGNALS, WHY_MISSING, _cache_key, get_signal, parse_signal_spec
    from dq_core.space.embed_cache import EmbeddingResult
    from dq_core.space.given import attach_given

    co = check_compute_output(folder, inputs_under=inputs_under)
    plain = read_dataset(co)
    frame = read_signals(co, plain)
    vectors, valid = gather_embeddings(co.plan, co.folder)
    if vectors.shape[0] != len(plain):
        raise DataError(f"'{co.folder.name}' holds {vectors.shape[0]:,} vectors for {len(plain):,} rows: {RERUN}")
    emb = EmbeddingResult(vectors=vectors, valid=np.asarray(valid, bool), n_truncated=0, n_cached=len(plain),
                          n_computed=0, model_name=f"compute:{co.model}", max_seq_length=0)
    ds = attach_given(plain, workspace=workspace, embeddings=emb, source=co.folder.name, kind="compute")
    rep, keys = report_meta(co, frame)
    seed = int(co.plan.config.get("seed") or 0)
    entries = [([parse_signal_spec(k) for k in keys], rep)]
    if co.plan.config.get("signals") is None:
        # The default set, which the Clean page asks for first: what compute never runs (no reference, no
        # annotator columns) reads as skipped there, as when the page computes it.
        skipped = {**rep["skipped"], "leakage": WHY_MISSING["reference"],
                   "annotator_agreement": WHY_MISSING["annotators"]}
        entries.append(([get_signal(n) for n in DEFAULT_SIGNALS], {**rep, "skipped": skipped}))
    for sigs, meta in entries:
        key = _cache_key(ds, sigs, embeddings=None, model=None, reference=None, seed=seed)
        workspace.save_frame("signals", key, frame)
        workspace.save_json("signals", key, meta)
    workspace.save_dataset(ds)
    return ds
