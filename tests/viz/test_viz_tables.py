"""The tables the Overview and Coverage pages show beside their figures, and the points the coverage map
draws: known answers (the pages only display these)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from dq_core.metrics.balance import compute_class_balance
from dq_core.metrics.coverage import compute_coverage
from dq_core.viz.coverage import cluster_table, plot_sample
from dq_core.viz.overview import class_balance_table, missing_classes


def test_class_table_lines_up_both_sides_over_every_class():
    ds = compute_class_balance(["a"] * 3 + ["b"])
    ref = compute_class_balance(["a", "c", "c", "c"])
    t = class_balance_table(ds, ref)
    assert list(t.columns) == ["dataset rows", "dataset share", "reference rows", "reference share"]
    assert t.index.tolist() == ["a", "b", "c"]
    assert t["dataset rows"].tolist()[:2] == [3.0, 1.0] and math.isnan(t.loc["c", "dataset rows"])
    assert t.loc["c", "reference share"] == 0.75 and math.isnan(t.loc["b", "reference rows"])
    assert missing_classes(t) == {"dataset": ["c"], "reference": ["b"]}
    alone = class_balance_table(ds, compute_class_balance([None, None]))  # an unlabelled reference adds no columns
    assert list(alone.columns) == ["dataset rows", "dataset share"] and missing_classes(alone) == {"dataset": []}
    assert list(class_balance_table(ds).columns) == ["dataset rows", "dataset share"]


def _coverage():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), [30, 30, 2])
    x = np.eye(8)[labels] + rng.normal(scale=0.03, size=(len(labels), 8))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    ref = x[labels != 1]  # the reference has no rows in the second scene
    texts = [f"scene {c} text number {i} " + "long words " * 20 for i, c in enumerate(labels)]
    ref_texts = [t for t, c in zip(texts, labels, strict=True) if c != 1]
    return compute_coverage(x[:60], ref, ds_texts=texts[:60], ref_texts=ref_texts, k=3)


def test_cluster_table_one_row_per_cluster():
    res = _coverage()
    t = cluster_table(res)
    assert list(t.columns) == ["cluster", "under-covered", "reference rows", "dataset rows", "expected dataset rows",
                               "coverage ratio", "reference within radius", "top terms", "reference examples",
                               "dataset examples"]
    assert t["cluster"].tolist() == [f"C{c.cluster}" for c in res.clusters]
    assert t["reference rows"].tolist() == [c.n_reference for c in res.clusters]
    assert t["under-covered"].tolist() == [c.under_covered for c in res.clusters]
    no_ref = t["reference rows"] == 0
    assert no_ref.any() and t.loc[no_ref, "coverage ratio"].isna().all()
    examples = [e for cell in t["dataset examples"] for e in cell.split(" ‖ ")]
    assert max(len(e) for e in examples) == 120  # every example cut to 120 characters


def test_plot_sample_keeps_each_side_and_cluster():
    frame = pd.DataFrame({"side": ["dataset"] * 90 + ["reference"] * 10, "cluster": [0] * 80 + [1] * 10 + [0] * 10,
                          "label": "x", "x": np.arange(100.0)})
    shown = plot_sample(frame, max_points=20)
    assert len(shown) == 20 and shown.index.tolist() == list(range(20))
    assert shown.groupby(["side", "cluster"]).size().to_dict() == {("dataset", 0): 16, ("dataset", 1): 2,
                                                                   ("reference", 0): 2}
    assert plot_sample(frame, max_points=20).equals(shown)  # the same rows every time
    assert plot_sample(frame.drop(columns="cluster")).equals(frame.drop(columns="cluster"))  # under the cap: all
