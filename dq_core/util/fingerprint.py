"""Content fingerprints: the one way dq_core turns an array or a list of parts into a cache key.

Every cache is keyed by what it depends on (DESIGN: "a cache is keyed by the content it depends on"), so
every folder hashes the same way: BLAKE2b over the shape, the dtype and the raw bytes.
"""

from __future__ import annotations

import hashlib

import numpy as np

DIGEST_SIZE = 12


def array_fingerprint(a, *, digest_size: int = DIGEST_SIZE) -> str:
    """Hex digest of an array's shape, dtype and bytes (two arrays with equal content share it)."""
    a = np.ascontiguousarray(a)
    h = hashlib.blake2b(digest_size=digest_size)
    h.update(f"{a.shape}|{a.dtype.str}".encode())
    h.update(a.view(np.uint8).data if a.dtype != object else repr(a.tolist()).encode())
    return h.hexdigest()


def text_fingerprint(*parts: str | bytes, digest_size: int = DIGEST_SIZE) -> str:
    """Hex digest of a sequence of strings/bytes, each length-prefixed so ("ab", "c") != ("a", "bc")."""
    h = hashlib.blake2b(digest_size=digest_size)
    for p in parts:
        b = p if isinstance(p, bytes) else str(p).encode("utf-8", "surrogatepass")
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()
