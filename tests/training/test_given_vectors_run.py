"""A run on a dataset stored with the user's own vectors (Load › Your vectors): the baseline trains and
scores on those vectors, in a real worker process, and a test set without them stops the run clearly."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.report.content import run_summary_lines
from dq_core.report.load import load_run
from dq_core.training import jobs
from dq_core.training.baseline import train_baseline
from dq_core.training.config import TrainConfig
from dq_core.training.runner import data_spec, run_training
from dq_core.training.splits import make_splits
from tests.train_helpers import tiny_dataset


def with_vectors(ds, ws: Workspace, *, dim: int = 16, seed: int = 7, name: str = "v16.npy"):
    """``ds`` stored with vectors no embedding model would give: a class direction plus noise."""
    from dq_core.space.embed_cache import EmbeddingResult
    from dq_core.space.given import attach_given

    rng = np.random.default_rng(seed)
    centres = {lab: rng.normal(size=dim) for lab in ds.classes}
    v = np.stack([centres[str(lab)] + 1.5 * rng.normal(size=dim) for lab in ds.frame["label"]])
    v = (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
    emb = EmbeddingResult(vectors=v, valid=np.ones(len(ds), bool), n_truncated=0, n_cached=0, n_computed=0,
                          model_name=f"given:{name}", max_seq_length=0)
    return attach_given(ds, workspace=ws, embeddings=emb, source=name), v


def direct_proba(ds, vectors: np.ndarray, cfg: TrainConfig, ws: Workspace, test_ids, *, ref=None,
                 ref_vectors=None) -> np.ndarray:
    """The known answer: a baseline fitted here on the same training rows' vectors, scoring the test rows."""
    plan = make_splits(ds, cfg, ws=ws, reference=ref)
    pos = pd.Index(ds.frame["row_id"].astype(str))
    model = train_baseline(vectors[pos.get_indexer(plan.train["row_id"].astype(str))], plan.train["label"],
                           labels=plan.labels, c=cfg.c, seed=cfg.seed)
    test_frame, test_vec = (ds, vectors) if ref is None else (ref, ref_vectors)
    tpos = pd.Index(test_frame.frame["row_id"].astype(str)).get_indexer([str(r) for r in test_ids])
    assert (tpos >= 0).all()
    return model.predict_proba(test_vec[tpos])


def test_a_worker_trains_the_baseline_on_the_datasets_own_vectors(dq_env):
    ws = Workspace.default()
    ds, v = with_vectors(tiny_dataset(60), ws)
    cfg = TrainConfig(trainer="baseline", name="own vectors", c=0.5)
    run = jobs.submit({"name": cfg.name, "train": cfg.to_dict(), "data": data_spec(ds, ws=ws)},
                      runs_dir=ws.runs_dir())
    st = jobs.wait(run, timeout=300)
    assert st["state"] == "succeeded", jobs.log_tail(run)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["vectors"] == "your own vectors (v16.npy)"
    assert metrics["training"]["embedding_model"] == "given:v16.npy"
    preds = pd.read_parquet(run / "predictions.parquet")
    want = direct_proba(ds, v, cfg, ws, preds["row_id"])
    np.testing.assert_allclose(np.stack(preds["proba"].to_numpy()), want, atol=1e-9)
    assert ("vectors", "your own vectors (v16.npy)") in run_summary_lines(load_run(run))  # the report says so


def test_a_reference_test_set_without_vectors_stops_the_worker_clearly(dq_env):
    ws = Workspace.default()
    ds, _ = with_vectors(tiny_dataset(60), ws)
    ref = tiny_dataset(30, seed=1)  # the model's vectors only
    cfg = TrainConfig(trainer="baseline", name="mismatch", test_source="reference")
    run = jobs.submit({"name": cfg.name, "train": cfg.to_dict(), "data": data_spec(ds, ws=ws, reference=ref)},
                      runs_dir=ws.runs_dir())
    st = jobs.wait(run, timeout=300)
    assert st["state"] == "failed" and st["error_kind"] == "data", st
    assert "the test rows come from the reference, which has no vectors of your own" in st["error"]
    assert "give the reference's vectors too" in st["error"] and "Use the embedding model again" in st["error"]
    assert not (run / "metrics.json").exists()


def test_a_reference_with_its_own_vectors_is_scored_on_them_and_another_width_is_refused(dq_env, tmp_path):
    ws = Workspace.default()
    ds, v = with_vectors(tiny_dataset(60), ws)
    ref, rv = with_vectors(tiny_dataset(30, seed=1), ws, seed=8, name="ref16.npy")
    cfg = TrainConfig(trainer="baseline", test_source="reference")
    metrics = run_training(cfg, tmp_path / "ok", ds=ds, ws=ws, reference=ref)
    preds = pd.read_parquet(tmp_path / "ok" / "predictions.parquet")
    assert metrics["test_source"] == "reference" and len(preds) == 30
    want = direct_proba(ds, v, cfg, ws, preds["row_id"], ref=ref, ref_vectors=rv)
    np.testing.assert_allclose(np.stack(preds["proba"].to_numpy()), want, atol=1e-9)

    narrow, _ = with_vectors(tiny_dataset(30, seed=1), ws, dim=8, name="ref8.npy")
    with pytest.raises(DataError, match="the reference's vectors have 8 dimensions and the dataset's 16"):
        run_training(cfg, tmp_path / "bad", ds=ds, ws=ws, reference=narrow)
