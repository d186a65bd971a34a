"""Choosing the default FilterRecipe: which handling of label issues wins back most of what noise costs.

On a demo corpus, with a fixed clean test split: inject label noise into the training rows, compute the
real signals (dq_core.signals, MiniLM embeddings) on the noisy training rows, apply candidate recipes, and
train the baseline (logistic regression on the same embeddings) on clean labels, noisy labels, and each
filtered version. "Won back" = (acc_recipe - acc_noisy) / (acc_clean - acc_noisy).

    .venv/bin/python bench/bench_default_recipe.py --demo tweets --rows 12000 --out bench/default_recipe.json

The embeddings and signals are cached in DQ_HOME, so a second run is quick. The fine-tune side of the
question is bench/bench_training.py, which applies ``default_recipe()`` as chosen here.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from dq_core.filtering import FilterInputs, FilterRecipe, SignalRule, apply_prepared, default_recipe

BASES = {
    # exact-duplicate copies, junk, and every row of a (near-)duplicate group whose labels conflict
    "all": (SignalRule("exact_duplicate", action="dedupe", required=False),
            SignalRule("conflicting_label", required=False), SignalRule("junk", required=False)),
    # the same, but of a conflicting group only the rows outside its clear majority label (score < 0.2)
    "minority": (SignalRule("exact_duplicate", action="dedupe", required=False),
                 SignalRule("conflicting_label", threshold=0.2, use_flag=False, required=False),
                 SignalRule("junk", required=False)),
}
LABEL_RULES = {
    "no label rule": (),
    "drop flagged": (SignalRule("label"),),
    "relabel flagged (any p)": (SignalRule("label", action="relabel"),),
    "relabel p>=0.7 else keep": (SignalRule("label", action="relabel", min_prob=0.7),),
    "relabel p>=0.7 else drop": (SignalRule("label", action="relabel_or_drop", min_prob=0.7),),
    "relabel p>=0.5 else drop": (SignalRule("label", action="relabel_or_drop", min_prob=0.5),),
    "score<0.2: relabel p>=0.7 else drop": (SignalRule("label", action="relabel_or_drop", threshold=0.2,
                                                       use_flag=False, min_prob=0.7),),
    "score<0.1 drop": (SignalRule("label", threshold=0.1, use_flag=False),),
}


def candidates() -> dict[str, FilterRecipe]:
    out = {f"{base} | {name}": FilterRecipe(name="x", signals=(*b, *rules))
           for base, b in BASES.items() for name, rules in LABEL_RULES.items()}
    out["default_recipe()"] = default_recipe()
    return out


def accuracy(x_tr, y_tr, x_te, y_te, seed: int) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score

    m = LogisticRegression(C=1.0, max_iter=1000, random_state=seed).fit(x_tr, y_tr)
    p = m.predict(x_te)
    return float(accuracy_score(y_te, p)), float(f1_score(y_te, p, average="macro"))


FINETUNE_CANDIDATES = ("all | drop flagged", "all | relabel p>=0.7 else drop", "minority | relabel p>=0.7 else drop",
                       "minority | score<0.2: relabel p>=0.7 else drop")


def finetune_accuracy(texts, labels, test_texts, test_labels, seed: int, *, rows: int = 3000,
                      n_test: int = 1500) -> tuple[float, float]:
    """bench/bench_training.py's demo setting: a stratified cap of ``rows`` training rows, 1 epoch of MiniLM, max length 64."""
    import tempfile

    import pandas as pd
    from sklearn.metrics import accuracy_score, f1_score

    from dq_core.training.config import TrainConfig
    from dq_core.training.finetune import fine_tune, predict_proba
    from dq_core.util.sampling import stratified_sample

    rng = np.random.default_rng(seed)
    pick = stratified_sample(np.asarray(labels, dtype=object), rows, rng)
    train = pd.DataFrame({"row_id": pick, "text": np.asarray(texts, dtype=object)[pick],
                          "label": np.asarray(labels, dtype=object)[pick]})
    val = train.iloc[:0]
    classes = tuple(sorted(set(test_labels.tolist()) | set(train["label"].tolist())))
    cfg = TrainConfig(trainer="transformer", epochs=1.0, max_length=64, seed=seed)
    with tempfile.TemporaryDirectory() as work:
        res = fine_tune(train, val, classes, cfg, work_dir=Path(work))
        t = list(test_texts[:n_test])
        proba = predict_proba(res, t, max_length=64)
    pred = np.array(classes, dtype=object)[proba.argmax(axis=1)]
    y = test_labels[:n_test]
    return float(accuracy_score(y, pred)), float(f1_score(y, pred, average="macro"))


def run(demo: str, rows: int, rate: float, mode: str, seed: int, finetune: bool = False) -> dict:
    from dq_core.data.io import load_demo
    from dq_core.data.workspace import Workspace
    from dq_core.signals import run_signals
    from dq_core.signals.sandbox import inject_label_noise
    from dq_core.space.embed import embed_dataset

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
    texts_tr = train_ds.texts.fillna("").to_numpy(dtype=object)
    texts_te = full.texts.fillna("").to_numpy(dtype=object)[test]
    if finetune:
        out["finetune"] = {"clean": finetune_accuracy(texts_tr, y_clean, texts_te, y_te, seed),
                           "noisy": finetune_accuracy(texts_tr, noisy.labels, texts_te, y_te, seed)}
        print(f"  fine-tune clean {out['finetune']['clean']} noisy {out['finetune']['noisy']}", flush=True)
    for name, rec in candidates().items():
        res = apply_prepared(inputs, rec, strict=False)
        labels = res.final_labels()
        keep = res.keep_mask
        if finetune and name in FINETUNE_CANDIDATES:
            ft = finetune_accuracy(texts_tr[keep], labels[keep], texts_te, y_te, seed)
            fgap = out["finetune"]["clean"][0] - out["finetune"]["noisy"][0]
            out["finetune"][name] = {"accuracy": ft[0], "macro_f1": ft[1],
                                     "won_back": (ft[0] - out["finetune"]["noisy"][0]) / fgap if fgap > 0 else None}
            print(f"  fine-tune {name}: {ft} won back {out['finetune'][name]['won_back']}", flush=True)
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
    ap.add_argument("--finetune", action="store_true", help="also fine-tune MiniLM on a few candidates (slow)")
    ap.add_argument("--out", default="bench/default_recipe.json")
    args = ap.parse_args()
    results = []
    for demo in args.demo:
        for rate in args.rates:
            for mode in args.modes:
                r = run(demo, args.rows, rate, mode, args.seed, finetune=args.finetune)
                results.append(r)
                print(f"\n{demo} {mode} {rate:.0%}: clean {r['clean'][0]:.4f} noisy {r['noisy'][0]:.4f} "
                      f"(flagged {r['flagged_label_issues']:,} of {r['train_rows']:,})", flush=True)
                for name, v in r["recipes"].items():
                    wb = "n/a" if v["won_back"] is None else f"{v['won_back']:.0%}"
                    print(f"  {name:48s} acc {v['accuracy']:.4f} f1 {v['macro_f1']:.4f} won back {wb:>5} "
                          f"kept {v['kept']:,} relab {v['relabelled']:,} fixed {v['flips_fixed']:,} "
                          f"broke {v['clean_rows_broken']:,} left {v['flips_left']:,}", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
