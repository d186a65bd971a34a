"""Embedding a dataset and its reference into the workspace cache: what to embed, in which order, and one
count of it all (the app's background task runs this; any caller may).

For large sets a random preview sample of each side is embedded first, so a page can show provisional
figures within seconds while the rest embeds (minutes on CPU for tens of thousands of texts); its vectors are
cached per text, so the full passes do not embed them again. Then the dataset, then the reference. Before the
first text is embedded, :func:`plan_pair` counts the distinct texts each pass will embed, so progress has one
total from start to end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from dq_core import settings
from dq_core.data.dataset import TextDataset
from dq_core.data.workspace import Workspace
from dq_core.space.embed import EmbeddingPlan, embed_dataset, embed_texts, plan_embedding
from dq_core.space.embed_cache import EmbeddingResult, forget_dataset_embeddings, has_dataset_embeddings
from dq_core.util.progress import Progress

PREVIEW_ROWS = 2000  # per side
PREVIEW_ABOVE = 4 * PREVIEW_ROWS  # rows in all; below this the whole job takes seconds
PREVIEW, EMBEDDING = "preview", "embedding"  # the phases run_pair names in its progress


def pair_key(ds: TextDataset, ref: TextDataset | None) -> str:
    """The pair's content key (both fingerprints): what a cache or a task of the pair is keyed by."""
    return f"{ds.fingerprint[:16]}-{ref.fingerprint[:16] if ref is not None else 'none'}"


def pair_sides(ds: TextDataset, ref: TextDataset | None) -> list[tuple[str, TextDataset]]:
    """("dataset", ds), then ("reference", ref) when there is a reference with rows."""
    return [("dataset", ds)] + ([("reference", ref)] if ref is not None and len(ref) else [])


def pair_ready(ds: TextDataset, ref: TextDataset | None, workspace: Workspace) -> bool:
    """Both sides' embeddings are on disk."""
    return all(has_dataset_embeddings(d, workspace=workspace) for _, d in pair_sides(ds, ref))


def pair_rows(ds: TextDataset, ref: TextDataset | None) -> int:
    """Rows on both sides (a text repeated in them is embedded once: see :class:`EmbeddingPlan`)."""
    return sum(len(d) for _, d in pair_sides(ds, ref))


def forget_pair(ds: TextDataset, ref: TextDataset | None, workspace: Workspace) -> None:
    """Drop both sides' consolidated files (found complete but unreadable), so the next run rebuilds them."""
    for _, d in pair_sides(ds, ref):
        forget_dataset_embeddings(d, workspace=workspace)


@dataclass(frozen=True)
class Preview:
    """Random samples of both sides with their embeddings (row_ids kept), for provisional figures."""

    ds: TextDataset
    ref: TextDataset | None
    ds_emb: EmbeddingResult
    ref_emb: EmbeddingResult | None


def preview_sample(d: TextDataset, n: int, seed: int = 0) -> TextDataset:
    """A seeded random sample of ``n`` rows of ``d`` (all of them when it has fewer), in row order."""
    pick = np.zeros(len(d), dtype=bool)
    pick[np.random.default_rng(seed).choice(len(d), size=min(n, len(d)), replace=False)] = True
    return d.subset(pick, name=f"{d.name} (sample of {int(pick.sum()):,})")


@dataclass(frozen=True, eq=False)
class PairJob:
    """What :func:`run_pair` embeds: the passes in order, and the plan that counts them."""

    sides: tuple[tuple[str, TextDataset], ...]
    samples: tuple[tuple[str, TextDataset], ...]  # the preview samples per side; empty for a small pair
    passes: tuple[pd.Series, ...]  # the texts of each pass: the samples together, then each side
    long_texts: str
    plan: EmbeddingPlan


