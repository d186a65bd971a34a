"""Clean: find the noisy rows (label errors, duplicates, outliers, junk, PII, leakage), then filter them.

The page is a list of sections drawn in order (``SECTIONS`` at the bottom): the signals summary, the
label-noise estimate, the ranked suspicious rows and the noise-injection sandbox come first; the filter
half adds itself as one more section. The sections' widgets are in ui/clean/; every number comes from
dq_core.signals, dq_core.signals.sandbox and dq_core.filtering.
"""

from __future__ import annotations

import streamlit as st

from dq_app.ui import embedding_task, state
from dq_app.ui.clean import sandbox, signals_view
from dq_app.ui.clean.advisor import advisor_section
from dq_app.ui.clean.panel import render_filter_panel
from dq_app.ui.clean.signal_settings import signal_settings
from dq_app.ui.widgets import bar_progress, pair_caption, user_errors
from dq_core.signals import SignalReport, compute_signals, get_signal, load_cached_report

AUTO_COMPUTE_ROWS = 3000  # below this many rows the page computes the signals without asking

ds = state.require_dataset()
ref = state.active_reference()
ws = state.workspace()

st.title("🧽 Clean")
pair_caption(ds, ref, without_reference=" · no reference (leakage is skipped)")


# --------------------------------------------------------------------------- settings + computing

def _report(signals: list, seed: int) -> SignalReport | None:
    """The cached report, or computed now (small data, or on request) with a progress bar."""
    if not signals:
        st.info("Choose at least one signal in the settings.")
        return None
    hit = load_cached_report(ds, signals, workspace=ws, reference=ref, seed=seed)
    if hit is not None:
        return hit
    if len(ds) > AUTO_COMPUTE_ROWS and not st.session_state.get("cl_compute_clicked"):
        extra = f" and the {len(ref):,} reference rows" if ref is not None else ""
        folds = get_signal("label").folds
        st.info(f"The signals need sentence embeddings of the {len(ds):,} rows{extra} and a {folds}-fold classifier "
                "(a few minutes on CPU the first time, less if Coverage or Shift embedded them already; "
                "cached in the workspace afterwards).")
        if st.button("Compute the signals", key="cl_compute", icon="🔎"):
            st.session_state["cl_compute_clicked"] = True
            st.rerun()
        return None
    running = embedding_task.current(ds, ref, ws)
    if running is not None and not running.done and not running.failed:
        # The app is embedding these texts in the background already: wait for it, not embed them twice.
        st.info("The signals start as soon as the sentence embeddings the app is computing in the background "
                "are ready.")
        embedding_task.show_progress(ds, ref, ws, key="cl_embed")
        return None
    bar = st.progress(0.0, text="Computing the signals…")
    report = compute_signals(ds, signals, reference=ref, workspace=ws, seed=seed,
                             progress=bar_progress(bar))
    bar.empty()
    return report


# --------------------------------------------------------------------------- page

SECTIONS = {  # name (for errors) -> draws the section from the report
    "Summary": lambda report: signals_view.summary(ds, report),
    "Label": lambda report: signals_view.label_noise(ds, report),
    "Table": lambda report: signals_view.suspicious_rows(ds, report),
    "Sandbox": lambda report: sandbox.sandbox(ds, ws),
    "Advisor": lambda report: advisor_section(ds, ref, signal_keys=list(report.columns), seed=seed),
    # the second half: what-if filtering, review, label-next and export
    "Filter": lambda report: render_filter_panel(ds, ref, report.frame, signal_keys=list(report.columns), seed=seed),
}

with user_errors("The signals"):
    signals, seed = signal_settings(ds)  # kept per dataset across page switches
    report = _report(signals, seed)
    if report is not None:
        for name, section in SECTIONS.items():
            with user_errors(name):
                section(report)
