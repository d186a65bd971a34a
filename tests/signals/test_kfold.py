"""K-fold out-of-sample probabilities: folds warm-started from the previous fold reach the same optimum."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.signals.context import FOLDS_MESSAGE, SignalContext, kfold_probabilities


def blobs(n: int, k: int, dim: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    centres = rng.standard_normal((k, dim)) * 1.5
    x = centres[y] + rng.standard_normal((n, dim))
    flip = rng.random(n) < 0.1  # some wrong labels, as the label signal expects
    y[flip] = rng.integers(0, k, int(flip.sum()))
    return x.astype(np.float32), y.astype(np.int64)


def cold_folds(x: np.ndarray, y: np.ndarray, k: int, folds: int, seed: int) -> np.ndarray:
    """Every fold fitted from zero, as before warm starts."""
    out = np.zeros((len(y), k))
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = LogisticRegression(C=1.0, max_iter=1000, tol=1e-8).fit(x[tr], y[tr])
        out[te[:, None], m.classes_[None, :]] = m.predict_proba(x[te])
    return out


def test_warm_started_folds_match_cold_fits():
    x, y = blobs(1500, 4)
    got = kfold_probabilities(x, y, 4, folds=5, seed=3)
    want = cold_folds(x, y, 4, 5, 3)
    assert got.shape == (1500, 4)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)  # float32 inputs
    # same optimum up to L-BFGS's stopping tolerance
    assert np.abs(got - want).max() < 0.02
    assert (got.argmax(axis=1) == want.argmax(axis=1)).mean() > 0.995


def test_a_fold_missing_a_class_still_gets_probabilities():
    x, y = blobs(300, 3, seed=1)
    y[:2] = 3  # a two-row class: some training folds lack it, so their models have fewer classes
    p = kfold_probabilities(x, y, 4, folds=5, seed=0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)  # float32 inputs
    assert p.shape == (300, 4) and np.isfinite(p).all()
    big = y < 3
    assert (p[big].argmax(axis=1) == y[big]).mean() > 0.7


def test_folds_report_through_the_one_progress_type():
    """kfold_probabilities counts folds as ``(message, done, total)``; the context passes them on as fractions."""
    x, y = blobs(200, 3, seed=2)
    seen = []
    kfold_probabilities(x, y, 3, folds=4, seed=0, progress=lambda m, d, t: seen.append((m, d, t)))
    assert seen == [(FOLDS_MESSAGE, i, 4) for i in (1, 2, 3, 4)]
    ds = build_dataset(pd.DataFrame({"text": [f"t{i}" for i in range(200)], "label": [f"c{v}" for v in y]}),
                       ColumnMapping("text", "label"))
    said = []
    ctx = SignalContext(ds, embeddings=x, progress=lambda m, d=None, t=1.0: said.append((m, d, t)))
    ctx.oof_probabilities(folds=4)
    assert said == [(FOLDS_MESSAGE, f, 1.0) for f in (0.25, 0.5, 0.75, 1.0)]
