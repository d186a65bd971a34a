"""The models folder: where the dashboard's Train page may take a fine-tuning backbone from.

A browser user may not own the server, so the page's "Model folder" names a folder *inside* the models
folder (``DQ_MODELS_DIR``, default ``DQ_HOME/models``), and every refusal, whatever its cause (outside,
missing, a file, a symlink out, a malformed name), is one and the same message: the field cannot be used
to learn what exists on the server. ``dq train --model`` is not confined: its user owns the machine.
"""

from __future__ import annotations

from pathlib import Path

from dq_core import settings
from dq_core.data.workspace import home
from dq_core.errors import DataError

BUNDLED_NAMES = ("", "default", "all-MiniLM-L6-v2")
MAX_NAME = 255


def models_dir() -> Path:
    pinned = settings.get("DQ_MODELS_DIR")
    return pinned if pinned is not None else home() / "models"


def confine_model_folder(name: str | None, folder: Path | None = None) -> str | None:
    """The resolved path of model folder ``name`` inside ``folder`` (default :func:`models_dir`), None for
    the bundled model; DataError with the one refusal message otherwise."""
    text = (name or "").strip()
    if text in BUNDLED_NAMES:
        return None
    base = folder if folder is not None else models_dir()
    refused = DataError(f"'{_shown(text)}' is not a model folder in the models folder ({base}). Put the "
                        "Hugging Face model folder (config.json, tokenizer files, .safetensors weights) there, "
                        "or set DQ_MODELS_DIR, and give the folder's name; leave the field empty for the "
                        "bundled all-MiniLM-L6-v2")
    if len(text) > MAX_NAME or "\x00" in text or any(ord(c) < 32 for c in text):
        raise refused
    try:
        root = base.resolve(strict=True)
        path = Path(text).expanduser()
        real = (path if path.is_absolute() else root / path).resolve(strict=True)
        inside = real != root and real.is_relative_to(root) and real.is_dir()
    except (OSError, RuntimeError, ValueError):  # missing, a symlink loop, a name the OS rejects
        raise refused from None
    if not inside:
        raise refused
    return str(real)


def _shown(text: str) -> str:
    # The user's own input, shortened: echoing it says nothing about the server.
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= 80 else text[:77] + "..."
