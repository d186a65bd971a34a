"""Background training runs as separate OS processes, with the run directory as the only truth.

A run directory (``Workspace.runs_dir()/<run id>/``, or any folder for ``dq train --out``) holds::

    config.json        what to run: {"kind", "name", "train": TrainConfig, "data": where the data is}
    status.json        state queued|running|succeeded|failed|cancelled, progress, phase, step/total_steps,
                       epoch, eta_seconds, message, error, log_tail, timestamps, pid (atomic writes)
    log.txt            the worker's stdout/stderr
    history.jsonl      one line per logged loss point (the live train/validation curves)
    metrics.json, predictions.parquet, splits.json, model/ (see training/runner.py)
    cancel.requested   present once a cancel was asked for

The worker is ``python -m dq_core.training.jobs RUN_DIR``, started in its own session so it survives the
Streamlit server. A queue keeps at most ``max_concurrent`` runs going (one by default, or the
``DQ_MAX_TRAINING_RUNS`` environment variable): every submit, every listing and every worker exit
starts the oldest queued runs that fit. A worker that crashes or is killed leaves ``running`` with a dead
pid behind; the next read of its status turns that into ``failed`` with the tail of its log.
Every status change is a read-merge-write under a per-run file lock, so the launcher, the worker and a
page polling the run never lose each other's fields.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dq_core.data.io import atomic_write_text
from dq_core.errors import DataError

try:  # POSIX file locks; on other systems runs work, only without cross-process locking
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
ACTIVE = (QUEUED, RUNNING)
FINAL = (SUCCEEDED, FAILED, CANCELLED)
CONFIG, STATUS, LOG, HISTORY, CANCEL = "config.json", "status.json", "log.txt", "history.jsonl", "cancel.requested"
LOG_TAIL_LINES = 25

_children: dict[int, subprocess.Popen] = {}  # workers this process started: reaped so they never linger as zombies
_stop_requested = False  # set by SIGTERM inside a worker


def max_concurrent_default() -> int:
    try:
        return max(1, int(os.environ.get("DQ_MAX_TRAINING_RUNS", "1")))
    except ValueError:
        return 1


# --------------------------------------------------------------------------- status file

@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    if fcntl is None:  # pragma: no cover
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def read_status(run_dir: str | Path) -> dict:
    p = Path(run_dir) / STATUS
    try:
        return json.loads(p.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError):
        return {"state": FAILED, "error": "status.json is unreadable"}


def _write_status(run_dir: Path, status: dict) -> None:
    status["updated_at"] = time.time()
    atomic_write_text(run_dir / STATUS, json.dumps(status, indent=2, default=str))


def update_status(run_dir: str | Path, **fields) -> dict:
    """Merge ``fields`` into status.json under the run's lock; returns the new status."""
    run_dir = Path(run_dir)
    with _locked(run_dir / ".lock"):
        st = read_status(run_dir)
        if st.get("state") in FINAL and fields.get("state") not in (None, *FINAL):
            return st  # a finished run is never brought back to life by a late update
        st.update(fields)
        _write_status(run_dir, st)
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

