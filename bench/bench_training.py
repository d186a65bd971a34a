"""Benchmark: fine-tune throughput, the demo's default runs, and what filtering wins back.

    .venv/bin/python bench/bench_training.py [--part all|throughput|demo|noise|noise-uncapped|label-variants|agreed]
                                             [--seeds 0 1 2] [--no-write] [--render-only]

1. throughput: fine-tuning MiniLM through dq_core (fine_tune + the run-directory progress callback) against a
   bare ``transformers.Trainer`` on the same rows, same settings, in the same process, interleaved
   bare/dq/dq/bare so drift in machine load hits both. Target: dq_core >= 0.95x bare.
2. demo: the default transformer settings on the tweets demo through a real worker process
   (``dq_core.training.jobs``), submit to finished (target < 3 minutes); the baseline with the defaults, cold
   (empty embedding cache) and warm (embeddings cached, as after the dashboard's other pages) (target: seconds).
3. noise: 20% injected label noise on the tweets, over several seeds; test accuracy / macro-F1 trained on
   clean, noisy, and noisy filtered with the default FilterRecipe, for the baseline and a 1-epoch fine-tune
   (max length 64, ~3,000 training rows); "won back" = (filtered - noisy) / (clean - noisy).
   noise-uncapped adds the baseline on every row (its Train-page default); label-variants re-runs the
   3,000-row baseline with the default recipe's label rule swapped.
4. agreed: the tweets as they are, tested on rows the crowd agreed on (confidence = 1): every row vs the
   default recipe vs a crowd-agreement recipe, with paired bootstrap intervals.

Results are kept in bench/results/issue7_training.json (so parts can be re-run alone) and written to
docs/benchmarks.md under "## Training: fine-tune speed and what the default recipe wins back" (that section only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from _common import load_avg, machine, write_section

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HEADING = "## Training: fine-tune speed and what the default recipe wins back"
RESULTS = ROOT / "bench" / "results" / "issue7_training.json"
# Embeddings and signals of the noise/agreed experiments are cached here across runs (not in the repo).
CACHE_WS = Path(tempfile.gettempdir()) / "dq_bench_issue7_ws"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")




def tweets_sample(n: int, seed: int = 0):
    import numpy as np

    from dq_core.data.io import load_demo
    from dq_core.util.sampling import stratified_sample

    ds, _ = load_demo("tweets")
    f = ds.frame[ds.frame["label"].notna()].reset_index(drop=True)
    pos = stratified_sample(f["label"].to_numpy(), n, np.random.default_rng(seed))
    return f.iloc[pos][["row_id", "text", "label"]].reset_index(drop=True)


# --------------------------------------------------------------------------- 1. throughput

def cpu_clock():
    """A callback timing the training loop in process CPU seconds (less sensitive to other jobs' load)."""
    from transformers import TrainerCallback

    class CpuClock(TrainerCallback):
        def on_train_begin(self, args, state, control, **kw):
            self.t0 = time.process_time()

        def on_train_end(self, args, state, control, **kw):
            self.seconds = time.process_time() - self.t0

    return CpuClock()


def bare_trainer_throughput(train, labels, *, max_length: int, batch_size: int, lr: float,
                            work: Path) -> tuple[float, float]:
    """What a user would write with transformers alone: tokenise, dynamic padding, Trainer.train()."""
    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
    )

    from dq_core.data.assets import default_model_path

    path = str(default_model_path())
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=len(labels), dtype=torch.float32)
    index = {lab: i for i, lab in enumerate(labels)}
    enc = tok(train["text"].tolist(), truncation=True, max_length=max_length)
    rows = [{"input_ids": enc["input_ids"][i], "attention_mask": enc["attention_mask"][i],
             "token_type_ids": enc["token_type_ids"][i], "labels": index[lab]}
            for i, lab in enumerate(train["label"])]
    args = TrainingArguments(output_dir=str(work), per_device_train_batch_size=batch_size, num_train_epochs=1,
                             learning_rate=lr, weight_decay=0.01, warmup_steps=0.1, seed=0, report_to="none",
                             save_strategy="no", logging_steps=max(1, len(rows) // batch_size // 100),
                             disable_tqdm=True, dataloader_pin_memory=False)
    clock = cpu_clock()
    trainer = Trainer(model=model, args=args, train_dataset=rows, data_collator=DataCollatorWithPadding(tok),
                      processing_class=tok, callbacks=[clock])
    out = trainer.train()
    return float(out.metrics["train_samples_per_second"]), len(rows) / clock.seconds


def dq_throughput(train, labels, *, max_length: int, batch_size: int, lr: float, work: Path) -> tuple[float, float]:
    """The same rows through dq_core: fine_tune with the callback writing status/history to a run dir."""
    from dq_core.training import jobs
    from dq_core.training.config import TrainConfig
    from dq_core.training.finetune import fine_tune
    from dq_core.training.worker import RunReporter

    run_dir = jobs.create_run({"name": "bench", "train": {}, "data": {}}, work / "run")
    cfg = TrainConfig(trainer="transformer", max_length=max_length, batch_size=batch_size, learning_rate=lr)
    clock = cpu_clock()
    res = fine_tune(train, train.iloc[:0], tuple(labels), cfg, work_dir=work / "ckpt",
                    reporter=RunReporter(run_dir, log_stream=open(os.devnull, "w")),  # noqa: SIM115
                    extra_callbacks=[clock])
    assert len(jobs.read_history(run_dir)) > 0  # the callback really ran
    return float(res.train_metrics["train_samples_per_second"]), len(train) / clock.seconds


def part_throughput(rows: int, threads: int = 0, pairs: int = 2) -> dict:
    """Alternate bare/dq and dq/bare ``pairs`` times; each adjacent pair ran under about the same load,
    so the median of the pair ratios is robust to other jobs starting or stopping mid-benchmark."""
    import statistics

    import torch

    if threads:
        torch.set_num_threads(threads)
    train = tweets_sample(rows, seed=1)
    labels = sorted(train["label"].unique())
    kw = {"max_length": 64, "batch_size": 16, "lr": 1e-4}
    out = {"rows": rows, **kw, "threads": torch.get_num_threads(), "bare": [], "dq": [], "bare_cpu": [],
           "dq_cpu": [], "pair_ratios": [], "pair_ratios_cpu": [], "load_before": load_avg()}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(pairs):
            order = ("bare", "dq") if i % 2 == 0 else ("dq", "bare")
            got = {}
            for which in order:
                fn = bare_trainer_throughput if which == "bare" else dq_throughput
                sps, per_cpu = fn(train, labels, work=Path(tmp) / f"{which}{i}", **kw)
                got[which] = (sps, per_cpu)
                out[which].append(round(sps, 2))
                out[f"{which}_cpu"].append(round(per_cpu, 2))
                print(f"  throughput {which}: {sps:.1f} samples/s wall, {per_cpu:.1f} samples per CPU-second",
                      flush=True)
            out["pair_ratios"].append(round(got["dq"][0] / got["bare"][0], 3))
            out["pair_ratios_cpu"].append(round(got["dq"][1] / got["bare"][1], 3))
    out["ratio"] = round(statistics.median(out["pair_ratios"]), 3)
    out["ratio_cpu"] = round(statistics.median(out["pair_ratios_cpu"]), 3)
    out["load_after"] = load_avg()
    return out


# --------------------------------------------------------------------------- 2. demo defaults

def _timed_job(config: dict, runs_dir: Path) -> tuple[float, dict, dict]:
    from dq_core.training import jobs

    t0 = time.monotonic()
    run = jobs.submit(config, runs_dir=runs_dir)
    st = jobs.wait(run, timeout=3600, poll=0.5)
    wall = time.monotonic() - t0
    if st["state"] != "succeeded":
        raise RuntimeError(f"{run} {st['state']}: {st.get('error')}\n{jobs.log_tail(run)}")
    return wall, st, jobs.read_metrics(run)


def part_demo(worker_threads: int = 0) -> dict:
    from dq_core.data.io import load_demo
    from dq_core.data.workspace import Workspace
    from dq_core.training.config import TrainConfig
    from dq_core.training.runner import data_spec

    ds, _ = load_demo("tweets")
    if worker_threads:
        os.environ["DQ_TORCH_THREADS"] = str(worker_threads)  # inherited by the worker processes
    out = {"load_before": load_avg(), "worker_threads": worker_threads or "default"}
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp) / "ws")
        data = data_spec(ds, ws=ws)
        cfg = TrainConfig(trainer="transformer", name="demo default transformer")
        wall, _, m = _timed_job({"name": cfg.name, "train": cfg.to_dict(), "data": data}, ws.runs_dir())
        out["transformer"] = {"wall_seconds": round(wall, 1), "accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
                              "n_train": m["split"]["n_train"], "n_val": m["split"]["n_val"], "n_test": m["n_test"],
                              "train_samples_per_second": m["training"].get("train_samples_per_second"),
                              "train_runtime": m["training"].get("train_runtime"), "cpu_seconds": m.get("cpu_seconds")}
        print(f"  demo transformer: {wall:.1f}s, acc {m['accuracy']:.3f}", flush=True)
        for phase in ("cold", "warm"):
            cfg = TrainConfig(trainer="baseline", name=f"demo baseline ({phase})")
            wall, _, m = _timed_job({"name": cfg.name, "train": cfg.to_dict(), "data": data}, ws.runs_dir())
            out[f"baseline_{phase}"] = {"wall_seconds": round(wall, 1), "accuracy": m["accuracy"],
                                        "macro_f1": m["macro_f1"], "n_train": m["split"]["n_train"],
                                        "embed_seconds": m["training"]["embed_seconds"],
                                        "fit_seconds": m["training"]["fit_seconds"], "cpu_seconds": m.get("cpu_seconds")}
            print(f"  demo baseline {phase}: {wall:.1f}s, acc {m['accuracy']:.3f}", flush=True)
    out["load_after"] = load_avg()
    return out


