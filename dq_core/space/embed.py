"""Sentence embeddings, served from a per-text disk cache (``embed_cache``) where possible.

Why a per-text cache (and not one file per dataset): adding rows must embed only the new ones, and an
interrupted run must resume where it stopped. A consolidated matrix per (dataset, model) is also kept so
reopening a dataset is a single ``np.load``. The model, device and precision are chosen in ``embed_model``.

Vectors are L2-normalised float32, so cosine similarity is a dot product. Empty/missing texts are not
sent to the model: their rows get a zero vector and ``valid=False``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.space import embed_pipeline as pipeline
from dq_core.space.embed_cache import (
    EmbeddingCache,
    EmbeddingResult,
    cached_dataset_embeddings,
    hash_texts,
    save_dataset_embeddings,
)
from dq_core.space.embed_model import (
    cache_key,
    check_long_texts,
    default_batch_size,
    load_model,
    model_max_seq_length,
)
from dq_core.space.embed_threads import ThreadTuner
from dq_core.space.precision_probe import resolve_precision
from dq_core.util.progress import Progress

CHUNK_SIZE = 2048  # texts per cache chunk: small enough to lose little on interrupt, big enough for speed
PROGRESS_STEP = 512  # texts per timed group of batches, i.e. how often progress is reported
PROGRESS_MESSAGE = "embedding"  # the message of every progress report: counts of texts, see util.progress


def check_batch_size(batch_size: int) -> int:
    """Texts per model call: 1 to 4096 (`dq compute` checks it before it writes anything)."""
    if batch_size < 1 or batch_size > 4096:
        raise DataError(f"batch size {batch_size} is out of range; use 1 to 4096")
    return batch_size


def embed_texts(texts: Sequence[str | None] | pd.Series, *, model: str | None = None,
                workspace: Workspace | None = None, batch_size: int | None = None,
                progress: Progress | None = None, device: str | None = None,
                use_cache: bool = True, precision: str | None = None,
                long_texts: str | None = None) -> EmbeddingResult:
    """Embed ``texts`` in input order, reusing cached vectors and caching new ones chunk by chunk.

    ``precision`` None/"auto" follows :func:`default_precision`; "float32" gives exactly what
    ``SentenceTransformer.encode`` gives. ``progress("embedding", done, total)`` counts texts still to embed
    (after the cache and de-duplication), and ends with ``(total, total)``. ``batch_size`` None: 32 on CPU,
    1,024 on a GPU.

    ``long_texts``: "truncate" embeds the first ``max_seq_length`` tokens of a longer text (flagged in
    ``truncated``); "chunks" embeds all of it as windows of ``max_seq_length`` - 2 tokens and returns their
    token-weighted mean, renormalised (short texts get the same vector either way; none is truncated).
    None follows ``DQ_LONG_TEXTS`` (default "truncate"). Each mode has its own cache key.
    """
    if batch_size is None:
        batch_size = default_batch_size(device)
    check_batch_size(batch_size)
    clean = _as_texts(texts)
    valid, hashes = _text_keys(clean)
    n = len(clean)
    precision, mkey = _resolved_key(model, precision, device, long_texts)
    long_texts = check_long_texts(long_texts)
    cache = EmbeddingCache(workspace or Workspace.default(), mkey) if use_cache else None

    todo_idx = np.flatnonzero(valid)
    vectors, truncated, n_cached, missing = _from_cache(cache, hashes, todo_idx, n)
    need = todo_idx[missing]
    m, total, need_vectors, need_truncated = _embed_distinct(
        clean, need, hashes[missing], cache=cache, model=model, device=device, precision=precision,
        batch_size=batch_size, progress=progress, windows=long_texts == "chunks")
    if total:
        if vectors is None:
            vectors = np.zeros((n, need_vectors.shape[1]), dtype=np.float32)
        vectors[need] = need_vectors
        truncated[need] = need_truncated
    if vectors is None and (n == 0 or not valid.any()):
        dim = (m or load_model(model, device, precision)).get_embedding_dimension()
        vectors = np.zeros((n, dim), dtype=np.float32)
    max_len = int(getattr(m, "max_seq_length", 0) or 0) if m is not None else model_max_seq_length(model)
    return EmbeddingResult(vectors=vectors, valid=valid, n_truncated=int(truncated.sum()), n_cached=n_cached,
                           n_computed=total, model_name=mkey, max_seq_length=max_len, truncated=truncated)


def _from_cache(cache: EmbeddingCache | None, hashes: np.ndarray, todo_idx: np.ndarray,
                n: int) -> tuple[np.ndarray | None, np.ndarray, int, np.ndarray]:
    """What the cache holds for the texts at ``todo_idx`` (cache keys ``hashes``): (an (n, d) matrix with
    their vectors, or None when it holds none; the truncated flag per row; how many it held; which of
    ``todo_idx`` it lacks)."""
    truncated = np.zeros(n, dtype=bool)
    if cache is None or not len(todo_idx):
        return None, truncated, 0, np.ones(len(todo_idx), dtype=bool)
    vectors = None
    found, cvecs, ctrunc = cache.lookup(hashes)
    if found.any():
        vectors = np.zeros((n, cvecs.shape[1]), dtype=np.float32)
        vectors[todo_idx[found]] = cvecs[found]
        truncated[todo_idx[found]] = ctrunc[found]
    return vectors, truncated, int(found.sum()), ~found


def _embed_distinct(clean: list[str], need: np.ndarray, need_hashes: np.ndarray, *,
                    cache: EmbeddingCache | None, model: str | None, device: str | None, precision: str,
                    batch_size: int, progress: Progress | None, windows: bool) -> tuple:
    """Embed the texts at positions ``need`` of ``clean``, each distinct text once, adding each finished
    chunk to ``cache``. Returns (the model, None when there was nothing to embed; how many distinct texts
    it embedded; a vector and a truncated flag per position of ``need``)."""
    uniq_hashes, first_pos, inverse = np.unique(need_hashes, return_index=True, return_inverse=True)
    uniq_idx = need[first_pos]
    total = len(uniq_idx)
    if progress:
        progress(PROGRESS_MESSAGE, 0, total)
    if not total:
        return None, 0, None, None
    m = load_model(model, device, precision)
    # Sort by length so each chunk (and each batch inside it) holds similar lengths: less padding.
    order = np.argsort([len(clean[i]) for i in uniq_idx], kind="stable")
    uvecs = np.zeros((total, m.get_embedding_dimension() or 0), dtype=np.float32)
    utrunc = np.zeros(total, dtype=bool)
    chunks = [order[s:s + CHUNK_SIZE] for s in range(0, total, CHUNK_SIZE)]

    def chunk_texts(sel: np.ndarray) -> list[str]:
        return [clean[i] for i in uniq_idx[sel]]

    def finished(sel: np.ndarray, emb: np.ndarray, tr: np.ndarray) -> None:
        uvecs[sel] = emb
        utrunc[sel] = tr
        if cache is not None:
            cache.append(uniq_hashes[sel], emb, tr)

    run = _run_pipeline if pipeline.fast_path_ok(m) else _run_encode
    run(m, chunks, chunk_texts, finished, batch_size=batch_size, total=total, progress=progress, windows=windows)
    if progress:
        progress(PROGRESS_MESSAGE, total, total)
    return m, total, uvecs[inverse], utrunc[inverse]


def _text_keys(clean: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(which texts are embedded: not empty or blank, the cache keys of those texts)."""
    valid = np.array([bool(t.strip()) for t in clean], dtype=bool)
    return valid, hash_texts([t for t, v in zip(clean, valid, strict=True) if v])


