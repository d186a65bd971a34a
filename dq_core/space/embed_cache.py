"""The embedding caches in the workspace, and the result type they hold.

Per text: texts are hashed and their vectors stored in chunk files (``cache/embeddings/<model key>/
chunk-*.npz``) written atomically as each chunk finishes, so adding rows embeds only the new ones and an
interrupted run resumes where it stopped. Per (dataset, model): one consolidated matrix, so reopening a
dataset is a single ``np.load`` and never loads the model.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dq_core.data.workspace import Workspace
from dq_core.data.writers import atomic_write_bytes
from dq_core.space.embed_model import cache_key
from dq_core.space.given_store import given_meta, load_given_embeddings
from dq_core.space.precision_probe import resolve_precision
from dq_core.util.fingerprint import array_fingerprint

log = logging.getLogger(__name__)


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


def hash_texts(texts: Sequence[str]) -> np.ndarray:
    """128-bit blake2b digest of each text as fixed 16-byte strings (the chunk files' keys).

    Raw digests rather than ``util.fingerprint`` hex strings: the format is the on-disk cache's key, and
    a change would re-embed every cached text.
    """
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
            chunk = _read_chunk(path, vecs.shape[1] if vecs is not None else None)
            if chunk is None:
                continue
            ch, cv, ct = chunk
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
        # Chunks are found by glob, never by name: the name only has to be unique per writer and content.
        name = f"chunk-{os.getpid()}-{array_fingerprint(hashes, digest_size=8)}.npz"
        atomic_write_bytes(self.dir / name, buf.getvalue())


def _read_chunk(path: Path, dim: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """A chunk's (hashes, vectors, truncated), or None after deleting a damaged chunk (its texts are then
    embedded again). Anything unreadable or inconsistent counts as damaged: a truncated zip, missing or
    mis-shaped arrays, non-finite vectors, another dimension than the other chunks."""
    try:
        with np.load(path, allow_pickle=False) as z:
            ch, cv, ct = z["hashes"], z["vectors"], z["truncated"]
        ok = (ch.dtype == np.dtype("S16") and ch.ndim == 1 and cv.ndim == 2 and len(cv) == len(ch) == len(ct)
              and (dim is None or cv.shape[1] == dim) and bool(np.isfinite(cv).all()))
    except FileNotFoundError:
        return None  # removed by another process meanwhile
    except Exception:  # noqa: BLE001 - zipfile, numpy and OS errors all mean a damaged chunk
        ok = False
    if ok:
        return ch, cv.astype(np.float32, copy=False), ct.astype(bool, copy=False)
    drop_damaged(path, "embedding cache chunk")
    return None


def drop_damaged(path: Path, what: str) -> None:
    """Delete a damaged cache file and say so; the caller recomputes what it held."""
    log.warning("note: %s %s was damaged; it was deleted and will be recomputed", what, path.name)
    with contextlib.suppress(OSError):
        path.unlink()


def dataset_key(ds, model: str | None, precision: str | None = None, long_texts: str | None = None) -> str:
    """The consolidated file's key: the dataset's content fingerprint plus the model's cache key."""
    # "auto" on CUDA is the probed choice, so this key matches the one embed_texts wrote under.
    return f"{ds.fingerprint[:24]}-{cache_key(model, resolve_precision(model, precision, None), None, long_texts)}"


def save_dataset_embeddings(ds, res: EmbeddingResult, *, workspace: Workspace, model: str | None = None,
                            precision: str | None = None, long_texts: str | None = None) -> None:
    """Write the consolidated per-dataset file that :func:`cached_dataset_embeddings` reads."""
    key = dataset_key(ds, model, precision, long_texts)
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
                           precision: str | None = None, long_texts: str | None = None) -> bool:
    """Whether the consolidated embeddings of ``ds`` are on disk (a stat of one small file: cheap enough
    for every page rerun, unlike reading the vectors)."""
    ws = workspace or Workspace.default()
    if (given_meta(ws, ds.fingerprint) or {}).get("embeddings"):  # the user's own vectors (space.given_store)
        return True
    return ws.has_json("dataset_embeddings", dataset_key(ds, model, precision, long_texts))


def forget_dataset_embeddings(ds, *, model: str | None = None, workspace: Workspace | None = None,
                              precision: str | None = None, long_texts: str | None = None) -> None:
    """Drop the consolidated file's marker so the next :func:`embed_dataset` rebuilds it (from the per-text
    cache, so without re-encoding): the repair for a consolidated file that cannot be read."""
    ws = workspace or Workspace.default()
    ws.cache_path("dataset_embeddings", dataset_key(ds, model, precision, long_texts), ".json").unlink(missing_ok=True)


def cached_dataset_embeddings(ds, *, model: str | None = None, workspace: Workspace | None = None,
                              precision: str | None = None, long_texts: str | None = None) -> EmbeddingResult | None:
    """The consolidated embeddings if they are already on disk, else None (never computes, never loads a model)."""
    ws = workspace or Workspace.default()
    given = load_given_embeddings(ws, ds.fingerprint, len(ds), getattr(ds, "name", ""))
    if given is not None:  # a dataset stored with the user's own vectors: those, whatever the model
        vec, valid, meta = given
        return EmbeddingResult(vectors=vec, valid=valid, n_truncated=0, n_cached=len(ds), n_computed=0,
                               model_name=meta.get("model_name") or f"given:{meta.get('source', '')}",
                               max_seq_length=0, truncated=np.zeros(len(ds), dtype=bool))
    key = dataset_key(ds, model, precision, long_texts)
    meta = ws.load_json("dataset_embeddings", key)
    if meta is None:
        return None
    valid = ws.load_array("dataset_embeddings", key + "-valid")
    trunc = ws.load_array("dataset_embeddings", key + "-truncated")
    arr = ws.load_array("dataset_embeddings", key)
    intact = (isinstance(meta, dict) and isinstance(meta.get("n_truncated"), int) and arr is not None
              and valid is not None and trunc is not None and arr.ndim == 2 and arr.shape[0] == len(ds)
              and valid.shape == (len(ds),) and trunc.shape == (len(ds),))
    if not intact:
        # Only the marker is dropped: the next embed_dataset rebuilds the arrays from the per-text cache.
        drop_damaged(ws.cache_path("dataset_embeddings", key, ".json"), "consolidated embeddings")
        return None
    return EmbeddingResult(vectors=arr, valid=valid.astype(bool), n_truncated=int(meta["n_truncated"]),
                           n_cached=len(ds), n_computed=0, model_name=meta.get("model_name", key),
                           max_seq_length=int(meta.get("max_seq_length", 0)), truncated=trunc.astype(bool))
