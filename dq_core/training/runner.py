"""One training run end to end, writing its files into a run directory.

data -> (recipe) -> splits (test fixed first) -> balancing (train only) -> baseline | transformer ->
evaluation on the test set -> ``metrics.json``, ``predictions.parquet``, ``splits.json``, the model.
The job worker (dq_core.training.jobs) and ``dq train`` both call :func:`run_training`, so the dashboard and the
CLI produce the same files and numbers.
"""

from __future__ import annotations

import platform
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

from dq_core.data.dataset import CANONICAL, TextDataset
from dq_core.data.io import atomic_write_bytes, atomic_write_text, load_dataset
from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.training.balancing import balance_train
from dq_core.training.config import TrainConfig
from dq_core.training.evaluate import evaluate_predictions
from dq_core.training.given_vectors import GivenVectors, stored_given, vectors_label, vectors_record
from dq_core.training.progress import Cancelled, NullReporter, Reporter
from dq_core.training.splits import SplitPlan, make_splits
from dq_core.util.jsonsafe import dumps_json

METRICS_FILE = "metrics.json"
PREDICTIONS_FILE = "predictions.parquet"
SPLITS_FILE = "splits.json"
MODEL_DIR = "model"  # a transformers folder (transformer runs)
BASELINE_DIR = "baseline_model"


def write_json(path: Path, obj) -> None:
    atomic_write_text(path, dumps_json(obj))


# --------------------------------------------------------------------------- inputs named in a run config

def data_spec(ds: TextDataset, *, ws: Workspace, reference: TextDataset | None = None,
              external_test: TextDataset | None = None, store: bool = True) -> dict:
    """How a worker process finds the run's data again: ids of workspace copies (stored here if needed)."""
    spec = {"workspace": str(ws.root), "dataset_name": ds.name, "dataset_fingerprint": ds.fingerprint,
            "n_rows": len(ds)}
    if store:
        spec["dataset_id"] = ws.save_dataset(ds)
        if reference is not None:
            spec["reference_id"] = ws.save_dataset(reference)
        if external_test is not None:
            spec["test_id"] = ws.save_dataset(external_test)
    return spec


def load_data(spec: dict) -> tuple[TextDataset, TextDataset | None, TextDataset | None, Workspace]:
    ws = Workspace(Path(spec["workspace"])) if spec.get("workspace") else Workspace.default()
    if spec.get("dataset_id"):
        ds = ws.load_dataset(spec["dataset_id"])
    elif spec.get("source"):
        ds, _ = load_dataset(spec["source"], text_col=spec.get("text_col"), label_col=spec.get("label_col"))
    else:
        raise DataError("the run config names no dataset")
    ref = ws.load_dataset(spec["reference_id"]) if spec.get("reference_id") else None
    test = ws.load_dataset(spec["test_id"]) if spec.get("test_id") else None
    return ds, ref, test, ws


# --------------------------------------------------------------------------- the run

def _slice_columns(test: pd.DataFrame, cfg: TrainConfig) -> list[str]:
    if cfg.slice_columns is not None:
        missing = [c for c in cfg.slice_columns if c not in test.columns]
        if missing:
            raise DataError(f"slice column(s) {', '.join(missing)} are not in the test rows")
        return list(cfg.slice_columns)
    return [c for c in test.columns if c not in CANONICAL]


def _cluster_slice(vectors: np.ndarray | None, k: int, seed: int = 0) -> np.ndarray | None:
    if vectors is None or k < 2 or len(vectors) < 5 * k:
        return None
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(vectors)
    return np.array([f"cluster {c}" for c in km.labels_], dtype=object)


def _test_vectors_from_cache(ds: TextDataset, test: pd.DataFrame, ws: Workspace) -> np.ndarray | None:
    """Test-row embeddings if the dashboard already computed the dataset's; never computes them."""
    try:
        from dq_core.space.embed_cache import cached_dataset_embeddings
    except ImportError:
        return None
    res = cached_dataset_embeddings(ds, workspace=ws)
    if res is None:
        return None
    pos = pd.Index(ds.frame["row_id"].astype(str)).get_indexer(test["row_id"].astype(str))
    if (pos < 0).any():
        return None
    return res.vectors[pos]


