"""Finished runs read back from their folders, and several runs compared against the first.

The comparison is a metric table with deltas, per-class F1 side by side, and for the headline
differences a paired bootstrap interval on the test rows both runs share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dq_core.errors import DataError
from dq_core.training import jobs
from dq_core.training.evaluate import BootstrapResult, EvaluationResult, paired_bootstrap
from dq_core.util.wording import is_count

HEADLINE = ("accuracy", "macro_f1", "weighted_f1", "micro_f1", "macro_precision", "macro_recall",
            "roc_auc_macro", "ece")
LOWER_IS_BETTER = {"ece"}
BOOTSTRAP_METRICS = ("accuracy", "macro_f1")
N_RESAMPLES = 1000


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    path: Path
    name: str
    config: dict
    status: dict
    metrics: dict
    evaluation: EvaluationResult
    history: pd.DataFrame
    predictions: pd.DataFrame | None

    def headline(self) -> dict[str, float]:
        ev = self.evaluation
        return {"accuracy": ev.accuracy, "macro_f1": ev.f1.get("macro"), "weighted_f1": ev.f1.get("weighted"),
                "micro_f1": ev.f1.get("micro"), "macro_precision": ev.precision.get("macro"),
                "macro_recall": ev.recall.get("macro"), "roc_auc_macro": ev.roc_auc.get("macro"), "ece": ev.ece}

    @property
    def model_dir(self) -> Path | None:
        d = self.path / "model"
        return d if d.is_dir() else None


def load_run(run_dir: str | Path) -> RunRecord:
    """A finished run's files; DataError if it has no metrics (still running, failed or not a run)."""
    d = Path(run_dir)
    if not d.is_dir():
        raise DataError(f"'{run_dir}' is not a folder; give a run directory written by dq train or the Train page")
    metrics = jobs.read_metrics(d)
    if metrics is not None and not isinstance(metrics, dict):
        raise DataError(f"'{d.name}/metrics.json' is damaged (not a record); run the training again")
    if metrics is None:
        st = jobs.read_status(d)
        st = st if isinstance(st, dict) else {}
        state = st.get("state")
        why = f" (it is {state}{': ' + st['error'] if st.get('error') else ''})" if state else ""
        raise DataError(f"'{d.name}' has no metrics.json{why}; only finished runs can be reported")
    config = jobs.read_config(d)
    config = config if isinstance(config, dict) else {}  # a damaged config only loses the run's settings
    try:
        ev = EvaluationResult.from_dict(metrics)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise DataError(f"'{d.name}/metrics.json' is incomplete or damaged ({type(exc).__name__}); run the "
                        "training again") from None
    preds = None
    p = d / "predictions.parquet"
    if p.exists():
        try:
            preds = pd.read_parquet(p)
        except (OSError, ValueError):
            preds = None
    name = metrics.get("name") or config.get("name") or d.name
    status = jobs.read_status(d)
    return RunRecord(run_id=d.name, path=d, name=str(name), config=config,
                     status=status if isinstance(status, dict) else {},
                     metrics=metrics, evaluation=ev, history=jobs.read_history(d), predictions=preds)


def has_curves(history: pd.DataFrame) -> bool:
    """A loss curve needs a few points (the baseline logs a single one)."""
    return history is not None and "step" in history.columns and history["step"].nunique() > 1


# --------------------------------------------------------------------------- comparison

@dataclass(frozen=True)
class PairedDifference:
    a: str  # display names
    b: str
    metric: str
    result: BootstrapResult | None
    shared_rows: int
    same_test_set: bool
    note: str = ""

    def to_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "metric": self.metric, "shared_rows": self.shared_rows,
                "same_test_set": self.same_test_set, "note": self.note,
                **(self.result.to_dict() if self.result else {})}


