"""Evaluation metrics against scikit-learn, calibration with a known answer, and the paired bootstrap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
    roc_auc_score,
)

from dq_core.errors import DataError
from dq_core.training.evaluate import (
    EvaluationResult,
    evaluate_predictions,
    expected_calibration_error,
    paired_bootstrap,
    paired_bootstrap_runs,
)
from tests.train_helpers import random_predictions

LABELS = ("negative", "neutral", "positive")


def test_metrics_equal_scikit_learn():
    y, p = random_predictions(400, LABELS, seed=1)
    ev = evaluate_predictions(y, p, LABELS)
    pred = [LABELS[i] for i in p.argmax(axis=1)]
    assert ev.accuracy == pytest.approx(accuracy_score(y, pred))
    for avg in ("macro", "micro", "weighted"):
        assert ev.f1[avg] == pytest.approx(f1_score(y, pred, labels=list(LABELS), average=avg))
        assert ev.precision[avg] == pytest.approx(precision_score(y, pred, labels=list(LABELS), average=avg))
        assert ev.recall[avg] == pytest.approx(recall_score(y, pred, labels=list(LABELS), average=avg))
    pr, rc, f1, sup = precision_recall_fscore_support(y, pred, labels=list(LABELS))
    for i, lab in enumerate(LABELS):
        assert ev.per_class[lab]["f1"] == pytest.approx(f1[i])
        assert ev.per_class[lab]["support"] == sup[i]
    np.testing.assert_array_equal(ev.confusion_matrix, confusion_matrix(y, pred, labels=list(LABELS)))
    y_idx = np.array([LABELS.index(v) for v in y])
    assert ev.roc_auc["macro"] == pytest.approx(roc_auc_score(y_idx, p, multi_class="ovr", average="macro"))
    d = ev.to_dict()
    for key in ("accuracy", "macro_f1", "weighted_f1", "per_class", "confusion_matrix", "labels"):
        assert key in d
    assert np.allclose(np.asarray(d["confusion_matrix_normalized"]).sum(axis=1), 1.0)


def test_round_trip_through_dict():
    y, p = random_predictions(120, LABELS, seed=2)
    ev = evaluate_predictions(y, p, LABELS, texts=[f"t{i}" for i in range(120)], row_ids=list(range(120)),
                              slices={"topic": np.array(["a", "b"] * 60)})
    back = EvaluationResult.from_dict(ev.to_dict())
    assert back.accuracy == ev.accuracy and back.f1 == ev.f1
    np.testing.assert_array_equal(back.confusion_matrix, ev.confusion_matrix)
    assert list(back.slices) == ["topic"]
    assert len(back.misclassified) == len(ev.misclassified)


def test_binary_and_absent_class_roc_auc():
    y = ["a", "a", "b", "b"]
    p = np.array([[0.9, 0.1, 0.0], [0.6, 0.4, 0.0], [0.3, 0.7, 0.0], [0.2, 0.8, 0.0]])
    ev = evaluate_predictions(y, p, ("a", "b", "c"))
    assert ev.accuracy == 1.0
    assert np.isnan(ev.roc_auc["c"])  # no positive row: undefined, left out of the macro average
    assert ev.roc_auc["macro"] == pytest.approx(1.0)
    assert ev.to_dict()["roc_auc"]["c"] is None


def test_ece_known_answer():
    conf = np.array([0.95, 0.95, 0.65, 0.65])
    correct = np.array([True, False, True, True])
    ece, bins = expected_calibration_error(conf, correct, n_bins=10)
    # bin 0.9-1.0: acc 0.5 vs conf 0.95 (weight 1/2); bin 0.6-0.7: acc 1 vs conf 0.65 (weight 1/2)
    assert ece == pytest.approx(0.5 * 0.45 + 0.5 * 0.35)
    assert sum(b.count for b in bins) == 4
    assert expected_calibration_error(np.array([1.0]), np.array([True]))[0] == pytest.approx(0.0)


def test_misclassified_and_slices():
    y = ["a", "a", "b", "b", "b", "a"]
    p = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4], [0.1, 0.9], [0.45, 0.55]])
    ev = evaluate_predictions(y, p, ("a", "b"), texts=list("uvwxyz"), row_ids=[10, 11, 12, 13, 14, 15],
                              slices={"topic": ["x", "x", "x", "y", "y", "y"]})
    assert ev.misclassified["row_id"].tolist() == ["11", "13", "15"]  # most confident mistake first
    assert ev.misclassified["predicted"].tolist() == ["b", "a", "b"]
    topic = ev.slices["topic"].set_index("value")
    assert topic.loc["x", "accuracy"] == pytest.approx(2 / 3)
    assert topic.loc["y", "n"] == 3


def test_numeric_slice_becomes_ranges():
    y, p = random_predictions(200, LABELS, seed=3)
    conf = np.linspace(0.3, 1.0, 200)
    ev = evaluate_predictions(y, p, LABELS, slices={"confidence": conf, "constant": np.ones(200)})
    assert "constant" not in ev.slices
    assert 2 <= len(ev.slices["confidence"]) <= 4


def test_bad_inputs():
    with pytest.raises(DataError, match="not among the model's classes"):
        evaluate_predictions(["zzz"], np.array([[1.0, 0.0]]), ("a", "b"))
    with pytest.raises(DataError, match="shape"):
        evaluate_predictions(["a"], np.array([[1.0, 0.0, 0.0]]), ("a", "b"))


def test_paired_bootstrap():
    rng = np.random.default_rng(0)
    n = 600
    t = rng.integers(0, 3, size=n).astype(str)
    a = np.where(rng.random(n) < 0.6, t, "0")
    b = np.where(rng.random(n) < 0.85, t, "1")
    r1 = paired_bootstrap(t, a, b, metric="accuracy", n_resamples=400, rng=np.random.default_rng(5))
    r2 = paired_bootstrap(t, a, b, metric="accuracy", n_resamples=400, rng=np.random.default_rng(5))
    assert r1 == r2  # deterministic for a seeded Generator
    assert r1.a == pytest.approx((a == t).mean()) and r1.b == pytest.approx((b == t).mean())
    assert r1.ci_low <= r1.delta <= r1.ci_high
    assert r1.significant and r1.ci_low > 0
    same = paired_bootstrap(t, a, a, metric="macro_f1", n_resamples=200, rng=np.random.default_rng(1))
    assert same.delta == 0 and same.ci_low == 0 and same.ci_high == 0 and not same.significant
    f = paired_bootstrap(t, a, b, metric="macro_f1", n_resamples=200, rng=np.random.default_rng(1))
    assert f.b - f.a == pytest.approx(f1_score(t, b, average="macro") - f1_score(t, a, average="macro"), abs=1e-9) \
        or f.delta == pytest.approx(f.b - f.a)
    assert f.a == pytest.approx(f1_score(t, a, labels=np.unique(t), average="macro"))
    with pytest.raises(DataError):
        paired_bootstrap(t, a, b, metric="auc", rng=np.random.default_rng(0))
    assert pd.Series(r1.to_dict()).notna().all()


def test_paired_bootstrap_over_runs_puts_training_randomness_in_the_interval():
    rng = np.random.default_rng(0)
    n = 400
    t = rng.integers(0, 2, size=n).astype(str)
    a = np.where(rng.random(n) < 0.8, t, "x")
    lucky = np.where(rng.random(n) < 0.9, t, "x")  # one run of B gains about 10 points ...
    b_runs = [a.copy(), lucky]  # ... the other run gains nothing
    one = paired_bootstrap(t, a, lucky, n_resamples=400, rng=np.random.default_rng(3))
    assert one.significant  # a single lucky run passes for a gain
    runs = paired_bootstrap_runs(t, [a], b_runs, n_resamples=400, rng=np.random.default_rng(3))
    assert runs.b == pytest.approx(np.mean([(r == t).mean() for r in b_runs]))
    assert runs.delta == pytest.approx(runs.b - runs.a)
    assert runs.ci_low <= 0 < runs.ci_high and not runs.significant  # with both runs it does not
    # one run a side is exactly the paired bootstrap, random draws included
    assert paired_bootstrap_runs(t, [a], [lucky], n_resamples=400, rng=np.random.default_rng(3)) == one
    with pytest.raises(DataError, match="at least one run"):
        paired_bootstrap_runs(t, [], b_runs, rng=np.random.default_rng(0))
    with pytest.raises(DataError, match="same, non-empty set of test rows"):
        paired_bootstrap_runs(t, [a], [lucky[:-1]], rng=np.random.default_rng(0))
