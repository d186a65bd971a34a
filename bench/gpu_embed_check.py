"""GPU check of the embedding pipeline and the fine-tune probe (H100 figures: docs/benchmarks.md, "GPU").

Prints, for the distinct demo tweets (``--n 0``: all of them, 37,243):

1. ``embed_texts`` vs bare ``SentenceTransformer.encode`` (batch 512), float32, alternating rounds: the
   ratio in this process and in a child with ``TOKENIZERS_PARALLELISM=false`` (job workers). Goal >= 2x.
2. The limits the pipeline works against: the model alone on pre-tokenised length-sorted batches of
   1,024, and the fast tokenizer alone (one thread, TOKENIZERS_PARALLELISM=false), in texts/s.
3. The half-precision probe's choice for embeddings and the auto-precision ``embed_texts`` rate with its
   min cosine to float32; the fine-tune probe's choice (MiniLM, batch 32) with its timings.

    python bench/gpu_embed_check.py [--n 0] [--rounds 3] [--out FILE.json]

About 3 minutes on an H100 (fine-tune part included). Copy the printed tables into docs/benchmarks.md ("## GPU: embedding and
fine-tuning on an H100", written by hand) with the date, the GPU and the command.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_embed_pipeline import compare, compare_in_worker, table, tweets  # noqa: E402

DEVICE = "cuda"  # --dry-run-cpu switches it, to try the script here with tiny sizes before a GPU call


def sync() -> None:
    import torch

    if DEVICE == "cuda":
        torch.cuda.synchronize()


def model_and_tokenizer_limits(texts: list[str], batch: int = 1024) -> dict:
    import torch

    from dq_core.space import embed, embed_pipeline

    m = embed.load_model(None, DEVICE, precision="float32")
    limit = embed_pipeline.max_length(m)
    order = np.argsort([len(t) for t in texts], kind="stable")
    sorted_texts = [texts[i] for i in order]
    t0 = time.perf_counter()
    prep = embed_pipeline.prepare_chunk(m.tokenizer, sorted_texts, limit=limit, batch_size=batch, pin=DEVICE == "cuda")
    tok_rate = len(texts) / (time.perf_counter() - t0)
    dev = torch.device(DEVICE)
    for _, f in prep.batches[:2]:
        embed_pipeline.forward(m, f, dev)
    sync()
    t0 = time.perf_counter()
    for _, f in prep.batches:
        embed_pipeline.forward(m, f, dev)
    sync()
    return {"model_only_texts_per_s": len(texts) / (time.perf_counter() - t0),
            "tokenizer_only_texts_per_s (incl. padding to tensors)": tok_rate,
            "tokenizers_parallelism": os.environ.get("TOKENIZERS_PARALLELISM", "(unset)")}


def precision_checks(texts: list[str]) -> dict:
    import torch

    from dq_core.space import embed, precision_probe
    from dq_core.training.finetune import load_backbone
    from dq_core.training.precision import measure

    t0 = time.perf_counter()
    choice = precision_probe.measure_embed_precision(None, DEVICE)
    probe_s = time.perf_counter() - t0
    sample = texts[:20000]
    ref = embed.embed_texts(sample, use_cache=False, precision="float32", device=DEVICE)
    t0 = time.perf_counter()
    got = embed.embed_texts(sample, use_cache=False, precision=choice, device=DEVICE)
    rate = len(sample) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    embed.embed_texts(sample, use_cache=False, precision="float32", device=DEVICE)
    rate32 = len(sample) / (time.perf_counter() - t0)
    cos = np.einsum("ij,ij->i", got.vectors, ref.vectors)
    tok, net = load_backbone(None, ("a", "b", "c"), max_length=128)
    half = "bf16" if DEVICE != "cuda" or torch.cuda.is_bf16_supported() else "fp16"
    t0 = time.perf_counter()
    train_choice = measure(net, tok, texts[:4096], batch_size=32, max_length=128, half=half,
                           device=torch.device(DEVICE))
    return {"embed_probe_choice": choice, "embed_probe_s": probe_s, "embed_texts_per_s_chosen": rate,
            "embed_texts_per_s_fp32": rate32, "cosine_min_chosen_vs_fp32": float(cos.min()),
            "finetune_probe_choice (batch 32)": train_choice, "finetune_probe_s": time.perf_counter() - t0}


def finetune_ratio(rows: int, batch_size: int, pairs: int) -> dict:
    """dq_core's fine_tune (mixed precision "auto": the probe's choice) against a bare fp32 Trainer, same rows,
    alternating bare/dq and dq/bare; samples/s from the Trainer's own train_samples_per_second."""
    import statistics
    import tempfile

    from bench_training import bare_trainer_throughput, dq_throughput, tweets_sample

    train = tweets_sample(rows, seed=1)
    labels = sorted(train["label"].unique())
    kw = {"max_length": 64, "batch_size": batch_size, "lr": 1e-4}
    out = {"rows": rows, **kw, "bare": [], "dq": [], "pair_ratios": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(pairs):
            got = {}
            for which in (("bare", "dq") if i % 2 == 0 else ("dq", "bare")):
                fn = bare_trainer_throughput if which == "bare" else dq_throughput
                got[which] = fn(train, labels, work=Path(tmp) / f"{which}{i}", **kw)[0]
                out[which].append(round(got[which], 1))
                print(f"  fine-tune {which}: {got[which]:.0f} samples/s", flush=True)
            out["pair_ratios"].append(round(got["dq"] / got["bare"], 3))
    out["ratio"] = statistics.median(out["pair_ratios"])
    return out


def main() -> None:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=0, help="distinct tweets (0: all)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(os.environ.get("OUT", "."), "gpu_embed_check.json"))
    ap.add_argument("--train-rows", type=int, default=8000, help="fine-tune throughput rows (0: skip)")
    ap.add_argument("--train-batch", type=int, default=32)
    ap.add_argument("--dry-run-cpu", action="store_true", help="run every step on the CPU (to test the script)")
    args = ap.parse_args()
    global DEVICE
    if args.dry_run_cpu:
        DEVICE = "cpu"
    elif not torch.cuda.is_available():
        sys.exit("error: no CUDA device; this script measures the GPU path (bench/bench_embed_pipeline.py is the CPU one)")
    name = torch.cuda.get_device_name(0) if DEVICE == "cuda" else "cpu (dry run)"
    print(f"GPU: {name}, torch {torch.__version__}, CPUs {os.cpu_count()}", flush=True)
    texts = tweets(args.n)
    res: dict = {"gpu": name, "n_texts": len(texts)}
    res["in_process"] = compare(texts, rounds=args.rounds, device=DEVICE, bare_batch=512)
    res["worker"] = compare_in_worker(len(texts), args.rounds, ["--bare-batch=512"])
    print(table([("in process", res["in_process"]),
                 ("job-worker-like subprocess, TOKENIZERS_PARALLELISM=false", res["worker"])]), flush=True)
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    res["limits"] = model_and_tokenizer_limits(texts)
    print(json.dumps(res["limits"], indent=1), flush=True)
    res["precision"] = precision_checks(texts)
    print(json.dumps(res["precision"], indent=1), flush=True)
    Path(args.out).write_text(json.dumps(res, indent=1))
    if args.train_rows:
        res["finetune"] = finetune_ratio(args.train_rows, args.train_batch, pairs=2)
        print(json.dumps(res["finetune"], indent=1), flush=True)
    Path(args.out).write_text(json.dumps(res, indent=1))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