# --------------------------------------------------------------------------- 3-4. filtering experiments

def _train(cfg, ds, test, ws, run_dir, keep_mask=None, relabel=None) -> dict:
    from dq_core.training.runner import run_training

    m = run_training(cfg, run_dir, ds=ds, ws=ws, external_test=test, keep_mask=keep_mask, relabel=relabel)
    return {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "n_train": m["split"]["n_train"]}


def _tweets(sample: int | None):
    """The tweets demo, or a stratified sample of it (a quick check of the experiment's code path)."""
    import numpy as np

    from dq_core.data.io import load_demo
    from dq_core.util.sampling import stratified_sample

    full, _ = load_demo("tweets")
    if sample and sample < len(full):
        keep = np.zeros(len(full), dtype=bool)
        keep[stratified_sample(full.frame["label"].fillna("").to_numpy(), sample, np.random.default_rng(0))] = True
        full = full.subset(keep, name=f"demo:tweets (sample {sample})")
    return full


# (result key, trainer, training-row cap): the setting (~3,000 training rows for both), and the
# baseline as the Train page runs it by default, on every row the recipe leaves (0 = no cap).
NOISE_ARMS = (("baseline", "baseline", 3000), ("transformer", "transformer", 3000))
NOISE_ARMS_UNCAPPED = (("baseline_all_rows", "baseline", 0),)


