"""Whether the Hugging Face Hub can be reached, asked once before a hub name is handed to a library.

Written by hand because huggingface_hub has no such question: given a name with no network it retries its
requests for about 90 seconds before failing, which a user reads as a hang. A TCP connect to the Hub's
host (HF_ENDPOINT, else huggingface.co) with a short timeout tells the same thing in a few seconds.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

CONNECT_TIMEOUT_S = 3.0
OFFLINE_VALUES = ("1", "ON", "YES", "TRUE")  # huggingface_hub's own truthy spellings, in any case


def hub_offline() -> bool:
    """Whether the user switched the Hub off (HF_HUB_OFFLINE / HF_DATASETS_OFFLINE)."""
    return any(os.environ.get(v, "").strip().upper() in OFFLINE_VALUES
               for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))


def hub_unreachable(timeout: float = CONNECT_TIMEOUT_S) -> str | None:
    """Why the Hub cannot be reached from here (no name lookup, no connection), or None when it answers."""
    endpoint = urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host = endpoint.hostname or "huggingface.co"
    port = endpoint.port or (80 if endpoint.scheme == "http" else 443)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except socket.gaierror:
        return f"the name {host} cannot be looked up"
    except OSError as exc:
        return f"{host}:{port} does not answer ({exc.strerror or type(exc).__name__})"