@dataclass(frozen=True)
class Comparison:
    names: tuple[str, ...]  # unique display names, in the order given; the first is the baseline
    table: pd.DataFrame  # index = metric, columns = run names
    deltas: pd.DataFrame  # index = metric, columns = later runs (value - first run)
    per_class_f1: pd.DataFrame  # index = label, columns = run names
    differences: tuple[PairedDifference, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return {"runs": list(self.names), "baseline": self.names[0],
                "metrics": _frame_to_nested(self.table, counts=True),
                "deltas": _frame_to_nested(self.deltas, counts=True),
                "per_class_f1": _frame_to_nested(self.per_class_f1),
                "paired_bootstrap": [d.to_dict() for d in self.differences]}


def _frame_to_nested(f: pd.DataFrame, *, counts: bool = False) -> dict:
    """``counts``: the index names metrics, and counts among them (n_train, n_test) are written as integers."""
    def value(metric, v):
        return None if pd.isna(v) else int(round(v)) if counts and is_count(metric) else float(v)

    return {str(c): {str(i): value(i, v) for i, v in f[c].items()} for c in f.columns}


def display_names(records: list[RunRecord]) -> list[str]:
    names, seen = [], {}
    for r in records:
        n = r.name
        if n in seen or sum(x.name == n for x in records) > 1:
            n = f"{r.name} [{r.run_id}]"
        seen[n] = True
        names.append(n)
    return names


def shared_rows(a: RunRecord, b: RunRecord) -> pd.DataFrame:
    """Test rows scored by both runs (same row_id, text and true label), with each run's prediction."""
    if a.predictions is None or b.predictions is None:
        return pd.DataFrame(columns=["row_id", "text", "label", "pred_a", "pred_b"])
    cols = ["row_id", "text", "label", "predicted"]
    pa = a.predictions[cols].astype(str).rename(columns={"predicted": "pred_a"})
    pb = b.predictions[cols].astype(str).rename(columns={"predicted": "pred_b"})
    return pa.merge(pb, on=["row_id", "text", "label"], how="inner")


def paired_difference(a: RunRecord, b: RunRecord, *, metric: str, names: tuple[str, str], seed: int = 0,
                      n_resamples: int = N_RESAMPLES) -> PairedDifference:
    both = shared_rows(a, b)
    same = bool(a.metrics.get("test_key") and a.metrics.get("test_key") == b.metrics.get("test_key"))
    if len(both) < 2:
        return PairedDifference(names[0], names[1], metric, None, len(both), same,
                                note="the runs share no test rows: they were scored on different test sets, "
                                     "so their difference cannot be tested")
    res = paired_bootstrap(both["label"], both["pred_a"], both["pred_b"], metric=metric,
                           n_resamples=n_resamples, rng=np.random.default_rng(seed))
    note = "" if same else (f"the test sets differ; the interval uses the {len(both):,} rows both runs scored")
    return PairedDifference(names[0], names[1], metric, res, len(both), same, note)


def compare_runs(records: list[RunRecord], *, seed: int = 0, n_resamples: int = N_RESAMPLES) -> Comparison:
    if not records:
        raise DataError("give at least one run to report")
    names = display_names(records)
    table = pd.DataFrame({n: r.headline() for n, r in zip(names, records, strict=True)}).reindex(list(HEADLINE))
    for n, r in zip(names, records, strict=True):
        table.loc["n_train", n] = r.metrics.get("split", {}).get("n_train", np.nan)
        table.loc["n_test", n] = r.evaluation.n
    deltas = pd.DataFrame({n: table[n] - table[names[0]] for n in names[1:]}, index=table.index)
    labels: list[str] = []
    for r in records:
        labels += [lab for lab in r.evaluation.labels if lab not in labels]
    per_class = pd.DataFrame({n: [r.evaluation.per_class.get(lab, {}).get("f1", np.nan) for lab in labels]
                              for n, r in zip(names, records, strict=True)}, index=labels)
    diffs = []
    for n, r in zip(names[1:], records[1:], strict=True):
        for metric in BOOTSTRAP_METRICS:
            diffs.append(paired_difference(records[0], r, metric=metric, names=(names[0], n), seed=seed,
                                           n_resamples=n_resamples))
    return Comparison(names=tuple(names), table=table, deltas=deltas, per_class_f1=per_class,
                      differences=tuple(diffs))
