"""Compare two snapshots written by snapshot.sh: are the CLI's outputs of two commits the same?

    python bench/outputs_check/compare.py BEFORE_DIR AFTER_DIR [--max-examples N]

Exit 0 when every output matches, 1 when something differs (the summary lists each difference), 2 on
usage errors.

What is compared (everything under each snapshot except the items in NOT COMPARED):
  * *.json and *.jsonl (every command's stdout, metrics.json, config.json, splits.json, status.json,
    history.jsonl, saved recipes, datasets-folder JSON, JSONL exports): recursively. Strings, ints, bools
    and nulls exactly; floats with relative tolerance REL_TOL (plus ABS_TOL around zero); an int that
    became a float (or back) is a difference; dict key ORDER is checked too (reported as "key order").
  * data files: CSV (read as raw strings: the cell text must match exactly, except numeric cells of
    columns that are not id/text/label columns, which may differ within REL_TOL), Parquet (schema
    and values), the Arrow file of a datasets folder, .npy / .npz (shape, dtype, values within REL_TOL).
    Columns named in KEY_COLUMNS (row ids, texts, labels) are compared exactly, never with a tolerance.
    Rows are matched by row id when the file has one: rows only in one side are listed by id.
  * text files (*.stderr.txt, log.txt, rc.tsv, .dq-run): line by line after NORMALISE_TEXT.

Path normalisation (not ignoring): in every string the snapshot's own folder (META.json "outdir") becomes
"<OUT>", the inputs folder ("inputs") "<IN>", the folder of snapshot.sh and its recipes ("check")
"<CHECK>" and the repository ("repo") "<REPO>", longest path first. So the two snapshots' different
folders do not count as differences, nor do the inputs and recipes when they lie inside one of the two
repositories (the default: .dq-outputs-check/inputs of the current checkout), while any other path
change still does.

IGNORED JSON KEYS (anywhere in a document), with the reason:
  timestamps : created_at, updated_at, started_at, finished_at, pid_start, timestamp, started, finished
  durations  : elapsed_seconds, eta_seconds, time (history.jsonl), seconds, duration, duration_s,
               wall_s, rate, texts_per_s and any key ending in _seconds / _duration
  process ids: pid
  versions   : dq_version, package versions (any key ending in _version, "__version__")
  run ids    : run_id
Of these, two snapshots of the same code differ only in: created_at, updated_at, started_at, finished_at,
pid, pid_start, elapsed_seconds, eta_seconds (status.json / config.json), time (history.jsonl),
duration_seconds, cpu_seconds, training.fit_seconds, training.embed_seconds (metrics.json), and log.txt's
clock stamps and pid. Every other value, floats included, matches bit for bit (checked with REL_TOL = 0
and nothing ignored), so the tolerance is a margin, not something the check relies on.
NOT COMPARED: META.json (commit, start time, paths: printed instead), timings.tsv (wall times), the
workspace home/ (caches keyed by fingerprints: internal, free to change), .lock files (empty lock files).
NORMALISE_TEXT: "[HH:MM:SS]" clock stamps and "pid N" in a run's log.txt; tqdm progress-bar fragments
("... it/s]", "... examples/s]") in stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

REL_TOL = 1e-9
ABS_TOL = 1e-12

IGNORE_KEYS = {
    "created_at", "updated_at", "started_at", "finished_at", "pid_start", "timestamp", "started", "finished",
    "elapsed_seconds", "eta_seconds", "time", "seconds", "duration", "duration_s", "wall_s", "rate",
    "texts_per_s", "pid", "dq_version", "__version__", "run_id",
}
IGNORE_KEY_PATTERNS = (re.compile(r".*_seconds$"), re.compile(r".*_duration$"), re.compile(r".*_version$"))
IGNORE_KEYS_BY_FILE: dict[str, set[str]] = {}  # e.g. {"state.json": {"_fingerprint"}} if it ever varies
NOT_COMPARED = {"META.json", "timings.tsv"}
NOT_COMPARED_DIRS = {"home"}
NOT_COMPARED_NAMES = {".lock"}
KEY_COLUMNS = {"row_id", "id", "ticket_id", "text", "message", "label", "category", "sentiment", "new_label",
               "new_text", "predicted", "action", "reasons", "suggested_label", "topic", "channel"}
ID_COLUMNS = ("row_id", "id", "ticket_id")
TEXT_SUFFIXES = {".txt", ".tsv", ".md", ".html"}


# --------------------------------------------------------------------------- helpers

class Report:
    def __init__(self, max_examples: int):
        self.max_examples = max_examples
        self.diffs: dict[str, list[str]] = defaultdict(list)
        self.counts: dict[str, int] = defaultdict(int)

    def add(self, file: str, msg: str) -> None:
        self.counts[file] += 1
        if len(self.diffs[file]) < self.max_examples:
            self.diffs[file].append(msg)

    @property
    def n(self) -> int:
        return sum(self.counts.values())


class Norm:
    """Replaces the snapshot's own folder, inputs, check folder and repository by placeholders in strings."""

    def __init__(self, meta: dict):
        pairs = []
        for key, tag in (("outdir", "<OUT>"), ("inputs", "<IN>"), ("check", "<CHECK>"), ("repo", "<REPO>")):
            v = meta.get(key)
            if v:
                pairs.append((v.rstrip("/"), tag))
        self.pairs = sorted(pairs, key=lambda p: -len(p[0]))  # longest first: OUT, IN and CHECK may lie in REPO

    def __call__(self, s: str) -> str:
        for old, new in self.pairs:
            s = s.replace(old, new)
        return s