def run_training(cfg: TrainConfig, run_dir: str | Path, *, ds: TextDataset, ws: Workspace,
                 reference: TextDataset | None = None, external_test: TextDataset | None = None,
                 keep_mask: np.ndarray | None = None, relabel: dict | None = None,
                 reporter: Reporter | None = None, given: GivenVectors | None = None) -> dict:
    """Train and evaluate; returns the metrics dict also written to ``run_dir/metrics.json``.

    ``given``: the user's own vectors (`--embeddings`): the baseline and a recipe's signals use them
    instead of the embedding model. Without it, a baseline on a dataset stored with the user's vectors
    (Load › Your vectors) uses those (training.given_vectors); metrics.json's ``vectors`` says which.
    """
    t0 = time.monotonic()
    cfg.validate()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    rep = reporter or NullReporter()
    notes: list[str] = []

    rep.update(phase="preparing data", progress=0.01, message="splitting the data")
    plan = _filtered_splits(cfg, ds, ws=ws, reference=reference, external_test=external_test, keep_mask=keep_mask,
                            relabel=relabel, given=given, rep=rep, notes=notes)
    if given is None and cfg.trainer == "baseline":  # a dataset stored with the user's own vectors
        given = stored_given(ws, ds, reference=reference, external_test=external_test,
                             test_source=plan.test_source)
    elif cfg.trainer == "transformer" and (rec := vectors_record(ws, ds)) is not None:
        notes.append(f"the transformer fine-tunes on the texts; {vectors_label(rec)} are not used")
    train, split_summary = _balanced_train(cfg, plan, notes)
    write_json(run_dir / SPLITS_FILE, split_summary)
    rep.log(f"splits: {len(train)} train, {len(plan.val)} validation, {len(plan.test)} test "
            f"({plan.test_source}); classes {', '.join(plan.labels)}")
    if rep.should_stop():
        raise Cancelled()

    test = plan.test
    test_vectors = None
    if cfg.trainer == "baseline":
        proba, train_info, test_vectors = _run_baseline(cfg, plan, train, run_dir, ws=ws, rep=rep, given=given)
    elif given is not None:
        raise DataError("--embeddings feeds the baseline only (logistic regression on vectors); the transformer "
                        "fine-tunes on the texts: drop --embeddings or use --trainer baseline")
    else:
        proba, train_info = _run_transformer(cfg, plan, train, run_dir, rep=rep)

    rep.update(phase="evaluating", progress=0.97, message="computing the test metrics")
    slices = _slices(cfg, plan, ds, ws, given, test_vectors)
    extra = {"trainer": cfg.trainer, "name": cfg.name, "test_source": plan.test_source, "test_key": plan.test_key,
             "split": split_summary, "training": train_info, "notes": notes,
             "vectors": _vectors_used(cfg, given, train_info),
             "duration_seconds": round(time.monotonic() - t0, 2),
             # CPU time of this process so far (a worker: the whole job); unlike wall time it does not
             # depend on what else the machine is running.
             "cpu_seconds": round(time.process_time(), 1),
             "dataset": {"name": ds.name, "fingerprint": ds.fingerprint, "n_rows": len(ds)},
             "environment": _environment()}
    metrics = save_evaluation(run_dir, test, proba, plan.labels, slices=slices, extra=extra)
    if cfg.trainer == "transformer" and (run_dir / MODEL_DIR).is_dir():
        from dq_core.training.model_card import write_model_card

        write_model_card(run_dir / MODEL_DIR, metrics, cfg.to_dict())  # README.md beside the weights
    ev_acc, ev_f1 = metrics["accuracy"], metrics["macro_f1"]
    rep.update(phase="done", progress=1.0, message=f"accuracy {ev_acc:.3f}, macro-F1 {ev_f1:.3f}")
    return metrics


def _filtered_splits(cfg: TrainConfig, ds: TextDataset, *, ws: Workspace, reference: TextDataset | None,
                     external_test: TextDataset | None, keep_mask: np.ndarray | None, relabel: dict | None,
                     given: GivenVectors | None, rep: Reporter, notes: list[str]) -> SplitPlan:
    """The run's splits, after the config's recipe (if any) on top of ``keep_mask`` / ``relabel``; the
    recipe's repaired texts replace the training and validation rows' (the test set stays as is)."""
    repaired: dict[str, str] = {}
    if cfg.recipe:
        from dq_core.training.recipe import apply_recipe

        rep.update(phase="filtering", progress=0.01, message="applying the filter recipe (computing signals "
                                                             "if they are not cached)")
        outcome = apply_recipe(ds, cfg.recipe, ws=ws, embeddings=given.dataset.vectors if given else None)
        keep_mask = outcome.keep_mask if keep_mask is None else (np.asarray(keep_mask, bool) & outcome.keep_mask)
        relabel = {**outcome.relabel, **(relabel or {})}
        repaired = outcome.texts
        notes.append(outcome.description)
        rep.log(outcome.description)
    plan = make_splits(ds, cfg, ws=ws, reference=reference, external_test=external_test,
                       keep_mask=keep_mask, relabel=relabel)
    if cfg.recipe and repaired:
        for part in (plan.train, plan.val):
            part["text"] = part["row_id"].astype(str).map(repaired).fillna(part["text"])
    return plan


