"""Rows done of total, rate and ETA as one line of text, for the app's progress displays.

Pure arithmetic, so the line is tested with known answers. The rate is measured since the task started
(model loading included): a steady estimate that does not jump with each batch's length.
"""

from __future__ import annotations


def rate_and_eta(done: int, total: int, elapsed: float) -> tuple[float | None, float | None]:
    """(items per second, seconds left); None for either while it cannot be known yet (nothing done)."""
    if done <= 0 or elapsed <= 0:
        return None, None
    rate = done / elapsed
    return rate, max(0, total - done) / rate


def duration(seconds: float) -> str:
    """"45 s", "1 min 03 s", "2 h 05 min": seconds rounded, two units at most."""
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def progress_line(what: str, done: int, total: int, elapsed: float, *, unit: str = "texts") -> str:
    """E.g. "Embedding: 12,288 / 38,158 texts · 410 texts/s · ETA 1 min 03 s"."""
    line = f"{what}: {done:,} / {total:,} {unit}"
    rate, eta = rate_and_eta(done, total, elapsed)
    if rate is None or eta is None:
        return line + " · loading the model…" if done == 0 and total > 0 else line
    shown = f"{rate:,.0f}" if rate >= 10 else f"{rate:.1f}"
    return f"{line} · {shown} {unit}/s · ETA {duration(eta)}"
