"""Background training runs as separate OS processes, with the run directory as the only truth.

A run directory (``Workspace.runs_dir()/<run id>/``, or any folder for ``dq train --out``) holds::

    config.json        what to run: {"kind", "name", "train": TrainConfig, "data": where the data is}
    status.json        state queued|running|succeeded|failed|cancelled, progress, phase, step/total_steps,
                       epoch, eta_seconds, message, error, log_tail, timestamps, pid (atomic writes)
    log.txt            the worker's stdout/stderr
    history.jsonl      one line per logged loss point (the live train/validation curves)
    metrics.json, predictions.parquet, splits.json, model/ (see training/runner.py)
    cancel.requested   present once a cancel was asked for

This module submits, lists, schedules and cancels runs; the worker (``python -m dq_core.training.worker
RUN_DIR``, see worker.py) runs one, started in its own session so it survives the Streamlit server. A
queue keeps at most ``max_concurrent`` runs going (one by default, or the ``DQ_MAX_TRAINING_RUNS``
environment variable): every submit, every listing and every worker exit starts the oldest queued runs
that fit. A worker that crashes or is killed leaves ``running`` with a dead pid behind; the next read of
its status turns that into ``failed`` with the tail of its log. Every status change is a read-merge-write
under a per-run file lock, so the launcher, the worker and a page polling the run never lose each
other's fields.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import psutil
from filelock import FileLock

from dq_core import settings
from dq_core.data.outputs import RUN_MARKER, mark_run_folder
from dq_core.data.writers import atomic_write_text
from dq_core.errors import DataError
from dq_core.util.jsonsafe import dumps_json

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
ACTIVE = (QUEUED, RUNNING)
FINAL = (SUCCEEDED, FAILED, CANCELLED)
CONFIG, STATUS, LOG, HISTORY, CANCEL = "config.json", "status.json", "log.txt", "history.jsonl", "cancel.requested"
LOG_TAIL_LINES = 25
WORKER_MODULE = "dq_core.training.worker"

_children: dict[int, subprocess.Popen] = {}  # workers this process started: reaped so they never linger as zombies
# Every worker this process started, kept after reaping: its exit status tells a kill from a crash.
_launched: dict[int, subprocess.Popen] = {}


def max_concurrent_default() -> int:
    return settings.get("DQ_MAX_TRAINING_RUNS")


# --------------------------------------------------------------------------- status file

@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive cross-process lock on ``path`` (an OS file lock, on every platform)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(path):
        yield


def read_status(run_dir: str | Path) -> dict:
    p = Path(run_dir) / STATUS
    try:
        return json.loads(p.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError):
        return {"state": FAILED, "error": "status.json is unreadable"}



def write_status(run_dir: Path, status: dict) -> None:
    status["updated_at"] = time.time()
    atomic_write_text(run_dir / STATUS, dumps_json(status))


def update_status(run_dir: str | Path, **fields) -> dict:
    """Merge ``fields`` into status.json under the run's lock; returns the new status."""
    run_dir = Path(run_dir)
    with locked(run_dir / ".lock"):
        st = read_status(run_dir)
        if st.get("state") in FINAL and fields.get("state") not in (None, *FINAL):
            return st  # a finished run is never brought back to life by a late update
        st.update(fields)
        write_status(run_dir, st)
        return st


def read_config(run_dir: str | Path) -> dict:
    try:
        return json.loads((Path(run_dir) / CONFIG).read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def log_tail(run_dir: str | Path, n_lines: int = LOG_TAIL_LINES) -> str:
    p = Path(run_dir) / LOG
    try:
        with open(p, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64_000))
            data = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-n_lines:])


def read_history(run_dir: str | Path) -> pd.DataFrame:
    """The loss points logged so far (step, epoch, loss, eval_loss, learning_rate, ...)."""
    rows = []
    try:
        lines = (Path(run_dir) / HISTORY).read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line being written right now
    return pd.DataFrame(rows)