def _balanced_train(cfg: TrainConfig, plan: SplitPlan, notes: list[str]) -> tuple[pd.DataFrame, dict]:
    """(the training rows after the config's balancing, the splits summary splits.json holds)."""
    n_before = len(plan.train)
    rng = np.random.default_rng(cfg.seed)
    train = balance_train(plan.train, cfg.balancing, target_share=cfg.balance_target, rng=rng)
    if len(train) > n_before:
        notes.append(f"balancing ({cfg.balancing}) added {len(train) - n_before:,} training rows")
    split_summary = {**plan.summary(), "n_train": len(train), "n_train_before_balancing": n_before,
                     "train_class_counts_balanced": train["label"].value_counts().sort_index().to_dict()}
    return train, split_summary


def _slices(cfg: TrainConfig, plan: SplitPlan, ds: TextDataset, ws: Workspace, given: GivenVectors | None,
            test_vectors: np.ndarray | None) -> dict:
    """The test rows' slices the metrics break down by: the metadata columns, and embedding clusters when
    ``cfg.cluster_slices`` asks and the test rows' vectors are at hand."""
    test = plan.test
    slices = {c: test[c].to_numpy() for c in _slice_columns(test, cfg)}
    if cfg.cluster_slices:
        if test_vectors is None and plan.test_source in ("holdout", "split"):
            test_vectors = (_test_vectors_from_cache(ds, test, ws) if given is None
                            else given.rows(test, "dataset", "test"))
        clusters = _cluster_slice(test_vectors, cfg.cluster_slices)
        if clusters is not None:
            slices["embedding_cluster"] = clusters
    return slices


def save_evaluation(run_dir: str | Path, test: pd.DataFrame, proba: np.ndarray, labels: tuple[str, ...], *,
                    slices: dict | None = None, extra: dict | None = None) -> dict:
    """Evaluate test predictions and write metrics.json + predictions.parquet; returns the metrics dict.

    ``test`` has row_id, text, label in the rows of ``proba`` (n, len(labels)).
    """
    import io

    run_dir = Path(run_dir)
    slices = slices or {}
    ev = evaluate_predictions(test["label"].tolist(), proba, labels, row_ids=test["row_id"].tolist(),
                              texts=test["text"].tolist(), slices=slices)
    pred_idx = np.asarray(proba).argmax(axis=1)
    preds = pd.DataFrame({"row_id": test["row_id"].astype(str).to_numpy(), "text": test["text"].to_numpy(),
                          "label": test["label"].astype(str).to_numpy(),
                          "predicted": [labels[i] for i in pred_idx], "confidence": np.asarray(proba).max(axis=1),
                          "proba": list(np.asarray(proba, dtype=np.float64))})
    for c, values in slices.items():
        preds[f"slice:{c}"] = pd.Series(values).astype(str).to_numpy()
    buf = io.BytesIO()
    preds.to_parquet(buf, index=False)
    atomic_write_bytes(run_dir / PREDICTIONS_FILE, buf.getvalue())
    metrics = {**ev.to_dict(), **(extra or {})}
    write_json(run_dir / METRICS_FILE, metrics)
    return metrics


def _environment() -> dict:
    env = {"python": platform.python_version(), "machine": platform.machine()}
    try:
        import torch

        env.update(torch=torch.__version__, device="cuda" if torch.cuda.is_available() else "cpu",
                   threads=torch.get_num_threads())
    except ImportError:  # pragma: no cover
        pass
    return env


def _vectors_used(cfg: TrainConfig, given: GivenVectors | None, train_info: dict) -> str:
    """What the run learned from, in words for the run page and the report."""
    if cfg.trainer != "baseline":
        return "none: the transformer fine-tunes on the texts"
    if given is not None:
        return given.description
    return f"the embedding model ({train_info.get('embedding_model') or 'all-MiniLM-L6-v2'})"


