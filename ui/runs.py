"""Cached readers of finished training runs for the Train and Report pages.

A finished run's files never change, so a run is keyed by its path plus the mtime of its metrics.json:
re-reading happens only when a run is re-run into the same folder.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dq_core import report
from dq_core.report import Comparison, RunRecord


def _stamp(path: str) -> float:
    try:
        return (Path(path) / "metrics.json").stat().st_mtime
    except OSError:
        return 0.0


@st.cache_data(max_entries=32, show_spinner=False)
def _load(path: str, stamp: float) -> RunRecord:
    return report.load_run(path)


def load_run(path: str | Path) -> RunRecord:
    return _load(str(path), _stamp(str(path)))


@st.cache_data(max_entries=16, show_spinner="Comparing runs (paired bootstrap)…")
def _compare(paths: tuple[str, ...], stamps: tuple[float, ...]) -> Comparison:
    return report.compare_runs([report.load_run(p) for p in paths])


def compare(paths: list[str | Path]) -> Comparison:
    ps = tuple(str(p) for p in paths)
    return _compare(ps, tuple(_stamp(p) for p in ps))


@st.cache_data(max_entries=8, show_spinner=False)
def _report_text(paths: tuple[str, ...], stamps: tuple[float, ...], fmt: str) -> str:
    return report.build_report(list(paths), fmt)


def report_text(paths: list[str | Path], fmt: str) -> str:
    ps = tuple(str(p) for p in paths)
    return _report_text(ps, tuple(_stamp(p) for p in ps), fmt)
