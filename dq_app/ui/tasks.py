"""Background work inside the Streamlit server process, polled by pages with ``@st.fragment(run_every=...)``.

Why threads here and not a ``dq_core.training.jobs`` process: the coverage pipeline's slow parts (embedding,
UMAP) gain from the long-lived server process. The model stays loaded and umap-learn's numba code is
compiled once per process (a fresh process pays 15-30 s again). Torch and numba release the GIL, so
pages stay responsive. The on-disk caches stay the truth: embeddings are written chunk by chunk and the
projection is cached whole, so a server restart resumes where the work stopped.

Workers never call ``st.*``; they report through :meth:`Task.report`.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dq_core.errors import DataError

RUNNING, DONE, FAILED = "running", "done", "failed"


@dataclass
class Task:
    key: str
    label: str
    state: str = RUNNING
    progress: float = 0.0
    message: str = ""
    phase: str = ""
    result: Any = None
    partial: dict = field(default_factory=dict)  # results published before the whole task ends
    error: str | None = None
    error_kind: str | None = None  # "data" (DataError: the user can fix it) or "internal"
    details: str | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None

    def report(self, progress: float | None = None, message: str | None = None, phase: str | None = None) -> None:
        if progress is not None:
            self.progress = float(min(1.0, max(0.0, progress)))
        if message is not None:
            self.message = message
        if phase is not None:
            self.phase = phase

    def publish(self, name: str, value: Any) -> None:
        self.partial[name] = value

    @property
    def elapsed(self) -> float:
        return (self.finished or time.time()) - self.started

    @property
    def done(self) -> bool:
        return self.state == DONE

    @property
    def failed(self) -> bool:
        return self.state == FAILED


# A plain module global, not st.cache_resource: this module is imported once per process (pages are
# re-executed, imports are not), so the registry lives as long as the server, and tests can reach it.
_REGISTRY: dict = {"lock": threading.Lock(), "tasks": {}, "threads": {}}


def _registry() -> dict:
    return _REGISTRY


def get(key: str) -> Task | None:
    reg = _registry()
    with reg["lock"]:
        return reg["tasks"].get(key)


def submit(key: str, label: str, fn: Callable[..., Any], *args, **kwargs) -> Task:
    """Start ``fn(task, *args, **kwargs)`` in a daemon thread unless a live or finished task has ``key``.

    A failed task is replaced (submitting again is the retry).
    """
    reg = _registry()
    with reg["lock"]:
        old = reg["tasks"].get(key)
        if old is not None and old.state != FAILED:
            return old
        task = Task(key=key, label=label)
        reg["tasks"][key] = task

    def run() -> None:
        try:
            task.result = fn(task, *args, **kwargs)
            task.progress = 1.0
            task.state = DONE
        except DataError as exc:
            task.error, task.error_kind, task.state = str(exc), "data", FAILED
        except Exception as exc:  # noqa: BLE001 - a worker must end with a reason, whatever happened
            task.error = f"{type(exc).__name__}: {exc}"
            task.error_kind, task.details, task.state = "internal", traceback.format_exc()[-4000:], FAILED
        finally:
            task.finished = time.time()

    thread = threading.Thread(target=run, name=f"dq-task-{key[:40]}", daemon=True)
    with reg["lock"]:
        reg["threads"][key] = thread
    thread.start()
    return task


def wait_all(timeout: float = 600.0) -> bool:
    """Block until every started task has ended (tests, orderly shutdown); False on timeout."""
    end = time.time() + timeout
    with _REGISTRY["lock"]:
        threads = list(_REGISTRY["threads"].values())
    for t in threads:
        t.join(max(0.0, end - time.time()))
    return not any(t.is_alive() for t in threads)


def forget(key: str) -> None:
    reg = _registry()
    with reg["lock"]:
        reg["tasks"].pop(key, None)