def _resolved_key(model: str | None, precision: str | None, device: str | None,
                  long_texts: str | None) -> tuple[str, str]:
    """(the precision to run at, the cache key of the vectors it gives)."""
    precision = resolve_precision(model, precision, device)  # on CUDA "auto" is measured once (probe)
    return precision, cache_key(model, precision, device, check_long_texts(long_texts))


@dataclass(frozen=True)
class EmbeddingPlan:
    """What passes of :func:`embed_texts` / :func:`embed_dataset` run one after the other will embed."""

    n_texts: int  # distinct non-empty texts over all the passes
    n_cached: int  # of those, already in the cache before the first pass
    to_embed: tuple[int, ...]  # per pass: the total its progress reports count to

    @property
    def total(self) -> int:
        """Texts the passes embed in all: each distinct text once, none the cache holds."""
        return sum(self.to_embed)


def plan_embedding(passes: Sequence[Sequence[str | None] | pd.Series], *, model: str | None = None,
                   workspace: Workspace | None = None, precision: str | None = None, device: str | None = None,
                   long_texts: str | None = None, skip: Collection[int] = ()) -> EmbeddingPlan:
    """Count what each of ``passes`` will embed, before embedding: a pass embeds the distinct non-empty
    texts that neither the cache nor an earlier pass holds (the ``total`` of its ``progress``), so one
    total can be shown from the start. ``skip``: passes answered from a dataset's consolidated file."""
    keys = [np.unique(_text_keys(_as_texts(t))[1]) for t in passes]
    every = np.unique(np.concatenate(keys)) if keys else np.zeros(0, dtype="S16")
    cache = EmbeddingCache(workspace or Workspace.default(), _resolved_key(model, precision, device, long_texts)[1])
    found = cache.lookup(every)[0] if len(every) else np.zeros(0, dtype=bool)
    seen = set(every[found].tolist()) if len(every) else set()
    n_cached, counts = len(seen), []
    for i, k in enumerate(keys):
        new = [] if i in skip else [h for h in k.tolist() if h not in seen]
        seen.update(new)
        counts.append(len(new))
    return EmbeddingPlan(n_texts=len(every), n_cached=n_cached, to_embed=tuple(counts))


