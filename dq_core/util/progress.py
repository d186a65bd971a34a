"""How a long job says how far it is: the one progress-callback type of dq_core.

Signals, maps, shift views and embedding all report ``progress(message, done, total)``, so one receiver (the
CLI's bar, a page's progress bar, a training run's status) listens to any of them and a wrapper passes a
callback on without converting it.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """What the job is doing now and how far it is: ``done`` of ``total`` (a fraction when ``total`` is 1).

    ``done`` None: the job can say what it is doing but not how much is left (a shift view starting).

    Embedding (``dq_core.space.embed``) reports ``progress("embedding", done, total)`` in counts of distinct
    texts still to embed (after the cache and de-duplication), from ``(0, total)`` to ``(total, total)``: the
    receivers show rows, a rate and an ETA from the two counts. ``total`` 0 means every text was in the cache;
    a dataset reopened whole from its consolidated file reports its row count as ``(rows, rows)``, once.
    """

    def __call__(self, message: str, done: float | None = None, total: float = 1.0, /) -> None: ...


def fraction(done: float, total: float = 1.0) -> float:
    """``done / total`` clamped to [0, 1]; 1.0 when ``total`` is 0 (nothing was left to do)."""
    if not total:
        return 1.0
    return min(max(float(done) / float(total), 0.0), 1.0)