def _run_baseline(cfg: TrainConfig, plan: SplitPlan, train: pd.DataFrame, run_dir: Path, *, ws: Workspace,
                  rep: Reporter, given: GivenVectors | None = None):
    if given is not None:
        if cfg.balancing == "augment":
            raise DataError("balancing by augmentation writes new texts, which have no vectors of your own; with "
                            "your vectors (--embeddings, or a dataset opened with them) balance by oversampling "
                            "or not at all (--balance oversample or none)")
        test_from = plan.test_source if plan.test_source in ("reference", "external") else "dataset"
        t0 = time.monotonic()
        x_train, x_val = given.rows(train, "dataset", "training"), given.rows(plan.val, "dataset", "validation")
        x_test = given.rows(plan.test, test_from, "test")
        model_name = given.dataset.model_name
    else:
        (x_train, x_val, x_test), model_name, t0 = _embed_for_baseline(cfg, plan, train, ws=ws, rep=rep)
    t_embed = time.monotonic() - t0
    return _fit_baseline(cfg, plan, train, run_dir, x_train, x_val, x_test, model_name, t_embed, rep=rep)


def _embed_for_baseline(cfg: TrainConfig, plan: SplitPlan, train: pd.DataFrame, *, ws: Workspace, rep: Reporter):
    from dq_core.training.baseline import embed_frames

    t0 = time.monotonic()
    rep.update(phase="embedding", progress=0.05, message="embedding the texts")

    def on_progress(message: str, done: float | None = None, total: float = 1.0) -> None:
        if rep.should_stop():
            raise Cancelled()
        if done is None:
            return  # embedding always counts: a report without counts has nothing to show
        frac = done / total if total else 1.0
        rep.update(progress=0.05 + 0.75 * frac, step=done, total_steps=total,
                   message=f"embedding: {done:,}/{total:,} new texts")

    vectors, model_name = embed_frames([train, plan.val, plan.test], model=cfg.embedding_model, ws=ws,
                                       progress=on_progress)
    return vectors, model_name, t0


def _fit_baseline(cfg: TrainConfig, plan: SplitPlan, train: pd.DataFrame, run_dir: Path, x_train, x_val, x_test,
                  model_name: str, t_embed: float, *, rep: Reporter):
    from dq_core.training.baseline import log_loss, train_baseline

    if rep.should_stop():
        raise Cancelled()
    rep.update(phase="training", progress=0.82, message="fitting the logistic regression")
    t1 = time.monotonic()
    model = train_baseline(x_train, train["label"], labels=plan.labels, c=cfg.c, class_weights=cfg.class_weights,
                           seed=cfg.seed, embedding_model=model_name)
    t_fit = time.monotonic() - t1
    rec = {"step": 1, "epoch": 1.0, "loss": log_loss(model.predict_proba(x_train), train["label"], plan.labels)}
    if len(plan.val):
        rec["eval_loss"] = log_loss(model.predict_proba(x_val), plan.val["label"], plan.labels)
    rep.history(rec)
    model.save(run_dir / BASELINE_DIR)
    proba = model.predict_proba(x_test)
    info = {"embedding_model": model_name, "embed_seconds": round(t_embed, 2), "fit_seconds": round(t_fit, 2),
            "train_loss": rec["loss"], "eval_loss": rec.get("eval_loss"), "model_dir": BASELINE_DIR}
    return proba, info, x_test


def _run_transformer(cfg: TrainConfig, plan: SplitPlan, train: pd.DataFrame, run_dir: Path, *, rep: Reporter):
    from dq_core.training.finetune import export_model, fine_tune, predict_proba

    work = run_dir / "checkpoints"
    try:
        res = fine_tune(train, plan.val, plan.labels, cfg, work_dir=work, reporter=rep, span=(0.05, 0.85),
                        n_test=len(plan.test))
        rep.update(phase="testing", progress=0.85, message="predicting the test set")
        proba = predict_proba(res, plan.test["text"].tolist(), max_length=cfg.max_length, reporter=rep,
                              span=(0.85, 0.95))
        rep.update(phase="saving", progress=0.95, message="saving the model")
        export_model(res, run_dir / MODEL_DIR)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # checkpoints only served early stopping
    state = res.trainer.state
    info = {**{k: v for k, v in res.train_metrics.items() if isinstance(v, (int, float))},
            "global_step": state.global_step, "max_steps": state.max_steps, "epoch": state.epoch,
            "stopped_early": res.stopped_early, "best_eval_loss": state.best_metric,
            "model_dir": MODEL_DIR, "backbone": str(cfg.model or "all-MiniLM-L6-v2")}
    return proba, info