def ignored(key: str, fname: str) -> bool:
    return key in IGNORE_KEYS or key in IGNORE_KEYS_BY_FILE.get(fname, set()) or \
        any(p.fullmatch(key) for p in IGNORE_KEY_PATTERNS)


def floats_close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= max(REL_TOL * max(abs(a), abs(b)), ABS_TOL)


def show_pair(x, y, n: int = 80) -> str:
    """``x -> y``; two long strings are cut around their first difference so it stays visible."""
    if isinstance(x, str) and isinstance(y, str) and (len(x) > n or len(y) > n):
        i = next((k for k, (p, q) in enumerate(zip(x, y, strict=False)) if p != q), min(len(x), len(y)))
        lo = max(0, i - 30)
        return (f"{'...' if lo else ''}{x[lo:lo + n]!r} -> {'...' if lo else ''}{y[lo:lo + n]!r} "
                f"(first difference at char {i})")
    return f"{short(x, n)} -> {short(y, n)}"


def short(v, n: int = 120) -> str:
    s = json.dumps(v, ensure_ascii=False, default=str) if not isinstance(v, str) else repr(v)
    return s if len(s) <= n else s[: n - 3] + "..."


# --------------------------------------------------------------------------- JSON

def cmp_json(a, b, path: str, rep: Report, file: str, na: Norm, nb: Norm, fname: str) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        ka = [k for k in a if not ignored(k, fname)]
        kb = [k for k in b if not ignored(k, fname)]
        for k in ka:
            if k not in b:
                rep.add(file, f"{path}.{k}: only in before ({short(a[k])})")
        for k in kb:
            if k not in a:
                rep.add(file, f"{path}.{k}: only in after ({short(b[k])})")
        common_a = [k for k in ka if k in b]
        common_b = [k for k in kb if k in a]
        if common_a != common_b:
            rep.add(file, f"{path}: key order {common_a} -> {common_b}")
        for k in common_a:
            cmp_json(a[k], b[k], f"{path}.{k}", rep, file, na, nb, fname)
        return
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            rep.add(file, f"{path}: list length {len(a)} -> {len(b)}")
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            cmp_json(x, y, f"{path}[{i}]", rep, file, na, nb, fname)
        return
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        if a is not b and a != b or type(a) is not type(b):
            rep.add(file, f"{path}: {short(a)} -> {short(b)}")
        return
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if type(a) is not type(b):
            rep.add(file, f"{path}: type {type(a).__name__} {short(a)} -> {type(b).__name__} {short(b)}")
        elif not floats_close(float(a), float(b)):
            rel = abs(a - b) / max(abs(a), abs(b), 1e-300)
            rep.add(file, f"{path}: {a!r} -> {b!r} (rel diff {rel:.3g})")
        return
    if isinstance(a, str) and isinstance(b, str):
        if na(a) != nb(b):
            rep.add(file, f"{path}: {show_pair(na(a), nb(b), 120)}")
        return
    if type(a) is not type(b):
        rep.add(file, f"{path}: type {type(a).__name__} {short(a)} -> {type(b).__name__} {short(b)}")
    elif a != b:
        rep.add(file, f"{path}: {short(a)} -> {short(b)}")


