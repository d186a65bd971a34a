"""One machine, 1M rows: peak memory and wall time of load + profile, signals given embeddings, filter and
what-if, each step in a fresh subprocess.

Data are synthetic (generated once per size, cached under --data-dir): sentences of 5-60 words drawn with
Zipf frequencies from a 3,000-word vocabulary, 4 imbalanced classes (55/25/15/5 %), ~1 % exact duplicates,
~0.3 % empty and ~0.5 % junk rows, a topic column; 384-d float16 unit vectors from a Gaussian mixture (one
centre per class x topic) saved as .npy and opened with ``mmap_mode="r"``; a precomputed signals frame
(the columns the default recipe reads) so the filter step needs no embeddings; a 2,000-row reference.

Peak RSS is the child's own ``ru_maxrss`` from ``os.wait4`` (imports included); wall is the whole child
process (start-up and imports included) and ``step s`` the timed call alone.

    .venv/bin/python bench/bench_scale.py --rows 100000 1000000
    .venv/bin/python bench/bench_scale.py --rows 1000000 --steps profile filter   # a subset
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

CLASSES = ("negative", "neutral", "positive", "mixed")
CLASS_P = (0.55, 0.25, 0.15, 0.05)
N_TOPICS = 6
VOCAB = 3000
DIM = 384
REF_ROWS = 2_000
STEPS = ("profile", "signals_text", "signals", "filter", "whatif")
TEXT_SIGNALS = ("exact_duplicate", "junk", "pii")
HEADING = "## Scale: one machine, 1M rows"


# --------------------------------------------------------------------------- data

def _vocab() -> np.ndarray:
    syll = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "de", "gu", "ha", "jo", "be"]
    words = [a + b for a in syll for b in syll] + [a + b + c for a in syll for b in syll for c in syll]
    return np.random.default_rng(7).permutation(np.array(words, dtype=object))[:VOCAB]


def make_frame(n: int, seed: int):
    """The text frame (a pyarrow Table) and its class and topic codes."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng(seed)
    labels = rng.choice(len(CLASSES), size=n, p=CLASS_P)
    topics = rng.integers(0, N_TOPICS, size=n)
    lengths = rng.integers(5, 61, size=n)
    owner = np.repeat(np.arange(n), lengths)
    words = (rng.zipf(1.25, size=len(owner)) - 1) % VOCAB
    words = (words + 53 * labels[owner] + 211 * topics[owner] * (words > 20)) % VOCAB  # class/topic words
    tokens = pa.array(_vocab()[words], type=pa.string())
    offsets = pa.array(np.r_[0, np.cumsum(lengths)].astype(np.int32))
    texts = pc.binary_join(pa.ListArray.from_arrays(offsets, tokens), " ").to_numpy(zero_copy_only=False)
    texts = texts.astype(object)
    dup = np.flatnonzero(rng.random(n) < 0.01)
    texts[dup] = texts[rng.integers(0, n, size=len(dup))]
    empty = np.flatnonzero(rng.random(n) < 0.003)
    texts[empty] = ""
    junk = np.flatnonzero(rng.random(n) < 0.005)
    kinds = np.array(["!!!!", "http://example.com/x", "asdfghjkl", ":) :) :)", "a", "..."], dtype=object)
    texts[junk] = kinds[rng.integers(0, len(kinds), size=len(junk))]
    table = pa.table({"text": pa.array(texts, type=pa.string()),
                      "label": pa.array(np.array(CLASSES, dtype=object)[labels], type=pa.string()),
                      "topic": pa.array(np.array([f"t{i}" for i in range(N_TOPICS)], dtype=object)[topics]),
                      "confidence": np.round(rng.uniform(0.3, 1.0, n), 3)})
    return table, labels, topics


