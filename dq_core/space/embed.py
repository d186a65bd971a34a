"""Sentence embeddings with a chunked, per-text disk cache.

Why a per-text cache (and not one file per dataset): adding rows must embed only the new ones, and an
interrupted run must resume where it stopped. Texts are hashed; vectors are stored in chunk files
(``cache/embeddings/<model key>/chunk-*.npz``) written atomically as each chunk finishes. A consolidated
matrix per (dataset, model) is also kept so reopening a dataset is a single ``np.load``.

Vectors are L2-normalised float32, so cosine similarity is a dot product. Empty/missing texts are not
sent to the model: their rows get a zero vector and ``valid=False``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from dq_core.data import assets
from dq_core.data.io import atomic_write_bytes
from dq_core.data.workspace import Workspace
from dq_core.errors import DataError

CHUNK_SIZE = 2048  # texts per cache chunk: small enough to lose little on interrupt, big enough for speed
PROGRESS_STEP = 512  # texts per encode call, i.e. how often progress is reported
# Texts per forward pass when none is given. On CPU small batches of length-sorted texts ran fastest: bf16
# MiniLM on the tweets, interleaved rounds on an idle 2-core machine, gave 32: 452-506 texts/s, 64: 445-454,
# 128: 409-453 (bench/bench_embed_coverage.py measures the default against bare encode). GPUs want more.
CPU_BATCH_SIZE = 32
GPU_BATCH_SIZE = 128


def default_batch_size(device: str | None = None) -> int:
    return CPU_BATCH_SIZE if (device or best_device()) == "cpu" else GPU_BATCH_SIZE

Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True)
class EmbeddingResult:
    vectors: np.ndarray  # (n, d) float32, L2-normalised; zeros where not valid
    valid: np.ndarray  # (n,) bool: False for empty/missing texts (not embedded)
    n_truncated: int  # texts longer than the model's max_seq_length (truncated by the model)
    n_cached: int  # texts served from the cache
    n_computed: int  # texts embedded in this call
    model_name: str  # the cache key: model name + weights digest (+ "-bf16")
    max_seq_length: int
    truncated: np.ndarray | None = None  # (n,) bool: texts cut at max_seq_length tokens

    @property
    def n_empty(self) -> int:
        return int((~self.valid).sum())

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])


def best_device() -> str:
    """CUDA, then Apple MPS, then CPU."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


PRECISIONS = ("float32", "bfloat16")


def default_precision(device: str | None = None) -> str:
    """bfloat16 on a CPU with native bf16 (AVX512-BF16 or AMX), else float32; ``DQ_EMBED_PRECISION`` overrides.

    Why: on this class of CPU bf16 MiniLM encodes ~1.6-1.9x faster than fp32, with cosine >= 0.996 to the
    fp32 vectors (measured on 1,000 tweets; see docs/benchmarks.md), which is what brings a first
    coverage visit on the tweets demo near the 90 s target. The precision is part of the cache key, so
    fp32 and bf16 vectors never mix.
    """
    env = os.environ.get("DQ_EMBED_PRECISION", "auto").strip().lower()
    if env in PRECISIONS:
        return env
    if env not in ("", "auto"):
        raise DataError(f"DQ_EMBED_PRECISION={env!r} is not one of auto, {', '.join(PRECISIONS)}")
    if (device or best_device()) != "cpu":
        return "float32"
    try:
        import torch

        native = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    except Exception:  # noqa: BLE001 - private torch helpers; fp32 is always safe
        native = False
    return "bfloat16" if native else "float32"


def _check_precision(precision: str | None, device: str | None) -> str:
    p = precision or default_precision(device)
    if p == "auto":
        p = default_precision(device)
    if p not in PRECISIONS:
        raise DataError(f"precision {p!r} is not one of auto, {', '.join(PRECISIONS)}")
    return p