def read_metrics(run_dir: str | Path) -> dict | None:
    try:
        return json.loads((Path(run_dir) / "metrics.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None


# --------------------------------------------------------------------------- liveness

def process_start_time(pid: int) -> float | None:
    """When ``pid`` started (compared later to tell a recycled pid from the worker), or None if gone."""
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def reap_children() -> int:
    """Collect the exit status of every worker this process started that has finished; returns how many.

    A finished child stays a zombie until its parent waits for it, and the server otherwise looks only at
    the worker it is asked about: without this sweep, workers whose run is final linger until it stops.
    """
    done = [pid for pid, proc in list(_children.items()) if proc.poll() is not None]
    for pid in done:
        _children.pop(pid, None)
    return len(done)


def pid_alive(pid: int | None, start: float | str | None = None) -> bool:
    """Whether the worker ``pid`` still runs: not gone, not a zombie, and (given ``start``) not a new
    process that reuses its pid."""
    if not pid:
        return False
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        _children.pop(pid, None)
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
            return False
        # A non-numeric start is a stamp psutil cannot compare; only a numeric one can prove reuse.
        if isinstance(start, (int, float)) and abs(proc.create_time() - start) > 1e-3:
            return False  # the pid was reused by another process
    except psutil.NoSuchProcess:  # includes a zombie psutil could not read
        return False
    except psutil.AccessDenied:
        return True  # exists, owned by someone else
    return True


def refresh(run_dir: str | Path) -> dict:
    """The run's status, turning a running run whose worker is gone into failed (or cancelled)."""
    run_dir = Path(run_dir)
    reap_children()
    st = read_status(run_dir)
    if st.get("state") != RUNNING or pid_alive(st.get("pid"), st.get("pid_start")):
        return st
    # A worker just starting has no pid yet for a moment; give the launcher time to record it.
    if not st.get("pid") and time.time() - float(st.get("launched_at") or 0) < 30:
        return st
    with locked(run_dir / ".lock"):
        st = read_status(run_dir)  # the worker may have finished between the two reads
        if st.get("state") != RUNNING or pid_alive(st.get("pid"), st.get("pid_start")):
            return st
        tail = log_tail(run_dir)
        if (run_dir / CANCEL).exists():
            st.update(state=CANCELLED, message="cancelled", finished_at=time.time(), eta_seconds=None)
        else:
            st.update(state=FAILED, finished_at=time.time(), eta_seconds=None, log_tail=tail, **_why_gone(st))
        write_status(run_dir, st)
        return st


def _why_gone(st: dict) -> dict:
    """Status fields for a running run whose worker is gone: killed, crashed, or interrupted (unseen)."""
    import signal

    pid, started = st.get("pid"), st.get("pid_start")
    proc, code = _launched.get(pid) if pid else None, None
    launched_start = getattr(proc, "dq_start", None)
    if proc is not None and isinstance(started, (int, float)) and launched_start is not None \
            and abs(launched_start - started) > 1e-3:
        proc = None  # our child had this pid once, but the run's worker was another process
    if proc is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            # /proc may call a killed worker gone while the kernel is still tearing it down (a big torch
            # process takes a moment); its exit status follows.
            code = proc.wait(timeout=3)
    if code is not None and code < 0:  # this process started the worker: its exit status is known
        name = signal.Signals(-code).name if -code in signal.valid_signals() else f"signal {-code}"
        return {"message": "failed: worker was killed", "error_kind": "killed",
                "error": f"the worker process (pid {pid}) was killed ({name}) before it finished, by a "
                         "person or by the system (out of memory?). The end of its log is below."}
    if code is not None:
        return {"message": "failed: worker crashed", "error_kind": "crashed",
                "error": f"the worker process (pid {pid}) exited with code {code} without finishing (it was "
                         "killed or crashed). The end of its log is below."}
    rebooted = isinstance(started, (int, float)) and started < psutil.boot_time()
    return {"message": "interrupted", "error_kind": "interrupted",
            "error": "interrupted: " + ("the machine restarted during the run" if rebooted else
                                        f"the worker process (pid {pid}) stopped while no dashboard or CLI "
                                        "that started it was there to see why (a server or machine restart, "
                                        "or a kill)") + ". The end of its log is below; start the run again."}


# --------------------------------------------------------------------------- runs on disk

@dataclass(frozen=True)
class RunInfo:
    run_id: str
    path: Path
    config: dict
    status: dict

    @property
    def state(self) -> str:
        return self.status.get("state", "unknown")

    @property
    def name(self) -> str:
        return self.config.get("name") or self.run_id

    @property
    def created_at(self) -> float:
        return float(self.status.get("created_at") or self.config.get("created_at") or 0)

    def summary(self) -> dict:
        m = read_metrics(self.path) if self.state == SUCCEEDED else None
        train = self.config.get("train", {})
        return {"run": self.run_id, "name": self.name, "state": self.state, "trainer": train.get("trainer"),
                "dataset": self.config.get("data", {}).get("dataset_name"),
                "progress": self.status.get("progress"), "message": self.status.get("message"),
                "accuracy": m.get("accuracy") if m else None, "macro_f1": m.get("macro_f1") if m else None,
                "created": self.created_at, "path": str(self.path)}


def new_run_id() -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


def create_run(config: dict, run_dir: str | Path) -> Path:
    """Write config.json and a queued status into ``run_dir`` (refusing to reuse a run's folder)."""
    run_dir = Path(run_dir)
    if (run_dir / STATUS).exists() and read_status(run_dir).get("state") in ACTIVE:
        raise DataError(f"'{run_dir}' holds a run that is still {read_status(run_dir)['state']}; pick another "
                        "folder or cancel it first")
    if run_dir.is_dir() and any(run_dir.iterdir()) and not (run_dir / RUN_MARKER).is_file():
        # Only a folder a run created may lose files below: never a folder of the user's.
        raise DataError(f"'{run_dir}' is a folder that is not empty and is not a dq run (no {RUN_MARKER} file); "
                        "nothing in it was touched: pick a new or empty folder")
    run_dir.mkdir(parents=True, exist_ok=True)
    # A run never makes links, so one in its folder came from elsewhere: writing through it (a `baseline_model`
    # linked to another folder) would write outside the run. The link goes, never what it points to.
    for entry in run_dir.iterdir():
        if entry.is_symlink():
            entry.unlink()
    mark_run_folder(run_dir)
    # Re-using a finished run's folder: nothing of the old run may pass for the new one.
    for stale in (CANCEL, HISTORY, "metrics.json", "predictions.parquet", "splits.json", LOG):
        (run_dir / stale).unlink(missing_ok=True)
    for stale_dir in ("model", "baseline_model", "checkpoints"):
        shutil.rmtree(run_dir / stale_dir, ignore_errors=True)  # rmtree removes links inside, never follows them
    now = time.time()
    config = {"kind": "training", "version": 1, "created_at": now, **config}
    atomic_write_text(run_dir / CONFIG, dumps_json(config))
    write_status(run_dir, {"state": QUEUED, "progress": 0.0, "phase": "queued", "message": "waiting in the queue",
                            "created_at": now, "error": None})
    return run_dir


def list_runs(runs_dir: str | Path, *, schedule_queued: bool = True,
              max_concurrent: int | None = None) -> list[RunInfo]:
    """Every run under ``runs_dir``, newest first, dead workers marked failed, queued runs started."""
    runs_dir = Path(runs_dir)
    if schedule_queued:
        schedule(runs_dir, max_concurrent=max_concurrent)
    out = []
    for d in runs_dir.iterdir() if runs_dir.is_dir() else ():
        if not (d / CONFIG).exists():
            continue
        out.append(RunInfo(run_id=d.name, path=d, config=read_config(d), status=refresh(d)))
    return sorted(out, key=lambda r: (r.created_at, r.run_id), reverse=True)


def get_run(run_dir: str | Path) -> RunInfo:
    d = Path(run_dir)
    if not (d / CONFIG).exists():
        raise DataError(f"'{run_dir}' is not a run directory (no config.json)")
    return RunInfo(run_id=d.name, path=d, config=read_config(d), status=refresh(d))



def _launch(run_dir: Path) -> subprocess.Popen:
    env = os.environ.copy()
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env.setdefault("HF_HUB_OFFLINE", "1")  # every model is a local folder: never wait on the network
    ws_root = read_config(run_dir).get("data", {}).get("workspace")
    if ws_root:
        env["DQ_HOME"] = ws_root
    with open(run_dir / LOG, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", WORKER_MODULE, str(run_dir)], stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)  # its own session: survives the server and Ctrl-C
    _children[proc.pid] = proc
    proc.dq_start = process_start_time(proc.pid)  # type: ignore[attr-defined]
    _launched[proc.pid] = proc
    return proc


def schedule(runs_dir: str | Path, *, max_concurrent: int | None = None) -> list[Path]:
    """Start the oldest queued runs while fewer than ``max_concurrent`` are running."""
    runs_dir = Path(runs_dir)
    reap_children()
    if not runs_dir.is_dir():
        return []
    limit = max_concurrent or max_concurrent_default()
    started = []
    with locked(runs_dir / ".schedule.lock"):
        queued, running = [], 0
        for d in runs_dir.iterdir():
            if not (d / STATUS).exists():
                continue
            st = refresh(d)
            if st.get("state") == RUNNING:
                running += 1
            elif st.get("state") == QUEUED:
                queued.append((float(st.get("created_at") or 0), d.name, d))
        for _, _, d in sorted(queued):
            if running >= limit:
                break
            update_status(d, state=RUNNING, phase="starting", message="starting the worker",
                          launched_at=time.time(), pid=None)
            proc = _launch(d)
            st = read_status(d)
            if not st.get("pid") and st.get("state") == RUNNING:
                update_status(d, pid=proc.pid, pid_start=process_start_time(proc.pid))
            running += 1
            started.append(d)
    return started


def submit(config: dict, *, runs_dir: str | Path, max_concurrent: int | None = None) -> Path:
    """Queue a run (config as for create_run) and start it if the queue allows; returns its directory."""
    run_dir = create_run(config, Path(runs_dir) / new_run_id())
    schedule(runs_dir, max_concurrent=max_concurrent)
    return run_dir


def cancel(run_dir: str | Path, *, force: bool = False) -> dict:
    """Cancel a queued run at once; ask a running worker to stop (SIGTERM; SIGKILL with ``force``)."""
    run_dir = Path(run_dir)
    (run_dir / CANCEL).touch()
    with locked(run_dir / ".lock"):
        st = read_status(run_dir)
        if st.get("state") == QUEUED or (st.get("state") == RUNNING and not st.get("pid")):
            st.update(state=CANCELLED, message="cancelled before it started", finished_at=time.time())
            write_status(run_dir, st)
            return st
        if st.get("state") != RUNNING:
            return st
        pid = st.get("pid")
        if pid_alive(pid, st.get("pid_start")):
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                proc = psutil.Process(pid)
                if force:
                    proc.kill()  # SIGKILL on POSIX
                else:
                    proc.terminate()  # SIGTERM on POSIX: the worker stops at the next step
        st.update(message="force-stopping" if force else "cancelling: stopping at the next step")
        write_status(run_dir, st)
    return refresh(run_dir) if force else st


def wait(run_dir: str | Path, *, timeout: float = 600, poll: float = 0.25) -> dict:
    """Block until the run is final (for tests and scripts); returns its status."""
    end = time.monotonic() + timeout
    while True:
        st = refresh(run_dir)
        if st.get("state") in FINAL:
            return st
        if time.monotonic() > end:
            raise TimeoutError(f"run {run_dir} still {st.get('state')} after {timeout:.0f}s")
        time.sleep(poll)


def delete_run(run_dir: str | Path) -> None:
    st = refresh(run_dir)
    if st.get("state") in ACTIVE:
        raise DataError("cancel the run before deleting it")
    shutil.rmtree(run_dir)

