"""Shared by the label-issue benches (bench_noise, bench_signals, tune_label): write one ``### sub-section`` of "## Signals: label issues and the other noisy-row signals" in docs/benchmarks.md."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import _common
from _common import machine

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Signals: label issues and the other noisy-row signals"
INTRO = ("Label issues, duplicates, outliers, junk, PII, leakage (dq_core/signals). Scripts: "
         "`bench/bench_noise.py` (label-issue quality vs cleanlab, Datalab and 10-NN) and "
         "`bench/bench_signals.py` (all signals on 100k rows).\n")


def load() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "n/a"


def header(command: str, extra: str = "") -> str:
    return (f"- Date: {date.today().isoformat()}\n- Machine: {machine()}\n- Command: `{command}`\n"
            + (f"{extra}\n" if extra else ""))


def write_subsection(title: str, body: str) -> Path:
    """Replace (or add) ``### title`` inside the label-issue section, leaving everything else alone."""
    return _common.write_subsection(HEADING, INTRO, title, body)


def library_versions() -> str:
    """Library versions that matter for the comparison."""
    out = []
    for mod in ("cleanlab", "sklearn", "pynndescent"):
        try:
            m = __import__(mod)
            out.append(f"{mod} {m.__version__}")
        except Exception:  # noqa: BLE001
            pass
    return ", ".join(out)


__all__ = ["header", "library_versions", "load", "machine", "write_subsection"]