def resolve_model(model: str | os.PathLike | None) -> str:
    """The model as SentenceTransformer takes it: the bundled folder, a local folder, or a hub name."""
    if model is None or str(model) in ("", "default", "all-MiniLM-L6-v2"):
        return str(assets.default_model_path())
    p = Path(model).expanduser()
    if p.exists():
        if not p.is_dir():
            raise DataError(f"model '{model}' is a file; give the folder of a sentence-transformers model")
        if not ((p / "modules.json").exists() or (p / "config.json").exists()):
            raise DataError(f"'{model}' is not a sentence-transformers model folder (no modules.json or "
                            "config.json inside)")
        return str(p.resolve())
    s = str(model)
    if s.startswith((".", "/", "~")) or s.count("/") > 1 or "\\" in s:  # a path, not an org/name hub id
        raise DataError(f"model folder '{model}' does not exist")
    return str(model)  # a hub name: works online only; load_model says so clearly otherwise


def load_model(model: str | None = None, device: str | None = None, precision: str | None = "float32"):
    """Load (and memoise per process) a SentenceTransformer; DataError with a fix when it fails."""
    return _load_model(resolve_model(model), device or best_device(), _check_precision(precision, device), model)


@contextlib.contextmanager
def _quiet_loading():
    """No "Loading weights" bar from transformers on stderr (the CLI prints its own progress)."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover
        yield
        return
    was = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was:
            hf_logging.enable_progress_bar()


@lru_cache(maxsize=4)
def _load_model(name: str, device: str, precision: str, shown):
    try:
        from sentence_transformers import SentenceTransformer

        with _quiet_loading():
            m = SentenceTransformer(name, device=device,
                                    local_files_only=not Path(name).exists() and os.environ.get("HF_HUB_OFFLINE") == "1")
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - ST raises OSError/ValueError/HF errors for a bad model
        where = "folder" if Path(name).exists() else "name (needs internet for the Hugging Face Hub)"
        raise DataError(f"could not load the embedding model {where} '{shown}': "
                        f"{str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}") from None
    if precision == "bfloat16":
        import torch

        m = m.to(torch.bfloat16)
    return m


def model_key(model: str | None) -> str:
    """Cache key for a model: its name plus a digest of its weights' size/mtime (so a retrained folder misses)."""
    name = resolve_model(model)
    p = Path(name)
    stamp = name
    if p.is_dir():
        files = sorted(p.rglob("*.safetensors")) + sorted(p.rglob("*.bin"))
        stamp += "|" + "|".join(f"{f.name}:{f.stat().st_size}" for f in files)
    return f"{p.name or 'model'}-{hashlib.blake2b(stamp.encode(), digest_size=6).hexdigest()}"


def cache_key(model: str | None, precision: str | None = None, device: str | None = None) -> str:
    """The embedding cache's key: the model key, plus the precision when it is not float32."""
    p = _check_precision(precision, device)
    return model_key(model) + ("" if p == "float32" else "-bf16")


def hash_texts(texts: Sequence[str]) -> np.ndarray:
    """128-bit blake2b digests of each text, as a (n, 16) uint8 array turned into fixed bytes."""
    return np.array([hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=16).digest()
                     for t in texts], dtype="S16")


