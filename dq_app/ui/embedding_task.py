"""The one background task that embeds the active dataset and reference into the workspace cache.

Coverage, Shift, Clean and the baseline trainer all read the same cached embeddings. Computing them once,
in one server thread per (dataset, reference) pair, keeps two pages from embedding the same texts at the
same time, and lets the app start as soon as a dataset is opened (``prefetch``): the first visit to a
page that needs them then waits only for what is left. What is embedded, in which order and how it is
counted is dq_core's (:mod:`dq_core.space.embed_pair`); this module runs it in a thread and shows it.
"""

from __future__ import annotations

import time

import streamlit as st

from dq_app.ui import tasks
from dq_app.ui.progress_text import Counted, RateMeter, progress_line
from dq_core import settings
from dq_core.data.dataset import TextDataset
from dq_core.data.workspace import Workspace
from dq_core.space.embed_pair import (
    EMBEDDING,
    PREVIEW,
    Preview,
    forget_pair,
    pair_key,
    pair_ready,
    pair_rows,
    plan_pair,
    run_pair,
)
from dq_core.util.wording import counted


def task_key(ds: TextDataset, ref: TextDataset | None, ws: Workspace) -> str:
    """Per workspace too: another workspace has its own cache, so a task done for one says nothing of it."""
    return f"embed:{ws.root}:{pair_key(ds, ref)}"


def _embed_all(task: tasks.Task, ds: TextDataset, ref: TextDataset | None, ws: Workspace) -> None:
    """dq_core's passes over the pair (:func:`~dq_core.space.embed_pair.run_pair`), reported on the task:
    the plan, then distinct texts embedded of its total with this run's measured rate (``task.partial["rows"]``,
    a :class:`~ui.progress_text.Counted`, and the bar's fraction), and the preview sample once embedded."""
    task.report(0.0, "Counting the texts to embed…", phase="counting")
    job = plan_pair(ds, ref, ws)
    task.publish("plan", job.plan)
    task.publish("rows", Counted(0, job.plan.total))
    meter = RateMeter()

    def progress(phase: str, done: float | None = None, total: float = 1.0) -> None:
        if done is None:  # a pass starts
            task.report(phase=phase)
            return
        meter.add(time.monotonic(), int(done))
        task.publish("rows", Counted(int(done), int(total), meter.rate()))
        task.report(done / total, phase=phase)

    run_pair(job, ws, progress=progress, on_preview=lambda p: task.publish("preview", p))
    task.report(1.0, phase=EMBEDDING)


def counts_note(task: tasks.Task, n_rows: int) -> str:
    """What the progress counts, said once: "38,158 rows hold 38,104 distinct texts (1,250 embedded before):
    the progress counts the 36,854 left to embed ..." Empty while the texts are being counted, and when
    every row is a text to embed."""
    plan = task.partial.get("plan")
    if plan is None or plan.total == n_rows:
        return ""
    before = f" ({plan.n_cached:,} embedded before)" if plan.n_cached else ""
    return (f"{n_rows:,} rows hold {counted(plan.n_texts, 'distinct text')}{before}: the progress counts the "
            f"{plan.total:,} left to embed; a text that repeats is embedded once, an empty one not at all.")


def status_line(task: tasks.Task) -> str:
    """"Embedding: 12,288 / 36,854 distinct texts · 410 texts/s · ETA 1 min 00 s" over the whole task (one
    total from start to end), naming the preview sample while it is what is being embedded."""
    rows, plan = task.partial.get("rows"), task.partial.get("plan")
    if rows is None or plan is None or not rows.total:
        return task.message or "Loading the embedding model…"
    what = "Embedding"
    if task.phase == PREVIEW:
        what = f"Embedding a preview sample of {plan.to_embed[0]:,} texts first"
    return progress_line(what, rows, unit="distinct texts")


def current(ds: TextDataset, ref: TextDataset | None, ws: Workspace) -> tasks.Task | None:
    return tasks.get(task_key(ds, ref, ws))


