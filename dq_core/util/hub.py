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


def hub_offline(*, datasets: bool = False) -> bool:
    """Whether the user switched the Hub off: HF_HUB_OFFLINE, and for datasets also HF_DATASETS_OFFLINE (which
    does not stop a model download: a model name with only it set still went to the network)."""
    names = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE") if datasets else ("HF_HUB_OFFLINE",)
    return any(os.environ.get(v, "").strip().upper() in OFFLINE_VALUES for v in names)


def hub_unreachable(timeout: float = CONNECT_TIMEOUT_S) -> str | None:
    """Why the Hub cannot be reached from here (no name lookup, no connection), or None when it answers."""
    endpoint = urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host = endpoint.hostname or "huggingface.co"
    port = endpoint.port or (80 if endpoint.scheme == "http" else 443)
    addresses = _lookup(host, port, timeout)
    if isinstance(addresses, str):
        return addresses
    family, kind, proto, _, address = addresses[0]
    try:
        with socket.socket(family, kind, proto) as s:
            s.settimeout(timeout)
            s.connect(address)
            return None
    except OSError as exc:
        return f"{host}:{port} does not answer ({exc.strerror or type(exc).__name__})"


def _lookup(host: str, port: int, timeout: float) -> list | str:
    """getaddrinfo within ``timeout``: the lookup has no timeout of its own, and with no reachable name server
    it waits out the resolver's retries (over a minute seen here). Run in a daemon thread, left behind if slow."""
    import threading

    found: dict = {}

    def look() -> None:
        try:
            found["addresses"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            found["error"] = exc

    worker = threading.Thread(target=look, daemon=True, name="dq-hub-lookup")
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        return f"looking up the name {host} takes longer than {timeout:g} s"
    if "error" in found or not found.get("addresses"):
        return f"the name {host} cannot be looked up"
    return found["addresses"]