class EmbeddingCache:
    """Chunk files of (hashes, vectors, truncated) for one model in the workspace."""

    def __init__(self, ws: Workspace, mkey: str):
        self.dir = ws.root / "cache" / "embeddings" / mkey
        self.dir.mkdir(parents=True, exist_ok=True)

    def _chunks(self) -> list[Path]:
        return sorted(self.dir.glob("chunk-*.npz"))

    def lookup(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """(found mask, vectors for found rows in order, truncated flags for found rows)."""
        found = np.zeros(len(hashes), dtype=bool)
        vecs: np.ndarray | None = None
        trunc = np.zeros(len(hashes), dtype=bool)
        if not len(hashes):
            return found, vecs, trunc
        want = pd.Index(hashes)
        for path in self._chunks():
            try:
                with np.load(path, allow_pickle=False) as z:
                    ch, cv, ct = z["hashes"], z["vectors"], z["truncated"]
            except (OSError, ValueError, KeyError):
                continue  # a corrupt chunk is ignored; its texts are re-embedded
            pos = pd.Index(ch).get_indexer(want)
            hit = (pos >= 0) & ~found
            if hit.any():
                if vecs is None:
                    vecs = np.zeros((len(hashes), cv.shape[1]), dtype=np.float32)
                vecs[hit] = cv[pos[hit]]
                trunc[hit] = ct[pos[hit]]
                found |= hit
            if found.all():
                break
        return found, vecs, trunc

    def append(self, hashes: np.ndarray, vectors: np.ndarray, truncated: np.ndarray) -> None:
        buf = io.BytesIO()
        np.savez(buf, hashes=hashes, vectors=vectors.astype(np.float32), truncated=truncated)
        name = f"chunk-{os.getpid()}-{hashlib.blake2b(hashes.tobytes(), digest_size=8).hexdigest()}.npz"
        atomic_write_bytes(self.dir / name, buf.getvalue())


class _ThreadTuner:
    """Pick torch's intra-op thread count by measured speed while embedding, and restore it after.

    On a CPU shared with other busy processes, torch's OpenMP threads spin at every barrier: here, with
    the load average at ~6.5 on 2 cores, 1 thread encoded 170-180 texts/s and 2 threads 40-60 (measured,
    interleaved). Idle, 2 threads win. The load changes while a long run goes on, so the tuner times
    the two settings on neighbouring (length-sorted, hence similar) groups of texts and re-checks every
    RETUNE_EVERY groups. ``DQ_EMBED_THREADS=N`` pins the count instead.

    Probing 1 thread costs a group at half speed, which on an idle machine bought nothing and cost 25% of
    a 1,500-text run (3 groups, 1 probed): the probe only runs while the 1-minute load average shows
    other work competing for the cores (more runnable threads than cores + 1); otherwise all threads.
    """

    RETUNE_EVERY = 12

    def __init__(self, device: str | None):
        import torch

        self.torch = torch
        self.original = torch.get_num_threads()
        pinned = os.environ.get("DQ_EMBED_THREADS", "").strip()
        self.candidates: list[int] = []
        if pinned.isdigit() and int(pinned) > 0:
            self.fixed: int | None = int(pinned)
        elif (device or "cpu") != "cpu" or self.original <= 1:
            self.fixed = self.original
        else:
            self.fixed = None
            self.candidates = sorted({self.original, 1}, reverse=True)
        self.rates: dict[int, float] = {}
        self.best = self.fixed or self.original
        self.calls = 0

    @staticmethod
    def contended() -> bool:
        try:
            return os.getloadavg()[0] > (os.cpu_count() or 1) + 1
        except OSError:  # no load average on this platform: keep measuring
            return True

    def next_threads(self) -> tuple[int, bool]:
        """(threads for the next group, whether that group is a timed probe)."""
        if self.fixed is not None:
            return self.fixed, False
        phase = self.calls % self.RETUNE_EVERY
        if phase < len(self.candidates):
            if not self.contended():
                self.best, self.rates = self.original, {}
                return self.best, False
            return self.candidates[phase], True
        return self.best, False

    def run(self, fn, n_texts: int):
        threads, probe = self.next_threads()
        if self.torch.get_num_threads() != threads:
            self.torch.set_num_threads(threads)
        t0 = time.perf_counter()
        out = fn()
        secs = time.perf_counter() - t0
        if probe:
            self.rates[threads] = n_texts / max(secs, 1e-9)
            if len(self.rates) == len(self.candidates):
                self.best = max(self.rates, key=self.rates.get)
                self.rates = {}
        self.calls += 1
        return out

    def restore(self) -> None:
        if self.torch.get_num_threads() != self.original:
            self.torch.set_num_threads(self.original)


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
    precision = _check_precision(precision, device)
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
        tuner = _ThreadTuner(str(getattr(m, "device", "cpu")).split(":")[0])
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
    max_len = int(getattr(m, "max_seq_length", 0) or 0) if m is not None else _max_seq_length(model)
    return EmbeddingResult(vectors=vectors, valid=valid, n_truncated=int(truncated.sum()), n_cached=n_cached,
                           n_computed=total, model_name=mkey, max_seq_length=max_len, truncated=truncated)


@lru_cache(maxsize=8)
def _max_seq_length(model: str | None) -> int:
    import json

    p = Path(resolve_model(model)) / "sentence_bert_config.json"
    try:
        return int(json.loads(p.read_text()).get("max_seq_length", 0))
    except (OSError, ValueError):
        return 0


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


def _dataset_key(ds, model: str | None, precision: str | None = None) -> str:
    return f"{ds.fingerprint[:24]}-{cache_key(model, precision)}"


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


def save_dataset_embeddings(ds, res: EmbeddingResult, *, workspace: Workspace, model: str | None = None,
                            precision: str | None = None) -> None:
    """Write the consolidated per-dataset file that :func:`cached_dataset_embeddings` reads."""
    key = _dataset_key(ds, model, precision)
    trunc = res.truncated if res.truncated is not None else np.zeros(len(ds), dtype=bool)
    # Masks as .npy (not JSON lists): reopening 100k rows stays a couple of np.load calls. The JSON is
    # written last: its presence means the arrays are complete.
    workspace.save_array("dataset_embeddings", key + "-valid", res.valid)
    workspace.save_array("dataset_embeddings", key + "-truncated", trunc)
    workspace.save_array("dataset_embeddings", key, res.vectors)
    workspace.save_json("dataset_embeddings", key, {"n_truncated": res.n_truncated,
                                                    "max_seq_length": res.max_seq_length,
                                                    "model_name": res.model_name, "n_rows": len(ds)})


def has_dataset_embeddings(ds, *, model: str | None = None, workspace: Workspace | None = None,
                           precision: str | None = None) -> bool:
    """Whether the consolidated embeddings of ``ds`` are on disk (a stat of one small file: cheap enough
    for every page rerun, unlike reading the vectors)."""
    ws = workspace or Workspace.default()
    return ws.has_json("dataset_embeddings", _dataset_key(ds, model, precision))


def forget_dataset_embeddings(ds, *, model: str | None = None, workspace: Workspace | None = None,
                              precision: str | None = None) -> None:
    """Drop the consolidated file's marker so the next :func:`embed_dataset` rebuilds it (from the per-text
    cache, so without re-encoding): the repair for a consolidated file that cannot be read."""
    ws = workspace or Workspace.default()
    ws.cache_path("dataset_embeddings", _dataset_key(ds, model, precision), ".json").unlink(missing_ok=True)


def cached_dataset_embeddings(ds, *, model: str | None = None, workspace: Workspace | None = None,
                              precision: str | None = None) -> EmbeddingResult | None:
    """The consolidated embeddings if they are already on disk, else None (never computes, never loads a model)."""
    ws = workspace or Workspace.default()
    key = _dataset_key(ds, model, precision)
    meta = ws.load_json("dataset_embeddings", key)
    if meta is None:
        return None
    valid = ws.load_array("dataset_embeddings", key + "-valid")
    trunc = ws.load_array("dataset_embeddings", key + "-truncated")
    arr = ws.load_array("dataset_embeddings", key)
    if arr is None or valid is None or trunc is None or arr.shape[0] != len(ds) or len(valid) != len(ds):
        return None
    return EmbeddingResult(vectors=arr, valid=valid.astype(bool), n_truncated=int(meta["n_truncated"]),
                           n_cached=len(ds), n_computed=0, model_name=meta.get("model_name", key),
                           max_seq_length=int(meta.get("max_seq_length", 0)), truncated=trunc.astype(bool))
