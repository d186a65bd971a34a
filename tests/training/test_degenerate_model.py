"""A degenerate model (one class predicted, or macro-F1 near chance) is said in its metrics and report."""

from __future__ import annotations

import numpy as np

from dq_core.report.content import run_warnings
from dq_core.training.evaluate import EvaluationResult, degenerate_warnings, evaluate_predictions

LABELS = ("negative", "neutral", "positive")


def test_one_class_for_every_row_is_flagged():
    y = ["negative"] * 6 + ["neutral"] * 2 + ["positive"] * 2
    proba = np.tile([0.6, 0.2, 0.2], (10, 1))  # always 'negative': accuracy 0.6, macro-F1 0.25
    ev = evaluate_predictions(y, proba, LABELS)
    assert ev.accuracy == 0.6 and round(ev.macro_f1, 3) == 0.25
    assert len(ev.warnings) == 2
    assert "one class ('negative')" in ev.warnings[0] and "near chance for 3 classes" in ev.warnings[1]
    d = ev.to_dict()
    assert d["warnings"] == list(ev.warnings)
    assert EvaluationResult.from_dict(d).warnings == ev.warnings
    assert run_warnings(d) == list(ev.warnings)
    old = {k: v for k, v in d.items() if k != "warnings"}  # a run saved before the check
    assert run_warnings(old) == list(ev.warnings) and EvaluationResult.from_dict(old).warnings == ev.warnings


def test_a_good_model_has_no_warning():
    y = ["negative", "neutral", "positive"] * 4
    proba = np.array([[0.8 if j == i % 3 else 0.1 for j in range(3)] for i in range(12)])
    ev = evaluate_predictions(y, proba, LABELS)
    assert ev.macro_f1 == 1.0 and ev.warnings == ()


def test_near_chance_without_one_class():
    cm = np.array([[3, 3], [3, 3]])  # binary, macro-F1 0.5 = chance, both classes predicted
    w = degenerate_warnings(cm, 0.5, ("a", "b"))
    assert len(w) == 1 and "near chance for 2 classes (1/2 = 0.500)" in w[0]
    assert degenerate_warnings(np.array([[5, 0], [0, 5]]), 1.0, ("a", "b")) == ()
