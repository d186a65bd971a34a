"""The training worker: ``python -m dq_core.training.worker RUN_DIR`` runs one queued run (see jobs.py),
and ``execute`` runs one in this process for ``dq train``. Progress goes to the run directory through a
``RunReporter``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path

from dq_core import settings
from dq_core.errors import DataError
from dq_core.training.jobs import (
    CANCEL,
    CANCELLED,
    FAILED,
    HISTORY,
    RUNNING,
    SUCCEEDED,
    log_tail,
    process_start_time,
    read_config,
    read_status,
    schedule,
    update_status,
)

_stop_requested = False  # set by SIGTERM inside a worker


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
        if "phase" in fields:
            _pause_for_tests(fields["phase"])

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
    watched: list[Path] = []  # model folders the run reads, to tell "deleted under the run" apart
    st = update_status(run_dir, state=RUNNING, pid=os.getpid(), pid_start=process_start_time(os.getpid()),
                       started_at=time.time(), phase="starting", message="loading the data", progress=0.0)
    if st.get("state") != RUNNING:  # cancelled while the worker was starting
        return st
    reporter.log(f"run {run_dir.name} started (pid {os.getpid()})")
    try:
        config = read_config(run_dir)
        if not config:
            raise DataError(f"'{run_dir}' has no readable config.json")
        if config.get("kind") == "advise":  # the recipe advisor (training/advisor_job.py)
            from dq_core.training.advisor_job import run_advice

            message = run_advice(config, run_dir, reporter=reporter, datasets=datasets)
            st = update_status(run_dir, state=SUCCEEDED, progress=1.0, phase="done", finished_at=time.time(),
                               eta_seconds=0, message=message, error=None)
            reporter.log(message)
            return st
        cfg = TrainConfig.from_dict(config.get("train", {}))
        watched = _model_folders(cfg)
        _limit_threads()
        ds, ref, test, ws = datasets if datasets is not None else load_data(config.get("data", {}))
        keep = config.get("keep_mask")
        metrics = run_training(cfg, run_dir, ds=ds, ws=ws, reference=ref, external_test=test,
                               keep_mask=keep, relabel=config.get("relabel"), reporter=reporter,
                               given=given)
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
        gone = _disappeared(watched)
        reporter.log(f"error: {gone or exc}")
        st = update_status(run_dir, state=FAILED, phase="failed", finished_at=time.time(), eta_seconds=None,
                           error=gone or str(exc), error_kind="data", log_tail=log_tail(run_dir),
                           message=f"failed: {gone}" if gone else "failed")
        if raise_errors:
            raise
        return st
    except Exception as exc:  # noqa: BLE001 - a failed run must say why, whatever happened
        traceback.print_exc(file=reporter.log_stream)
        reporter.log_stream.flush()
        msg = _disappeared(watched) or (
            "out of memory; lower the batch size, max length or training-row cap" if isinstance(exc, MemoryError)
            else f"{type(exc).__name__}: {str(exc)[:500]}")
        st = update_status(run_dir, state=FAILED, phase="failed", finished_at=time.time(), eta_seconds=None,
                           error=msg, error_kind="internal", message="failed", log_tail=log_tail(run_dir))
        if raise_errors:
            raise
        return st


def _model_folders(cfg) -> list[Path]:
    """The local model folders this run will read (backbone or embedding model), as they exist at start."""
    name = cfg.model if cfg.trainer == "transformer" else cfg.embedding_model
    if not name or str(name).strip() in ("", "default", "all-MiniLM-L6-v2"):
        return []  # the bundled model lives in an installed package
    p = Path(str(name)).expanduser()
    return [p] if p.is_dir() else []


def _disappeared(folders: list[Path]) -> str | None:
    """Why a run failed when a model folder it started with is gone now (deleted or moved under it)."""
    gone = [p for p in folders if not p.is_dir()]
    if not gone:
        return None
    return (f"model folder '{gone[0]}' disappeared during the run (deleted or moved after the run started); "
            "put it back and start the run again")


def _pause_for_tests(phase: str) -> None:
    """``DQ_WORKER_PAUSE=<phase>:<seconds>`` holds the run when it reaches ``phase`` (the run-fault tests
    kill the worker or delete its model folder there). Unset outside those tests."""
    pause = settings.get("DQ_WORKER_PAUSE")
    if pause is not None and pause[0] == phase:
        time.sleep(pause[1])


def _limit_threads() -> None:
    """``DQ_TORCH_THREADS=N`` caps the worker's torch threads (e.g. 1 on a 2-core server, so the dashboard
    stays responsive while a run trains). Unset: torch's default, every core."""
    threads = settings.get("DQ_TORCH_THREADS")
    if threads is None:
        return
    import torch

    torch.set_num_threads(threads)


def _on_sigterm(signum, frame) -> None:
    global _stop_requested
    _stop_requested = True


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m dq_core.training.worker RUN_DIR", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _on_sigterm)  # first thing: a cancel during the imports is not a crash
    run_dir = Path(argv[0]).resolve()
    print(f"[{time.strftime('%H:%M:%S')}] worker pid {os.getpid()} for {run_dir}", flush=True)
    st = {}
    try:
        st = execute(run_dir)
    finally:
        # Start whatever waits in the queue (the page may be closed, so nobody else would). Only a run
        # that schedule() launched sits in a queue folder; it carries launched_at.
        if run_dir.parent.is_dir() and read_status(run_dir).get("launched_at"):
            with contextlib.suppress(Exception):
                schedule(run_dir.parent)
    return 0 if st.get("state") == SUCCEEDED else 1


if __name__ == "__main__":
    sys.exit(main())
