"""Background runs: real worker processes, a queue of one, cancel, and a killed worker left as failed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from dq_core.data.workspace import Workspace
from dq_core.training import jobs
from dq_core.training.config import TrainConfig
from dq_core.training.runner import data_spec
from tests.train_helpers import tiny_dataset


def _config(ws: Workspace, name: str) -> dict:
    cfg = TrainConfig(trainer="baseline", name=name)
    return {"name": name, "train": cfg.to_dict(), "data": data_spec(tiny_dataset(60), ws=ws)}


def _wait_for(pred, timeout: float = 120, what: str = "condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_queue_of_one_kill_and_cancel(dq_env):
    ws = Workspace.default()
    runs = ws.runs_dir()
    first = jobs.submit(_config(ws, "first"), runs_dir=runs, max_concurrent=1)
    second = jobs.submit(_config(ws, "second"), runs_dir=runs, max_concurrent=1)
    assert jobs.read_status(first)["state"] == "running"
    assert jobs.read_status(second)["state"] == "queued"  # one training run at a time

    # The worker has started once it logged its pid; kill it the hard way.
    _wait_for(lambda: "worker pid" in (first / "log.txt").read_text(), what="the first worker to start")
    pid = jobs.read_status(first)["pid"]
    os.kill(pid, signal.SIGKILL)
    _wait_for(lambda: not jobs.pid_alive(pid), what="the worker to die")

    listed = {r.run_id: r for r in jobs.list_runs(runs, max_concurrent=1)}  # listing notices the dead pid
    st = listed[first.name].status
    assert st["state"] == "failed"
    assert "was killed (SIGKILL)" in st["error"] and "worker pid" in st["log_tail"]
    assert listed[second.name].state == "running"  # the queue moved on

    jobs.cancel(second)
    st2 = jobs.wait(second, timeout=300)
    assert st2["state"] == "cancelled"
    assert not jobs.pid_alive(st2.get("pid"))


def test_cancel_a_queued_run_and_failed_run_says_why(dq_env):
    ws = Workspace.default()
    runs = ws.runs_dir()
    queued = jobs.create_run(_config(ws, "never"), runs / jobs.new_run_id())
    assert jobs.cancel(queued)["state"] == "cancelled"
    assert jobs.schedule(runs) == []  # a cancelled run is never started

    bad = _config(ws, "bad")
    bad["data"]["dataset_id"] = "doesnotexist"
    run = jobs.submit(bad, runs_dir=runs)
    st = jobs.wait(run, timeout=120)
    assert st["state"] == "failed" and st["error_kind"] == "data"
    assert "is not in the workspace" in st["error"]
    assert "is not in the workspace" in st["log_tail"]


def test_dead_pid_and_status_file(dq_env, tmp_path):
    run = jobs.create_run({"name": "x", "train": {}, "data": {}}, tmp_path / "r")
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    jobs.update_status(run, state="running", pid=proc.pid, launched_at=time.time())
    assert jobs.refresh(run)["state"] == "failed"
    # A finished run is never brought back by a late progress update; leftovers are never half-written.
    assert jobs.update_status(run, state="running", progress=0.5)["state"] == "failed"
    assert json.loads((run / "status.json").read_text())["state"] == "failed"
    assert not list(run.glob(".status.json.*"))
    with pytest.raises(Exception, match="not a run directory"):
        jobs.get_run(tmp_path)


def test_pid_alive_tells_a_reused_pid_apart():
    me = os.getpid()
    start = jobs.process_start_time(me)
    assert start is not None
    assert jobs.pid_alive(me, start)
    assert not jobs.pid_alive(me, start + 100.0)  # same pid, another process's start time: a reused pid
    assert not jobs.pid_alive(None)


def test_worker_usage():
    from dq_core.training import worker

    assert worker.main([]) == 2
