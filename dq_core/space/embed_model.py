"""The embedding model: device and precision choice, model resolution and loading, and the cache keys
that name a model's vectors (so vectors of different weights or precisions never mix)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

from dq_core import settings
from dq_core.data import assets
from dq_core.errors import DataError

# Texts per forward pass when none is given. On CPU small batches of length-sorted texts ran fastest: bf16
# MiniLM on the tweets, interleaved rounds on an idle 2-core machine, gave 32: 452-506 texts/s, 64: 445-454,
# 128: 409-453 (bench/bench_embed_coverage.py measures the default against bare encode). GPUs want large
# length-sorted batches fed by the tokeniser threads (the model alone on an H100 ran fastest at 1,024);
# a batch that does not fit a smaller GPU is split (embed_pipeline.forward).
CPU_BATCH_SIZE = 32
GPU_BATCH_SIZE = 1024


def default_batch_size(device: str | None = None) -> int:
    return CPU_BATCH_SIZE if (device or best_device()) == "cpu" else GPU_BATCH_SIZE


def best_device() -> str:
    """CUDA, then Apple MPS, then CPU."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


PRECISIONS = ("float32", "bfloat16", "float16")


def default_precision(device: str | None = None) -> str:
    """bfloat16 on a CPU with native bf16 (AVX512-BF16 or AMX), else float32; ``DQ_EMBED_PRECISION`` overrides.

    Why: on this class of CPU bf16 MiniLM encodes ~1.6-1.9x faster than fp32, with cosine >= 0.996 to the
    fp32 vectors (measured on 1,000 tweets; see docs/benchmarks.md), which is what brings a first
    coverage visit on the tweets demo near the 90 s target. The precision is part of the cache key, so
    fp32 and bf16 vectors never mix.
    """
    env = settings.get("DQ_EMBED_PRECISION")
    if env in PRECISIONS:
        return env
    if (device or best_device()) != "cpu":
        return "float32"
    try:
        import torch

        native = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    except Exception:  # noqa: BLE001 - private torch helpers; fp32 is always safe
        native = False
    return "bfloat16" if native else "float32"


def check_precision(precision: str | None, device: str | None) -> str:
    """``precision`` with None/"auto" resolved by :func:`default_precision`; DataError when unknown."""
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
    from dq_core.util.hub import hub_offline, hub_unreachable

    # A hub name works online only; offline (HF_HUB_OFFLINE) a model the Hub cache holds still loads.
    if not hub_offline() and (why := hub_unreachable()):
        raise DataError(f"model '{model}' is not a folder here, and as a Hugging Face Hub name it needs internet, "
                        f"which this machine lacks ({why}); give the folder of a sentence-transformers model")
    return str(model)


def load_model(model: str | None = None, device: str | None = None, precision: str | None = "float32"):
    """Load (and memoise per process) a SentenceTransformer; DataError with a fix when it fails."""
    return _load_model(resolve_model(model), device or best_device(), check_precision(precision, device), model)


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
        text = str(exc)
        if "weights_only" in text or "pickle" in text.lower() or type(exc).__name__ == "UnpicklingError":
            # torch's own text advises weights_only=False, i.e. running the file's code: never pass that on.
            raise DataError(f"the embedding model {where} '{shown}' holds pickled weights that cannot be loaded "
                            "safely; use a model saved as .safetensors (save_pretrained(..., "
                            "safe_serialization=True))") from None
        raise DataError(f"could not load the embedding model {where} '{shown}': "
                        f"{text.splitlines()[0][:200] if text else type(exc).__name__}") from None
    if precision in ("bfloat16", "float16"):
        import torch

        m = m.to(getattr(torch, precision))
    return m


WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".onnx", ".h5", ".msgpack")
# Files that change the vectors besides the weights: tokenizer and pooling/normalisation configs.
CONFIG_SUFFIXES = (".json", ".txt", ".model")
_DIGESTS: dict[tuple, str] = {}  # (path, size, mtime_ns) -> digest, for this process
_FOLDER_DIGESTS: dict[tuple, str] = {}  # the stamps of a folder's files -> its digest


def _model_files(folder: Path) -> list[Path]:
    out = []
    for f in sorted(folder.rglob("*")):
        rel = f.relative_to(folder).parts
        # Checkpoints and hidden folders do not feed the encoder; hashing them would cost minutes.
        if any(part.startswith((".", "checkpoint")) for part in rel[:-1]) or rel[-1].startswith("."):
            continue
        if f.suffix.lower() in (*WEIGHT_SUFFIXES, *CONFIG_SUFFIXES) and f.is_file():
            out.append(f)
    return out


def _side_cache_path() -> Path:
    return settings.get("DQ_HOME") / "cache" / "model_digests.json"


