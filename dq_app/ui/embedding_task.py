"""The one background task that embeds the active dataset and reference into the workspace cache.

Coverage, Shift, Clean and the baseline trainer all read the same cached embeddings. Computing them once,
in one server thread per (dataset, reference) pair, keeps two pages from embedding the same texts at the
same time, and lets the app start as soon as a dataset is opened (``prefetch``): the first visit to a
page that needs them then waits only for what is left.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import streamlit as st

from dq_app.ui import tasks
from dq_app.ui.progress_text import Counted, RateMeter, progress_line
from dq_core import settings
from dq_core.data.dataset import TextDataset
from dq_core.data.workspace import Workspace
from dq_core.space.embed import EmbeddingPlan, embed_dataset, embed_texts, plan_embedding
from dq_core.space.embed_cache import EmbeddingResult, forget_dataset_embeddings, has_dataset_embeddings
from dq_core.util.wording import counted


def _sides(ds: TextDataset, ref: TextDataset | None) -> list[tuple[str, TextDataset]]:
    return [("dataset", ds)] + ([("reference", ref)] if ref is not None and len(ref) else [])


def task_key(ds: TextDataset, ref: TextDataset | None, ws: Workspace) -> str:
    """Per workspace too: another workspace has its own cache, so a task done for one says nothing of it."""
    return f"embed:{ws.root}:{ds.fingerprint[:16]}-{ref.fingerprint[:16] if ref is not None else 'none'}"


def ready(ds: TextDataset, ref: TextDataset | None, ws: Workspace) -> bool:
    """Both sides' embeddings are on disk."""
    return all(has_dataset_embeddings(d, workspace=ws) for _, d in _sides(ds, ref))


def n_texts(ds: TextDataset, ref: TextDataset | None) -> int:
    """Rows on both sides (a text repeated in them is embedded once: see :func:`counts_note`)."""
    return sum(len(d) for _, d in _sides(ds, ref))


# A first pass embeds a random sample of each side, so pages can show provisional figures within seconds
# while the rest embeds (minutes on CPU for tens of thousands of texts). Its vectors are cached per text,
# so the full pass does not embed them again.
PREVIEW_ROWS = 2000  # per side
PREVIEW_ABOVE = 4 * PREVIEW_ROWS  # texts in all; below this the whole job takes seconds


@dataclass(frozen=True)
class Preview:
    """Random samples of both sides with their embeddings (row_ids kept), for provisional figures."""

    ds: TextDataset
    ref: TextDataset | None
    ds_emb: EmbeddingResult
    ref_emb: EmbeddingResult | None


def _sample(d: TextDataset, n: int, seed: int = 0) -> TextDataset:
    pick = np.zeros(len(d), dtype=bool)
    pick[np.random.default_rng(seed).choice(len(d), size=min(n, len(d)), replace=False)] = True
    return d.subset(pick, name=f"{d.name} (sample of {int(pick.sum()):,})")


class _Counter:
    """Distinct texts embedded so far of the plan's total, with this run's measured rate: published as
    ``task.partial["rows"]`` (a :class:`~ui.progress_text.Counted`) and as the bar's fraction.

    Each pass's first report corrects the plan's count for it if the cache changed meanwhile; a pass
    answered whole from the consolidated file (first report ``(n, n)``) embedded nothing and counts 0.
    """

    def __init__(self, task: tasks.Task, plan: EmbeddingPlan):
        self.task, self.planned, self.before, self.phase = task, list(plan.to_embed), 0, 0
        self.meter = RateMeter()

    def pass_cb(self, phase: str) -> Callable[[int, int], None]:
        i, first = self.phase, [True]

        def cb(done: int, todo: int) -> None:
            if first[0]:
                first[0] = False
                self.planned[i] = 0 if todo and done == todo else todo
            if not self.planned[i]:
                return
            count, total = self.before + done, sum(self.planned)
            self.meter.add(time.monotonic(), count)
            self.task.publish("rows", Counted(count, total, self.meter.rate()))
            self.task.report(count / total, phase=phase)

        return cb

    def end_pass(self) -> None:
        self.before += self.planned[self.phase]
        self.phase += 1


def _embed_all(task: tasks.Task, ds: TextDataset, ref: TextDataset | None, ws: Workspace) -> None:
    """Embed a preview sample (large sets), then the dataset, then the reference, reporting real progress:
    distinct texts embedded of the plan's total, counted before the first text is embedded."""
    sides = _sides(ds, ref)
    total = sum(len(d) for _, d in sides) or 1
    long_texts = settings.get("DQ_LONG_TEXTS")  # "chunks" embeds long texts whole
    samples = [(name, _sample(d, PREVIEW_ROWS)) for name, d in sides] if total > PREVIEW_ABOVE else []
    task.report(0.0, "Counting the texts to embed…", phase="counting")
    passes = ([pd.concat([d.texts for _, d in samples], ignore_index=True)] if samples else []) \
        + [d.texts for _, d in sides]
    whole = {len(passes) - len(sides) + i for i, (_, d) in enumerate(sides)
             if has_dataset_embeddings(d, workspace=ws, long_texts=long_texts)}
    plan = plan_embedding(passes, workspace=ws, long_texts=long_texts, skip=whole)
    task.publish("plan", plan)
    counter = _Counter(task, plan)
    task.publish("rows", Counted(0, plan.total))
    if samples:
        task.report(phase="preview")
        res = embed_texts(passes[0], workspace=ws, progress=counter.pass_cb("preview"), long_texts=long_texts)
        counter.end_pass()
        parts, start = {}, 0
        for name, d in samples:
            sl = slice(start, start + len(d))
            parts[name] = (d, replace(res, vectors=res.vectors[sl], valid=res.valid[sl],
                                      truncated=None if res.truncated is None else res.truncated[sl],
                                      n_truncated=int(res.truncated[sl].sum()) if res.truncated is not None else 0))
            start += len(d)
        task.publish("preview", Preview(ds=parts["dataset"][0], ds_emb=parts["dataset"][1],
                                        ref=parts["reference"][0] if "reference" in parts else None,
                                        ref_emb=parts["reference"][1] if "reference" in parts else None))
    task.report(phase="embedding")
    for _, d in sides:
        embed_dataset(d, workspace=ws, progress=counter.pass_cb("embedding"), long_texts=long_texts)
        counter.end_pass()
    task.report(1.0, phase="embedding")


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
    if task.phase == "preview":
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
    if ready(ds, ref, ws):
        return None
    if task is not None and task.done:
        tasks.forget(task.key)
    return tasks.submit(task_key(ds, ref, ws), "Embeddings", _embed_all, ds, ref, ws)


def retry(ds: TextDataset, ref: TextDataset | None, ws: Workspace) -> None:
    tasks.forget(task_key(ds, ref, ws))
    ensure(ds, ref, ws)


def repair(ds: TextDataset, ref: TextDataset | None, ws: Workspace) -> None:
    """A page found the files marked complete but could not read them: rebuild them in the background."""
    for _, d in _sides(ds, ref):
        forget_dataset_embeddings(d, workspace=ws)
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
    return task.done and ready(ds, ref, ws)


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
        note = counts_note(task, n_texts(ds, ref))
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
