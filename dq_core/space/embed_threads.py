"""Torch's intra-op thread count while embedding on a shared CPU, chosen by measured speed."""

from __future__ import annotations

import os
import time

from dq_core import settings
from dq_core.util.cores import usable_cores


class ThreadTuner:
    """Pick torch's intra-op thread count by measured speed while embedding, and restore it after.

    On a CPU shared with other busy processes, torch's OpenMP threads spin at every barrier: here, with
    the load average at ~6.5 on 2 cores, 1 thread encoded 170-180 texts/s and 2 threads 40-60 (measured,
    interleaved). Idle, 2 threads win. The load changes while a long run goes on, so the tuner times
    the two settings on neighbouring (length-sorted, hence similar) groups of texts and re-checks every
    RETUNE_EVERY groups. ``DQ_EMBED_THREADS=N`` pins the count instead.

    Probing 1 thread costs a group at half speed, which on an idle machine bought nothing and cost 25% of
    a 1,500-text run (3 groups, 1 probed): the probe only runs while the 1-minute load average shows
    other work competing for the cores (more runnable threads than cores + 1); otherwise all threads.
    """

    RETUNE_EVERY = 12

    def __init__(self, device: str | None):
        import torch

        self.torch = torch
        self.original = torch.get_num_threads()
        pinned = settings.get("DQ_EMBED_THREADS")
        self.candidates: list[int] = []
        if pinned is not None:
            self.fixed: int | None = pinned
        elif (device or "cpu") != "cpu" or self.original <= 1:
            self.fixed = self.original
        else:
            self.fixed = None
            self.candidates = sorted({self.original, 1}, reverse=True)
        self.rates: dict[int, float] = {}
        self.best = self.fixed or self.original
        self.calls = 0

    @staticmethod
    def contended() -> bool:
        try:
            return os.getloadavg()[0] > usable_cores() + 1
        except OSError:  # no load average on this platform: keep measuring
            return True

    def next_threads(self) -> tuple[int, bool]:
        """(threads for the next group, whether that group is a timed probe)."""
        if self.fixed is not None:
            return self.fixed, False
        phase = self.calls % self.RETUNE_EVERY
        if phase < len(self.candidates):
            if not self.contended():
                self.best, self.rates = self.original, {}
                return self.best, False
            return self.candidates[phase], True
        return self.best, False

    def run(self, fn, n_texts: int):
        threads, probe = self.next_threads()
        if self.torch.get_num_threads() != threads:
            self.torch.set_num_threads(threads)
        t0 = time.perf_counter()
        out = fn()
        secs = time.perf_counter() - t0
        if probe:
            self.rates[threads] = n_texts / max(secs, 1e-9)
            if len(self.rates) == len(self.candidates):
                self.best = max(self.rates, key=self.rates.get)
                self.rates = {}
        self.calls += 1
        return out

    def restore(self) -> None:
        if self.torch.get_num_threads() != self.original:
            self.torch.set_num_threads(self.original)

