"""Data, signals and fake run folders for the story tests (tiny: no model, no embeddings computed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dq_core.data.io import load_dataset
from tests.filter_data import make_frame, make_signals
from tests.train_helpers import write_run

LABELS = ("negative", "neutral", "positive")
EVIL = "<script>alert('x')</script> <img src=x onerror=alert(1)>"


def write_inputs(folder: Path) -> dict[str, Path]:
    """data.csv (with an XSS text in row 30), ref.csv and signals.parquet in ``folder``."""
    f = make_frame()
    f.loc[30, "text"] = EVIL
    f.to_csv(folder / "data.csv", index=False)
    ref = make_frame(80, seed=1)
    ref["text"] = ref["text"].str.replace("number", "ref", regex=False)
    ref.to_csv(folder / "ref.csv", index=False)
    ds, _ = load_dataset(str(folder / "data.csv"))
    make_signals(ds).to_parquet(folder / "signals.parquet")
    return {"data": folder / "data.csv", "ref": folder / "ref.csv", "signals": folder / "signals.parquet"}


def predictions(n: int, skill: float, seed: int, y=None):
    """(y_true, proba) where the argmax is right on about ``skill`` of the rows (same y when given)."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 3, size=n) if y is None else np.array([LABELS.index(v) for v in y])
    right = rng.random(n) < skill
    p = np.full((n, 3), 0.1)
    p[np.arange(n), np.where(right, t, (t + 1) % 3)] = 0.8
    return [LABELS[i] for i in t], p


def fake_run(folder: Path, ds, *, skill: float, y=None, seed: int = 0, name: str = "run",
             fingerprint: str | None = None):
    """A finished run folder (as the runner writes one) that records ``ds`` (or ``fingerprint``) as its data."""
    y, p = predictions(400, skill, seed, y)
    write_run(folder, labels=LABELS, y_true=y, proba=p, name=name)
    m = json.loads((folder / "metrics.json").read_text())
    m["dataset"] = {"name": ds.name, "fingerprint": fingerprint or ds.fingerprint, "n_rows": len(ds)}
    (folder / "metrics.json").write_text(json.dumps(m))
    return folder, y
