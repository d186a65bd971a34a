"""Faults under real worker processes: each ends in a clear state that the status read shows.

The baseline trainer on 60 rows keeps every run short; ``DQ_WORKER_PAUSE=<phase>:<seconds>`` holds a
worker at a phase so a test can kill it, or delete its model folder, while it is mid-run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from dq_core.data import assets
from dq_core.data.workspace import Workspace
from dq_core.training import jobs
from dq_core.training.config import TrainConfig
from dq_core.training.runner import data_spec
from tests.train_helpers import tiny_dataset

ROOT = Path(__file__).resolve().parents[2]
# A "server" in its own process: it submits a run and goes away, as a dashboard does when restarted.
LAUNCHER = """
import sys, time
from pathlib import Path
from dq_core.training import jobs
go = Path(sys.argv[1])
while not go.exists():
    time.sleep(0.005)
print(jobs.submit(__import__("json").loads(sys.argv[2]), runs_dir=sys.argv[3], max_concurrent=1))
"""


def _config(ws: Workspace, name: str, **train) -> dict:
    cfg = TrainConfig(trainer="baseline", name=name, **train)
    return {"name": name, "train": cfg.to_dict(), "data": data_spec(tiny_dataset(60), ws=ws)}


def _wait_for(pred, timeout: float = 180, what: str = "condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _at_phase(run: Path, phase: str) -> dict:
    return _wait_for(lambda: (s := jobs.read_status(run)).get("phase") == phase and s.get("pid") and s,
                     what=f"{run.name} to reach {phase}")


def _launch_elsewhere(configs: list[dict], runs: Path, tmp_path: Path) -> list[Path]:
    """Submit each config from its own short-lived process, all released at the same instant."""
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", LAUNCHER, str(go), json.dumps(c), str(runs)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True) for c in configs]
    time.sleep(1.0)  # every launcher imported and waiting
    go.touch()
    out = [Path(p.communicate(timeout=120)[0].strip()) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    return out


@pytest.fixture
def pause(monkeypatch):
    def at(phase: str, seconds: float) -> None:
        monkeypatch.setenv("DQ_WORKER_PAUSE", f"{phase}:{seconds}")
    yield at
    for run in Workspace.default().runs_dir().iterdir():  # a failed test leaves no paused worker behind
        st = jobs.read_status(run)
        if st.get("state") == "running" and jobs.pid_alive(st.get("pid"), st.get("pid_start")):
            os.kill(st["pid"], signal.SIGKILL)


def test_a_worker_killed_mid_training_is_failed_killed(dq_env, pause):
    pause("embedding", 120)
    ws = Workspace.default()
    run = jobs.submit(_config(ws, "killed"), runs_dir=ws.runs_dir(), max_concurrent=1)
    pid = _at_phase(run, "embedding")["pid"]
    os.kill(pid, signal.SIGKILL)
    _wait_for(lambda: not jobs.pid_alive(pid), what="the worker to die")
    st = jobs.get_run(run).status
    assert st["state"] == "failed" and st["message"] == "failed: worker was killed", st
    assert "killed (SIGKILL)" in st["error"] and "splits:" in st["log_tail"]
    assert not (run / "metrics.json").exists()
    assert jobs.refresh(run) == st  # final: read again, nothing changes


def test_server_gone_the_run_goes_on_and_finishes(dq_env, pause, tmp_path):
    """The dashboard that started a run stops mid-run: the worker (its own session) finishes; a new
    server reads it as running, then succeeded."""
    pause("embedding", 3)
    ws = Workspace.default()
    (run,) = _launch_elsewhere([_config(ws, "outlives")], ws.runs_dir(), tmp_path)
    assert jobs.refresh(run)["state"] == "running"  # the launcher is gone; the worker is not
    st = jobs.wait(run, timeout=300)
    assert st["state"] == "succeeded", jobs.log_tail(run)
    assert jobs.read_metrics(run)["n_test"] > 0


def test_worker_gone_while_no_server_watched_is_interrupted(dq_env, pause, tmp_path):
    """Status says running, the pid is gone, and nobody alive saw it end (a restart took server and
    worker): the next status read says interrupted."""
    pause("embedding", 120)
    ws = Workspace.default()
    (run,) = _launch_elsewhere([_config(ws, "interrupted")], ws.runs_dir(), tmp_path)
    pid = _at_phase(run, "embedding")["pid"]
    os.kill(pid, signal.SIGKILL)
    _wait_for(lambda: not jobs.pid_alive(pid), what="the worker to die")
    assert jobs.read_status(run)["state"] == "running"  # on disk, until somebody reads it
    st = jobs.get_run(run).status
    assert st["state"] == "failed" and st["message"] == "interrupted", st
    assert st["error"].startswith("interrupted: ") and "start the run again" in st["error"]


def test_a_run_from_before_a_machine_restart_says_so(dq_env):
    run = jobs.create_run({"name": "x", "train": {}, "data": {}}, Workspace.default().runs_dir() / "r")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    jobs.update_status(run, state="running", pid=dead.pid, pid_start=psutil.boot_time() - 60,
                       launched_at=time.time())
    st = jobs.refresh(run)
    assert st["state"] == "failed" and st["message"] == "interrupted"
    assert "the machine restarted during the run" in st["error"]


def test_two_runs_launched_at_once_queue_then_run(dq_env, pause, tmp_path):
    pause("embedding", 2)
    ws = Workspace.default()
    runs = _launch_elsewhere([_config(ws, "one"), _config(ws, "two")], ws.runs_dir(), tmp_path)
    states = sorted(jobs.read_status(r)["state"] for r in runs)
    assert states == ["queued", "running"]  # one run at a time, whoever came first
    # Nobody lists or schedules from here: the first worker starts the queued run when it ends.
    finals = [jobs.wait(r, timeout=400) for r in runs]
    assert [f["state"] for f in finals] == ["succeeded", "succeeded"], [jobs.log_tail(r) for r in runs]
    first, second = sorted(finals, key=lambda f: f["started_at"])
    assert second["started_at"] >= first["finished_at"]


def _linked_model(folder: Path) -> Path:
    """A model folder of links to the bundled model's files (deleting it leaves the package alone)."""
    src = assets.default_model_path()
    folder.mkdir()
    for p in src.iterdir():
        (folder / p.name).symlink_to(p, target_is_directory=p.is_dir())
    return folder


def test_a_model_folder_deleted_under_a_run(dq_env, pause, tmp_path):
    model = _linked_model(tmp_path / "my-model")
    pause("embedding", 8)
    ws = Workspace.default()
    run = jobs.submit(_config(ws, "model gone", embedding_model=str(model)), runs_dir=ws.runs_dir())
    _at_phase(run, "embedding")
    shutil.rmtree(model)
    assert (assets.default_model_path() / "model.safetensors").exists()
    st = jobs.wait(run, timeout=300)
    assert st["state"] == "failed", st
    assert st["message"].startswith(f"failed: model folder '{model}' disappeared during the run"), st
    assert "put it back" in st["error"]

    never = jobs.submit(_config(ws, "never there", embedding_model=str(tmp_path / "nope")), runs_dir=ws.runs_dir())
    st = jobs.wait(never, timeout=300)
    assert st["state"] == "failed" and "does not exist" in st["error"] and "disappeared" not in st["error"]