def ensure(ds: TextDataset, ref: TextDataset | None, ws: Workspace) -> tasks.Task | None:
    """None when the embeddings are on disk; else the running or failed task (started now if need be).

    A failed task stays until :func:`retry` (its error is shown; retrying on every rerun would loop on a
    bad input). A task that finished while its files are gone (workspace cleaned) is started again.
    """
    task = current(ds, ref, ws)
    if task is not None and not task.done:
        return task
    if pair_ready(ds, ref, ws):
        return None
    if task is not None and task.done:
        tasks.forget(task.key)
    return tasks.submit(task_key(ds, ref, ws), "Embeddings", _embed_all, ds, ref, ws)


def retry(ds: TextDataset, ref: TextDataset | None, ws: Workspace) -> None:
    tasks.forget(task_key(ds, ref, ws))
    ensure(ds, ref, ws)


def repair(ds: TextDataset, ref: TextDataset | None, ws: Workspace) -> None:
    """A page found the files marked complete but could not read them: rebuild them in the background."""
    forget_pair(ds, ref, ws)
    retry(ds, ref, ws)


def prefetch(ds: TextDataset | None, ref: TextDataset | None, ws: Workspace) -> None:
    """Start embedding the active pair in the background (app start, a new dataset opened).

    DQ_PREFETCH_EMBEDDINGS=0 turns it off (tests; a machine where embedding must wait for a page)."""
    if settings.get("DQ_PREFETCH_EMBEDDINGS") and ds is not None and len(ds):
        ensure(ds, ref, ws)


def wait(ds: TextDataset, ref: TextDataset | None, ws: Workspace, *, timeout: float) -> bool:
    """Block the page up to ``timeout`` seconds with a progress bar; True once the embeddings are on disk.

    For small sets (seconds of work) a page reads better drawn once, complete, than drawn and redrawn.
    """
    task = ensure(ds, ref, ws)
    if task is None:
        return True
    bar = st.progress(task.progress, text=status_line(task))
    end = time.time() + timeout
    while not task.done and not task.failed and time.time() < end:
        time.sleep(0.2)
        bar.progress(task.progress, text=status_line(task))
    bar.empty()
    return task.done and pair_ready(ds, ref, ws)


def preview(ds: TextDataset, ref: TextDataset | None, ws: Workspace) -> Preview | None:
    """The running task's preview sample, once embedded."""
    task = current(ds, ref, ws)
    return None if task is None else task.partial.get("preview")


def show_progress(ds: TextDataset, ref: TextDataset | None, ws: Workspace, *, key: str,
                  rerun_on_preview: bool = False) -> None:
    """A progress bar that polls the task and reruns the whole page once the embeddings are on disk
    (and, with ``rerun_on_preview``, as soon as the preview sample is)."""

    @st.fragment(run_every=2.0)
    def _poll() -> None:
        task = current(ds, ref, ws)
        if task is None or task.done or (rerun_on_preview and "preview" in task.partial):
            st.rerun()
            return
        if task.failed:
            if task.error_kind == "data":
                st.error(task.error, icon="⚠️")
            else:
                st.error(f"Embedding failed unexpectedly ({task.error}). Your data is unchanged.", icon="🛑")
                with st.expander("Details"):
                    st.code(task.details or "")
            if st.button("Try again", key=f"{key}_retry"):
                retry(ds, ref, ws)
                st.rerun()
            return
        st.progress(task.progress, text=status_line(task))
        note = counts_note(task, pair_rows(ds, ref))
        st.caption((note + " " if note else "") + f"{task.elapsed:.0f} s so far. Embeddings are cached in the "
                   "workspace chunk by chunk: leaving this page does not stop them, and an interrupted run "
                   "resumes where it stopped.")

    _poll()


def sidebar_status(ds: TextDataset | None, ref: TextDataset | None, ws: Workspace) -> None:
    """One line in the sidebar while the active pair is being embedded, refreshed every few seconds."""
    if ds is None:
        return
    task = current(ds, ref, ws)
    if task is None or task.done or task.failed:
        return

    @st.fragment(run_every=3.0)
    def _line() -> None:
        if not task.done and not task.failed:
            st.caption(f"🧮 {status_line(task)}")

    _line()
