"""The one background task that embeds the active dataset and reference into the workspace cache.

Coverage, Shift, Clean and the baseline trainer all read the same cached embeddings. Computing them once,
in one server thread per (dataset, reference) pair, keeps two pages from embedding the same texts at the
same time, and lets the app start as soon as a dataset is opened (``prefetch``): the first visit to a
page that needs them then waits only for what is left.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import streamlit as st

from dq_core.data.dataset import TextDataset
from dq_core.data.workspace import Workspace
from dq_core.space.embed import embed_dataset, embed_texts
from dq_core.space.embed_cache import EmbeddingResult, forget_dataset_embeddings, has_dataset_embeddings
from ui import tasks
from ui.progress_text import progress_line


def _sides(ds: TextDataset, ref: TextDataset | None) -> list[tuple[str, TextDataset]]:
    return [("dataset", ds)] + ([("reference", ref)] if ref is not None and len(ref) else [])


def task_key(ds: TextDataset, ref: TextDataset | None, ws: Workspace) -> str:
    """Per workspace too: another workspace has its own cache, so a task done for one says nothing of it."""
    return f"embed:{ws.root}:{ds.fingerprint[:16]}-{ref.fingerprint[:16] if ref is not None else 'none'}"


def ready(ds: TextDataset, ref: TextDataset | None, ws: Workspace) -> bool:
    """Both sides' embeddings are on disk."""
    return all(has_dataset_embeddings(d, workspace=ws) for _, d in _sides(ds, ref))


def n_texts(ds: TextDataset, ref: TextDataset | None) -> int:
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


class _Rows:
    """Texts embedded so far of all the task will embed, published as ``task.partial["rows"]``.

    Each pass reports texts still to embed (after the cache); passes not yet started count their expected
    rows. A pass answered whole from the consolidated file (its first report is ``(n, n)``) took no time,
    so it counts neither way: it would make the rate a lie.
    """

    def __init__(self, task: tasks.Task, expected: list[int]):
        self.task, self.expected, self.before, self.phase = task, expected, 0, 0
        self.first = True

    def pass_cb(self, report: Callable[[int, int], None]) -> Callable[[int, int], None]:
        self.first, later = True, sum(self.expected[self.phase + 1:])

        def cb(done: int, todo: int) -> None:
            if self.first and todo and done == todo:
                self.expected[self.phase] = 0
                done = todo = 0
            self.first = False
            self.task.publish("rows", (self.before + done, self.before + todo + later))
            self.last = todo
            report(done, todo)

        self.last = 0
        return cb

    def end_pass(self) -> None:
        self.before += self.last
        self.phase += 1


def _embed_all(task: tasks.Task, ds: TextDataset, ref: TextDataset | None, ws: Workspace) -> None:
    """Embed a preview sample (large sets), then the dataset, then the reference, reporting real progress."""
    sides = _sides(ds, ref)
    total = sum(len(d) for _, d in sides) or 1
    long_texts = os.environ.get("DQ_LONG_TEXTS") or None  # "chunks" embeds long texts whole (dq_core reads it too)
    done_share = 0.0
    samples = [(name, _sample(d, PREVIEW_ROWS)) for name, d in sides] if total > PREVIEW_ABOVE else []
    sampled = {name: len(d) for name, d in samples}
    rows = _Rows(task, ([sum(sampled.values())] if samples else []) + [len(d) - sampled.get(name, 0)
                                                                         for name, d in sides])
    if samples:
        n_sample = sum(len(d) for _, d in samples)
        share = n_sample / total

        def cb_preview(done: int, todo: int) -> None:
            task.report(share * (done / todo if todo else 1.0),
                        f"Embedding a preview sample: {done:,} / {todo:,} texts", phase="preview")

        texts = pd.concat([d.texts for _, d in samples], ignore_index=True)
        res = embed_texts(texts, workspace=ws, progress=rows.pass_cb(cb_preview), long_texts=long_texts)
        rows.end_pass()
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
        done_share = share
    offset = 0
    for name, d in sides:
        n = len(d)

        def cb(done: int, todo: int, name=name, n=n, offset=offset) -> None:
            frac = (offset + (done / todo if todo else 1.0) * n) / total
            task.report(done_share + (1 - done_share) * frac, f"Embedding the {name}: {done:,} / {todo:,} texts",
                        phase="embedding")

        embed_dataset(d, workspace=ws, progress=rows.pass_cb(cb), long_texts=long_texts)
        rows.end_pass()
        offset += len(d)


def status_line(task: tasks.Task) -> str:
    """"Embedding: 12,288 / 38,158 texts · 410 texts/s · ETA 1 min 03 s" over the whole task (rate since
    it started), or what it is doing before the first texts are counted."""
    rows = task.partial.get("rows")
    if rows is None or (rows[0] == 0 and rows[1] == 0):
        return task.message or "Loading the embedding model…"
    what = "Embedding a preview sample" if task.phase == "preview" else "Embedding"
    return progress_line(what, rows[0], rows[1], task.elapsed)


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
    if os.environ.get("DQ_PREFETCH_EMBEDDINGS", "1") != "0" and ds is not None and len(ds):
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
        st.caption(f"{task.elapsed:.0f} s so far. Embeddings are cached in the workspace chunk by chunk: leaving "
                   "this page does not stop them, and an interrupted run resumes where it stopped.")

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
