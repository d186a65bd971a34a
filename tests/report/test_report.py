"""Reports: numbers equal scikit-learn's, dataset text is escaped, runs compare with a paired bootstrap."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from dq_core.cli import main
from dq_core.errors import DataError
from dq_core.report import build_report, compare_runs, load_run
from tests.train_helpers import random_predictions, write_run

LABELS = ("neg", "neu", "pos")
EVIL = "<script>alert('x')</script> & | pipe"


@pytest.fixture
def two_runs(tmp_path):
    y, pa = random_predictions(300, LABELS, seed=1, skill=0.55)
    _, pb = random_predictions(300, LABELS, seed=2, skill=0.9)
    # same true labels for both runs: b's probabilities re-aimed at y where b is "skilled"
    rng = np.random.default_rng(3)
    t = np.array([LABELS.index(v) for v in y])
    good = rng.random(300) < 0.85
    pb = np.full((300, 3), 0.1)
    pb[np.arange(300), np.where(good, t, (t + 1) % 3)] = 0.8
    texts = [f"{EVIL} {i}" for i in range(300)]
    slices = {"topic": np.array(["a", "b", "c"] * 100)}
    a = write_run(tmp_path / "a", labels=LABELS, y_true=y, proba=pa, texts=texts, name="noisy <b>", slices=slices,
                  history=[{"step": 1, "loss": 1.1}, {"step": 2, "loss": 0.9, "eval_loss": 1.0}])
    b = write_run(tmp_path / "b", labels=LABELS, y_true=y, proba=pb, texts=texts, name="filtered", slices=slices)
    return a, b, y, pa, pb


def test_report_metrics_equal_scikit_learn(two_runs):
    a, _, y, pa, _ = two_runs
    rep = json.loads(build_report([a], "json"))
    m = rep["runs"][0]["metrics"]
    pred = [LABELS[i] for i in pa.argmax(axis=1)]
    assert m["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert m["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro"))
    assert m["weighted_f1"] == pytest.approx(f1_score(y, pred, average="weighted"))
    assert rep["comparison"] is None


def test_html_escapes_dataset_text_and_inlines_plotly_once(two_runs):
    a, b, *_ = two_runs
    html = build_report([a, b], "html")
    assert "<script>alert(" not in html and "alert(&#39;x&#39;)" in html
    assert "&lt;script&gt;" in html
    assert "noisy &lt;b&gt;" in html and "noisy <b>" not in html
    assert html.count("plotly.js v") == 1  # the library once; every figure reuses it
    assert html.count("Plotly.newPlot") >= 8
    assert "http://" not in html.split("plotly.js v")[0]  # no external script before it
    md = build_report([a, b], "md")
    assert "<script>" not in md and "&lt;script&gt;" in md and "\\| pipe" in md


def test_comparison_deltas_and_paired_bootstrap(two_runs):
    a, b, y, pa, pb = two_runs
    cmp = compare_runs([load_run(a), load_run(b)])
    acc_a = accuracy_score(y, [LABELS[i] for i in pa.argmax(axis=1)])
    acc_b = accuracy_score(y, [LABELS[i] for i in pb.argmax(axis=1)])
    assert cmp.deltas.loc["accuracy", "filtered"] == pytest.approx(acc_b - acc_a)
    acc = next(d for d in cmp.differences if d.metric == "accuracy")
    assert acc.shared_rows == 300 and acc.same_test_set
    assert acc.result.delta == pytest.approx(acc_b - acc_a)
    assert acc.result.ci_low > 0  # a gain of ~0.3 on 300 rows is not noise
    j = json.loads(build_report([a, b], "json"))
    assert j["comparison"]["paired_bootstrap"][0]["shared_rows"] == 300
    assert set(j["comparison"]["per_class_f1"]) == {"noisy <b>", "filtered"}


def test_counts_in_the_comparison_read_as_whole_numbers(tmp_path):
    """n_train / n_test as 3,539 and +475 in every format (not 3539.0000 / +475.0000); rates keep .4f."""
    y, p = random_predictions(60, LABELS, seed=5)
    a = write_run(tmp_path / "a", labels=LABELS, y_true=y, proba=p, name="all", n_train=3539)
    b = write_run(tmp_path / "b", labels=LABELS, y_true=y, proba=p, name="clean", n_train=4014)
    md = build_report([a, b], "md")
    acc = f"{accuracy_score(y, [LABELS[i] for i in p.argmax(axis=1)]):.4f}"
    assert "| n_train | 3,539 | 4,014 | +475 |" in md
    assert "| n_test | 60 | 60 | +0 |" in md
    assert f"| accuracy | {acc} | {acc} | +0.0000 |" in md
    html = build_report([a, b], "html")
    assert ">3,539<" in html and ">+475<" in html and "3539.0" not in html and "475.0000" not in html
    j = json.loads(build_report([a, b], "json"))["comparison"]
    assert j["metrics"]["all"]["n_train"] == 3539 and isinstance(j["metrics"]["all"]["n_train"], int)
    assert j["deltas"]["clean"]["n_train"] == 475
    one = build_report([a], "md")  # one run: its per-class support is a count too
    support = [line for line in one.splitlines() if line.startswith("| neg |")][0]
    assert support.split(" | ")[4].isdigit()  # precision, recall, f1, then support: "21", not "21.0000"


def test_runs_on_different_test_rows_are_not_tested(tmp_path):
    y, p = random_predictions(50, LABELS, seed=4)
    a = write_run(tmp_path / "a", labels=LABELS, y_true=y, proba=p, name="A", test_key="k1")
    b = write_run(tmp_path / "b", labels=LABELS, y_true=y, proba=p, name="A", test_key="k2",
                  row_ids=[f"other{i}" for i in range(50)])
    cmp = compare_runs([load_run(a), load_run(b)])
    assert cmp.names[0] != cmp.names[1]  # same names get told apart
    assert all(d.result is None and "share no test rows" in d.note for d in cmp.differences)


def test_cli_report(two_runs, tmp_path, capsys):
    a, b, *_ = two_runs
    for fmt in ("html", "md", "json"):
        out = tmp_path / f"r.{fmt}"
        assert main(["report", str(a), str(b), "--format", fmt, "--out", str(out)]) == 0
        assert out.stat().st_size > 0
    assert json.loads((tmp_path / "r.json").read_text())["runs"][1]["name"] == "filtered"
    assert main(["report", str(tmp_path / "nope"), "--out", str(tmp_path / "x.html")]) == 2
    assert "error: " in capsys.readouterr().err
    (tmp_path / "empty_run").mkdir()
    with pytest.raises(DataError, match="no metrics.json"):
        load_run(tmp_path / "empty_run")


def test_html_escapes_labels_and_names(tmp_path):
    labels = ("<script>evil()</script>", "ok")
    y = [labels[i % 2] for i in range(40)]
    p = np.tile([[0.3, 0.7]], (40, 1))
    run = write_run(tmp_path / "r", labels=labels, y_true=y, proba=p, name="<img src=x onerror=alert(1)>",
                    slices={"<b>col</b>": np.array(["<i>v</i>", "w"] * 20)})
    for fmt in ("html", "md"):
        out = build_report([run], fmt)
        assert "<script>evil" not in out and "<img src" not in out and "<i>v</i>" not in out
        assert "&lt;script&gt;evil()" in out


def test_training_rows_name_the_rows_a_recipe_filters():
    from dq_core.report.content import training_rows_text

    split = {"n_train": 3539, "max_train_rows": None, "n_pool": 4100, "n_filtered_out": 475, "n_relabelled": 12}
    assert training_rows_text(split) == ("3,539 (cap none; the recipe left out 475 of the 4,100 labelled rows "
                                         "outside the test set and relabelled 12)")
    old = {"n_train": 80, "max_train_rows": 2000, "n_filtered_out": 3, "n_relabelled": 0}  # recorded before n_pool
    assert training_rows_text(old) == "80 (cap 2,000, 3 filtered out, 0 relabelled)"