def _normalised(emb: np.ndarray) -> np.ndarray:
    # Normalise in float32 (not in the model's dtype): bf16 norms are only good to ~3 digits.
    emb = np.asarray(emb, dtype=np.float32)
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    return np.divide(emb, norms, out=np.zeros_like(emb), where=norms > 0)


def _encode(m, texts: list[str], batch_size: int) -> np.ndarray:
    emb = m.encode(texts, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=False,
                   show_progress_bar=False)
    return _normalised(emb)


def _count_truncated(model, texts: list[str]) -> np.ndarray:
    tok = getattr(model, "tokenizer", None)
    limit = int(getattr(model, "max_seq_length", 0) or 0)
    if tok is None or not limit:
        return np.zeros(len(texts), dtype=bool)
    enc = tok(texts, add_special_tokens=True, truncation=False, return_attention_mask=False,
              return_token_type_ids=False, verbose=False)
    return np.fromiter((len(ids) > limit for ids in enc["input_ids"]), dtype=bool, count=len(texts))


class _Progress:
    """Reports ``done`` about every ``step`` texts (never the final ``total``: the caller does)."""

    def __init__(self, progress: Progress | None, total: int):
        self.progress, self.total, self.done = progress, total, 0

    def add(self, k: int) -> None:
        self.done += k
        if self.progress and self.done < self.total:
            self.progress(PROGRESS_MESSAGE, self.done, self.total)


def _run_pipeline(m, chunks, chunk_texts, finished, *, batch_size: int, total: int,
                  progress: Progress | None, windows: bool = False) -> None:
    """Chunks tokenised ahead on background threads; the model runs their length-sorted batches here."""
    import queue

    import torch

    dev = torch.device(getattr(m, "device", "cpu"))
    limit = pipeline.max_length(m)
    threads = pipeline.tokenizer_threads(dev.type)
    toks: queue.SimpleQueue = queue.SimpleQueue()
    for t in pipeline.private_tokenizers(m, threads):
        toks.put(t)

    def prepare(sel: np.ndarray) -> pipeline.PreparedChunk:
        tok = toks.get()
        try:
            return pipeline.prepare_chunk(tok, chunk_texts(sel), limit=limit, batch_size=batch_size,
                                          pin=dev.type == "cuda", windows=windows)
        finally:
            toks.put(tok)

    # Progress is reported every PROGRESS_STEP texts (a few seconds of work on CPU) while the cache
    # is written per CHUNK_SIZE: a bar that moves often, and few, large chunk files.
    step = max(batch_size, PROGRESS_STEP)
    bar = _Progress(progress, total)
    tuner = ThreadTuner(dev.type)
    m.eval()
    prepared = pipeline.run_ahead(chunks, prepare, threads=threads, depth=threads + 1)
    try:
        for sel, prep in zip(chunks, prepared, strict=True):
            outs, where = [], []
            batches = prep.batches
            i = 0
            while i < len(batches):
                group, n_group = [], 0
                while i < len(batches) and (not group or n_group < step):
                    group.append(batches[i])
                    n_group += len(batches[i][0])
                    i += 1
                # On a GPU the outputs stay there until the chunk ends: no sync between batches.
                outs += tuner.run(lambda g=group: [pipeline.forward(m, f, dev) for _, f in g], n_group)
                where += [pos for pos, _ in group]
                # Progress counts texts: in chunks mode a group holds windows, so count the rows they end.
                bar.add(n_group if prep.owner is None else _rows_ended(prep.owner, where[-len(group):]))
            emb = torch.cat(outs).cpu().numpy() if outs else np.zeros((0, 0), np.float32)
            out = np.zeros((len(prep.owner) if prep.owner is not None else len(sel), emb.shape[1]), dtype=np.float32)
            out[np.concatenate(where)] = emb
            if prep.owner is not None:
                out = pipeline.pool_windows(out, prep.owner, prep.weights, len(sel))
            finished(sel, _normalised(out), prep.truncated)
    finally:
        prepared.close()  # stops the tokeniser threads now, also when the run was interrupted
        tuner.restore()


