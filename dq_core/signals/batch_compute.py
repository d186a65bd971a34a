"""Run (or resume) a sharded compute on one backend: the map over shards (local or Ray), then the global steps.

Kept apart from batch.py because the Ray backend imports batch.py's shard functions: the dispatcher sits
above both, so no module imports one that imports it back. The order is what keeps a refused run from
leaving anything behind: every check (dq_core.signals.compute_folder.prepare), then the engine (a Ray
cluster that does not answer is refused here), and only then the first write.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from pathlib import Path

from dq_core.errors import DataError
from dq_core.signals.batch import (
    ComputeConfig,
    Say,
    pending_shards,
    run_global,
    run_local,
    shard_done,
    write_manifest,
)
from dq_core.signals.compute_folder import check_inputs_held, prepare, start

BACKENDS = ("local", "ray")


def compute(data: str, out: str | Path, config: ComputeConfig | None = None, *, backend: str = "local",
            address: str | None = None, workspace=None, say: Say | None = None,
            stop_after: int | None = None, workers: int | None = None) -> dict:
    """Run (or resume) a compute; returns the summary also written to manifest.json.

    ``stop_after`` stops after that many new shards, as an interruption would (tests use it).
    """
    say = say or (lambda _m: None)
    config = config or ComputeConfig()
    if backend not in BACKENDS:
        raise DataError(f"unknown backend '{backend}'; use local or ray")
    prep = prepare(data, out, config, say=say)
    plan, out = prep.plan, prep.out
    todo = prep.todo if stop_after is None else prep.todo[:stop_after]
    if backend == "ray" and todo:
        from dq_core.signals.batch_ray import connect

        connect(address, say=say)  # before the first write: a cluster that does not answer leaves no trace
    with _removed_unless_a_shard_finishes(out, plan):
        return _run(prep, backend=backend, address=address, workspace=workspace, say=say, stop_after=stop_after,
                    workers=workers)


@contextlib.contextmanager
def _removed_unless_a_shard_finishes(out: Path, plan):
    """A new (or empty) --out that fails before any shard is done goes back to what it was: some faults show
    only while the rows are read (ids repeated across files, a text column of lists, a model that does not
    load), and a refused run must leave nothing behind. An earlier run's folder is kept as it is (its
    finished shards are what a resume reuses)."""
    fresh = not out.exists() or (out.is_dir() and not any(out.iterdir()))
    existed = out.exists()
    try:
        yield
    except BaseException:
        if fresh and out.is_dir() and not any(shard_done(out, i) for i in range(len(plan.shards))):
            shutil.rmtree(out, ignore_errors=True)
            if existed:
                out.mkdir(exist_ok=True)
        raise


def _run(prep, *, backend, address, workspace, say, stop_after, workers) -> dict:
    """The writes: the manifest, the map over shards, the global steps."""
    plan, out = prep.plan, prep.out
    start(prep)
    say(f"{plan.n_rows:,} rows in {len(plan.shards)} shards; {len(plan.shards) - len(prep.todo)} already done")
    t0 = time.perf_counter()
    if backend == "local":
        run_local(plan, out, stop_after=stop_after, say=say)
    else:
        from dq_core.signals.batch_ray import run_ray

        run_ray(plan, out, address=address, stop_after=stop_after, say=say, workers=workers)
    t_map = time.perf_counter() - t0
    left = pending_shards(plan, out)
    if left:
        write_manifest(out, plan, state="interrupted", shards_done=len(plan.shards) - len(left))
        return {"state": "interrupted", "shards_done": len(plan.shards) - len(left), "shards": len(plan.shards)}
    t1 = time.perf_counter()
    glob_res = run_global(plan, out, workspace=workspace, say=say)
    check_inputs_held(prep)  # an input written to during the run: not "done", the next run redoes its shards
    summary = {"state": "done", "n_rows": plan.n_rows, "shards": len(plan.shards), "backend": backend,
               "map_seconds": round(t_map, 2), "global_seconds": round(time.perf_counter() - t1, 2),
               "signals": {k: {"n_issues": s.get("n_issues"), "share": s.get("share")}
                           for k, s in glob_res["summaries"].items()},
               "skipped": glob_res["skipped"], "out": str(out)}
    write_manifest(out, plan, state="done", shards_done=len(plan.shards), summary=summary)
    return summary