def _file_digest(f: Path, side: dict) -> str:
    st = f.stat()
    stamp = (str(f.resolve()), st.st_size, st.st_mtime_ns)
    key = "|".join(map(str, stamp))
    if stamp in _DIGESTS:
        return _DIGESTS[stamp]
    if isinstance(side.get(key), str):
        _DIGESTS[stamp] = side[key]
        return side[key]
    h = hashlib.blake2b(digest_size=16)
    with open(f, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    _DIGESTS[stamp] = side[key] = h.hexdigest()
    side["\x00dirty"] = True
    return side[key]


def weights_digest(folder: Path) -> str:
    """A content hash of a model folder's weights and tokenizer/config files.

    Names and sizes alone let retrained weights of the same size reuse the old vectors; the bytes are
    hashed once per file and remembered by path + size + mtime (in this process and in a small JSON side
    cache in the workspace), so later calls cost a stat per file.
    """
    files = _model_files(folder)
    stamp = tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    if stamp in _FOLDER_DIGESTS:  # every page rerun asks: a stat per file, no reading
        return _FOLDER_DIGESTS[stamp]
    side_path = _side_cache_path()
    try:
        side = json.loads(side_path.read_text())
        side = side if isinstance(side, dict) else {}
    except (OSError, ValueError, RecursionError):
        side = {}  # missing or damaged: rebuilt from the files
    parts = [f"{f.relative_to(folder).as_posix()}:{_file_digest(f, side)}" for f in files]
    if side.pop("\x00dirty", False):
        from dq_core.data.writers import atomic_write_text

        try:
            atomic_write_text(side_path, json.dumps(side))
        except OSError:
            pass  # a read-only workspace: the digests are recomputed next process
    digest = hashlib.blake2b("|".join(parts).encode(), digest_size=6).hexdigest()
    _FOLDER_DIGESTS[stamp] = digest
    return digest


def model_key(model: str | None) -> str:
    """Cache key for a model: its name plus a content hash of its weight and tokenizer files, so a
    retrained folder (even with weights of the same size) never reuses the old vectors."""
    name = resolve_model(model)
    p = Path(name)
    if p.is_dir():
        return f"{p.name or 'model'}-{weights_digest(p)}"
    return f"{p.name or 'model'}-{hashlib.blake2b(name.encode(), digest_size=6).hexdigest()}"


LONG_TEXTS = ("truncate", "chunks")


def check_long_texts(long_texts: str | None) -> str:
    """How texts longer than the model's max length are embedded: "truncate" (their first tokens) or
    "chunks" (mean of windows). None follows ``DQ_LONG_TEXTS`` (default "truncate"), so the app's
    background task and the pages that read its cache agree on one key."""
    if not long_texts:
        return settings.get("DQ_LONG_TEXTS")
    v = long_texts.strip().lower()
    if v not in LONG_TEXTS:
        raise DataError(f"long-texts mode {v!r} is not one of {', '.join(LONG_TEXTS)} (check --long-texts)")
    return v


def cache_key(model: str | None, precision: str | None = None, device: str | None = None,
              long_texts: str | None = None) -> str:
    """The embedding cache's key: the model key, plus the precision when it is not float32, plus
    "-chunks" in chunks mode (so the two modes never share vectors)."""
    p = check_precision(precision, device)
    return (model_key(model) + {"float32": "", "bfloat16": "-bf16", "float16": "-fp16"}[p]
            + ("-chunks" if check_long_texts(long_texts) == "chunks" else ""))


def model_label(key: str) -> str:
    """A model name as a reader knows it, from an embedding's ``model_name``: a :func:`cache_key`
    (``<folder>-<weights digest>[-bf16]``), or ``given:<file>`` / ``compute:<model>`` for vectors the user
    brought or `dq compute` made (not a model's cache key)."""
    if key.startswith(("given:", "compute:")):
        kind, _, name = key.partition(":")
        return f"your own vectors ({name})" if kind == "given" else f"dq compute output ({name})"
    precision = " (bfloat16)" if key.endswith("-bf16") else ""
    folder = key.removesuffix("-bf16").rsplit("-", 1)[0]
    if folder == Path(assets.default_model_path()).name:
        return "all-MiniLM-L6-v2, bundled" + precision
    return folder + precision


@lru_cache(maxsize=8)
def model_max_seq_length(model: str | None) -> int:
    """The model's max_seq_length from its config, without loading it (0 when unknown)."""
    p = Path(resolve_model(model)) / "sentence_bert_config.json"
    try:
        return int(json.loads(p.read_text()).get("max_seq_length", 0))
    except (OSError, ValueError):
        return 0
