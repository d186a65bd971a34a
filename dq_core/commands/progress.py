"""One progress display for every long `dq` command: rows done of total, rate and ETA, on stderr.

dq_core reports progress through the one callback type of :mod:`dq_core.util.progress`,
``(message, done, total)``; this module turns it into a tqdm bar on a terminal: rows with a rate and an ETA
(embedding's counts of texts), a percentage with the step named, or a line per phase. When stderr is not a
terminal it stays silent, so piped or logged output holds only the result, unless ``--progress`` asks for
it: then it writes a plain line at most every few seconds (or each 5%) in the same format.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import TextIO

from tqdm import tqdm

from dq_core.util.progress import Progress, fraction

LINE_EVERY_SECONDS = 10.0  # plain-line mode: at most one line this often, besides each 5% step
STEP_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]{postfix}"


def add_progress_args(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--progress", dest="progress", action="store_true", default=None,
                   help="show progress (rows done, rate, ETA) on stderr even when it is not a terminal")
    g.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress on stderr (default when stderr is not a terminal)")


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class CliProgress:
    """Progress callbacks for one command. ``enabled=None``: on when ``stream`` is a terminal."""

    def __init__(self, enabled: bool | None = None, *, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.tty = _isatty(self.stream)
        self.enabled = self.tty if enabled is None else bool(enabled)
        self._bars: list[tqdm] = []

    @classmethod
    def from_args(cls, args, *, stream: TextIO | None = None) -> CliProgress:
        return cls(getattr(args, "progress", None), stream=stream)

    # ------------------------------------------------------------ callbacks for dq_core
    def rows(self, what: str, *, unit: str = "texts") -> Progress:
        """``(message, done, total)`` in counts: a bar of rows with rate and ETA, titled ``what`` (the message
        is not shown); total 0 means nothing was left to do, and a report without counts shows nothing."""
        state: dict = {"bar": None, "t0": time.monotonic(), "last_line": -1.0, "last_frac": -1.0}

        def cb(message: str, done: float | None = None, total: float = 1.0) -> None:
            if not self.enabled or done is None:
                return
            if total == 0:
                if state["last_frac"] < 0:
                    self._line(f"{what}: nothing to compute (every {unit[:-1] if unit.endswith('s') else unit} "
                               "is cached)")
                    state["last_frac"] = 1.0
                return
            if self.tty:
                bar = state["bar"]
                if bar is None or bar.total != total:
                    if bar is not None:
                        bar.close()
                    bar = state["bar"] = self._bar(desc=what, total=total, unit=unit)
                bar.update(max(0, done - bar.n))
                if done >= total:
                    bar.close()
                return
            self._maybe_line(state, done / total, done >= total, lambda el: tqdm.format_meter(
                done, total, el, unit=unit, prefix=what, ascii=True, ncols=80))
        return cb

    def steps(self, what: str) -> Progress:
        """``(message, done, total)``: a percentage bar with the current step named."""
        state: dict = {"bar": None, "t0": time.monotonic(), "last_line": -1.0, "last_frac": -1.0, "msg": None}

        def cb(message: str, done: float | None = None, total: float = 1.0) -> None:
            if not self.enabled:
                return
            frac = fraction(done or 0.0, total)
            if self.tty:
                bar = state["bar"]
                if bar is None:
                    bar = state["bar"] = self._bar(desc=what, total=1000, bar_format=STEP_FORMAT)
                if message != state["msg"]:
                    state["msg"] = message
                    bar.set_postfix_str(message, refresh=False)
                bar.update(max(0, round(frac * 1000) - bar.n))
                if frac >= 1.0:
                    bar.close()
                return
            changed = message != state["msg"]
            state["msg"] = message
            self._maybe_line(state, frac, frac >= 1.0 or changed, lambda el: tqdm.format_meter(
                round(frac * 1000), 1000, el, prefix=what, bar_format=STEP_FORMAT, postfix=message,
                ascii=True, ncols=80))
        return cb

    def phases(self, what: str) -> Progress:
        """``(message)``: one line per phase with the time so far (work with no countable rows: counts, when
        given, are not shown)."""
        t0 = time.monotonic()

        def cb(message: str, done: float | None = None, total: float = 1.0) -> None:
            if self.enabled:
                self._line(f"{what}: {message} [{tqdm.format_interval(time.monotonic() - t0)}]")
        return cb

    def close(self) -> None:
        for bar in self._bars:
            bar.close()
        self._bars.clear()

    # ------------------------------------------------------------ output
    def _bar(self, **kw) -> tqdm:
        bar = tqdm(file=self.stream, mininterval=0.5, dynamic_ncols=True, leave=True, **kw)
        self._bars.append(bar)
        return bar

    def _line(self, text: str) -> None:
        if self.tty:
            tqdm.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def _maybe_line(self, state: dict, frac: float, force: bool, render: Callable[[float], str]) -> None:
        now = time.monotonic()
        if frac >= 1.0 and state["last_frac"] >= 1.0:
            return  # the final line is written once
        if force or frac - state["last_frac"] >= 0.05 or now - state["last_line"] >= LINE_EVERY_SECONDS:
            if frac == state["last_frac"] and not force:
                return
            state["last_frac"], state["last_line"] = frac, now
            self._line(render(now - state["t0"]))


def embed_before_signals(ds, signals, *, progress: CliProgress, model: str | None = None, workspace=None) -> None:
    """Embed DATA with a rows bar (done of total, rate, ETA) before signals that need the vectors.

    The signals then read them from the workspace cache; their own progress only knows which signal
    runs and the share done, and embedding is most of the time on a CPU.
    """
    if not progress.enabled or workspace is None:
        return
    from dq_core.signals import default_signals
    from dq_core.space.embed import embed_dataset

    chosen = list(signals) if signals is not None else default_signals()
    if any("embeddings" in s.requires for s in chosen):
        embed_dataset(ds, model=model, workspace=workspace, progress=progress.rows("embedding"))
