"""How a long job says how far it is: the progress-callback types of dq_core, in one place.

Signals, maps and shift views report ``progress(message, done, total)``, so one receiver (the CLI's bar, a
page's progress bar, a training run's status) listens to any of them and a wrapper passes a callback on
without converting it. Embedding reports bare counts of texts (:data:`Counts`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Progress(Protocol):
    """What the job is doing now and how far it is: ``done`` of ``total`` (a fraction when ``total`` is 1).

    ``done`` None: the job can say what it is doing but not how much is left (a shift view starting).
    """

    def __call__(self, message: str, done: float | None = None, total: float = 1.0, /) -> None: ...


# (done, total) distinct texts embedded: the callers show rows, a rate and an ETA from the two counts.
# ``total`` 0 means every text was in the cache.
Counts = Callable[[int, int], None]


def fraction(done: float, total: float = 1.0) -> float:
    """``done / total`` clamped to [0, 1]; 1.0 when ``total`` is 0 (nothing was left to do)."""
    if not total:
        return 1.0
    return min(max(float(done) / float(total), 0.0), 1.0)
