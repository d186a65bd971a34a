"""Tokenise once, ahead of the model: the batches ``embed_texts`` feeds a SentenceTransformer.

Why not ``SentenceTransformer.encode``: it tokenises inside its loop, so a GPU waits while the CPU
tokenises (on an H100, bare encode reached ~27% of what the model alone does on pre-tokenised batches),
and counting the truncated rows takes a second tokenisation of everything. Here each chunk is
tokenised once, by the model's fast tokenizer with the model's own max length, on background threads
that run ahead of the model; truncated rows are read off that same tokenisation (a row that overflows
``max_seq_length``); rows are sorted by token count inside the chunk so batches carry little padding.
The forward pass is the model's own (``model(features)["sentence_embedding"]``, as encode does), so the
vectors equal encode's up to float rounding.

Models this path does not cover (slow tokenizers, prompts, non-text first modules) go through encode.
"""

from __future__ import annotations

import copy
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from dq_core import settings
from dq_core.util.cores import usable_cores

UNLIMITED = 1_000_000  # a tokenizer's model_max_length above this means "no limit" (HF uses 1e30)


@dataclass
class PreparedChunk:
    """One chunk, tokenised: per-row truncation flags and padded batches (positions into the chunk)."""

    truncated: np.ndarray
    batches: list[tuple[np.ndarray, dict]]
    # Chunks mode: the batches hold windows, not rows; window i belongs to row owner[i] and carries
    # weights[i] text tokens. None in truncate mode (one row per position).
    owner: np.ndarray | None = None
    weights: np.ndarray | None = None


def fast_path_ok(m) -> bool:
    """Whether ``m`` can be fed pre-tokenised batches with results equal to ``encode``'s."""
    tok = getattr(m, "tokenizer", None)
    try:
        first = m[0]
        prompt = m._resolve_prompt(None, None) if hasattr(m, "_resolve_prompt") else None
    except Exception:  # noqa: BLE001 - an unusual model object: the encode path handles it
        return False
    return bool(tok is not None and getattr(tok, "is_fast", False) and type(first).__name__ == "Transformer"
                and not prompt and not getattr(first, "processing_kwargs", None)
                and getattr(tok, "padding_side", "right") in ("right", "left"))


def max_length(m) -> int | None:
    limit = int(getattr(m, "max_seq_length", 0) or 0)
    return limit if 0 < limit < UNLIMITED else None


_COPIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_COPIES_LOCK = threading.Lock()


def private_tokenizers(m, n: int) -> list:
    """``n`` copies of the model's tokenizer, one per tokeniser thread.

    Why copies: a HF fast tokenizer call first sets padding/truncation on the shared Rust tokenizer and
    then encodes; another thread (an ``encode`` elsewhere in the app, with padding on) could change that
    state in between. Copies cost ~10 ms each, once per model and process.
    """
    with _COPIES_LOCK:
        have = _COPIES.setdefault(m, [])
        while len(have) < n:
            have.append(copy.deepcopy(m.tokenizer))
        return have[:n]


def prepare_chunk(tok, texts: list[str], *, limit: int | None, batch_size: int, pin: bool,
                  windows: bool = False) -> PreparedChunk:
    """Tokenise ``texts`` once; flags the rows longer than ``limit``; padded, length-sorted batches.

    ``windows``: a row longer than ``limit`` is kept whole, as consecutive windows of ``limit`` - 2 text
    tokens, each wrapped in the model's own special tokens (the fast tokenizer's overflow rows, stride 0),
    to be averaged by :func:`pool_windows`. No row is then truncated.
    """
    kw: dict = {"truncation": limit is not None, "return_attention_mask": False}
    if limit is not None:
        kw.update(max_length=limit, return_overflowing_tokens=True, stride=0)
    enc = tok(texts, **kw)
    ids = enc["input_ids"]
    n = len(texts)
    if limit is not None and "overflow_to_sample_mapping" in enc:
        # A truncated row comes back as its first `limit` tokens plus overflow rows of the same sample.
        owner = np.asarray(enc["overflow_to_sample_mapping"], dtype=np.int64)
        if windows:
            n = len(ids)
            types = enc.get("token_type_ids")
            special = tok.num_special_tokens_to_add(pair=False)
            weights = np.fromiter((max(1, len(x) - special) for x in ids), dtype=np.float32, count=n)
            prep = _batches(tok, ids, types, n, batch_size=batch_size, pin=pin)
            return PreparedChunk(truncated=np.zeros(len(texts), dtype=bool), batches=prep, owner=owner,
                                 weights=weights)
        first = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        truncated = np.bincount(owner, minlength=n) > 1
        ids = [ids[i] for i in first]
        types = [enc["token_type_ids"][i] for i in first] if "token_type_ids" in enc else None
    else:
        truncated = np.zeros(n, dtype=bool)
        types = enc.get("token_type_ids")
    batches = _batches(tok, ids, types, n, batch_size=batch_size, pin=pin)
    return PreparedChunk(truncated=truncated, batches=batches)


