"""Core counting: the one answer to "how many cores may this process use" (thread pools, worker counts,
the embedder's contention check)."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers and taskset narrow; the
    machine's count where the platform has no affinity)."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