def load_json_any(p: Path):
    """Non-standard floats (NaN, Infinity) are allowed, as Python writes them."""
    text = p.read_text(encoding="utf-8")
    if p.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    if not text.strip():
        return None
    return json.loads(text)


def cmp_json_files(pa: Path, pb: Path, rep: Report, file: str, na: Norm, nb: Norm) -> None:
    try:
        a, b = load_json_any(pa), load_json_any(pb)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        ta, tb = pa.read_bytes(), pb.read_bytes()
        if ta != tb:
            rep.add(file, f"not JSON ({exc}); raw bytes differ")
        return
    if pa.suffix == ".jsonl" and any(isinstance(r, dict) and any(c in r for c in ID_COLUMNS)
                                     for r in a[:1] + b[:1]):
        # a data export: match records by row id so a dropped row is one difference, not a cascade
        cmp_records(a, b, rep, file, na, nb, pa.name)
        return
    cmp_json(a, b, "$", rep, file, na, nb, pa.name)


def cmp_records(a: list, b: list, rep: Report, file: str, na: Norm, nb: Norm, fname: str) -> None:
    idc = next((c for c in ID_COLUMNS if a and c in a[0] or b and c in b[0]), None)
    ids_a = [json.dumps(r.get(idc)) for r in a]
    ids_b = [json.dumps(r.get(idc)) for r in b]
    if ids_a == ids_b:
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            cmp_json(x, y, f"line {i + 1} ({idc}={ids_a[i]})", rep, file, na, nb, fname)
        return
    report_id_sets(ids_a, ids_b, rep, file, idc)
    by_b = {k: r for k, r in zip(ids_b, b, strict=False)}
    for k, r in zip(ids_a, a, strict=False):
        if k in by_b:
            cmp_json(r, by_b[k], f"{idc}={k}", rep, file, na, nb, fname)


def report_id_sets(ids_a: list, ids_b: list, rep: Report, file: str, idc: str) -> None:
    sa, sb = set(ids_a), set(ids_b)
    only_a = [i for i in ids_a if i not in sb]
    only_b = [i for i in ids_b if i not in sa]
    rep.add(file, f"rows {len(ids_a)} -> {len(ids_b)}")
    if only_a:
        rep.add(file, f"{len(only_a)} rows only in before ({idc}: {', '.join(map(str, only_a[:20]))}"
                      f"{' ...' if len(only_a) > 20 else ''})")
    if only_b:
        rep.add(file, f"{len(only_b)} rows only in after ({idc}: {', '.join(map(str, only_b[:20]))}"
                      f"{' ...' if len(only_b) > 20 else ''})")
    common_a = [i for i in ids_a if i in sb]
    common_b = [i for i in ids_b if i in sa]
    if common_a != common_b:
        rep.add(file, "the rows present in both are in a different order")
    if len(set(ids_a)) != len(ids_a) or len(set(ids_b)) != len(ids_b):
        rep.add(file, f"row ids ({idc}) are not unique; rows matched by the first occurrence")


