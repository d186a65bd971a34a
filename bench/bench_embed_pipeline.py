"""Benchmark: dq_core's tokenise-once embedding pipeline against bare ``SentenceTransformer.encode``.

Both embed the same distinct tweets (default 3,000) in float32 with the same model object, in alternating
rounds (bare, dq, dq, bare, ...) so the machine's load hits both alike; the figure is the ratio of median
texts/s (dq / bare) plus the minimum cosine between the two sets of vectors. The same comparison runs again
in a child process with ``TOKENIZERS_PARALLELISM=false``, as the job workers set it.

Torch's thread count is pinned to the same value for both (``DQ_EMBED_THREADS``), so the ratio measures the
pipeline, not the thread tuner (which only helps on a busy CPU). Batch sizes: each side's default on the
device (``--bare-batch``/``--dq-batch`` to change).

    .venv/bin/python bench/bench_embed_pipeline.py [--n 3000] [--rounds 3] [--no-doc]

Results: docs/benchmarks.md, section "## Embeddings: embed_texts against bare encode" (CPU subsection), and
bench/results/issue14_embed_pipeline.json. bench/gpu_embed_check.py runs the same on CUDA.
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
HEADING = "## Embeddings: embed_texts against bare encode"
INTRO = ("`embed_texts` (tokenise once on background threads, count truncation from that tokenisation, "
         "length-sorted batches, the model's own forward + pooling) against bare `SentenceTransformer.encode` "
         "on the same texts, same model object, float32, alternating rounds; ratio = median texts/s dq / bare.")
RESULTS = ROOT / "bench" / "results" / "issue14_embed_pipeline.json"


def tweets(n: int) -> list[str]:
    from dq_core.data.io import load_demo

    ds, _ = load_demo("tweets")
    s = ds.texts.dropna()
    s = s[s.str.strip() != ""].drop_duplicates()
    return s.sample(min(n, len(s)), random_state=0).tolist() if n else s.tolist()


def compare(texts: list[str], *, rounds: int, device: str | None = None, bare_batch: int | None = None,
            dq_batch: int | None = None, threads: int | None = None) -> dict:
    """Median texts/s of bare encode and of embed_texts on ``texts``, alternating, and their ratio."""
    import torch

    from dq_core.space import embed, embed_model

    dev = device or embed_model.best_device()
    if threads:
        torch.set_num_threads(threads)
    os.environ["DQ_EMBED_THREADS"] = str(torch.get_num_threads())
    bare_batch = bare_batch or (32 if dev == "cpu" else 512)
    dq_batch = dq_batch or embed_model.default_batch_size(dev)
    m = embed.load_model(None, dev, precision="float32")

    def sync() -> None:
        if dev.startswith("cuda"):
            torch.cuda.synchronize()

    def bare() -> np.ndarray:
        return m.encode(texts, batch_size=bare_batch, normalize_embeddings=True, convert_to_numpy=True,
                        show_progress_bar=False)

    def dq() -> np.ndarray:
        return embed.embed_texts(texts, use_cache=False, precision="float32", device=dev, batch_size=dq_batch).vectors

    warm = texts[:256]
    m.encode(warm, batch_size=bare_batch)
    embed.embed_texts(warm, use_cache=False, precision="float32", device=dev, batch_size=dq_batch)
    rates: dict[str, list[float]] = {"bare": [], "dq": []}
    out: dict[str, np.ndarray] = {}
    for r in range(rounds):
        for name in (("bare", "dq") if r % 2 == 0 else ("dq", "bare")):
            sync()
            t0 = time.perf_counter()
            out[name] = bare() if name == "bare" else dq()
            sync()
            rates[name].append(len(texts) / (time.perf_counter() - t0))
    med = {k: float(np.median(v)) for k, v in rates.items()}
    cos = np.einsum("ij,ij->i", out["dq"], out["bare"])
    return {"n_texts": len(texts), "rounds": rounds, "device": dev, "bare_batch": bare_batch, "dq_batch": dq_batch,
            "torch_threads": torch.get_num_threads(), "texts_per_s": rates, "median_texts_per_s": med,
            "ratio_dq_vs_bare": med["dq"] / med["bare"], "cosine_min": float(cos.min()),
            "tokenizers_parallelism": os.environ.get("TOKENIZERS_PARALLELISM", "(unset)")}


def compare_in_worker(n: int, rounds: int, extra: list[str] | None = None) -> dict:
    """The same comparison in a child process that sets TOKENIZERS_PARALLELISM=false, as job workers do."""
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--n", str(n), "--rounds", str(rounds),
           *(extra or [])]
    res = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    if res.returncode != 0:
        raise RuntimeError(f"worker failed: {res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def _row(label: str, r: dict) -> str:
    med = r["median_texts_per_s"]
    return (f"| {label} | {r['device']} | {r['n_texts']:,} | {r['rounds']} | {med['bare']:,.0f} | {med['dq']:,.0f} | "
            f"**{r['ratio_dq_vs_bare']:.2f}x** | {r['cosine_min']:.6f} |")


def table(rows: list[tuple[str, dict]]) -> str:
    head = ("| where | device | texts | rounds | bare encode texts/s | embed_texts texts/s | ratio | min cosine |\n"
            "|---|---|---|---|---|---|---|---|")
    return "\n".join([head, *(_row(label, r) for label, r in rows)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bare-batch", type=int, default=None)
    ap.add_argument("--dq-batch", type=int, default=None)
    ap.add_argument("--threads", type=int, default=None, help="torch threads for both sides (default: torch's)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-doc", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = ap.parse_args()
    texts = tweets(args.n)
    kw = {"rounds": args.rounds, "bare_batch": args.bare_batch, "dq_batch": args.dq_batch, "threads": args.threads}
    if args.worker:
        print(json.dumps(compare(texts, **kw)))
        return
    from _common import load_avg, machine, write_subsection

    load_before = load_avg()
    started = dt.datetime.now(dt.UTC)
    in_process = compare(texts, **kw)
    extra = [f"--{k.replace('_', '-')}={v}" for k, v in kw.items() if k != "rounds" and v]
    worker = compare_in_worker(args.n, args.rounds, extra)
    rows = [("in process", in_process), ("job-worker-like subprocess, TOKENIZERS_PARALLELISM=false", worker)]
    load_after = load_avg()
    print(table(rows))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"in_process": in_process, "worker": worker, "machine": machine(),
                                   "load_before": load_before, "load_after": load_after,
                                   "date": started.isoformat(timespec="seconds")}, indent=1))
    if args.no_doc:
        return
    cmd = "`.venv/bin/python bench/bench_embed_pipeline.py" + (f" --n {args.n}" if args.n != 3000 else "") + \
          (f" --rounds {args.rounds}" if args.rounds != 3 else "") + \
          (f" --threads {args.threads}" if args.threads else "") + "`"
    body = (f"{started:%Y-%m-%d %H:%M} UTC; {machine()}; load average (1/5/15 min) {load_before} before, "
            f"{load_after} after; command {cmd}; torch threads pinned to {in_process['torch_threads']} for "
            f"both sides; batch: bare {in_process['bare_batch']}, dq {in_process['dq_batch']}.\n\n"
            f"{table(rows)}\n")
    write_subsection(HEADING, INTRO, "CPU (this machine)", body)


if __name__ == "__main__":
    main()
