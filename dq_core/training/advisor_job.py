"""The advisor as a background job: the same run directories, queue, worker and cancel as training runs
(jobs.py, worker.py), with ``kind: "advise"`` in config.json and the result in ``advice.json``.

Advice runs live in their own folder (``<DQ_HOME>/advice/``), so they queue apart from training runs and
never show up in the Train page's run list. ``advice.json`` is written once, atomically, at the very end:
a cancelled or failed run leaves none behind.
"""

from __future__ import annotations

import json
from pathlib import Path

from dq_core.data.dataset import TextDataset
from dq_core.data.workspace import Workspace
from dq_core.data.writers import atomic_write_text
from dq_core.errors import DataError
from dq_core.training import jobs
from dq_core.training.advisor import DEFAULT_FOLDS, advise
from dq_core.training.advisor_result import AdviceResult
from dq_core.training.progress import Reporter
from dq_core.util.jsonsafe import dumps_json

KIND = "advise"
ADVICE_FILE = "advice.json"


def advice_dir(ws: Workspace) -> Path:
    return Path(ws.root) / "advice"


def write_advice(result: AdviceResult, path: str | Path) -> Path:
    atomic_write_text(path, dumps_json(result.to_dict()) + "\n")
    return Path(path)


def read_advice(path: str | Path) -> AdviceResult | None:
    """An advice.json (or a run directory holding one) as an AdviceResult; None when there is none yet."""
    p = Path(path)
    if p.is_dir():
        p = p / ADVICE_FILE
    try:
        return AdviceResult.from_dict(json.loads(p.read_text()))
    except (OSError, json.JSONDecodeError, KeyError, TypeError):
        return None


def submit_advice(ds: TextDataset, *, ws: Workspace, test: TextDataset | None = None,
                  reference: TextDataset | None = None, trainer: str = "baseline",
                  folds: int = DEFAULT_FOLDS, seed: int = 0, metric: str = "accuracy",
                  signal_settings: dict | None = None, repeats: int = 1) -> Path:
    """Queue an advisor run on ``ds`` (checked first, so bad input fails here, not in the worker)."""
    from dq_core.training.advisor import check_inputs
    from dq_core.training.runner import data_spec

    check_inputs(ds, test, trainer=trainer, folds=folds, metric=metric, repeats=repeats, seed=seed)
    # every dataset travels as a stored workspace copy (its id), never as a pickled frame
    data = data_spec(ds, ws=ws, reference=reference, external_test=test)
    if test is not None:
        data["test_name"] = test.name
    config = {"kind": KIND, "name": f"advise {ds.name}", "data": data,
              "advise": {"trainer": trainer, "folds": int(folds), "seed": int(seed), "metric": metric,
                         "signal_settings": signal_settings, "repeats": int(repeats)}}
    return jobs.submit(config, runs_dir=advice_dir(ws))


def run_advice(config: dict, run_dir: Path, *, reporter: Reporter, datasets: tuple | None = None) -> str:
    """What the worker runs for ``kind: "advise"``: the advisor, then advice.json; returns the status line."""
    from dq_core.training.runner import load_data

    opts = config.get("advise") or {}
    ds, ref, test, ws = datasets if datasets is not None else load_data(config.get("data", {}))
    result = advise(ds, test=test, reference=ref, trainer=opts.get("trainer", "baseline"),
                    folds=int(opts.get("folds", DEFAULT_FOLDS)), seed=int(opts.get("seed", 0)),
                    metric=opts.get("metric", "accuracy"), workspace=ws, signal_settings=opts.get("signal_settings"),
                    repeats=int(opts.get("repeats", 1)), reporter=reporter)
    write_advice(result, Path(run_dir) / ADVICE_FILE)
    return result.recommendation


def latest_advice_run(ws: Workspace, ds: TextDataset) -> jobs.RunInfo | None:
    """The newest advisor run on this very dataset (by content fingerprint), active or finished."""
    for run in jobs.list_runs(advice_dir(ws)):
        if run.config.get("kind") == KIND and run.config.get("data", {}).get("dataset_fingerprint") == ds.fingerprint:
            return run
    return None


def cancel_advice(run_dir: str | Path) -> dict:
    if not (Path(run_dir) / jobs.CONFIG).exists():
        raise DataError(f"'{run_dir}' is not an advisor run")
    return jobs.cancel(run_dir)