# --------------------------------------------------------------------------- tables

def as_cell(v):
    """A scalar, list or array cell as a plain Python value for comparison."""
    if isinstance(v, np.ndarray):
        return [as_cell(x) for x in v.tolist()]
    if isinstance(v, (list, tuple)):
        return [as_cell(x) for x in v]
    if isinstance(v, dict):
        return {k: as_cell(x) for k, x in v.items()}
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return float("nan")
    return v


def cells_equal(x, y, exact: bool, na: Norm, nb: Norm) -> bool:
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(cells_equal(p, q, exact, na, nb) for p, q in zip(x, y, strict=False))
    if isinstance(x, str) and isinstance(y, str):
        if na(x) == nb(y):
            return True
        if exact:
            return False
        try:  # numeric text in a CSV: compare as numbers, within the tolerance
            fx, fy = float(x), float(y)
        except ValueError:
            return False
        return floats_close(fx, fy)
    if isinstance(x, bool) or isinstance(y, bool):
        return x is y or (type(x) is type(y) and x == y)
    if isinstance(x, float) and isinstance(y, float):
        if math.isnan(x) or math.isnan(y):
            return math.isnan(x) and math.isnan(y)
        return (x == y) if exact else floats_close(x, y)
    if isinstance(x, (int, float)) and isinstance(y, (int, float)):
        return type(x) is type(y) and x == y
    return type(x) is type(y) and x == y


def cmp_frames(fa: pd.DataFrame, fb: pd.DataFrame, rep: Report, file: str, na: Norm, nb: Norm,
               schema_a: str | None = None, schema_b: str | None = None) -> None:
    if list(fa.columns) != list(fb.columns):
        rep.add(file, f"columns {list(fa.columns)} -> {list(fb.columns)}")
    if schema_a is not None and schema_a != schema_b:
        rep.add(file, f"schema {schema_a} -> {schema_b}")
    idc = next((c for c in ID_COLUMNS if c in fa.columns and c in fb.columns), None)
    if idc is not None:
        ids_a = [json.dumps(as_cell(v), default=str) for v in fa[idc]]
        ids_b = [json.dumps(as_cell(v), default=str) for v in fb[idc]]
    else:
        ids_a = [str(i) for i in range(len(fa))]
        ids_b = [str(i) for i in range(len(fb))]
        idc = "position"
    if ids_a != ids_b:
        report_id_sets(ids_a, ids_b, rep, file, idc)
        pos_b = {}
        for i, k in enumerate(ids_b):
            pos_b.setdefault(k, i)
        seen = set()
        pairs = []
        for i, k in enumerate(ids_a):
            if k in pos_b and k not in seen:
                seen.add(k)
                pairs.append((i, pos_b[k]))
        ia = [p for p, _ in pairs]
        ib = [q for _, q in pairs]
        fa, fb = fa.iloc[ia].reset_index(drop=True), fb.iloc[ib].reset_index(drop=True)
        ids = [ids_a[i] for i in ia]
    else:
        ids = ids_a
    per_col: dict[str, int] = defaultdict(int)
    examples: list[str] = []
    for col in [c for c in fa.columns if c in fb.columns]:
        exact = col in KEY_COLUMNS
        va = [as_cell(v) for v in fa[col].tolist()]
        vb = [as_cell(v) for v in fb[col].tolist()]
        for i, (x, y) in enumerate(zip(va, vb, strict=False)):
            if not cells_equal(x, y, exact, na, nb):
                per_col[col] += 1
                if len(examples) < rep.max_examples:
                    examples.append(f"{idc}={ids[i]} {col}: {show_pair(x, y)}")
    for col, n in per_col.items():
        rep.add(file, f"column {col!r}: {n} cells differ{' (exact column)' if col in KEY_COLUMNS else ''}")
    for e in examples:
        rep.add(file, "  e.g. " + e)


