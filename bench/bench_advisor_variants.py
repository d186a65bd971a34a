"""Recipe variants and label models tried against the advisor's quality bar (baseline trainer).

Reads the splits bench_advisor_trusted.py ``prepare`` stored (3,000 training rows, 1,200 trusted and 1,200
measuring rows per demo, 20% injected noise, noise seeds 0, 1, 2) and asks two questions the advisor's
tables leave open:

1. Would another recipe have met the bar? Each variant is applied to the noisy training rows with the same
   signals the advisor's candidates act on, the baseline (logistic regression on MiniLM embeddings) is
   trained on what it keeps, and its accuracy on the measuring half gives won back = (variant - noisy) /
   (clean - noisy) on the means over the seeds. ``oracle_drop`` (the flipped rows known and dropped) is the
   yardstick for any drop-only recipe.
2. Would a stronger label model flag the flipped rows better? Flip detection (ROC AUC of 1 - P(given label),
   and precision among the n lowest scores, n = the flipped rows) for the label signal's model (K-fold
   logistic regression averaged with the neighbours' labels) and, with ``--finetune-oof``, 5-fold
   out-of-fold probabilities of the 1-epoch MiniLM fine-tune (about 6 minutes an arm on 2 CPUs).

    DQ_HOME=.dq-bench .venv/bin/python bench/bench_advisor_variants.py [--finetune-oof ARM ...]
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_advisor_trusted import NOISE, STATE, labels_of  # noqa: E402

HEADING = "## Advisor: recipe variants and label models against the quality bar"


def variants(y, sig, flipped):
    """{name: (keep mask, training labels)} for every variant, from the label signal's columns."""
    flag = sig["is_label_issue"].to_numpy(bool)
    sug = sig["suggested_label"].to_numpy(object).astype(str)
    sug_p = sig["suggested_label_prob"].to_numpy(float)
    score = sig["label_score"].to_numpy(float)
    every = np.ones(len(y), bool)
    out = {"oracle_drop": (~flipped, y)}
    for p in (0.5, 0.6, 0.7):
        y2 = y.copy()
        m = flag & (sug_p >= p)
        y2[m] = sug[m]
        out[f"relabel flagged, p >= {p:g}"] = (every, y2)
    for p in (0.6, 0.9):
        y2 = y.copy()
        m = flag & (sug_p >= p)
        y2[m] = sug[m]
        out[f"relabel flagged at p >= {p:g}, drop the other flagged"] = (~(flag & (sug_p < p)), y2)
    for s in (0.1, 0.2, 0.3):
        y2 = y.copy()
        m = (score < s) & (sug_p >= 0.5) & (sug != y)
        y2[m] = sug[m]
        out[f"relabel where P(given) < {s:g}, p >= 0.5"] = (every, y2)
    return out


def iterated_relabel(ds, x, y, rounds: int = 3):
    """Relabel flagged rows (p >= 0.5), recompute the label signal on the new labels, again."""
    from dq_core.signals import compute_signals, get_signal

    y2 = y.copy()
    for _ in range(rounds):
        s = compute_signals(ds.with_labels(list(y2)), [get_signal("label")], embeddings=x, seed=0).frame
        m = s["is_label_issue"].to_numpy(bool) & (s["suggested_label_prob"].to_numpy(float) >= 0.5)
        y2 = y2.copy()
        y2[m] = s["suggested_label"].to_numpy(object).astype(str)[m]
    return y2


def finetune_oof(texts, y, seed: int = 0) -> np.ndarray:
    """5-fold out-of-fold class probabilities of dq_core's 1-epoch MiniLM fine-tune."""
    import pandas as pd
    from sklearn.model_selection import StratifiedKFold

    from dq_core.training.config import TrainConfig
    from dq_core.training.finetune import fine_tune, predict_proba
    from dq_core.training.progress import NullReporter

    classes = tuple(sorted(set(y.tolist())))
    probs = np.zeros((len(y), len(classes)))
    for a, b in StratifiedKFold(5, shuffle=True, random_state=seed).split(texts, y):
        train = pd.DataFrame({"row_id": a, "text": texts[a], "label": y[a]})
        cfg = TrainConfig(trainer="transformer", seed=seed)
        with tempfile.TemporaryDirectory(prefix="dq-oof-") as work:
            res = fine_tune(train, train.iloc[:0], classes, cfg, work_dir=Path(work), reporter=NullReporter())
            probs[b] = predict_proba(res, list(texts[b]), max_length=cfg.max_length)
    return probs


def baseline_accuracy(x, x_held, y_held, keep, labels) -> float:
    from dq_core.training.advisor import _fit_predict_baseline

    return float((_fit_predict_baseline(x[keep], labels[keep], x_held, 0) == y_held).mean())