def _noise_one(full, test, clean, ws, tmp: Path, noise: float, seed: int, arms=NOISE_ARMS) -> dict:
    """One repeat: flip ``noise`` of the training labels (seed), apply the default recipe, train 3 runs per arm."""
    import numpy as np

    from dq_core.training.config import TrainConfig
    from dq_core.training.recipe import apply_recipe

    rng = np.random.default_rng(seed)
    labels = np.array(clean.classes)
    y = clean.labels.to_numpy(dtype=object).copy()
    flip = rng.random(len(y)) < noise
    y[flip] = [rng.choice(labels[labels != v]) for v in y[flip]]
    noisy = clean.with_labels(y, name=f"train ({noise:.0%} noise, seed {seed})")
    out: dict = {"seed": seed, "n_flipped": int(flip.sum())}
    rec = apply_recipe(noisy, "default", ws=ws)
    out["recipe"] = rec.description
    out["kept_share"] = float(rec.keep_mask.mean())
    removed = ~rec.keep_mask
    out["recipe_precision"] = float(flip[removed].mean()) if removed.any() else None
    out["recipe_recall"] = float(removed[flip].mean()) if flip.any() else None
    for key, trainer, cap in arms:
        cfg = TrainConfig(trainer=trainer, max_train_rows=cap, max_length=64, epochs=1, test_source="external",
                          seed=seed)
        res = {"clean": _train(cfg, clean, test, ws, tmp / f"{key}_{seed}_clean"),
               "noisy": _train(cfg, noisy, test, ws, tmp / f"{key}_{seed}_noisy"),
               "filtered": _train(cfg, noisy, test, ws, tmp / f"{key}_{seed}_filtered",
                                  keep_mask=rec.keep_mask, relabel=rec.relabel)}
        out[key] = res
        print(f"  noise seed {seed} {key}: {res}", flush=True)
    return out


def _won_back(runs: list[dict], trainer: str, metric: str) -> float | None:
    """(filtered - noisy) / (clean - noisy) on the means over the repeats: one ratio of averages, because
    a single repeat's noise cost can be a point or less and its ratio then swings wildly."""
    import numpy as np

    mean = {k: float(np.mean([r[trainer][k][metric] for r in runs])) for k in ("clean", "noisy", "filtered")}
    cost = mean["clean"] - mean["noisy"]
    return (mean["filtered"] - mean["noisy"]) / cost if cost > 0 else None