def plan_pair(ds: TextDataset, ref: TextDataset | None, workspace: Workspace) -> PairJob:
    """The passes that embed the pair, counted (texts already cached, and sides whose consolidated file is on
    disk, count 0). Reads the cache, so it takes a moment on a large pair."""
    sides = pair_sides(ds, ref)
    total = sum(len(d) for _, d in sides) or 1
    long_texts = settings.get("DQ_LONG_TEXTS")  # "chunks" embeds long texts whole
    samples = [(name, preview_sample(d, PREVIEW_ROWS)) for name, d in sides] if total > PREVIEW_ABOVE else []
    passes = ([pd.concat([d.texts for _, d in samples], ignore_index=True)] if samples else []) \
        + [d.texts for _, d in sides]
    whole = {len(passes) - len(sides) + i for i, (_, d) in enumerate(sides)
             if has_dataset_embeddings(d, workspace=workspace, long_texts=long_texts)}
    plan = plan_embedding(passes, workspace=workspace, long_texts=long_texts, skip=whole)
    return PairJob(sides=tuple(sides), samples=tuple(samples), passes=tuple(passes), long_texts=long_texts,
                   plan=plan)


class _PassCounts:
    """Distinct texts embedded so far of the plan's total, over passes run one after the other.

    Each pass's first report corrects the plan's count for it if the cache changed meanwhile; a pass
    answered whole from the consolidated file (first report ``(n, n)``, n its rows) embedded nothing and
    counts 0. A pass's ``("embedding", done, todo)`` goes on as ``(phase, done over all passes, total)``.
    """

    def __init__(self, plan: EmbeddingPlan, progress: Progress):
        self.progress, self.planned, self.before, self.phase = progress, list(plan.to_embed), 0, 0

    def pass_counts(self, phase: str) -> Progress:
        i, first = self.phase, [True]

        def cb(message: str, done: float | None = None, todo: float = 1.0) -> None:
            if done is None:
                return  # embedding always counts: a report without counts has nothing to add
            if first[0]:
                first[0] = False
                self.planned[i] = 0 if todo and done == todo else todo
            if self.planned[i]:
                self.progress(phase, self.before + done, sum(self.planned))

        return cb

    def end_pass(self) -> None:
        self.before += self.planned[self.phase]
        self.phase += 1


def _sample_parts(job: PairJob, res: EmbeddingResult) -> Preview:
    """The preview pass's result cut back into the two sides' samples."""
    parts, start = {}, 0
    for name, d in job.samples:
        sl = slice(start, start + len(d))
        parts[name] = (d, replace(res, vectors=res.vectors[sl], valid=res.valid[sl],
                                  truncated=None if res.truncated is None else res.truncated[sl],
                                  n_truncated=int(res.truncated[sl].sum()) if res.truncated is not None else 0))
        start += len(d)
    ref = parts.get("reference")
    return Preview(ds=parts["dataset"][0], ds_emb=parts["dataset"][1], ref=ref[0] if ref else None,
                   ref_emb=ref[1] if ref else None)


def run_pair(job: PairJob, workspace: Workspace, *, progress: Progress | None = None,
             on_preview: Callable[[Preview], None] | None = None) -> None:
    """Embed the preview samples (when the job has them), then the dataset, then the reference, into the cache.

    ``progress(phase, done, total)``: distinct texts embedded of the plan's total, ``phase`` "preview" or
    "embedding"; each phase also starts with ``progress(phase)``. ``on_preview`` receives the samples with
    their vectors as soon as they are embedded.
    """
    say = progress or (lambda phase, done=None, total=1.0: None)
    counts = _PassCounts(job.plan, say)
    if job.samples:
        say(PREVIEW)
        res = embed_texts(job.passes[0], workspace=workspace, progress=counts.pass_counts(PREVIEW),
                          long_texts=job.long_texts)
        counts.end_pass()
        if on_preview is not None:
            on_preview(_sample_parts(job, res))
    say(EMBEDDING)
    for _, d in job.sides:
        embed_dataset(d, workspace=workspace, progress=counts.pass_counts(EMBEDDING), long_texts=job.long_texts)
        counts.end_pass()
