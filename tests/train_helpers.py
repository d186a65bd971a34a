"""Small data and finished-run folders for the training, jobs, report and page tests."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from dq_core.data.dataset import ColumnMapping, TextDataset, build_dataset

POS = ["great", "lovely", "excellent", "happy", "wonderful", "fantastic", "nice", "good", "superb", "brilliant"]
NEG = ["awful", "terrible", "bad", "horrible", "sad", "poor", "angry", "worst", "dreadful", "broken"]
NEU = ["flight", "today", "station", "table", "update", "schedule", "meeting", "airport", "ticket", "gate"]


def tiny_frame(n: int = 60, *, seed: int = 0, classes: tuple[str, ...] = ("negative", "neutral", "positive"),
               split: bool = False) -> pd.DataFrame:
    """A few dozen short sentiment texts whose label the words give away (a model learns it in a few steps)."""
    rng = np.random.default_rng(seed)
    vocab = {"positive": POS, "negative": NEG, "neutral": NEU}
    rows = []
    for i in range(n):
        lab = classes[i % len(classes)]
        words = vocab.get(lab, NEU)
        text = f"the {rng.choice(words)} {rng.choice(NEU)} was {rng.choice(words)} {i}"
        row = {"id": f"r{i}", "text": text, "label": lab, "topic": ["airlines", "apple"][i % 2]}
        if split:
            row["split"] = "test" if i % 5 == 0 else ("validation" if i % 5 == 1 else "train")
        rows.append(row)
    return pd.DataFrame(rows)


def tiny_dataset(n: int = 60, *, seed: int = 0, split: bool = False, **kw) -> TextDataset:
    frame = tiny_frame(n, seed=seed, split=split, **kw)
    mapping = ColumnMapping(text="text", label="label", id="id", split="split" if split else None,
                            metadata=("topic",))
    return build_dataset(frame, mapping, name="tiny")


def write_run(run_dir: Path, *, labels: tuple[str, ...], y_true, proba, texts=None, row_ids=None,
              name: str = "run", slices: dict | None = None, trainer: str = "baseline",
              test_key: str = "k", history: list[dict] | None = None, n_train: int = 100,
              data: dict | None = None) -> Path:
    """A finished run folder exactly as the runner writes one (through runner.save_evaluation)."""
    from dq_core.training import jobs
    from dq_core.training.runner import save_evaluation

    n = len(y_true)
    test = pd.DataFrame({"row_id": row_ids if row_ids is not None else [f"t{i}" for i in range(n)],
                         "text": texts if texts is not None else [f"text {i}" for i in range(n)],
                         "label": list(y_true)})
    jobs.create_run({"name": name, "train": {"trainer": trainer}, "data": data or {"dataset_name": "tiny"}}, run_dir)
    save_evaluation(run_dir, test, np.asarray(proba), labels, slices=slices,
                    extra={"trainer": trainer, "name": name, "test_source": "holdout", "test_key": test_key,
                           "split": {"n_train": n_train, "n_val": 10, "n_test": n}, "training": {}, "notes": [],
                           "duration_seconds": 1.0})
    for rec in history or []:
        with open(run_dir / jobs.HISTORY, "a") as fh:
            fh.write(json.dumps(rec) + "\n")
    jobs.update_status(run_dir, state=jobs.SUCCEEDED, progress=1.0, finished_at=time.time())
    return run_dir


def random_predictions(n: int, labels: tuple[str, ...], *, seed: int, skill: float = 0.6):
    """(y_true, proba) where the argmax is right about ``skill`` of the time, with varied confidences."""
    rng = np.random.default_rng(seed)
    k = len(labels)
    t = rng.integers(0, k, size=n)
    logits = rng.normal(size=(n, k))
    right = rng.random(n) < skill
    logits[np.arange(n)[right], t[right]] += 3.0
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    return [labels[i] for i in t], p
