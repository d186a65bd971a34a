"""Figures of the Clean page built from results, and properties of the agreement metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from dq_core.metrics.consistency import compute_annotator_agreement, fleiss_kappa, krippendorff_alpha_nominal
from dq_core.viz import signals as viz_signals


def test_joint_heatmap_shows_confusions_off_the_diagonal():
    joint = np.array([[0.5, 0.1], [0.05, 0.35]])
    fig = viz_signals.joint_heatmap(joint, ["ham", "spam"], n_rows=1000)
    z = np.array(fig.data[0].z, dtype=float)
    assert np.isnan(z[0, 0]) and z[0, 1] == 0.1 and z[1, 0] == 0.05
    assert fig.data[0].text[0][1] == "10.0%<br>~100 rows"
    assert list(fig.data[0].x) == ["ham", "spam"]


def test_flagged_bar_and_detection_bars():
    fig = viz_signals.flagged_bar({"label": 30, "junk": 5}, 100, titles={"label": "Label issues"})
    assert list(fig.data[0].y) == ["Label issues", "junk"] and list(fig.data[0].x) == [30, 5]
    det = viz_signals.detection_bars({"ours": {"precision": 0.9, "recall": 0.8, "f1": 0.85, "average_precision": 0.9}})
    assert [t.name for t in det.data] == ["precision", "recall", "f1", "average precision"]


def test_agreement_boxes_and_histogram():
    rng = np.random.default_rng(0)
    fig = viz_signals.agreement_boxes(rng.random(200), rng.uniform(0.3, 1.0, 200), column="confidence")
    assert len(fig.data) >= 4 and all(t.type == "box" for t in fig.data)
    h = viz_signals.score_histogram(np.array([0.1, 0.9, 0.5]), np.array([True, False, False]))
    assert [t.name for t in h.data] == ["not flagged", "flagged"]


ratings = st.lists(st.lists(st.sampled_from(["a", "b", "c", None]), min_size=3, max_size=3), min_size=3, max_size=30)


@settings(max_examples=40, deadline=None)
@given(ratings)
def test_agreement_metrics_are_invariant_to_row_and_annotator_order(rows):
    f = pd.DataFrame(rows, columns=["r1", "r2", "r3"])
    a = compute_annotator_agreement(f, ["r1", "r2", "r3"])
    b = compute_annotator_agreement(f.iloc[::-1].reset_index(drop=True), ["r3", "r1", "r2"])
    for x, y in ((a.krippendorff_alpha, b.krippendorff_alpha), (a.fleiss_kappa, b.fleiss_kappa),
                 (a.agreement_rate, b.agreement_rate)):
        assert (np.isnan(x) and np.isnan(y)) or abs(x - y) < 1e-9
    if np.isfinite(a.agreement_rate):
        assert 0.0 <= a.agreement_rate <= 1.0


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c"]), min_size=2, max_size=30))
def test_perfect_agreement_gives_one(labels):
    if len(set(labels)) < 2:
        return  # one category: agreement by chance is total, alpha/kappa undefined
    counts = np.zeros((len(labels), 3), dtype=int)
    for i, v in enumerate(labels):
        counts[i, "abc".index(v)] = 3
    assert krippendorff_alpha_nominal(counts) == 1.0
    assert abs(fleiss_kappa(counts) - 1.0) < 1e-12
