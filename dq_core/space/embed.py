"""Sentence embeddings, served from a per-text disk cache (``embed_cache``) where possible.

Why a per-text cache (and not one file per dataset): adding rows must embed only the new ones, and an
interrupted run must resume where it stopped. A consolidated matrix per (dataset, model) is also kept so
reopening a dataset is a single ``np.load``. The model, device and precision are chosen in ``embed_model``.

Vectors are L2-normalised float32, so cosine similarity is a dot product. Empty/missing texts are not
sent to the model: their rows get a zero vector and ``valid=False``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.space.embed_cache import (
    EmbeddingCache,
    EmbeddingResult,
    cached_dataset_embeddings,
    hash_texts,
    save_dataset_embeddings,
)
from dq_core.space.embed_model import (
    cache_key,
    check_precision,
    default_batch_size,
    load_model,
    model_max_seq_length,
)
from dq_core.space.embed_threads import ThreadTuner

CHUNK_SIZE = 2048  # texts per cache chunk: small enough to lose little on interrupt, big enough for speed
PROGRESS_STEP = 512  # texts per encode call, i.e. how often progress is reported

Progress = Callable[[int, int], None]  # (done, total)


def _encode(m, texts: list[str], batch_size: int) -> np.ndarray:
    emb = m.encode(texts, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=False,
                   show_progress_bar=False)
    # Normalise in float32 (not in the model's dtype): bf16 norms are only good to ~3 digits.
    emb = np.asarray(emb, dtype=np.float32)
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    return np.divide(emb, norms, out=np.zeros_like(emb), where=norms > 0)


def _count_truncated(model, texts: list[str]) -> np.ndarray:
    tok = getattr(model, "tokenizer", None)
    limit = int(getattr(model, "max_seq_length", 0) or 0)
    if tok is None or not limit:
        return np.zeros(len(texts), dtype=bool)
    enc = tok(texts, add_special_tokens=True, truncation=False, return_attention_mask=False,
              return_token_type_ids=False, verbose=False)
    return np.fromiter((len(ids) > limit for ids in enc["input_ids"]), dtype=bool, count=len(texts))


def embed_texts(texts: Sequence[str | None] | pd.Series, *, model: str | None = None,
                workspace: Workspace | None = None, batch_size: int | None = None,
                progress: Progress | None = None, device: str | None = None,
                use_cache: bool = True, precision: str | None = None) -> EmbeddingResult:
    """Embed ``texts`` in input order, reusing cached vectors and caching new ones chunk by chunk.

    ``precision`` None/"auto" follows :func:`default_precision`; "float32" gives exactly what
    ``SentenceTransformer.encode`` gives. ``progress(done, total)`` counts texts still to embed (after
    the cache and de-duplication), and ends with ``(total, total)``. ``batch_size`` None: 32 on CPU,
    128 on a GPU.
    """
    if batch_size is None:
        batch_size = default_batch_size(device)
    if batch_size < 1 or batch_size > 4096:
        raise DataError(f"batch size {batch_size} is out of range; use 1 to 4096")
    clean = _as_texts(texts)
    valid = np.array([bool(t.strip()) for t in clean], dtype=bool)
    n = len(clean)
    precision = check_precision(precision, device)
    mkey = cache_key(model, precision, device)
    cache = EmbeddingCache(workspace or Workspace.default(), mkey) if use_cache else None

    todo_idx = np.flatnonzero(valid)
    hashes = hash_texts([clean[i] for i in todo_idx])
    vectors: np.ndarray | None = None
    truncated = np.zeros(n, dtype=bool)
    n_cached = 0
    if cache is not None and len(todo_idx):
        found, cvecs, ctrunc = cache.lookup(hashes)
        if found.any():
            vectors = np.zeros((n, cvecs.shape[1]), dtype=np.float32)
            vectors[todo_idx[found]] = cvecs[found]
            truncated[todo_idx[found]] = ctrunc[found]
        n_cached = int(found.sum())
        missing = ~found
    else:
        missing = np.ones(len(todo_idx), dtype=bool)

    m = None
    need = todo_idx[missing]
    need_hashes = hashes[missing]
    # Identical texts are embedded once.
    uniq_hashes, first_pos, inverse = np.unique(need_hashes, return_index=True, return_inverse=True)
    uniq_idx = need[first_pos]
    total = len(uniq_idx)
    if progress:
        progress(0, total)
    if total:
        m = load_model(model, device, precision)
        # Sort by length so each chunk (and each batch inside it) holds similar lengths: less padding.
        order = np.argsort([len(clean[i]) for i in uniq_idx], kind="stable")
        uvecs = np.zeros((total, m.get_embedding_dimension() or 0), dtype=np.float32)
        utrunc = np.zeros(total, dtype=bool)
        done = 0
        # Progress is reported every PROGRESS_STEP texts (a few seconds of work on CPU) while the cache
        # is written per CHUNK_SIZE: a bar that moves often, and few, large chunk files.
        step = max(batch_size, PROGRESS_STEP)
        tuner = ThreadTuner(str(getattr(m, "device", "cpu")).split(":")[0])
        try:
            for start in range(0, total, CHUNK_SIZE):
                sel = order[start:start + CHUNK_SIZE]
                chunk_texts = [clean[i] for i in uniq_idx[sel]]
                parts = []
                for s0 in range(0, len(chunk_texts), step):
                    part = chunk_texts[s0:s0 + step]
                    parts.append(tuner.run(lambda part=part: _encode(m, part, batch_size), len(part)))
                    done += len(part)
                    if progress and done < total:
                        progress(done, total)
                emb = np.vstack(parts).astype(np.float32, copy=False)
                tr = _count_truncated(m, chunk_texts)
                uvecs[sel] = emb
                utrunc[sel] = tr
                if cache is not None:
                    cache.append(uniq_hashes[sel], emb, tr)
        finally:
            tuner.restore()
        if progress:
            progress(total, total)
        if vectors is None:
            vectors = np.zeros((n, uvecs.shape[1]), dtype=np.float32)
        vectors[need] = uvecs[inverse]
        truncated[need] = utrunc[inverse]
    if vectors is None:
        if n == 0 or not valid.any():
            dim = (m or load_model(model, device, precision)).get_embedding_dimension()
            vectors = np.zeros((n, dim), dtype=np.float32)
    max_len = int(getattr(m, "max_seq_length", 0) or 0) if m is not None else model_max_seq_length(model)
    return EmbeddingResult(vectors=vectors, valid=valid, n_truncated=int(truncated.sum()), n_cached=n_cached,
                           n_computed=total, model_name=mkey, max_seq_length=max_len, truncated=truncated)


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
                  precision: str | None = None) -> EmbeddingResult:
    """Embeddings of a TextDataset's texts, with a consolidated per-dataset file for instant reopening."""
    ws = workspace or Workspace.default()
    hit = cached_dataset_embeddings(ds, model=model, workspace=ws, precision=precision)
    if hit is not None:
        if progress:
            progress(len(ds), len(ds))
        return hit
    res = embed_texts(ds.texts, model=model, workspace=ws, progress=progress, batch_size=batch_size,
                      precision=precision)
    save_dataset_embeddings(ds, res, workspace=ws, model=model, precision=precision)
    return res