def _rows_ended(owner: np.ndarray, positions: list[np.ndarray]) -> int:
    """Rows whose last window is among ``positions``: each row counts once, for progress in texts."""
    if not positions:
        return 0
    last = np.r_[owner[1:] != owner[:-1], True]
    return int(last[np.concatenate(positions)].sum())


def _run_encode(m, chunks, chunk_texts, finished, *, batch_size: int, total: int,
                progress: Progress | None, windows: bool = False) -> None:
    """``SentenceTransformer.encode`` per group, for models the pipeline does not cover."""
    step = max(batch_size, PROGRESS_STEP)
    bar = _Progress(progress, total)
    tuner = ThreadTuner(str(getattr(m, "device", "cpu")).split(":")[0])
    try:
        for sel in chunks:
            texts = chunk_texts(sel)
            owner = weights = None
            if windows:
                wtexts, owner, weights = _window_texts(m, texts)
            parts = []
            for s0 in range(0, len(texts), step):
                part = texts[s0:s0 + step]
                if owner is not None:
                    lo, hi = np.searchsorted(owner, [s0, s0 + len(part)])
                    part = wtexts[lo:hi]
                parts.append(tuner.run(lambda part=part: _encode(m, part, batch_size), len(part)))
                bar.add(min(step, len(texts) - s0))
            emb = np.vstack(parts).astype(np.float32, copy=False)
            if owner is not None:
                finished(sel, pipeline.pool_windows(emb, owner, weights, len(texts)), np.zeros(len(texts), bool))
            else:
                finished(sel, emb, _count_truncated(m, texts))
    finally:
        tuner.restore()


def _window_texts(model, texts: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Chunks mode without the pipeline: each text as windows of ``max_seq_length`` - 2 tokens, decoded
    back to text for ``encode`` (which adds the special tokens), with their owner rows and token counts."""
    tok = getattr(model, "tokenizer", None)
    limit = int(getattr(model, "max_seq_length", 0) or 0)
    if tok is None or limit <= 2:
        return texts, np.arange(len(texts)), np.ones(len(texts), dtype=np.float32)
    width = limit - tok.num_special_tokens_to_add(pair=False)
    enc = tok(texts, add_special_tokens=False, truncation=False, return_attention_mask=False,
              return_token_type_ids=False, verbose=False)["input_ids"]
    out, owner, weights = [], [], []
    for i, (text, ids) in enumerate(zip(texts, enc, strict=True)):
        if len(ids) <= width:
            out.append(text)
            owner.append(i)
            weights.append(max(1, len(ids)))
            continue
        for s0 in range(0, len(ids), width):
            out.append(tok.decode(ids[s0:s0 + width]))
            owner.append(i)
            weights.append(len(ids[s0:s0 + width]))
    return out, np.asarray(owner, dtype=np.int64), np.asarray(weights, dtype=np.float32)


def _as_texts(texts) -> list[str]:
    """Strings as given; missing cells (None/NaN/NA) become "" (skipped, counted as empty).

    Anything else (numbers, lists, bytes) is refused: silently embedding ``str([1, 2])`` or ``"3.0"``
    hides a wrong text column.
    """
    out: list[str] = []
    for i, t in enumerate(texts):
        if isinstance(t, str):
            out.append(t)
        elif t is None or (not isinstance(t, (list, tuple, dict, set, np.ndarray)) and _isna(t)):
            out.append("")
        else:
            shown = repr(t)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            raise DataError(f"text {i} is a {type(t).__name__} ({shown}), not a string; choose the column that "
                            "holds the texts, or convert its cells to strings first")
    return out


def _isna(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def embed_dataset(ds, *, model: str | None = None, workspace: Workspace | None = None,
                  progress: Progress | None = None, batch_size: int | None = None,
                  precision: str | None = None, long_texts: str | None = None) -> EmbeddingResult:
    """Embeddings of a TextDataset's texts, with a consolidated per-dataset file for instant reopening.

    ``progress`` and ``long_texts`` ("truncate" or "chunks"; None: ``DQ_LONG_TEXTS``) as in :func:`embed_texts`;
    reopened from the consolidated file, the dataset reports ``progress("embedding", rows, rows)`` once."""
    ws = workspace or Workspace.default()
    long_texts = check_long_texts(long_texts)
    hit = cached_dataset_embeddings(ds, model=model, workspace=ws, precision=precision, long_texts=long_texts)
    if hit is not None:
        if progress:
            progress(PROGRESS_MESSAGE, len(ds), len(ds))
        return hit
    res = embed_texts(ds.texts, model=model, workspace=ws, progress=progress, batch_size=batch_size,
                      precision=precision, long_texts=long_texts)
    save_dataset_embeddings(ds, res, workspace=ws, model=model, precision=precision, long_texts=long_texts)
    return res