def read_csv_raw(p: Path) -> pd.DataFrame:
    return pd.read_csv(p, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8")


def read_parquet(p: Path) -> tuple[pd.DataFrame, str]:
    import pyarrow.parquet as pq

    t = pq.read_table(p)
    schema = ", ".join(f"{f.name}: {f.type}" for f in t.schema)
    return t.to_pandas(), schema


def read_arrow(p: Path) -> tuple[pd.DataFrame, str]:
    import pyarrow as pa

    with pa.memory_map(str(p)) as src:
        try:
            t = pa.ipc.open_stream(src).read_all()
        except pa.ArrowInvalid:
            t = pa.ipc.open_file(src).read_all()
    schema = ", ".join(f"{f.name}: {f.type}" for f in t.schema)
    return t.to_pandas(), schema


def cmp_arrays(a: np.ndarray, b: np.ndarray, rep: Report, file: str, name: str = "") -> None:
    tag = f"{name}: " if name else ""
    if a.shape != b.shape or a.dtype != b.dtype:
        rep.add(file, f"{tag}shape/dtype {a.shape} {a.dtype} -> {b.shape} {b.dtype}")
        return
    if a.dtype.kind in "fc":
        same = np.isclose(a, b, rtol=REL_TOL, atol=ABS_TOL, equal_nan=True)
    else:
        same = a == b
    bad = int(np.size(same) - np.count_nonzero(same))
    if bad:
        msg = f"{tag}{bad} of {a.size} values differ"
        if a.dtype.kind in "fc":
            d = np.abs(a.astype(np.float64) - b.astype(np.float64))
            msg += f" (max abs diff {np.nanmax(d):.3g})"
            if a.ndim == 2:
                rows = np.flatnonzero(~same.all(axis=1))
                msg += f"; rows {rows[:20].tolist()}{' ...' if len(rows) > 20 else ''}"
        rep.add(file, msg)


# --------------------------------------------------------------------------- text

TQDM = re.compile(r"[^\r\n]*(?:it/s|s/it|examples/s)\][^\r\n]*")


def norm_text(s: str, name: str, norm: Norm) -> list[str]:
    s = norm(s)
    if name == "log.txt":
        s = re.sub(r"^\[\d\d:\d\d:\d\d\]", "[HH:MM:SS]", s, flags=re.MULTILINE)
        s = re.sub(r"\bpid \d+", "pid N", s)
    s = TQDM.sub("", s)
    return [line for line in s.replace("\r", "\n").split("\n") if line.strip()]


def cmp_text(pa: Path, pb: Path, rep: Report, file: str, na: Norm, nb: Norm) -> None:
    la = norm_text(pa.read_text(encoding="utf-8", errors="replace"), pa.name, na)
    lb = norm_text(pb.read_text(encoding="utf-8", errors="replace"), pb.name, nb)
    if la == lb:
        return
    import difflib

    for line in difflib.unified_diff(la, lb, "before", "after", n=0, lineterm=""):
        if line.startswith(("---", "+++", "@@")):
            continue
        rep.add(file, line)


# --------------------------------------------------------------------------- driver

def files_of(root: Path) -> dict[str, Path]:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if rel.parts[0] in NOT_COMPARED_DIRS or str(rel) in NOT_COMPARED or p.name in NOT_COMPARED_NAMES:
            continue
        if p.is_file():
            out[str(rel)] = p
    return out


def compare_file(rel: str, pa: Path, pb: Path, rep: Report, na: Norm, nb: Norm) -> None:
    suf = pa.suffix.lower()
    if suf in (".json", ".jsonl"):
        cmp_json_files(pa, pb, rep, rel, na, nb)
    elif suf == ".csv":
        cmp_frames(read_csv_raw(pa), read_csv_raw(pb), rep, rel, na, nb)
    elif suf == ".parquet":
        (fa, sa), (fb, sb) = read_parquet(pa), read_parquet(pb)
        cmp_frames(fa, fb, rep, rel, na, nb, sa, sb)
    elif suf == ".arrow":
        (fa, sa), (fb, sb) = read_arrow(pa), read_arrow(pb)
        cmp_frames(fa, fb, rep, rel, na, nb, sa, sb)
    elif suf == ".npy":
        cmp_arrays(np.load(pa, allow_pickle=False), np.load(pb, allow_pickle=False), rep, rel)
    elif suf == ".npz":
        with np.load(pa, allow_pickle=False) as za, np.load(pb, allow_pickle=False) as zb:
            if sorted(za.files) != sorted(zb.files):
                rep.add(rel, f"arrays {sorted(za.files)} -> {sorted(zb.files)}")
            for k in sorted(set(za.files) & set(zb.files)):
                cmp_arrays(za[k], zb[k], rep, rel, k)
    elif suf in TEXT_SUFFIXES or pa.name.startswith("."):
        cmp_text(pa, pb, rep, rel, na, nb)
    elif pa.read_bytes() != pb.read_bytes():
        rep.add(rel, "bytes differ (no structured comparison for this file type)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--max-examples", type=int, default=12, help="differences printed per file (default 12)")
    args = ap.parse_args(argv)
    for d in (args.before, args.after):
        if not (d / "META.json").is_file():
            print(f"error: {d} is not a snapshot (no META.json)", file=sys.stderr)
            return 2
    ma = json.loads((args.before / "META.json").read_text())
    mb = json.loads((args.after / "META.json").read_text())
    na, nb = Norm(ma), Norm(mb)
    print(f"before: {args.before}  (repo {ma.get('repo')} @ {ma.get('commit', '')[:10]}"
          f"{' +uncommitted changes' if ma.get('dirty') else ''}, {ma.get('started')})")
    print(f"after:  {args.after}  (repo {mb.get('repo')} @ {mb.get('commit', '')[:10]}"
          f"{' +uncommitted changes' if mb.get('dirty') else ''}, {mb.get('started')})")

    fa, fb = files_of(args.before), files_of(args.after)
    rep = Report(args.max_examples)
    only_a = sorted(set(fa) - set(fb))
    only_b = sorted(set(fb) - set(fa))
    for r in only_a:
        rep.add(r, "file only in before")
    for r in only_b:
        rep.add(r, "file only in after")
    common = sorted(set(fa) & set(fb))
    for rel in common:
        try:
            compare_file(rel, fa[rel], fb[rel], rep, na, nb)
        except Exception as exc:  # noqa: BLE001 - one unreadable file must not hide the others
            rep.add(rel, f"could not compare: {type(exc).__name__}: {exc}")

    rc_a = {}
    rc_path = args.before / "rc.tsv"
    if rc_path.is_file():
        rc_a = dict(line.split("\t") for line in rc_path.read_text().splitlines()[1:] if "\t" in line)
    failed = [k for k, v in rc_a.items() if v.strip() != "0"]
    if failed:
        print(f"warning: steps that failed in before: {failed}")

    print(f"\ncompared {len(common)} files ({len(only_a)} only in before, {len(only_b)} only in after)")
    if not rep.n:
        print("IDENTICAL: every compared output matches (floats within rel 1e-9)")
        return 0
    print(f"DIFFERENT: {rep.n} differences in {len(rep.counts)} files\n")
    for f in sorted(rep.counts):
        print(f"== {f}  ({rep.counts[f]} difference{'s' if rep.counts[f] != 1 else ''})")
        for m in rep.diffs[f]:
            print(f"   {m}")
        if rep.counts[f] > len(rep.diffs[f]):
            print(f"   ... {rep.counts[f] - len(rep.diffs[f])} more (raise --max-examples)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
