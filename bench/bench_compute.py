"""`dq compute`: local against ray on the same Parquet rows, in one run (fresh output folders each).

    python bench/bench_compute.py --rows 2000 --shard-rows 500

The rows are the tweets demo's first N. Both backends embed with the bundled MiniLM on the CPU; ray runs
a local Ray (num_cpus = the machine's cores) with one actor per 2 cores, so on a 2-core machine there is
no parallel speed-up to expect: the ray row shows the engine's overhead (start-up, an actor loading the
model, shard hand-off), and on a cluster the figure that matters is rows/s per worker.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOTE = ("When the local row is far slower than ray, look at the load: on the shared 2-core machine (load ~6-9 "
        "from other processes) `embed_texts` with 2 torch threads measured 18-24 texts/s against 137-168 texts/s "
        "with `DQ_EMBED_THREADS=1` (2026-11-26); the Ray actor did not suffer that oversubscription.")
sys.path.insert(0, str(HERE.parent))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--shard-rows", type=int, default=500)
    ap.add_argument("--backends", default="local,ray")
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args()
    from _common import load_avg, machine, write_subsection

    from dq_core.data.io import load_demo
    from dq_core.signals.batch import ComputeConfig
    from dq_core.signals.batch_compute import compute

    tweets, _ = load_demo("tweets")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "rows.parquet"
        tweets.frame[["text", "label"]].iloc[:args.rows].to_parquet(src)
        os.environ["DQ_HOME"] = str(Path(tmp) / "home")
        for backend in args.backends.split(","):
            before = load_avg()
            t0 = time.perf_counter()
            s = compute(str(src), Path(tmp) / backend, ComputeConfig(shard_rows=args.shard_rows), backend=backend)
            wall = time.perf_counter() - t0
            results.append((backend, wall, s, before, load_avg()))
            print(f"{backend}: {wall:.1f} s (map {s['map_seconds']} s, global {s['global_seconds']} s)", flush=True)
            if backend == "ray":
                import ray

                ray.shutdown()
    lines = [f"- Date: {date.today().isoformat()}", f"- Machine: {machine()}",
             f"- Command: `.venv/bin/python bench/bench_compute.py --rows {args.rows} --shard-rows {args.shard_rows}`",
             f"- {args.rows:,} tweets in one Parquet file, {args.shard_rows:,}-row shards, bundled MiniLM on the "
             "CPU (bf16 where native), fresh output folder per backend; the ray row includes starting a local Ray",
             "",
             "| backend | wall s | map stage s (embed + junk/PII) | global stage s (graph, duplicates, labels) | "
             "rows/s | 1-min load before / after |",
             "|---|---|---|---|---|---|"]
    for backend, wall, s, b, a in results:
        lines.append(f"| {backend} | {wall:.1f} | {s['map_seconds']} | {s['global_seconds']} | "
                     f"{args.rows / wall:.0f} | {b.split()[0]} / {a.split()[0]} |")
    lines += ["", NOTE]
    if not args.no_doc:
        write_subsection("## Scale: approximate neighbours and dq compute", "Neighbours, your own vectors, and `dq compute`.",
                         "dq compute: local and ray on the same rows", "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
