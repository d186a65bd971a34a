"""Clean: find the noisy rows (label errors, duplicates, outliers, junk, PII, leakage), then filter them.

The page is a list of sections drawn in order (``SECTIONS`` at the bottom): the signals summary, the
label-noise estimate, the ranked suspicious rows and the noise-injection sandbox come first; the filter
half adds itself as one more section. The sections' widgets are in ui/clean/; every number comes from
dq_core.signals, dq_core.signals.sandbox and dq_core.filtering.
"""

from __future__ import annotations

import streamlit as st

from dq_core.signals import (
    DEFAULT_SIGNALS,
    REGISTRY,
    SignalReport,
    compute_signals,
    get_signal,
    load_cached_report,
)
from dq_core.signals.label import METHODS as LABEL_METHODS
from ui import embedding_task, state
from ui.clean import sandbox, signals_view
from ui.clean.advisor import advisor_section
from ui.clean.panel import render_filter_panel
from ui.widgets import user_errors

AUTO_COMPUTE_ROWS = 3000  # below this many rows the page computes the signals without asking

ds = state.require_dataset()
ref = state.active_reference()
ws = state.workspace()

st.title("🧽 Clean")
st.caption(f"**{ds.name}** — {len(ds):,} rows" + (f" · reference **{ref.name}** — {len(ref):,} rows"
                                                  if ref is not None else " · no reference (leakage is skipped)"))


# --------------------------------------------------------------------------- settings + computing

def _settings() -> tuple[list, int]:
    # The widgets start at the signals' own defaults.
    near, outlier, label, junk, pii = (get_signal(n) for n in ("near_duplicate", "outlier", "label", "junk", "pii"))
    with st.expander("Signal settings", expanded=False):
        c1, c2, c3 = st.columns(3)
        names = c1.multiselect("Signals", list(DEFAULT_SIGNALS), default=list(DEFAULT_SIGNALS), key="cl_signals",
                               format_func=lambda n: REGISTRY[n].title or n)
        seed = int(c1.number_input("Seed (folds, approximate search)", 0, 2**31 - 1, 0, key="cl_seed"))
        thr = c2.slider("Near-duplicate threshold (cosine distance)", 0.0, 0.2, near.threshold, 0.01,
                        key="cl_near_thr",
                        help=f"Rows within this cosine distance of another row are near duplicates "
                             f"({near.threshold:g} ≈ cosine similarity ≥ {1 - near.threshold:g}). Also used for "
                             "conflicting labels and leakage.")
        z = c2.slider("Outlier threshold (robust z of the kNN distance)", 2.0, 6.0, outlier.z_threshold, 0.5,
                      key="cl_out_z")
        method = c3.selectbox("Label-issue method", LABEL_METHODS, index=LABEL_METHODS.index(label.method),
                              key="cl_label_method",
                              help="combined (default): K-fold logistic regression on embeddings averaged with "
                                   "the neighbours' labels; cleanlab: confident learning on the logistic "
                                   "regression alone; knn: plain 10-nearest-neighbour disagreement.")
        min_chars = int(c3.number_input("Junk: shortest acceptable text (chars)", 1, 100, junk.min_chars,
                                        key="cl_min_chars"))
        region = c3.text_input("PII: phone region", pii.region, max_chars=2, key="cl_phone_region",
                               help="Two-letter country code whose national phone formats the texts use (US, GB, "
                                    "DE, FR, IN, BR, JP, ...). Numbers in the international +CC form are found "
                                    "whatever the region.").strip() or pii.region
    params = {
        "near_duplicate": {"threshold": thr}, "conflicting_label": {"threshold": thr}, "leakage": {"threshold": thr},
        "outlier": {"z_threshold": z}, "label": {"method": method}, "junk": {"min_chars": min_chars},
        "pii": {"region": region},
    }
    return [get_signal(n, **params.get(n, {})) for n in names], seed


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
                             progress=lambda msg, f: bar.progress(min(max(f, 0.0), 1.0), text=f"{msg}…"))
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
    signals, seed = _settings()
    report = _report(signals, seed)
    if report is not None:
        for name, section in SECTIONS.items():
            with user_errors(name):
                section(report)