def _batches(tok, ids: list, types: list | None, n: int, *, batch_size: int,
             pin: bool) -> list[tuple[np.ndarray, dict]]:
    """Padded batches of the ``n`` token-id rows, sorted by length (positions into ``ids``)."""
    import torch

    lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=n)
    order = np.argsort(lengths, kind="stable")
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else 0
    pad_type = int(getattr(tok, "pad_token_type_id", 0) or 0)
    left = getattr(tok, "padding_side", "right") == "left"
    want_types = "token_type_ids" in getattr(tok, "model_input_names", ()) and types is not None
    batches = []
    for s in range(0, n, batch_size):
        pos = order[s:s + batch_size]
        width = int(lengths[pos].max()) if len(pos) else 0
        arr = np.full((len(pos), width), pad_id, dtype=np.int64)
        mask = np.zeros((len(pos), width), dtype=np.int64)
        tarr = np.full((len(pos), width), pad_type, dtype=np.int64) if want_types else None
        for r, i in enumerate(pos):
            k = int(lengths[i])
            cols = slice(width - k, width) if left else slice(0, k)
            arr[r, cols] = ids[i]
            mask[r, cols] = 1
            if tarr is not None:
                tarr[r, cols] = types[i]
        feats = {"input_ids": torch.from_numpy(arr), "attention_mask": torch.from_numpy(mask)}
        if tarr is not None:
            feats["token_type_ids"] = torch.from_numpy(tarr)
        if pin:
            feats = {k: v.pin_memory() for k, v in feats.items()}
        feats["modality"] = "text"
        batches.append((pos, feats))
    return batches


def pool_windows(vecs: np.ndarray, owner: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """Per row: the mean of its windows' unit vectors weighted by their token counts, L2-normalised.

    Each window is normalised first so a window weighs by its share of the text, not by its norm; a row
    with a single window gets that window's vector back.
    """
    v = np.asarray(vecs, dtype=np.float32)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    v = np.divide(v, norms, out=np.zeros_like(v), where=norms > 0) * weights[:, None]
    out = np.zeros((n, v.shape[1]), dtype=np.float32)
    np.add.at(out, owner, v)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)


def tokenizer_threads(device_type: str) -> int:
    """Tokeniser threads: 1 on CPU (the model needs the cores), more on a GPU (the GPU waits otherwise).

    The fast tokenizer releases the GIL while it encodes, so threads tokenise in parallel even where
    job workers set TOKENIZERS_PARALLELISM=false (which only turns off the tokenizer's own pool).
    ``DQ_EMBED_TOKENIZER_THREADS`` pins the count.
    """
    pinned = settings.get("DQ_EMBED_TOKENIZER_THREADS")
    if pinned is not None:
        return pinned
    if device_type == "cpu":
        return 1
    return max(1, min(4, usable_cores() // 2))


def run_ahead(jobs: Iterable, work: Callable, *, threads: int, depth: int) -> Iterator:
    """``work(job)`` for each job, in order, computed up to ``depth`` jobs ahead on ``threads`` threads.

    Leaving early (an exception, an interrupted run) cancels what has not started and waits for the
    rest, so no thread outlives the call.
    """
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="dq-tokenize")
    pending: deque[Future] = deque()
    it = iter(jobs)
    try:
        for job in it:
            pending.append(pool.submit(work, job))
            if len(pending) > depth:
                break
        while pending:
            fut = pending.popleft()
            nxt = next(it, None)
            if nxt is not None:
                pending.append(pool.submit(work, nxt))
            yield fut.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def forward(m, feats: dict, device):
    """The model's sentence embeddings for one prepared batch (on the model's device, float32).

    On CUDA a batch that does not fit is split in two and retried, so large default batches are safe
    on small GPUs.
    """
    import torch

    on = {k: (v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v) for k, v in feats.items()}
    try:
        with torch.inference_mode():
            return m(on)["sentence_embedding"].float()
    except torch.cuda.OutOfMemoryError:
        n = int(feats["input_ids"].shape[0])
        if n < 2:
            raise
        del on
        torch.cuda.empty_cache()
        h = n // 2
        first = {k: (v[:h] if isinstance(v, torch.Tensor) else v) for k, v in feats.items()}
        rest = {k: (v[h:] if isinstance(v, torch.Tensor) else v) for k, v in feats.items()}
        return torch.cat([forward(m, first, device), forward(m, rest, device)])
