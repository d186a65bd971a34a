"""Choosing the default FilterRecipe: which handling of label issues wins back most of what noise costs.

On a demo corpus, with a fixed clean test split: inject label noise into the training rows, compute the
real signals (dq_core.signals, MiniLM embeddings) on the noisy training rows, apply candidate recipes, and
train the baseline (logistic regression on the same embeddings) on clean labels, noisy labels, and each
filtered version. "Won back" = (acc_recipe - acc_noisy) / (acc_clean - acc_noisy).

    .venv/bin/python bench/bench_default_recipe.py --demo tweets --rows 12000 --out bench/default_recipe.json

The embeddings and signals are cached in DQ_HOME, so a second run is quick. The fine-tune side of the
question is issue 7's bench (bench/bench_train*.py), which applies ``default_recipe()`` as chosen here.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from dq_core.filtering import FilterInputs, FilterRecipe, SignalRule, apply_prepared, default_recipe

BASE = (SignalRule("exact_duplicate", action="dedupe", required=False),
        SignalRule("conflicting_label", required=False), SignalRule("junk", required=False))


def candidates() -> dict[str, FilterRecipe]:
    def label(*rules):
        return FilterRecipe(name="x", signals=(*BASE, *rules))
    return {
        "no label rule": label(),
        "drop flagged": label(SignalRule("label")),
        "relabel flagged (any p)": label(SignalRule("label", action="relabel")),
        "relabel p>=0.7 else keep": label(SignalRule("label", action="relabel", min_prob=0.7)),
        "relabel p>=0.7 else drop": label(SignalRule("label", action="relabel_or_drop", min_prob=0.7)),
        "relabel p>=0.5 else drop": label(SignalRule("label", action="relabel_or_drop", min_prob=0.5)),
        "score<0.2: relabel p>=0.7 else drop": label(SignalRule("label", action="relabel_or_drop", threshold=0.2,
                                                                use_flag=False, min_prob=0.7)),
        "score<0.1 drop": label(SignalRule("label", threshold=0.1, use_flag=False)),
        "default_recipe()": default_recipe(),
    }


def accuracy(x_tr, y_tr, x_te, y_te, seed: int) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score

    m = LogisticRegression(C=1.0, max_iter=1000, random_state=seed).fit(x_tr, y_tr)
    p = m.predict(x_te)
    return float(accuracy_score(y_te, p)), float(f1_score(y_te, p, average="macro"))


def run(demo: str, rows: int, rate: float, mode: str, seed: int) -> dict:
    from dq_core.embed import embed_dataset
    from dq_core.io import load_demo
    from dq_core.noise import inject_label_noise
    from dq_core.signals import run_signals
    from dq_core.workspace import Workspace

    ws = Workspace.default()
    full, _ = load_demo(demo)
    rng = np.random.default_rng(seed)
    if rows and rows < len(full):
        full = full.subset(np.isin(np.arange(len(full)), rng.choice(len(full), rows, replace=False)))
    emb = embed_dataset(full, workspace=ws).vectors
    n = len(full)
    test = np.zeros(n, dtype=bool)
    test[rng.choice(n, size=n // 4, replace=False)] = True
    train_ds = full.subset(~test)
    x_tr, x_te = emb[~test], emb[test]
    y_clean = train_ds.labels.to_numpy(dtype=object)
    y_te = full.labels.to_numpy(dtype=object)[test]
    noisy = inject_label_noise(y_clean, rate=rate, mode=mode, seed=seed)
    noisy_ds = train_ds.with_labels(noisy.labels)
    t = time.perf_counter()
    sig = run_signals(noisy_ds, embeddings=x_tr, workspace=ws)
    sig_s = time.perf_counter() - t
    acc_clean = accuracy(x_tr, y_clean, x_te, y_te, seed)
    acc_noisy = accuracy(x_tr, noisy.labels, x_te, y_te, seed)
    out = {"demo": demo, "rows": n, "train_rows": int((~test).sum()), "rate": rate, "mode": mode, "seed": seed,
           "signals_s": round(sig_s, 1), "clean": acc_clean, "noisy": acc_noisy,
           "flagged_label_issues": int(sig["is_label_issue"].sum()), "recipes": {}}
    inputs = FilterInputs(noisy_ds, sig).prepare()
    gap = acc_clean[0] - acc_noisy[0]
    for name, rec in candidates().items():
        res = apply_prepared(inputs, rec, strict=False)
        labels = res.final_labels()
        keep = res.keep_mask
        acc = accuracy(x_tr[keep], labels[keep], x_te, y_te, seed)
        fixed = int(((labels == y_clean) & ~(noisy.labels == y_clean) & keep).sum())
        broken = int(((labels != y_clean) & (noisy.labels == y_clean) & keep).sum())
        out["recipes"][name] = {"accuracy": acc[0], "macro_f1": acc[1], "kept": int(keep.sum()),
                                "relabelled": res.n_relabelled, "flips_fixed": fixed, "clean_rows_broken": broken,
                                "flips_left": int(((labels != y_clean) & keep).sum()),
                                "won_back": (acc[0] - acc_noisy[0]) / gap if gap > 0 else None}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--demo", nargs="+", default=["tweets", "sms_spam"])
    ap.add_argument("--rows", type=int, default=12000)
    ap.add_argument("--rates", type=float, nargs="+", default=[0.2])
    ap.add_argument("--modes", nargs="+", default=["uniform", "class_conditional"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="bench/default_recipe.json")
    args = ap.parse_args()
    results = []
    for demo in args.demo:
        for rate in args.rates:
            for mode in args.modes:
                r = run(demo, args.rows, rate, mode, args.seed)
                results.append(r)
                print(f"\n{demo} {mode} {rate:.0%}: clean {r['clean'][0]:.4f} noisy {r['noisy'][0]:.4f} "
                      f"(flagged {r['flagged_label_issues']:,} of {r['train_rows']:,})", flush=True)
                for name, v in r["recipes"].items():
                    wb = "n/a" if v["won_back"] is None else f"{v['won_back']:.0%}"
                    print(f"  {name:38s} acc {v['accuracy']:.4f} f1 {v['macro_f1']:.4f} won back {wb:>5} "
                          f"kept {v['kept']:,} relab {v['relabelled']:,} fixed {v['flips_fixed']:,} "
                          f"broke {v['clean_rows_broken']:,} left {v['flips_left']:,}", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
