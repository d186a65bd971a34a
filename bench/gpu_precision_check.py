"""On the GPU: is half precision faster for ``embed_texts`` end to end, warm?

The probe can choose bfloat16 (the model alone runs faster in it) while one cold bfloat16 ``embed_texts``
call measures far below float32's rate (0.41x on an H100: docs/benchmarks.md, "GPU"), because that call
also loads the bfloat16 model. Here each precision's model is loaded and warmed first, then float32, bfloat16 and float16
alternate over the same texts (rounds in rotating order), in this process and in a child with
TOKENIZERS_PARALLELISM=false (job workers), and the probe's own choice is printed next to them.

    python bench/gpu_precision_check.py [--n 0] [--rounds 3]     (--dry-run-cpu: float32 only, on the CPU)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_embed_pipeline import tweets  # noqa: E402


def warm_rates(texts: list[str], device: str, precisions: list[str], rounds: int) -> dict:
    import torch

    from dq_core.space import embed

    t_load = {}
    for p in precisions:
        t0 = time.perf_counter()
        embed.load_model(None, device, precision=p)
        t_load[p] = round(time.perf_counter() - t0, 2)
        embed.embed_texts(texts[:4096], use_cache=False, precision=p, device=device)  # warm-up
    rates = {p: [] for p in precisions}
    vecs = {}
    for r in range(rounds):
        order = precisions[r % len(precisions):] + precisions[:r % len(precisions)]
        for p in order:
            if device == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            out = embed.embed_texts(texts, use_cache=False, precision=p, device=device)
            if device == "cuda":
                torch.cuda.synchronize()
            rates[p].append(round(len(texts) / (time.perf_counter() - t0)))
            vecs[p] = out.vectors
    ref = vecs[precisions[0]]
    return {"n_texts": len(texts), "load_s": t_load, "texts_per_s": rates,
            "median": {p: statistics.median(v) for p, v in rates.items()},
            "ratio_to_float32": {p: round(statistics.median(v) / statistics.median(rates["float32"]), 3)
                                 for p, v in rates.items()},
            "cosine_min_to_float32": {p: float(np.einsum("ij,ij->i", vecs[p], ref).min()) for p in precisions},
            "tokenizers_parallelism": os.environ.get("TOKENIZERS_PARALLELISM", "(unset)")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dry-run-cpu", action="store_true")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", default=os.path.join(os.environ.get("OUT", "."), "gpu_precision_check.json"))
    args = ap.parse_args()
    device = "cpu" if args.dry_run_cpu else "cuda"
    precisions = ["float32"] if args.dry_run_cpu else ["float32", "bfloat16", "float16"]
    texts = tweets(args.n)
    res = warm_rates(texts, device, precisions, args.rounds)
    if args.child:
        print(json.dumps(res))
        return
    print("in process:", json.dumps(res, indent=1), flush=True)
    out = {"in_process": res}
    child = subprocess.run([sys.executable, __file__, "--child", "--n", str(args.n), "--rounds", str(args.rounds),
                            *(["--dry-run-cpu"] if args.dry_run_cpu else [])],
                           env={**os.environ, "TOKENIZERS_PARALLELISM": "false"}, capture_output=True, text=True)
    out["worker"] = json.loads(child.stdout.strip().splitlines()[-1]) if child.returncode == 0 else child.stderr[-3000:]
    print("worker-like child:", json.dumps(out["worker"], indent=1), flush=True)
    if not args.dry_run_cpu:
        from dq_core.space import precision_probe

        t0 = time.perf_counter()
        out["probe_choice"] = precision_probe.measure_embed_precision(None, "cuda")
        out["probe_s"] = round(time.perf_counter() - t0, 2)
        print("probe:", out["probe_choice"], out["probe_s"], "s", flush=True)
    Path(args.out).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