def part_noise(noise: float = 0.2, seeds: tuple[int, ...] = (0, 1, 2), sample: int | None = None,
               arms=NOISE_ARMS, into: dict | None = None) -> dict:
    """The noise experiment for ``arms``; with ``into`` (an earlier result) the arms are added to it."""
    import numpy as np

    from dq_core.data.workspace import Workspace
    from dq_core.training.splits import holdout_row_ids

    full = _tweets(sample)
    out: dict = {"noise": noise, "n_rows": len(full), "seeds": list(seeds)}
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(CACHE_WS)
        test_ids = set(holdout_row_ids(full, ws=ws, fraction=0.2, max_rows=2000))
        is_test = full.frame["row_id"].astype(str).isin(test_ids).to_numpy()
        test = full.subset(is_test, name="test")
        clean = full.subset(~is_test & full.frame["label"].notna().to_numpy(), name="train (clean)")
        runs = [_noise_one(full, test, clean, ws, Path(tmp), noise, s, arms) for s in seeds]
    if into:  # merge the new arms into the earlier repeats (same seeds, so the same noise and recipe)
        assert into.get("seeds") == list(seeds), "add arms with the seeds of the earlier result"
        for old, new in zip(into["runs"], runs, strict=True):
            old.update({key: new[key] for key, _, _ in arms}, kept_share=new["kept_share"])
        runs, out = into["runs"], into
    out["runs"] = runs
    for trainer, _, _ in arms:
        out[trainer] = {k: {m: float(np.mean([r[trainer][k][m] for r in runs])) for m in ("accuracy", "macro_f1")}
                        for k in ("clean", "noisy", "filtered")}
        for metric in ("accuracy", "macro_f1"):
            out[trainer][f"won_back_{metric}"] = _won_back(runs, trainer, metric)
            out[trainer][f"won_back_{metric}_per_seed"] = [_won_back([r], trainer, metric) for r in runs]
    for k in ("n_flipped", "recipe_precision", "recipe_recall"):
        out[k] = float(np.mean([r[k] for r in runs]))
    out["recipe"] = runs[0]["recipe"]
    return out


def part_noise_uncapped(seeds: tuple[int, ...], res: dict) -> dict:
    return part_noise(seeds=seeds, arms=NOISE_ARMS_UNCAPPED, into=res.get("noise"))


def _label_rule_variants() -> dict:
    """The default recipe with its label rule swapped: how much does that rule matter for the baseline?"""
    from dataclasses import replace

    from dq_core.filtering import SignalRule, default_recipe

    base = default_recipe()

    def with_label(rule):
        return replace(base, signals=tuple(rule if s.signal == "label" else s for s in base.signals))

    return {"default (relabel_or_drop, p >= 0.7)": base,
            "relabel_or_drop, p >= 0.5": with_label(SignalRule("label", action="relabel_or_drop", min_prob=0.5,
                                                               required=False)),
            "relabel_or_drop, p >= 0.9": with_label(SignalRule("label", action="relabel_or_drop", min_prob=0.9,
                                                               required=False)),
            "relabel every flagged row": with_label(SignalRule("label", action="relabel", required=False)),
            "drop every flagged row": with_label(SignalRule("label", action="drop", required=False))}


