"""A real fine-tune of a few steps of the bundled MiniLM, run as a real worker subprocess (dq_core.training.worker)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.training import jobs
from dq_core.training.config import TrainConfig
from dq_core.training.finetune import check_model_folder
from dq_core.training.runner import data_spec
from tests.train_helpers import tiny_dataset

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """One worker process: 48 rows, max length 32, 6 steps, validation loss twice."""
    ws = Workspace(tmp_path_factory.mktemp("ws"))
    ds = tiny_dataset(60)
    cfg = TrainConfig(trainer="transformer", name="tiny fine-tune", max_steps=6, batch_size=8, max_length=32,
                      learning_rate=3e-4, evals_per_epoch=2, warmup_ratio=0.0)
    run_dir = jobs.submit({"name": cfg.name, "train": cfg.to_dict(), "data": data_spec(ds, ws=ws)},
                          runs_dir=ws.runs_dir())
    status = jobs.wait(run_dir, timeout=600)
    return run_dir, status


def test_worker_fine_tunes_and_reports_progress(finished_run):
    run_dir, st = finished_run
    assert st["state"] == "succeeded", jobs.log_tail(run_dir)
    assert st["progress"] == 1.0 and st["pid"] and st["finished_at"] >= st["started_at"]
    hist = jobs.read_history(run_dir)
    assert {"loss", "eval_loss"} <= set(hist.columns)
    assert hist["step"].max() == 6 and hist["eval_loss"].notna().sum() >= 2
    m = json.loads((run_dir / "metrics.json").read_text())
    for key in ("accuracy", "macro_f1", "weighted_f1", "per_class", "confusion_matrix", "labels"):
        assert key in m
    assert m["training"]["global_step"] == 6
    assert "worker pid" in (run_dir / "log.txt").read_text()
    assert not (run_dir / "checkpoints").exists()


def test_metrics_equal_scikit_learn_on_the_same_predictions(finished_run):
    run_dir, _ = finished_run
    m = json.loads((run_dir / "metrics.json").read_text())
    p = pd.read_parquet(run_dir / "predictions.parquet")
    assert m["accuracy"] == pytest.approx(accuracy_score(p["label"], p["predicted"]))
    assert m["macro_f1"] == pytest.approx(f1_score(p["label"], p["predicted"], labels=m["labels"], average="macro"))
    assert m["weighted_f1"] == pytest.approx(f1_score(p["label"], p["predicted"], labels=m["labels"],
                                                      average="weighted"))
    assert m["confusion_matrix"] == confusion_matrix(p["label"], p["predicted"], labels=m["labels"]).tolist()


def test_exported_model_loads_in_a_pipeline(finished_run):
    from transformers import pipeline

    run_dir, _ = finished_run
    labels = json.loads((run_dir / "metrics.json").read_text())["labels"]
    clf = pipeline("text-classification", model=str(run_dir / "model"), device="cpu")
    assert clf.model.config.id2label == dict(enumerate(labels))
    assert clf.model.config.label2id == {lab: i for i, lab in enumerate(labels)}
    preds = pd.read_parquet(run_dir / "predictions.parquet")
    out = clf(preds["text"].tolist(), truncation=True, max_length=32)
    assert [o["label"] for o in out] == preds["predicted"].tolist()  # the export is the evaluated model
    assert [o["score"] for o in out] == pytest.approx(preds["confidence"].tolist(), abs=1e-4)
    assert list((run_dir / "model").glob("*.safetensors"))


def test_bad_model_folders(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        check_model_folder(tmp_path / "missing")
    (tmp_path / "nocfg").mkdir()
    with pytest.raises(DataError, match="no config.json"):
        check_model_folder(tmp_path / "nocfg")
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    (pickled / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (pickled / "pytorch_model.bin").write_bytes(b"x")
    with pytest.raises(DataError, match="safetensors"):
        check_model_folder(pickled)
    vision = tmp_path / "vision"
    vision.mkdir()
    (vision / "config.json").write_text(json.dumps({"model_type": "resnet"}))
    (vision / "model.safetensors").write_bytes(b"x")
    with pytest.raises(DataError, match="not a classifier backbone|cannot be loaded"):
        check_model_folder(vision)
    with pytest.raises(DataError, match="above what"):
        check_model_folder(None, max_length=4096)


def test_training_arguments_for_early_stopping_and_class_weights(tmp_path):
    import numpy as np

    from dq_core.training.finetune import class_weight_vector, training_arguments

    cfg = TrainConfig(trainer="transformer", early_stopping_patience=2, batch_size=10, evals_per_epoch=4)
    args = training_arguments(cfg, tmp_path, n_train=400, has_val=True)
    assert args.load_best_model_at_end and args.metric_for_best_model == "eval_loss" and not args.greater_is_better
    assert args.eval_steps == args.save_steps == 10 and args.save_total_limit == 1
    plain = training_arguments(TrainConfig(trainer="transformer"), tmp_path, n_train=400, has_val=False)
    assert not plain.load_best_model_at_end and plain.eval_strategy == "no" and plain.save_strategy == "no"
    assert plain.warmup_steps == pytest.approx(0.1) and plain.report_to in ([], "none", ["none"])
    w = class_weight_vector(np.array([0, 0, 0, 1]), 3)
    assert w.tolist() == pytest.approx([4 / 9, 4 / 3, 0.0])
