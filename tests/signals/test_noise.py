"""The noise-injection sandbox: exact, seeded flips and detection scores against them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dq_core.errors import DataError
from dq_core.signals.sandbox import inject_label_noise, score_detection

LABELS = pd.Series(["a"] * 500 + ["b"] * 300 + ["c"] * 200)


@pytest.mark.parametrize("mode", ["uniform", "class_conditional"])
def test_flips_exactly_the_share_asked_for_and_are_seeded(mode):
    n1 = inject_label_noise(LABELS, rate=0.2, mode=mode, seed=7)
    n2 = inject_label_noise(LABELS, rate=0.2, mode=mode, seed=7)
    n3 = inject_label_noise(LABELS, rate=0.2, mode=mode, seed=8)
    assert n1.n_flipped == 200
    assert (n1.labels[n1.flipped] != n1.original[n1.flipped]).all()
    assert (n1.labels[~n1.flipped] == n1.original[~n1.flipped]).all()
    np.testing.assert_array_equal(n1.labels, n2.labels)
    assert not np.array_equal(n1.flipped, n3.flipped)
    assert LABELS.tolist() == ["a"] * 500 + ["b"] * 300 + ["c"] * 200  # input untouched
    t = n1.transitions()
    assert int(t.to_numpy().sum()) == 200 and all(t.loc[c, c] == 0 for c in t.index if c in t.columns)


def test_class_conditional_rates_differ_per_class():
    n = inject_label_noise(LABELS, rate=0.2, mode="class_conditional", seed=0)
    rates = pd.Series(n.flipped).groupby(LABELS).mean()
    assert rates.max() - rates.min() > 0.03


def test_pairs_and_missing_labels():
    lab = pd.Series(["a", "b", None, "a", "a", "b", "a", "c"] * 10)
    n = inject_label_noise(lab, rate=0.5, mode="pairs", pairs={"a": "c"}, seed=0)
    assert n.n_flipped == 20 and set(n.labels[n.flipped]) == {"c"} and set(n.original[n.flipped]) == {"a"}
    assert all(v is None for v in n.labels[lab.isna().to_numpy()])
    with pytest.raises(DataError, match="not in the labels"):
        inject_label_noise(lab, rate=0.1, mode="pairs", pairs={"a": "zzz"})
    with pytest.raises(DataError, match="at least two classes"):
        inject_label_noise(pd.Series(["a"] * 5), rate=0.1)
    with pytest.raises(DataError, match="out of range"):
        inject_label_noise(lab, rate=1.5)


def test_score_detection_known_answer():
    flipped = np.array([1, 1, 0, 0, 0, 1, 0, 0], dtype=bool)
    flags = np.array([1, 0, 1, 0, 0, 1, 0, 0], dtype=bool)
    scores = np.array([0.1, 0.6, 0.3, 0.9, 0.8, 0.2, 0.7, 0.95])
    d = score_detection(flipped, flags, scores)
    assert (d.n_found, d.n_flagged, d.n_flipped) == (2, 3, 3)
    assert d.precision == pytest.approx(2 / 3) and d.recall == pytest.approx(2 / 3) and d.f1 == pytest.approx(2 / 3)
    # ranking by score: 0.1 (F), 0.2 (F), 0.3, 0.6 (F) -> AP = (1 + 1 + 3/4) / 3
    assert d.average_precision == pytest.approx((1 + 1 + 0.75) / 3)
    assert d.auroc == pytest.approx(14 / 15)


def test_sandbox_run_finds_every_flip_on_separable_data():
    """Two well separated classes: each detector flags exactly the injected flips and suggests them back."""
    from dq_core.data.dataset import ColumnMapping, build_dataset
    from dq_core.signals.sandbox import DETECTORS, run_sandbox

    labels = ["a"] * 40 + ["b"] * 40
    ds = build_dataset(pd.DataFrame({"text": [f"text number {i}" for i in range(80)], "label": labels}),
                       ColumnMapping(text="text", label="label"), name="sandbox")
    x = np.eye(8, dtype=np.float32)[[0 if v == "a" else 1 for v in labels]]
    x += 0.05 * np.random.default_rng(0).normal(size=x.shape).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    res = run_sandbox(ds, x, rate=0.1, mode="uniform", seed=0)
    assert res.noise.n_flipped == 8 and res.dataset == ds.fingerprint
    assert list(res.scores) == list(DETECTORS)
    for d in res.scores.values():
        assert (d.n_flipped, d.n_flagged, d.n_found) == (8, 8, 8)
        assert d.precision == d.recall == d.auroc == 1.0
    ex = res.examples
    assert len(ex) == 8 and (ex["original"] != ex["injected"]).all()
    assert (ex["suggested"] == ex["original"]).all() and ex["flagged"].all()
    assert res.score_table().loc["10-NN disagreement", "f1"] == 1.0