def detection(score, flipped) -> tuple[float, float]:
    from sklearn.metrics import roc_auc_score

    low = np.argsort(score, kind="stable")[:int(flipped.sum())]
    return float(roc_auc_score(flipped, -score)), float(flipped[low].mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--finetune-oof", nargs="*", default=[], metavar="ARM",
                    help="arms (e.g. tweets/uniform/0) whose flip detection also gets fine-tune OOF probabilities")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from _common import load_avg, write_section

    from dq_core.data.workspace import Workspace
    from dq_core.signals import compute_signals, get_signal
    from dq_core.signals.sandbox import inject_label_noise
    from dq_core.training.advisor import FOLD_SIGNALS

    t_start, load0 = time.perf_counter(), load_avg()
    st = pickle.loads(STATE.read_bytes())
    ws = Workspace.default()
    won, detect = {}, []
    for arm in st["state"]:
        if arm["mode"] == "as_is":
            continue
        (tr, x), _, (held, x_held) = st["splits"][arm["eval_key"]]
        y_clean, y_held = labels_of(tr), labels_of(held)
        noisy = inject_label_noise(y_clean, rate=NOISE, mode=arm["mode"], seed=arm["seed"])
        ds = tr.with_labels(noisy.labels)
        y = labels_of(ds)
        flipped = y != y_clean
        sig = compute_signals(ds, [get_signal(s) for s in FOLD_SIGNALS], embeddings=x, workspace=ws, seed=0).frame

        acc = partial(baseline_accuracy, x, x_held, y_held)
        every = np.ones(len(y), bool)
        row = {"clean": acc(every, y_clean), "none": acc(every, y)}
        row.update({k: acc(keep, lab) for k, (keep, lab) in variants(y, sig, flipped).items()})
        row["relabel flagged p >= 0.5, 3 rounds"] = acc(every, iterated_relabel(ds, x, y))
        won.setdefault((arm["demo"], arm["mode"]), []).append(row)
        auc, prec = detection(sig["label_score"].to_numpy(float), flipped)
        detect.append((arm["id"], "label signal (LR + neighbours)", auc, prec, int(sig["is_label_issue"].sum()),
                       float(flipped[sig["is_label_issue"].to_numpy(bool)].mean())))
        if arm["id"] in args.finetune_oof:
            probs = finetune_oof(ds.texts.fillna("").astype(str).to_numpy(object), y)
            classes = sorted(set(y.tolist()))
            given = probs[np.arange(len(y)), [classes.index(v) for v in y]]
            auc, prec = detection(given, flipped)
            detect.append((arm["id"], "1-epoch MiniLM fine-tune, 5-fold OOF", auc, prec, None, None))
        print(arm["id"], {k: round(v, 4) for k, v in row.items()}, flush=True)
    write_section(HEADING, render(won, detect, t_start, load0, sys.argv[1:]))


def render(won, detect, t_start, load0, argv) -> str:
    from _common import load_avg, machine

    names = [k for k in next(iter(won.values()))[0] if k not in ("clean", "none")]
    lines = [HEADING, "", f"Measured {time.strftime('%Y-%m-%d')} on {machine()}; load {load0} → {load_avg()}; "
             f"{(time.perf_counter() - t_start) / 60:.1f} min.", "",
             "Command: `DQ_HOME=.dq-bench .venv/bin/python bench/bench_advisor_variants.py"
             f"{''.join(' ' + a for a in argv)}` (after `bench_advisor_trusted.py prepare`)", "",
             "Baseline trainer, the same rows as the trusted-set bench: each variant trained on the noisy training "
             "rows it keeps, scored on the 1,200 measuring rows; won back = (variant − noisy) / (clean − noisy) "
             "on the means over noise seeds 0, 1, 2. Exploration, not the advisor: a variant picked here by its "
             "measuring-half score would be chosen on the rows that score it.", "",
             "| variant | " + " | ".join(f"{d}, {m}" for d, m in won) + " |",
             "|---|" + "---:|" * len(won)]
    for name in names:
        cells = []
        for rows in won.values():
            c, n, v = (float(np.mean([r[k] for r in rows])) for k in ("clean", "none", name))
            cells.append(f"{(v - n) / (c - n):.0%}" if c > n else "n/a")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "Flip detection: how well each label model ranks the injected flips first.", "",
              "| arm | label model | ROC AUC | precision at n = flipped rows | rows flagged | flag precision |",
              "|---|---|---:|---:|---:|---:|"]
    for arm, model, auc, prec, n_flag, flag_prec in detect:
        lines.append(f"| {arm} | {model} | {auc:.3f} | {prec:.3f} | {'–' if n_flag is None else f'{n_flag:,}'} | "
                     f"{'–' if flag_prec is None else f'{flag_prec:.2f}'} |")
    return "\n".join(lines) + "\n\n"


if __name__ == "__main__":
    main()