def _proc_start(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (guards against a recycled pid), or None off Linux."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _proc_state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def pid_alive(pid: int | None, start: str | None = None) -> bool:
    if not pid:
        return False
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        _children.pop(pid, None)
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    if _proc_state(pid) in ("Z", "X"):
        return False
    if start is not None:
        now = _proc_start(pid)
        if now is not None and now != start:
            return False  # the pid was reused by another process
    return True


def refresh(run_dir: str | Path) -> dict:
    """The run's status, turning a running run whose worker is gone into failed (or cancelled)."""
    run_dir = Path(run_dir)
    st = read_status(run_dir)
    if st.get("state") != RUNNING or pid_alive(st.get("pid"), st.get("pid_start")):
        return st
    # A worker just starting has no pid yet for a moment; give the launcher time to record it.
    if not st.get("pid") and time.time() - float(st.get("launched_at") or 0) < 30:
        return st
    with _locked(run_dir / ".lock"):
        st = read_status(run_dir)  # the worker may have finished between the two reads
        if st.get("state") != RUNNING or pid_alive(st.get("pid"), st.get("pid_start")):
            return st
        tail = log_tail(run_dir)
        if (run_dir / CANCEL).exists():
            st.update(state=CANCELLED, message="cancelled", finished_at=time.time(), eta_seconds=None)
        else:
            st.update(state=FAILED, finished_at=time.time(), eta_seconds=None, log_tail=tail,
                      error=f"the worker process (pid {st.get('pid')}) stopped without finishing: it was "
                            "killed or crashed (out of memory?). The end of its log is below.",
                      message="worker died")
        _write_status(run_dir, st)
        return st


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
    run_dir.mkdir(parents=True, exist_ok=True)
    # Re-using a finished run's folder: nothing of the old run may pass for the new one.
    for stale in (CANCEL, HISTORY, "metrics.json", "predictions.parquet", "splits.json", LOG):
        (run_dir / stale).unlink(missing_ok=True)
    for stale_dir in ("model", "baseline_model", "checkpoints"):
        shutil.rmtree(run_dir / stale_dir, ignore_errors=True)
    now = time.time()
    config = {"kind": "training", "version": 1, "created_at": now, **config}
    atomic_write_text(run_dir / CONFIG, json.dumps(config, indent=2, default=str))
    _write_status(run_dir, {"state": QUEUED, "progress": 0.0, "phase": "queued", "message": "waiting in the queue",
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
        proc = subprocess.Popen([sys.executable, "-m", "dq_core.training.jobs", str(run_dir)], stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)  # its own session: survives the server and Ctrl-C
    _children[proc.pid] = proc
    return proc


def schedule(runs_dir: str | Path, *, max_concurrent: int | None = None) -> list[Path]:
    """Start the oldest queued runs while fewer than ``max_concurrent`` are running."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return []
    limit = max_concurrent or max_concurrent_default()
    started = []
    with _locked(runs_dir / ".schedule.lock"):
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
                update_status(d, pid=proc.pid, pid_start=_proc_start(proc.pid))
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
    with _locked(run_dir / ".lock"):
        st = read_status(run_dir)
        if st.get("state") == QUEUED or (st.get("state") == RUNNING and not st.get("pid")):
            st.update(state=CANCELLED, message="cancelled before it started", finished_at=time.time())
            _write_status(run_dir, st)
            return st
        if st.get("state") != RUNNING:
            return st
        pid = st.get("pid")
        if pid_alive(pid, st.get("pid_start")):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL if force else signal.SIGTERM)
        st.update(message="force-stopping" if force else "cancelling: stopping at the next step")
        _write_status(run_dir, st)
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


# --------------------------------------------------------------------------- inside the worker

class RunReporter:
    """Progress from a trainer into status.json / history.jsonl / the log (at most one status write a second)."""

    def __init__(self, run_dir: Path, *, echo=None, log_stream=None):
        self.run_dir = Path(run_dir)
        self.t0 = time.time()
        self.echo = echo  # e.g. print to stderr for the CLI
        self.log_stream = log_stream or sys.stdout
        self._last_write = 0.0
        self._pending: dict = {}

    def update(self, **fields) -> None:
        self._pending.update(fields)
        now = time.time()
        final_phase = fields.get("phase") in ("done",)
        if now - self._last_write < 1.0 and not final_phase and "phase" not in fields:
            return
        p = self._pending.get("progress")
        if "eta_seconds" not in fields and p:
            elapsed = now - self.t0
            self._pending["eta_seconds"] = round(elapsed * (1 - p) / p, 1) if p > 0.05 else None
        self._pending["elapsed_seconds"] = round(now - self.t0, 1)
        update_status(self.run_dir, **self._pending)
        if self.echo and "message" in self._pending:
            self.echo(self._pending["message"])
        self._pending = {}
        self._last_write = now

    def history(self, record: dict) -> None:
        with open(self.run_dir / HISTORY, "a") as fh:
            fh.write(json.dumps({**record, "time": round(time.time() - self.t0, 2)}) + "\n")

    def log(self, message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=self.log_stream, flush=True)

    def should_stop(self) -> bool:
        return _stop_requested or (self.run_dir / CANCEL).exists()


def execute(run_dir: str | Path, *, raise_errors: bool = False, echo=None, log_stream=None,
            datasets: tuple | None = None, given=None) -> dict:
    """Run the training described by run_dir/config.json in this process, keeping status.json current.

    The worker calls this; so does ``dq train`` (in-process, ``raise_errors=True`` so a DataError reaches
    the CLI's exit-2 path). ``datasets`` = (ds, reference, test, workspace) skips loading them again;
    ``given`` (a runner.GivenVectors) carries the user's own vectors (`dq train --embeddings`).
    """
    from dq_core.training.config import TrainConfig
    from dq_core.training.progress import Cancelled
    from dq_core.training.runner import load_data, run_training

    run_dir = Path(run_dir)
    reporter = RunReporter(run_dir, echo=echo, log_stream=log_stream)
    st = update_status(run_dir, state=RUNNING, pid=os.getpid(), pid_start=_proc_start(os.getpid()),
                       started_at=time.time(), phase="starting", message="loading the data", progress=0.0)
    if st.get("state") != RUNNING:  # cancelled while the worker was starting
        return st
    reporter.log(f"run {run_dir.name} started (pid {os.getpid()})")
    try:
        config = read_config(run_dir)
        if not config:
            raise DataError(f"'{run_dir}' has no readable config.json")
        cfg = TrainConfig.from_dict(config.get("train", {}))
        _limit_threads()
        ds, ref, test, ws = datasets if datasets is not None else load_data(config.get("data", {}))
        keep = config.get("keep_mask")
        metrics = run_training(cfg, run_dir, ds=ds, ws=ws, reference=ref, external_test=test,
                               keep_mask=keep, relabel=config.get("relabel"), reporter=reporter, given=given)
        st = update_status(run_dir, state=SUCCEEDED, progress=1.0, phase="done", finished_at=time.time(),
                           eta_seconds=0, message=f"accuracy {metrics['accuracy']:.3f} · macro-F1 "
                                                  f"{metrics['macro_f1']:.3f}", error=None)
        reporter.log(st["message"])
        return st
    except (Cancelled, KeyboardInterrupt) as exc:
        reporter.log("cancelled")
        if isinstance(exc, KeyboardInterrupt):
            update_status(run_dir, state=CANCELLED, phase="cancelled", finished_at=time.time(), message="interrupted")
            raise
        return update_status(run_dir, state=CANCELLED, phase="cancelled", finished_at=time.time(),
                             eta_seconds=None, message="cancelled")
    except DataError as exc:
        reporter.log(f"error: {exc}")
        st = update_status(run_dir, state=FAILED, phase="failed", finished_at=time.time(), eta_seconds=None,
                           error=str(exc), error_kind="data", message="failed", log_tail=log_tail(run_dir))
        if raise_errors:
            raise
        return st
    except Exception as exc:  # noqa: BLE001 - a failed run must say why, whatever happened
        traceback.print_exc(file=reporter.log_stream)
        reporter.log_stream.flush()
        msg = ("out of memory; lower the batch size, max length or training-row cap" if isinstance(exc, MemoryError)
               else f"{type(exc).__name__}: {str(exc)[:500]}")
        st = update_status(run_dir, state=FAILED, phase="failed", finished_at=time.time(), eta_seconds=None,
                           error=msg, error_kind="internal", message="failed", log_tail=log_tail(run_dir))
        if raise_errors:
            raise
        return st


def _limit_threads() -> None:
    """``DQ_TORCH_THREADS=N`` caps the worker's torch threads (e.g. 1 on a 2-core server, so the dashboard
    stays responsive while a run trains). Unset: torch's default, every core."""
    n = os.environ.get("DQ_TORCH_THREADS", "").strip()
    if not n:
        return
    try:
        threads = max(1, int(n))
    except ValueError:
        raise DataError(f"DQ_TORCH_THREADS must be a whole number, not '{n}'") from None
    import torch

    torch.set_num_threads(threads)


def _on_sigterm(signum, frame) -> None:
    global _stop_requested
    _stop_requested = True


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m dq_core.training.jobs RUN_DIR", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _on_sigterm)  # first thing: a cancel during the imports is not a crash
    run_dir = Path(argv[0]).resolve()
    print(f"[{time.strftime('%H:%M:%S')}] worker pid {os.getpid()} for {run_dir}", flush=True)
    st = {}
    try:
        st = execute(run_dir)
    finally:
        # Start whatever waits in the queue (the page may be closed, so nobody else would).
        if run_dir.parent.is_dir() and (run_dir.parent / ".schedule.lock").exists():
            with contextlib.suppress(Exception):
                schedule(run_dir.parent)
    return 0 if st.get("state") == SUCCEEDED else 1


if __name__ == "__main__":
    sys.exit(main())
