"""Items done of total, rate and ETA as one line of text, for the app's progress displays.

Pure arithmetic, so the line is tested with known answers. The rate is this run's own, measured by
:class:`RateMeter` from the work it has reported: over its last minute, from the first report that counted
work, so loading the model, reading the cache and a slow start (other pages busy on the same cores) do not
weigh on the ETA for the rest of a long run.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Counted:
    """Work done of its total, with the rate measured so far (None until two reports are apart in time)."""

    done: int
    total: int
    rate: float | None = None  # items per second

    @property
    def eta(self) -> float | None:
        """Seconds left at the measured rate."""
        return None if not self.rate else max(0, self.total - self.done) / self.rate


class RateMeter:
    """Items per second of one run, from its own reports ``add(time, done)``.

    The clock starts at the first report that counted work (done > 0): model loading and the cache
    reads before it are not work. The rate spans the last ``window`` seconds of reports, so it follows
    the speed when it changes (each embedding pass goes from its shortest texts to its longest).
    """

    def __init__(self, window: float = 60.0):
        self.window = window
        self.points: deque[tuple[float, int]] = deque()

    def add(self, t: float, done: int) -> None:
        if not self.points and done <= 0:
            return
        self.points.append((t, done))
        # keep one report at or before the window's start, so the rate always spans the whole window
        while len(self.points) > 2 and self.points[1][0] <= t - self.window:
            self.points.popleft()

    def rate(self) -> float | None:
        if len(self.points) < 2:
            return None
        (t0, d0), (t1, d1) = self.points[0], self.points[-1]
        return (d1 - d0) / (t1 - t0) if t1 > t0 and d1 >= d0 else None


def duration(seconds: float) -> str:
    """"45 s", "1 min 03 s", "2 h 05 min": seconds rounded, two units at most."""
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def progress_line(what: str, counted: Counted, *, unit: str = "texts") -> str:
    """E.g. "Embedding: 12,288 / 36,912 distinct texts · 410 texts/s · ETA 1 min 00 s"."""
    line = f"{what}: {counted.done:,} / {counted.total:,} {unit}"
    eta = counted.eta
    if eta is None:
        if counted.total <= 0:
            return line
        return line + (" · loading the model…" if counted.done == 0 else " · measuring the speed…")
    rate = counted.rate or 0.0
    shown = f"{rate:,.0f}" if rate >= 10 else f"{rate:.1f}"
    return f"{line} · {shown} {unit.split()[-1]}/s · ETA {duration(eta)}"
