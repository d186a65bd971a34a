"""The baseline end to end with the real bundled embedding model, in-process and through `dq train`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score

from dq_core.cli import main
from dq_core.data.workspace import Workspace
from dq_core.training.baseline import BaselineModel, embed_frames
from dq_core.training.config import TrainConfig
from dq_core.training.runner import run_training
from tests.train_helpers import tiny_dataset, tiny_frame

CONTRACT_KEYS = ("accuracy", "macro_f1", "weighted_f1", "per_class", "confusion_matrix", "labels")


def test_baseline_run_writes_metrics_that_equal_scikit_learn(tmp_path, dq_env):
    ws = Workspace.default()
    ds = tiny_dataset(60)
    run = tmp_path / "run"
    m = run_training(TrainConfig(trainer="baseline", name="b"), run, ds=ds, ws=ws)
    on_disk = json.loads((run / "metrics.json").read_text())
    for key in CONTRACT_KEYS:
        assert key in on_disk
    preds = pd.read_parquet(run / "predictions.parquet")
    assert len(preds) == on_disk["n_test"] == 12
    assert on_disk["accuracy"] == pytest.approx(accuracy_score(preds["label"], preds["predicted"]))
    assert on_disk["macro_f1"] == pytest.approx(f1_score(preds["label"], preds["predicted"], average="macro"))
    assert on_disk["weighted_f1"] == pytest.approx(f1_score(preds["label"], preds["predicted"], average="weighted"))
    assert m["accuracy"] > 0.8  # the words give the label away
    assert "topic" in on_disk["slices"]
    # the stored model reproduces the test probabilities
    model = BaselineModel.load(run / "baseline_model")
    (x_test,), _ = embed_frames([preds], model=None, ws=ws)
    np.testing.assert_allclose(model.predict_proba(x_test), np.stack(preds["proba"].to_numpy()), atol=1e-6)


def test_cli_train_baseline_and_bad_input(tmp_path, dq_env, capsys):
    data = tmp_path / "tiny.csv"
    tiny_frame(60).to_csv(data, index=False)
    out = tmp_path / "run_cli"
    assert main(["train", str(data), "--trainer", "baseline", "--out", str(out), "--quiet",
                 "--text-col", "text", "--label-col", "label"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    for key in CONTRACT_KEYS:
        assert key in m
    assert m["labels"] == ["negative", "neutral", "positive"]
    assert json.loads(capsys.readouterr().out)["accuracy"] == m["accuracy"]
    assert json.loads((out / "status.json").read_text())["state"] == "succeeded"

    test_file = tmp_path / "test.csv"
    tiny_frame(21, seed=9).to_csv(test_file, index=False)
    ext = tmp_path / "run_ext"
    assert main(["train", str(data), "--trainer", "baseline", "--out", str(ext), "--quiet", "--test",
                 str(test_file)]) == 0
    m_ext = json.loads((ext / "metrics.json").read_text())
    assert m_ext["test_source"] == "external" and m_ext["n_test"] == 21 and m_ext["split"]["n_train"] + \
        m_ext["split"]["n_val"] == 60
    capsys.readouterr()

    one = tmp_path / "one.csv"
    tiny_frame(30, classes=("positive",)).to_csv(one, index=False)
    assert main(["train", str(one), "--trainer", "baseline", "--out", str(tmp_path / "r1")]) == 2
    err = capsys.readouterr().err
    assert "error: training needs at least two classes" in err and "Traceback" not in err
    assert main(["train", str(data), "--trainer", "baseline", "--out", str(tmp_path / "r2"), "--batch-size",
                 "0"]) == 2
    assert "batch size 0 is out of range" in capsys.readouterr().err
    assert main(["train", str(data), "--out", str(tmp_path / "r3"), "--recipe", str(tmp_path / "nope.json")]) == 2
    assert "nope.json" in capsys.readouterr().err
    assert main(["train", str(data), "--trainer", "transformer", "--out", str(tmp_path / "r4"), "--model",
                 str(tmp_path / "missing_model")]) == 2
    assert "does not exist" in capsys.readouterr().err
