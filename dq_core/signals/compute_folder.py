"""Which folder `dq compute` may write into, what a rerun keeps of it, and when its results still hold.

One home for the folder rules the command and the dashboard share (dq_core.signals.batch_compute and
dq_core.signals.compute_output call these):

- ``--out`` is a new or empty folder, or a `dq compute` output of these inputs (its manifest names the
  same DATA or the same files). A folder holding anything else, or a manifest.json dq did not write, is
  refused and left untouched, as `dq train` refuses a folder that is not a run.
- ``--out`` is not DATA's folder or inside it, holds no input file, and no part file it will hold matches
  DATA's glob: a rerun would read its own output as input.
- A rerun keeps a shard's files only while the shard covers the same rows of the same files with the
  same fingerprints (dq_core.signals.compute_inputs): a changed input computes its shards again. Other
  settings are refused; so are inputs whose columns now map differently (a changed schema), with what to do.
- Results are trusted (by the dashboard, by a rerun) only while every input has the fingerprint it was
  computed from.

:func:`prepare` checks everything and writes nothing; :func:`start` writes, once the engine is reached.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from dq_core.errors import DataError
from dq_core.signals.batch import (
    COLUMN_OPTIONS,
    MANIFEST,
    ComputeConfig,
    Plan,
    Say,
    list_parquet_files,
    load_manifest,
    make_plan,
    mapping_columns,
    part_name,
    shard_done,
    write_manifest,
)
from dq_core.signals.compute_inputs import FINGERPRINTS, FingerprintCache, file_stats

PART_DIRS = ("embeddings", "rows", "signals")  # rows/ first: a shard is done once its rows part exists
START_OVER = "use another --out folder (or delete '{out}' to start over)"


@dataclass
class Prepared:
    """A checked compute, nothing written yet: the plan, the folder and what the map stage has to do."""

    plan: Plan
    out: Path
    known: FingerprintCache
    redo: list[int]  # shards whose files, where any, are stale: removed before the run
    todo: list[int]  # shards the map stage computes


def _glob_reaches(pattern: str, path: Path) -> bool:
    """Whether glob ``pattern`` (recursive, as list_parquet_files reads it) would match ``path``."""
    pat, parts = Path(os.path.abspath(pattern)).parts, path.parts

    def match(i: int, j: int) -> bool:
        if i == len(pat):
            return j == len(parts)
        if pat[i] == "**":
            return any(match(i + 1, k) for k in range(j, len(parts) + 1))
        return j < len(parts) and fnmatch.fnmatchcase(parts[j], pat[i]) and match(i + 1, j + 1)

    return match(0, 0)


def check_out_place(out: Path, data: str, files: list[Path]) -> None:
    """``out`` must not be where DATA reads from: a rerun would take its part files for input rows."""
    o = out.resolve()
    spec = Path(data)
    if spec.is_dir() and (o == spec.resolve() or o.is_relative_to(spec.resolve())):
        raise DataError(f"--out '{out}' is inside the input folder '{data}': the next run would read its part "
                        f"files as input; choose an --out folder outside '{data}'")
    if not spec.exists() and any(_glob_reaches(data, base / sub / part_name(0))
                                 for base in {o, Path(os.path.abspath(out))} for sub in PART_DIRS):
        raise DataError(f"--out '{out}' is where the pattern '{data}' finds its files: the next run would read "
                        "its part files as input; choose an --out folder the pattern does not reach")
    for f in files:
        if f.resolve() == o:
            raise DataError(f"--out '{out}' is the input file itself; give a new folder for the output")
        if f.resolve().is_relative_to(o):
            raise DataError(f"--out '{out}' holds the input file '{f}'; choose an --out folder that holds no input")


def check_out_folder(out: Path) -> tuple[dict, Plan] | None:
    """The manifest and plan of the dq compute output ``out``; None for a new or empty folder; refused
    for anything else (a file, a folder of the user's, a manifest.json dq did not write)."""
    if out.is_symlink() and not out.exists():
        raise DataError(f"--out '{out}' is a broken symbolic link; choose another --out")
    if out.exists() and not out.is_dir():
        raise DataError(f"--out '{out}' is a file; give a folder")
    for name in (MANIFEST, FINGERPRINTS, *PART_DIRS):
        if (out / name).is_symlink():  # writing through it would write outside --out
            raise DataError(f"'{out / name}' is a symbolic link; dq compute writes only inside --out, and nothing "
                            "was touched: remove the link, or choose another --out")
    got = load_manifest(out)
    if got is None and out.is_dir() and any(out.iterdir()):
        raise DataError(f"--out '{out}' is a folder that is not empty and is not a dq compute output (no "
                        f"{MANIFEST}); nothing in it was touched: choose a new or empty folder")
    return got


def _has_results(out: Path) -> bool:
    return any((out / sub).is_dir() and any((out / sub).iterdir()) for sub in PART_DIRS)


def _check_rerun(prev: Plan, plan: Plan, out: Path, say: Say) -> bool:
    """Whether ``out``'s earlier compute ``prev`` may go on as ``plan`` (refused when it may not); False
    when it computed nothing yet and is simply started over with the new settings."""
    if prev.data != plan.data and prev.files != plan.files:
        raise DataError(f"'{out}' holds a dq compute of other inputs ('{prev.data}'); " + START_OVER.format(out=out))
    if prev.same_settings(plan) and prev.mapping == plan.mapping:
        return True
    if not _has_results(out):  # an earlier run stopped before any shard: nothing to keep or mix up
        say(f"note: '{out}' held a compute with other settings that finished no shard; starting it over")
        return False
    if not prev.same_settings(plan):
        changed = sorted(k for k in set(prev.config) | set(plan.config)
                         if prev.config.get(k) != plan.config.get(k) and k not in COLUMN_OPTIONS)
        raise DataError(f"'{out}' holds a compute of other inputs or settings ({', '.join(changed) or 'format'} "
                        "differ); rerun with its settings to resume it, or " + START_OVER.format(out=out))

    def cols(m: dict) -> str:
        return ", ".join(f"{k} '{m.get(k)}'" for k in ("text", "label", "id") if m.get(k)) or "none"

    raise DataError(f"the inputs' columns changed since '{out}' was computed: it read {cols(prev.mapping)}, now "
                    f"{cols(plan.mapping)} would be read; pass --text-col, --label-col and --id-col to read the "
                    "same columns, or " + START_OVER.format(out=out))


def prepare(data: str, out: str | Path, config: ComputeConfig, *, say: Say | None = None) -> Prepared:
    """Every check of a compute of DATA into ``out`` (writing nothing) and what it has to do."""
    say = say or (lambda _m: None)
    out = Path(out)
    config.validate()
    check_out_place(out, data, list_parquet_files(data))  # first: DATA's own folder would read as "not empty"
    got = check_out_folder(out)
    known = FingerprintCache(out if got is not None else None)
    plan = make_plan(data, config, say, known=known)
    everything = list(range(len(plan.shards)))
    if got is None or not _check_rerun(got[1], plan, out, say):
        stale = range(len(got[1].shards)) if got is not None else ()
        return Prepared(plan=plan, out=out, known=known, redo=list(stale), todo=everything)
    prev = got[1]
    keep = {i for i in everything if i < len(prev.shards) and prev.shards[i] == plan.shards[i]
            and prev.shard_inputs(i) == plan.shard_inputs(i)}
    redo = [i for i in range(max(len(prev.shards), len(plan.shards))) if i not in keep]
    if redo and keep != set(everything):
        say(f"note: inputs changed since the last run: {len([i for i in redo if i < len(plan.shards)])} of "
            f"{len(plan.shards)} shards are computed again")
    return Prepared(plan=plan, out=out, known=known, redo=redo,
                    todo=[i for i in everything if i not in keep or not shard_done(out, i)])


def start(prep: Prepared) -> None:
    """Write (once every check passed and the engine is reached): stale files removed first, so a crash
    never leaves them beside a manifest that vouches for them; then the manifest and the fingerprints."""
    out = prep.out
    for i in prep.redo:
        for sub in PART_DIRS:
            (out / sub / part_name(i)).unlink(missing_ok=True)
    if prep.redo:  # the global step's files describe every row: they go with any changed shard
        shutil.rmtree(out / "signals", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    write_manifest(out, prep.plan, state="running")
    for sub in PART_DIRS:
        (out / sub).mkdir(exist_ok=True)
    prep.known.entries = {f: prep.known.entries[f] for f in prep.plan.files if f in prep.known.entries}
    prep.known.path = out / FINGERPRINTS
    prep.known.save()


def check_inputs_held(prep: Prepared) -> None:
    """Refuse to call a compute done when an input was written to while it ran (its stats moved since it
    was fingerprinted): the next run fingerprints it again and recomputes what it feeds."""
    for f in prep.plan.files:
        entry = prep.known.entries.get(f) or {}
        try:
            same = file_stats(f) == entry.get("stats")
        except OSError:
            same = False
        if not same:
            raise DataError(f"'{f}' changed while dq compute read it; run the same command again when it no longer "
                            "changes (the shards it feeds are computed again)")


def changed_input(plan: Plan, out: Path) -> str | None:
    """Why the results in ``out`` no longer describe an input (its fingerprint is not the one ``plan`` was
    computed from), or None. Remembered fingerprints are read, never written: opening is read-only."""
    known = FingerprintCache(out)
    columns = mapping_columns(plan.mapping)
    for f, fp in zip(plan.files, plan.fingerprints, strict=True):
        try:
            now = known.fingerprint(f, columns)
        except (DataError, OSError) as exc:
            return f"'{Path(f).name}' can no longer be read as it was ({exc})"
        if now != fp:
            return (f"'{Path(f).name}' changed since '{out.name}' was computed (other texts, labels, ids or row "
                    "order)")
    return None