def write_embeddings(path: Path, labels: np.ndarray, topics: np.ndarray, seed: int, block: int = 100_000) -> None:
    """Unit float16 vectors around one centre per class x topic, written block by block to a .npy memmap."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(11).normal(size=(len(CLASSES) * N_TOPICS, DIM)).astype(np.float32)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=(len(labels), DIM))
    for s in range(0, len(labels), block):
        c = labels[s:s + block] * N_TOPICS + topics[s:s + block]
        x = centres[c] + 1.2 * rng.standard_normal((len(c), DIM), dtype=np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[s:s + block] = x.astype(np.float16)
    out.flush()
    del out


def make_signals_frame(table, labels: np.ndarray, seed: int):
    """What the default recipe reads, as the signals would write it (label, duplicates, conflicts, junk)."""
    import pandas as pd

    from dq_core.util.text import exact_duplicate_codes, first_row_of_group

    rng = np.random.default_rng(seed)
    n = table.num_rows
    texts = table.column("text").to_pandas()
    group = first_row_of_group(exact_duplicate_codes(texts))  # the exact_duplicate signal's ids
    is_label = rng.random(n) < 0.08
    shift = rng.integers(1, len(CLASSES), size=n)
    names = np.array(CLASSES, dtype=object)
    suggested = np.where(is_label, names[(labels + shift) % len(CLASSES)], names[labels])
    junk = (texts.str.len() < 5).to_numpy()
    conflict = np.where(group >= 0, rng.choice([0.1, 0.5], size=n, p=[0.2, 0.8]), 1.0)
    return pd.DataFrame({
        "row_id": np.arange(n, dtype=np.int64),
        "label_score": np.where(is_label, rng.uniform(0, 0.3, n), rng.uniform(0.3, 1, n)),
        "is_label_issue": is_label, "suggested_label": suggested,
        "suggested_label_prob": rng.uniform(0.3, 1.0, n),
        "exact_duplicate_score": np.where(group >= 0, 0.0, 1.0), "is_exact_duplicate_issue": group >= 0,
        "exact_duplicate_group": group,
        "conflicting_label_score": conflict, "is_conflicting_label_issue": conflict < 0.2,
        "junk_score": np.where(junk, 0.0, 1.0), "is_junk_issue": junk})


def ensure_data(data_dir: Path, n: int) -> Path:
    """Generate (once) the frame, embeddings, signals and reference for ``n`` rows; return its folder."""
    import pyarrow.parquet as pq

    d = data_dir / f"rows_{n}"
    if (d / "done").exists():
        return d
    d.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    table, labels, topics = make_frame(n, seed=1)
    pq.write_table(table, d / "data.parquet")
    write_embeddings(d / "emb.npy", labels, topics, seed=2)
    make_signals_frame(table, labels, seed=3).to_parquet(d / "signals.parquet", index=False)
    ref, rl, rt = make_frame(REF_ROWS, seed=4)
    pq.write_table(ref, d / "ref.parquet")
    write_embeddings(d / "ref_emb.npy", rl, rt, seed=5)
    (d / "done").write_text(f"{time.perf_counter() - t:.1f} s\n")
    print(f"generated {n:,} rows in {time.perf_counter() - t:.1f} s -> {d}", flush=True)
    return d


# --------------------------------------------------------------------------- steps (run in a child process)

class _Emb:
    def __init__(self, vectors: np.ndarray):
        self.vectors, self.valid = vectors, np.ones(len(vectors), dtype=bool)


WHATIF_K = 32
WHATIF_RADIUS = 0.6  # given, as the Coverage page holds it; it changes the coverage figures, not the cost


def ref_neighbours(index: np.ndarray, query: np.ndarray, k: int, block: int = 20_000):
    """Exact top-k dataset rows per reference row, scanning the (float16, memory-mapped) index in blocks
    so only ``block`` rows are ever float32 at once."""
    best_s = np.full((len(query), k), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(query), k), dtype=np.int64)
    for s in range(0, len(index), block):
        sims = query @ np.asarray(index[s:s + block], dtype=np.float32).T
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]  # the block's own top k first: small merges
        cand_s = np.concatenate([best_s, np.take_along_axis(sims, top, 1)], axis=1)
        cand_i = np.concatenate([best_i, top + s], axis=1)
        part = np.argpartition(-cand_s, k - 1, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(cand_s, part, 1), np.take_along_axis(cand_i, part, 1)
    order = np.argsort(-best_s, axis=1, kind="stable")
    return np.take_along_axis(best_i, order, 1), 1.0 - np.take_along_axis(best_s, order, 1)


def run_step(step: str, d: Path) -> dict:
    from dq_core.data.io import load_dataset

    out: dict = {}
    t = time.perf_counter()
    ds, _ = load_dataset(str(d / "data.parquet"), text_col="text", label_col="label")
    out["load_s"] = time.perf_counter() - t
    t = time.perf_counter()
    if step == "profile":
        from dq_core.metrics.profile import compute_profile

        prof = compute_profile(ds)
        out["detail"] = f"{len(ds):,} rows profiled"
        del prof
    elif step in ("signals", "signals_text"):
        from dq_core.signals import compute_signals, default_signals, get_signal

        sigs = default_signals() if step == "signals" else [get_signal(s) for s in TEXT_SIGNALS]
        ref, _ = load_dataset(str(d / "ref.parquet"), text_col="text", label_col="label")
        emb = np.load(d / "emb.npy", mmap_mode="r")
        rep = compute_signals(ds, sigs, embeddings=emb, reference=ref,
                              reference_embeddings=np.load(d / "ref_emb.npy", mmap_mode="r"), use_cache=False)
        out["detail"] = ", ".join(f"{k} {v:.0f}s" for k, v in rep.timings.items())
        out["skipped"] = rep.skipped
    elif step == "filter":
        import pandas as pd

        from dq_core.filtering import apply_recipe, default_recipe

        sig = pd.read_parquet(d / "signals.parquet")
        res = apply_recipe(ds, sig, default_recipe(), strict=False)
        out["detail"] = f"default recipe: {res.n_kept:,} kept, {res.n_relabelled:,} relabelled"
    elif step == "whatif":
        from dataclasses import replace

        import pandas as pd

        from dq_core.filtering import FilterInputs, FilterRecipe, apply_prepared, default_recipe
        from dq_core.filtering import whatif as wi

        ref, _ = load_dataset(str(d / "ref.parquet"), text_col="text", label_col="label")
        sig = pd.read_parquet(d / "signals.parquet")
        emb = np.load(d / "emb.npy", mmap_mode="r")
        ref_emb = np.load(d / "ref_emb.npy", mmap_mode="r")
        # Shared inputs the Coverage page caches (the reference's neighbours, the radius from the dataset's
        # self-graph): computed here by a bounded exact search, timed apart from the what-if itself.
        nn = ref_neighbours(emb, np.asarray(ref_emb, dtype=np.float32), WHATIF_K)
        out["ref_neighbours_s"] = time.perf_counter() - t
        t = time.perf_counter()
        ctx = wi.prepare_what_if(ds, ref, sig, ds_embeddings=_Emb(emb), ref_embeddings=_Emb(ref_emb),
                                 ref_neighbors=nn, config=wi.WhatIfConfig(
                                     n_clusters=24, radius=WHATIF_RADIUS, n_neighbors=WHATIF_K, metadata=("topic",)))
        out["prepare_s"] = time.perf_counter() - t
        inputs = FilterInputs(ds, sig).prepare()
        before = wi.figures_for(ctx, apply_prepared(inputs, default_recipe(), strict=False))
        t1 = time.perf_counter()
        base = default_recipe()  # the change: label rule threshold 0.2 -> 0.1
        changed = FilterRecipe(name="changed", signals=tuple(
            replace(r, threshold=0.1) if r.signal == "label" else r for r in base.signals))
        after = wi.figures_for(ctx, apply_prepared(inputs, changed, strict=False))
        delta = wi.what_if(before, after)
        out["change_s"] = time.perf_counter() - t1
        out["detail"] = (f"reference neighbours (exact, shared input) {out['ref_neighbours_s']:.0f}s, "
                         f"prepare {out['prepare_s']:.0f}s, one recipe change {out['change_s']:.2f}s "
                         f"({len(delta.table())} figures)")
    else:
        raise SystemExit(f"unknown step {step}")
    out["step_s"] = time.perf_counter() - t
    out["self_peak_gb"] = __import__("resource").getrusage(__import__("resource").RUSAGE_SELF).ru_maxrss / 2**20
    return out


def measure(step: str, d: Path, timeout: float, *, script: Path | None = None) -> dict:
    """Run ``step`` in a fresh process (``script --child step --data-dir d``, this file by default); its
    wall time and peak RSS (ru_maxrss of that child from wait4)."""
    cmd = [sys.executable, str((script or Path(__file__)).resolve()), "--child", step, "--data-dir", str(d)]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    timed_out = False
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - t > timeout:
            proc.kill()
            timed_out = True
        time.sleep(0.2)
    wall = time.perf_counter() - t
    text = proc.stdout.read() if proc.stdout else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    res = {"step": step, "wall_s": wall, "peak_gb": ru.ru_maxrss / 2**20, "rc": proc.returncode,
           "timed_out": timed_out}
    lines = [x for x in text.splitlines() if x.startswith("{")]
    if lines:
        res |= json.loads(lines[-1])
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--steps", nargs="+", default=list(STEPS), choices=STEPS)
    ap.add_argument("--data-dir", default="/tmp/dq_bench_scale")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per step before it is stopped")
    ap.add_argument("--child", choices=STEPS, help=argparse.SUPPRESS)
    ap.add_argument("--generate", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    if args.generate:
        ensure_data(Path(args.data_dir), args.generate)
        return
    if args.child:
        print(json.dumps(run_step(args.child, Path(args.data_dir))), flush=True)
        return
    from _common import load_avg, machine, write_subsection

    rows = []
    for n in args.rows:
        # generated in a child: Linux carries a process's RSS high-water mark across exec, so a parent that
        # held the data would lend its peak to every step's child
        d = Path(args.data_dir) / f"rows_{n}"
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--generate", str(n), "--data-dir",
                        args.data_dir], check=True, cwd=ROOT)
        for step in args.steps:
            before, start = load_avg(), f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}"
            r = measure(step, d, args.timeout)
            r |= {"rows": n, "load": before, "date": start}
            print(json.dumps(r), flush=True)
            rows.append(r)
    body = (f"- Machine: {machine()}\n"
            f"- Command: `.venv/bin/python bench/bench_scale.py --rows {' '.join(map(str, args.rows))} "
            f"--steps {' '.join(args.steps)}`\n\n" + table_of(rows) + "\n")
    print(body)
    if not args.no_write:
        title = f"Steps {', '.join(args.steps)} at {', '.join(f'{n:,}' for n in args.rows)} rows"
        print(f"written to {write_subsection(HEADING, INTRO, title, body)}")


def table_of(rows: list[dict]) -> str:
    table = ["| date (UTC) | load avg (1/5/15 min) | step | rows | wall s (process) | load s | step s | peak GB | notes |",
             "|---|---|---|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        ok = "TIMED OUT" if r["timed_out"] else ("" if r["rc"] == 0 else f"FAILED rc={r['rc']}")
        note = "; ".join(x for x in (ok, r.get("detail", "")) if x)
        table.append(f"| {r.get('date', '')} | {r['load']} | {r['step']} | {r['rows']:,} | {r['wall_s']:.1f} | "
                     f"{r.get('load_s', float('nan')):.1f} | {r.get('step_s', float('nan')):.1f} | "
                     f"{r['peak_gb']:.2f} | {note} |")
    return "\n".join(table)


INTRO = ("Each step in a fresh process on synthetic data (bench/bench_scale.py docstring): peak RSS from the "
         "child's `ru_maxrss`, wall time of the whole process (start-up and imports included) and of the "
         "timed call. The data load (`load_dataset` on the Parquet file) is part of every step.")


if __name__ == "__main__":
    main()
