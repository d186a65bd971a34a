"""Cached readers of finished training runs for the Train and Report pages, and which run Train details.

A finished run's files never change, so a run is keyed by its path plus the mtime of its metrics.json:
re-reading happens only when a run is re-run into the same folder.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dq_core import report
from dq_core.report import Comparison, RunRecord
from dq_core.training import jobs


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


def detail_choice(ids: list[str], *, current: str | None, seen: set[str] | None, started: str | None = None,
                  preferred: list[str] = ()) -> str:
    """The finished run to detail, of ``ids`` (newest first; not empty).

    A run that finished since the last look (not in ``seen``; nothing is new on the first look) is the
    one to show: the run started in this session if it is among them, else the newest. Otherwise the
    current pick stays while it exists; without one, the newest of ``preferred`` (the active dataset's
    runs), else the newest run.
    """
    new = [i for i in ids if seen is not None and i not in seen]
    if new:
        return started if started in new else new[0]
    if current in ids:
        return current
    return next((i for i in ids if i in preferred), ids[0])


DETAIL_KEY = "tr_detail"  # the Run details selectbox
_PICK, _SEEN = "tr_detail_pick", "tr_detail_seen"  # session state that outlives the widget (page switches)


def select_detail_run(finished: list[jobs.RunInfo], *, fingerprint: str, started: str | None) -> str:
    """Set the Run details selectbox (``DETAIL_KEY``) to the run to show before the page draws it; returns it.

    The pick is kept per dataset, and in session state beside the widget's key, which Streamlit drops
    when the page is left; a run that finishes meanwhile takes over (see :func:`detail_choice`).
    """
    ids = [r.run_id for r in finished]
    widget = st.session_state.get(DETAIL_KEY)  # the user's pick on this rerun, if the widget was drawn
    kept = st.session_state.get(_PICK)
    current = widget if widget in ids else (kept[1] if kept and kept[0] == fingerprint else None)
    ours = [r.run_id for r in finished if r.config.get("data", {}).get("dataset_fingerprint") == fingerprint]
    seen = st.session_state.get(_SEEN)
    pick = detail_choice(ids, current=current, seen=None if seen is None else set(seen),
                         started=started, preferred=ours)
    st.session_state[_SEEN] = ids
    st.session_state[_PICK] = (fingerprint, pick)
    st.session_state[DETAIL_KEY] = pick
    return pick