def part_label_variants(seeds: tuple[int, ...], res: dict, noise: float = 0.2) -> dict:
    """The 3,000-row baseline of the noise experiment (same seeds) under variants of the label rule."""
    import numpy as np

    from dq_core.data.workspace import Workspace
    from dq_core.training.config import TrainConfig
    from dq_core.training.recipe import apply_recipe
    from dq_core.training.splits import holdout_row_ids

    full = _tweets(None)
    ws = Workspace(CACHE_WS)
    test_ids = set(holdout_row_ids(full, ws=ws, fraction=0.2, max_rows=2000))
    is_test = full.frame["row_id"].astype(str).isin(test_ids).to_numpy()
    test = full.subset(is_test, name="test")
    clean = full.subset(~is_test & full.frame["label"].notna().to_numpy(), name="train (clean)")
    out: dict = {"seeds": list(seeds), "variants": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            rng = np.random.default_rng(seed)  # the same flips as _noise_one
            labels = np.array(clean.classes)
            y = clean.labels.to_numpy(dtype=object).copy()
            flip = rng.random(len(y)) < noise
            y[flip] = [rng.choice(labels[labels != v]) for v in y[flip]]
            noisy = clean.with_labels(y, name=f"train ({noise:.0%} noise, seed {seed})")
            cfg = TrainConfig(trainer="baseline", max_train_rows=3000, test_source="external", seed=seed)
            for name, recipe in _label_rule_variants().items():
                rec = apply_recipe(noisy, recipe, ws=ws)
                m = _train(cfg, noisy, test, ws, Path(tmp) / f"{seed}_{len(out['variants'].get(name, []))}_{hash(name)}",
                           keep_mask=rec.keep_mask, relabel=rec.relabel)
                out["variants"].setdefault(name, []).append({"accuracy": m["accuracy"], "kept": int(rec.keep_mask.sum())})
    base = res.get("noise", {}).get("baseline")
    if base:
        cost = base["clean"]["accuracy"] - base["noisy"]["accuracy"]
        for name, runs in out["variants"].items():
            acc = float(np.mean([x["accuracy"] for x in runs]))
            out.setdefault("won_back", {})[name] = (acc - base["noisy"]["accuracy"]) / cost if cost > 0 else None
    return out


def _agreed_split(full, seed: int = 0):
    """(test, train): up to 2,000 rows the crowd agreed on (confidence 1), stratified; every other row trains."""
    import numpy as np

    from dq_core.util.sampling import stratified_sample

    f = full.frame
    agreed = (f["confidence"] >= 1.0).to_numpy() & f["label"].notna().to_numpy()
    pos = np.flatnonzero(agreed)
    pick = pos[stratified_sample(f["label"].to_numpy()[pos], min(2000, len(pos) // 3), np.random.default_rng(seed))]
    is_test = np.zeros(len(f), dtype=bool)
    is_test[pick] = True
    return full.subset(is_test, name="agreed test"), full.subset(~is_test, name="train")


def _recipe_vs_crowd(train, rec) -> dict:
    """How the rows the recipe removes line up with the crowd's own doubt (confidence < 1)."""
    import numpy as np

    conf = train.frame["confidence"].to_numpy(dtype=float)
    rated = ~np.isnan(conf)  # rows without a crowd confidence count as neither doubted nor agreed
    doubt, agreed = rated & (conf < 1.0), rated & (conf >= 1.0)
    removed = ~rec.keep_mask
    return {"removed": int(removed.sum()), "relabelled": len(rec.relabel),
            "doubtful_share_of_removed": float(doubt[removed & rated].mean()),
            "doubtful_share_of_kept": float(doubt[~removed & rated].mean()),
            "removed_share_of_doubtful": float(removed[doubt].mean()),
            "removed_share_of_agreed": float(removed[agreed].mean())}


CROWD_RULE = "confidence < 0.7"  # ~31% of the tweets; the default recipe removes ~20% and relabels ~5%


def part_agreed(seed: int = 0, sample: int | None = None) -> dict:
    from dq_core.data.workspace import Workspace
    from dq_core.filtering import ConditionRule, FilterRecipe
    from dq_core.report import compare_runs, load_run
    from dq_core.training.config import TrainConfig
    from dq_core.training.recipe import apply_recipe

    test, train = _agreed_split(_tweets(sample), seed)
    out: dict = {"n_test": len(test)}
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(CACHE_WS)
        rec = apply_recipe(train, "default", ws=ws)
        out["recipe"] = rec.description
        out["recipe_vs_crowd"] = _recipe_vs_crowd(train, rec)
        # A third arm uses the crowd's own doubt instead of the model's: drop the rows it was least sure of.
        crowd = apply_recipe(train, FilterRecipe(name="crowd agreement", conditions=(ConditionRule(CROWD_RULE),)),
                             ws=ws)
        out["crowd_recipe"] = crowd.description + f" (drops rows where {CROWD_RULE})"
        for trainer in ("baseline", "transformer"):
            cfg = TrainConfig(trainer=trainer, max_train_rows=3000, max_length=64, epochs=1, test_source="external")
            a, b, c = (Path(tmp) / f"{trainer}_{arm}" for arm in ("all", "filtered", "crowd"))
            _train(cfg.with_(name="every row"), train, test, ws, a)
            _train(cfg.with_(name="default recipe"), train, test, ws, b, keep_mask=rec.keep_mask, relabel=rec.relabel)
            _train(cfg.with_(name="crowd agreement"), train, test, ws, c, keep_mask=crowd.keep_mask)
            cmp = compare_runs([load_run(a), load_run(b), load_run(c)])
            diffs = [d.to_dict() for d in cmp.differences]
            out[trainer] = {"table": {k: v for k, v in cmp.to_dict()["metrics"].items()},
                            "paired_bootstrap": diffs[:len(diffs) // 2], "crowd_bootstrap": diffs[len(diffs) // 2:]}
            print(f"  agreed {trainer}: {out[trainer]['paired_bootstrap']} / crowd {out[trainer]['crowd_bootstrap']}",
                  flush=True)
    return out


# --------------------------------------------------------------------------- docs


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def render(res: dict) -> str:
    lines = [HEADING, "", f"Measured {res.get('date')} on {res.get('machine')}; the load average is noted for the "
             "timed parts (the accuracy experiments do not depend on it).", "",
             "Command: `.venv/bin/python bench/bench_training.py --part all` (each part can be re-run alone with "
             "`--part NAME`; raw results in bench/results/issue7_training.json)", ""]
    t = res.get("throughput")
    if t:
        lines += ["### Fine-tune throughput: dq_core vs a bare Trainer", "",
                  f"{t['rows']:,} tweets, MiniLM, max length {t['max_length']}, batch {t['batch_size']}, 1 epoch, "
                  f"{t.get('threads', '?')} torch thread(s), {len(t.get('pair_ratios', []))} alternating pairs "
                  f"(bare/dq, dq/bare, ...) in one process (load {t['load_before']} → {t['load_after']}); "
                  f"pair ratios dq/bare {t.get('pair_ratios')} wall clock, {t.get('pair_ratios_cpu')} per CPU-second; "
                  "the ratio below is their median.", "",
                  "| path | samples/s, wall clock (each run) | mean | samples per CPU-second (each run) |",
                  "|---|---|---|---|",
                  f"| bare `Trainer` | {', '.join(map(str, t['bare']))} | {sum(t['bare']) / len(t['bare']):.1f} | "
                  f"{', '.join(map(str, t.get('bare_cpu', [])))} |",
                  f"| dq_core `fine_tune` + run-dir callback | {', '.join(map(str, t['dq']))} | "
                  f"{sum(t['dq']) / len(t['dq']):.1f} | {', '.join(map(str, t.get('dq_cpu', [])))} |", "",
                  f"**Ratio dq_core / bare (median of the pairs): {t['ratio']:.3f} wall clock, "
                  f"{t.get('ratio_cpu', float('nan')):.3f} per CPU-second** (target ≥ 0.95): "
                  + ("met." if t["ratio"] >= 0.95 else "NOT met.")
                  + " Both paths run the same Trainer loop; dq_core adds a callback that writes status.json at "
                    "most once a second and appends each logged loss to history.jsonl. Per-CPU-second rates are "
                    "given because on this shared machine the wall-clock rate of one and the same path swings "
                    "several-fold when other jobs start; adjacent pairs see about the same load.", ""]
    d = res.get("demo")
    if d:
        tr = d["transformer"]
        lines += ["### Default settings on the tweets demo (real worker process, submit → finished)", "",
                  f"Worker torch threads: {d.get('worker_threads', 'default')}; load {d['load_before']} → "
                  f"{d['load_after']}.", "",
                  "| run | wall time | CPU time of the worker | accuracy | macro-F1 | rows (train / val / test) | notes |",
                  "|---|---|---|---|---|---|---|",
                  f"| transformer, defaults (cap 3,000, max length 64, 1 epoch) | **{tr['wall_seconds']:.0f} s** | "
                  f"{tr.get('cpu_seconds') or float('nan'):.0f} s | "
                  f"{tr['accuracy']:.3f} | {tr['macro_f1']:.3f} | {tr['n_train']:,} / {tr['n_val']:,} / {tr['n_test']:,} | "
                  f"training {tr.get('train_runtime') or 0:.0f} s at {tr.get('train_samples_per_second') or 0:.1f} samples/s |"]
        for phase in ("cold", "warm"):
            b = d[f"baseline_{phase}"]
            lines.append(f"| baseline, defaults, {phase} embedding cache | **{b['wall_seconds']:.1f} s** | "
                         f"{b.get('cpu_seconds') or float('nan'):.0f} s | "
                         f"{b['accuracy']:.3f} | {b['macro_f1']:.3f} | {b['n_train']:,} / – / – | "
                         f"embedding {b['embed_seconds']:.1f} s, fit {b['fit_seconds']:.1f} s |")
        ok = tr["wall_seconds"] < 180
        lines += ["", f"Transformer under 3 minutes: {'met' if ok else 'NOT met'}. The baseline is seconds once the "
                  "embeddings are cached (the dashboard computes them for coverage and signals); cold, it first embeds "
                  "every row of the dataset.", ""]
    for key, title in (("noise", "20% injected label noise: what the default recipe wins back"),
                       ("agreed", "The tweets as they are, tested on rows the crowd agreed on")):
        r = res.get(key)
        if not r:
            continue
        lines += [f"### {title}", ""]
        if "skipped" in r:
            lines += [f"*{r['skipped']}.*", ""]
            continue
        if key == "noise":
            seeds = r.get("seeds", [0])
            lines += [f"Noise seeds {seeds} (each repeat injects new noise and draws a new 3,000-row training sample; "
                      "the test set is the same 2,000 held-out rows). Mean over the repeats; \"won back\" = "
                      "(filtered − noisy) / (clean − noisy) on those means, per-seed ratios in brackets.", "",
                      f"About {r['n_flipped']:,.0f} training labels flipped per repeat; seed {seeds[0]}: {r['recipe']}; "
                      f"the recipe's removals are {_pct(r['recipe_precision'])} flipped rows and catch "
                      f"{_pct(r['recipe_recall'])} of the flips (means).", "",
                      "| trainer | clean acc / F1 | noisy acc / F1 | filtered acc / F1 | won back (acc / F1) |",
                      "|---|---|---|---|---|"]
            for trainer in ("baseline", "transformer", "baseline_all_rows"):
                if trainer not in r:
                    continue
                x = r[trainer]
                label = {"baseline": "baseline, 3,000 rows", "transformer": "fine-tune, 3,000 rows, 1 epoch",
                         "baseline_all_rows": "baseline, every row (the Train page's default)"}[trainer]
                lines.append(f"| {label} | {x['clean']['accuracy']:.3f} / {x['clean']['macro_f1']:.3f} | "
                             f"{x['noisy']['accuracy']:.3f} / {x['noisy']['macro_f1']:.3f} | "
                             f"{x['filtered']['accuracy']:.3f} / {x['filtered']['macro_f1']:.3f} | "
                             f"{_pct(x['won_back_accuracy'])} ({', '.join(map(_pct, x.get('won_back_accuracy_per_seed', [])))}) / "
                             f"{_pct(x['won_back_macro_f1'])} ({', '.join(map(_pct, x.get('won_back_macro_f1_per_seed', [])))}) |")
            verdict = []
            for trainer, target in (("transformer", 0.9), ("baseline", 0.5)):
                wb = r[trainer]["won_back_accuracy"]
                verdict.append(f"{'fine-tune' if trainer == 'transformer' else 'baseline'} "
                               f"{'met' if wb is not None and wb >= target else 'NOT met'} "
                               f"({_pct(wb)} of the accuracy, target ≥ {_pct(target)})")
            lines += ["", "Targets (accuracy won back): " + "; ".join(verdict) + ". For reference, DESIGN.md measured "
                      "cleanlab's default filter at 76% for this fine-tune on the tweets and almost nothing for the "
                      "baseline. A single repeat's noise cost is 1-3 points of accuracy on 2,000 test rows (a "
                      "standard error of ~1 point each), so per-seed ratios swing widely; the ratio of the means "
                      "over the repeats is the figure.", ""]
            b = r["baseline"]
            if b["won_back_accuracy"] is not None and b["won_back_accuracy"] < 0.5:
                lines += [f"Where it falls short, and why: the 3,000-row baseline. Noise costs it "
                          f"{100 * (b['clean']['accuracy'] - b['noisy']['accuracy']):.1f} points; the recipe wins back "
                          f"{100 * (b['filtered']['accuracy'] - b['noisy']['accuracy']):.1f}, with per-seed ratios "
                          f"{', '.join(map(_pct, b['won_back_accuracy_per_seed']))}. A logistic regression on "
                          "sentence embeddings is already robust to uniform label noise, and the recipe's removals "
                          f"are only {_pct(r['recipe_precision'])} flipped rows (the tweets' own ambiguity is flagged "
                          "too), so the 3,000 rows drawn after filtering lose hard, correct examples along with the "
                          "flips.", ""]
            lv = res.get("label_variants")
            if lv and lv.get("won_back"):
                lines += ["Does the label rule matter? The same 3,000-row baseline and seeds with the default "
                          "recipe's label rule swapped (`--part label-variants`):", "",
                          "| label rule | rows kept (mean) | accuracy (mean) | won back |", "|---|---:|---:|---:|"]
                for name, runs in lv["variants"].items():
                    lines.append(f"| {name} | {sum(x['kept'] for x in runs) / len(runs):,.0f} | "
                                 f"{sum(x['accuracy'] for x in runs) / len(runs):.4f} | {_pct(lv['won_back'][name])} |")
                lines += ["", "Rules that keep nearly the same rows can differ by tens of points here: at a noise "
                          "cost of ~2.4 points, which 3,000 rows are drawn moves the ratio more than the rule does, "
                          "so the default (chosen on several corpora and noise kinds in issue 6) was not re-tuned "
                          "on this one test set.", ""]
            u = r.get("baseline_all_rows")
            if u:
                lines += [f"On every row (the baseline's default on the Train page) noise costs the baseline only "
                          f"{100 * (u['clean']['accuracy'] - u['noisy']['accuracy']):.1f} points "
                          f"({u['noisy']['accuracy']:.3f} vs {u['clean']['accuracy']:.3f}), and the recipe, by removing "
                          f"~{_pct(1 - sum(x.get('kept_share', 1) for x in r['runs']) / len(r['runs']))}"
                          " of the rows, costs more in data than it wins back in labels "
                          f"(filtered {u['filtered']['accuracy']:.3f}). With plenty of rows and a robust linear "
                          "model, filtering uniform noise does not pay; it pays when rows are capped (the fine-tune) "
                          "or the model memorises its labels.", ""]
        else:
            lines += [f"{r['n_test']:,} test rows with confidence 1; {r['recipe']}.", ""]
            vc = r.get("recipe_vs_crowd")
            if vc:
                lines += [f"Of the rows with a crowd confidence that the recipe removes, "
                          f"{_pct(vc['doubtful_share_of_removed'])} are rows the crowd doubted (confidence < 1), "
                          f"against {_pct(vc['doubtful_share_of_kept'])} of those it keeps: "
                          f"it removes {_pct(vc['removed_share_of_doubtful'])} of the doubted rows and "
                          f"{_pct(vc['removed_share_of_agreed'])} of the agreed ones.", ""]
            for trainer in ("baseline", "transformer"):
                for dd in r[trainer]["paired_bootstrap"]:
                    lines.append(f"- {trainer}, {dd['metric']}: default recipe {dd.get('b', 0):.3f} vs every row "
                                 f"{dd.get('a', 0):.3f}, "
                                 f"Δ {dd.get('delta', 0):+.4f}, 95% interval [{dd.get('ci_low', 0):+.4f}, "
                                 f"{dd.get('ci_high', 0):+.4f}]")
            if r.get("crowd_recipe"):
                lines += ["", f"Third arm, the crowd's own doubt instead of the model's: {r['crowd_recipe']}.", ""]
                for trainer in ("baseline", "transformer"):
                    for dd in r[trainer].get("crowd_bootstrap", []):
                        lines.append(f"- {trainer}, {dd['metric']}: crowd recipe {dd.get('b', 0):.3f} vs every row "
                                     f"{dd.get('a', 0):.3f}, "
                                     f"Δ {dd.get('delta', 0):+.4f}, 95% interval [{dd.get('ci_low', 0):+.4f}, "
                                     f"{dd.get('ci_high', 0):+.4f}]")
            answers = []
            for trainer in ("baseline", "transformer"):
                f1 = next(dd for dd in r[trainer]["paired_bootstrap"] if dd["metric"] == "macro_f1")
                word = ("yes" if f1["ci_low"] > 0 else "no, it lowers it" if f1["ci_high"] < 0
                        else "no clear difference either way (the interval holds 0)")
                answers.append(f"{trainer}: {word}")
            lines += ["", "Does the default recipe raise test macro-F1 over training on every row? " + "; ".join(answers)
                      + ". (`default recipe` vs `every row`, Δ = recipe − every row, 1,000 paired resamples of the "
                        "shared test rows.)", "",
                      "Why not: the tweets' natural noise is mostly ambiguity, not flipped labels. The label signal "
                      "is tuned on injected flips (where the recipe wins back accuracy, above); here its removals are "
                      "only moderately enriched in rows the crowd doubted (numbers above), so the recipe also takes "
                      "away clear, informative rows, and the 3,000-row training sample drawn from what is left is not "
                      "cleaner where it matters for a test set of agreed rows. The third arm shows what the crowd's "
                      "own agreement (a condition rule on a `confidence` column, which recipes support) does instead: "
                      + "; ".join(f"{t} macro-F1 Δ {d['delta']:+.4f} [{d['ci_low']:+.4f}, {d['ci_high']:+.4f}]"
                                  for t in ("baseline", "transformer")
                                  for d in r[t].get("crowd_bootstrap", []) if d["metric"] == "macro_f1")
                      + ".", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=("all", "throughput", "demo", "noise", "noise-uncapped", "label-variants",
                                       "agreed", "agreed-stats"),
                    default="all", help="noise-uncapped adds the uncapped baseline arm to the saved noise result")
    ap.add_argument("--rows", type=int, default=1000, help="rows for the throughput comparison")
    ap.add_argument("--pairs", type=int, default=2, help="throughput: alternating bare/dq pairs")
    ap.add_argument("--threads", type=int, default=0,
                    help="torch threads for the throughput comparison (0 = torch's default); 1 makes the "
                         "per-CPU-second figure robust on a machine shared with other jobs")
    ap.add_argument("--worker-threads", type=int, default=0,
                    help="demo: torch threads of the worker (DQ_TORCH_THREADS); 1 gives the job's CPU time free "
                         "of thread contention on a shared machine")
    ap.add_argument("--sample", type=int, default=None,
                    help="noise/agreed on a stratified sample of the tweets (a quick check; figures use all rows)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="noise: repeats (noise + sample seeds)")
    ap.add_argument("--render-only", action="store_true", help="rewrite the docs section from the saved results")
    ap.add_argument("--no-write", action="store_true", help="print only; keep docs/benchmarks.md as it is")
    args = ap.parse_args()
    res = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    res.update(date=dt.date.today().isoformat(), machine=machine())
    parts = () if args.render_only else \
        (("throughput", "demo", "noise", "noise-uncapped", "label-variants", "agreed") if args.part == "all" else (args.part,))
    for part in parts:
        print(f"[{time.strftime('%H:%M:%S')}] {part} …", flush=True)
        if part == "agreed-stats":  # the recipe-vs-crowd counts only (seconds; no training)
            test, train = _agreed_split(_tweets(None), 0)
            from dq_core.data.workspace import Workspace
            from dq_core.training.recipe import apply_recipe

            res["agreed"]["recipe_vs_crowd"] = _recipe_vs_crowd(train, apply_recipe(train, "default",
                                                                                    ws=Workspace(CACHE_WS)))
            RESULTS.write_text(json.dumps(res, indent=2))
            continue
        if part == "label-variants":
            res["label_variants"] = part_label_variants(tuple(args.seeds), res)
            RESULTS.write_text(json.dumps(res, indent=2))
            continue
        if part == "noise-uncapped":
            res["noise"] = part_noise_uncapped(tuple(args.seeds), res)
            RESULTS.write_text(json.dumps(res, indent=2))
            continue
        res[part] = {"throughput": lambda: part_throughput(args.rows, args.threads, args.pairs), "demo": lambda: part_demo(args.worker_threads),
                     "noise": lambda: part_noise(seeds=tuple(args.seeds), sample=args.sample),
                     "agreed": lambda: part_agreed(sample=args.sample)}[part]()
        if not args.sample:  # a sampled check never replaces the figures
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            RESULTS.write_text(json.dumps(res, indent=2))
    text = render(res)
    print(text)
    if not args.no_write and not args.sample:
        print(f"wrote {write_section(HEADING, text)}")


if __name__ == "__main__":
    main()
