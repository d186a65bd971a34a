"""Clean: find the noisy rows (label errors, duplicates, outliers, junk, PII, leakage), then filter them.

The page is a list of sections drawn in order (``SECTIONS`` at the bottom): the signals summary, the
label-noise estimate, the ranked suspicious rows and the noise-injection sandbox come first; the filter
half adds itself as one more section. Every number comes from dq_core.signals / dq_core.signals.sandbox.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dq_core.errors import DataError
from dq_core.signals import (
    DEFAULT_SIGNALS,
    REGISTRY,
    SignalReport,
    compute_signals,
    get_signal,
    load_cached_report,
)
from dq_core.viz import signals as viz_signals
from ui import embedding_task, state
from ui.widgets import fmt_num, user_errors

AUTO_COMPUTE_ROWS = 3000  # below this many rows the page computes the signals without asking
TABLE_ROWS = 500
EXAMPLES = 5

ds = state.require_dataset()
ref = state.active_reference()
ws = state.workspace()

st.title("🧽 Clean")
st.caption(f"**{ds.name}** — {len(ds):,} rows" + (f" · reference **{ref.name}** — {len(ref):,} rows"
                                                  if ref is not None else " · no reference (leakage is skipped)"))


# --------------------------------------------------------------------------- settings + computing

def _settings() -> tuple[list, int]:
    with st.expander("Signal settings", expanded=False):
        c1, c2, c3 = st.columns(3)
        names = c1.multiselect("Signals", list(DEFAULT_SIGNALS), default=list(DEFAULT_SIGNALS), key="cl_signals",
                               format_func=lambda n: REGISTRY[n].title or n)
        seed = int(c1.number_input("Seed (folds, approximate search)", 0, 2**31 - 1, 0, key="cl_seed"))
        thr = c2.slider("Near-duplicate threshold (cosine distance)", 0.0, 0.2, 0.08, 0.01, key="cl_near_thr",
                        help="Rows within this cosine distance of another row are near duplicates (0.08 ≈ "
                             "cosine similarity ≥ 0.92). Also used for conflicting labels and leakage.")
        z = c2.slider("Outlier threshold (robust z of the kNN distance)", 2.0, 6.0, 3.0, 0.5, key="cl_out_z")
        method = c3.selectbox("Label-issue method", ["combined", "cleanlab", "knn"], key="cl_label_method",
                              help="combined (default): K-fold logistic regression on embeddings averaged with "
                                   "the neighbours' labels; cleanlab: confident learning on the logistic "
                                   "regression alone; knn: plain 10-nearest-neighbour disagreement.")
        min_chars = int(c3.number_input("Junk: shortest acceptable text (chars)", 1, 100, 5, key="cl_min_chars"))
    params = {
        "near_duplicate": {"threshold": thr}, "conflicting_label": {"threshold": thr}, "leakage": {"threshold": thr},
        "outlier": {"z_threshold": z}, "label": {"method": method}, "junk": {"min_chars": min_chars},
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
        st.info(f"The signals need sentence embeddings of the {len(ds):,} rows{extra} and a 5-fold classifier "
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


# --------------------------------------------------------------------------- sections

def _frame_with_text(report: SignalReport) -> pd.DataFrame:
    f = report.frame.copy()
    f.insert(1, "text", ds.texts.to_numpy())
    return f


def section_summary(report: SignalReport) -> None:
    st.subheader("Signals at a glance")
    f = report.frame
    counts = {k: int(f[report.issue_column(k)].sum()) for k in report.summaries}
    any_flag = int((f["n_issues"] > 0).sum())
    m = st.columns(4)
    m[0].metric("Rows flagged by any signal", f"{any_flag:,}", help="rows with at least one is_<signal>_issue")
    m[1].metric("Share flagged", f"{any_flag / max(len(f), 1):.1%}")
    lab = report.summaries.get("label") or next((s for k, s in report.summaries.items() if k.startswith("label")), None)
    if lab is not None:
        m[2].metric("Estimated noise ratio", f"{lab.get('estimated_noise_ratio', float('nan')):.1%}",
                    help="Confident learning's estimate of the share of rows whose given label is wrong "
                         "(1 − trace of the joint below).")
        m[3].metric("Label issues", f"{lab['n_issues']:,}")
    for key, why in report.skipped.items():
        st.caption(f"⏭️ **{report.titles.get(key, key)}** skipped: {why}.")
    if report.from_cache:
        st.caption("Loaded from the workspace cache (same data, signals and settings).")
    st.plotly_chart(viz_signals.flagged_bar(counts, len(f), titles=report.titles), width="stretch", key="cl_bar")

    ft = _frame_with_text(report)
    for key, summary in report.summaries.items():
        title = report.titles.get(key, key)
        n = counts[key]
        with st.expander(f"{title}: {n:,} rows flagged ({n / max(len(f), 1):.1%})"):
            cls = REGISTRY.get(key.split("(")[0])
            if cls is not None and cls.description:
                st.caption(cls.description)
            if summary.get("note"):
                st.warning(summary["note"])
            facts = {k: v for k, v in summary.items() if k not in ("n_issues", "share", "note")
                     and not isinstance(v, (dict, list))}
            if facts:
                st.caption(" · ".join(f"{k.replace('_', ' ')}: {fmt_num(v) if isinstance(v, float) else v}"
                                      for k, v in facts.items()))
            for k, v in summary.items():
                if isinstance(v, dict) and v:
                    st.caption(f"{k.replace('_', ' ')}: " + ", ".join(f"{a} {b:,}" if isinstance(b, int) else f"{a} {b}"
                                                                      for a, b in v.items()))
            if n:
                sc, ic = report.score_column(key), report.issue_column(key)
                ex = ft.loc[ft[ic]].sort_values(sc, kind="stable").head(EXAMPLES)
                cols = ["row_id", "text", "label", sc, "reasons"]
                st.dataframe(ex[cols], hide_index=True, width="stretch", key=f"cl_ex_{key}",
                             column_config={sc: st.column_config.NumberColumn("score", format="%.3f")})


def section_label(report: SignalReport) -> None:
    key = next((k for k in report.summaries if k.split("(")[0] == "label"), None)
    if key is None:
        if "label" in report.skipped:
            st.info(f"Label issues were skipped: {report.skipped['label']}.")
        return
    st.subheader("Label noise")
    summary, info = report.summaries[key], report.infos.get(key, {})
    c1, c2 = st.columns([1, 2])
    c1.metric("Estimated noise ratio", f"{summary['estimated_noise_ratio']:.1%}",
              help="noisy rows / all rows, from confident learning's joint")
    c1.metric("Rows flagged", f"{summary['n_issues']:,}")
    per_class = summary.get("issues_per_class") or {}
    if per_class:
        c1.caption("Flagged per given label: " + ", ".join(f"{c} {v:,}" for c, v in per_class.items()))
    if summary.get("unreliable_classes"):
        c1.warning(summary.get("note", "some classes are too small for a reliable label score"))
    if info.get("joint"):
        c2.plotly_chart(viz_signals.joint_heatmap(info["joint"], info["classes"], n_rows=len(ds)),
                        width="stretch", key="cl_joint")
    hint = report.agreement_hint
    if hint:
        st.markdown(f"**Crowd agreement hint** — the dataset maps `{hint['column']}` as a per-row agreement "
                    "column; rows the crowd disagreed on should get low label scores.")
        h = st.columns(4)
        h[0].metric(f"AUROC ({hint['column']} < {hint['threshold']:g})", fmt_num(hint["auroc"]),
                    help="Chance that a row the crowd disagreed on scores lower than one it agreed on "
                         "(0.5 = no better than chance).")
        h[1].metric("Spearman ρ (score vs agreement)", fmt_num(hint["spearman"]))
        h[2].metric("Low-agreement rows", f"{hint['n_low_agreement']:,}")
        h[3].metric("Mean score low / high", f"{fmt_num(hint['mean_score_low'], 2)} / {fmt_num(hint['mean_score_high'], 2)}")
        col = hint["column"] if hint["column"] in ds.frame.columns else f"meta_{hint['column']}"
        if col in ds.frame.columns:
            st.plotly_chart(viz_signals.agreement_boxes(report.frame[report.score_column(key)].to_numpy(),
                                                        ds.frame[col].to_numpy(), column=hint["column"],
                                                        threshold=hint["threshold"]),
                            width="stretch", key="cl_agree")


def section_table(report: SignalReport) -> None:
    st.subheader("Suspicious rows")
    f = _frame_with_text(report)
    keys = list(report.summaries)
    choice = st.selectbox("Rows flagged by", ["any signal", *keys], key="cl_table_signal",
                          format_func=lambda k: k if k == "any signal" else report.titles.get(k, k))
    score_cols = [report.score_column(k) for k in keys]
    if choice == "any signal":
        rows = f.loc[f["n_issues"] > 0].copy()
        rows["_min"] = rows[score_cols].min(axis=1)
        rows = rows.sort_values(["n_issues", "_min"], ascending=[False, True], kind="stable")
    else:
        rows = f.loc[f[report.issue_column(choice)]].sort_values(report.score_column(choice), kind="stable")
    st.caption(f"{len(rows):,} rows" + (f", the {TABLE_ROWS} most suspicious shown" if len(rows) > TABLE_ROWS else "")
               + ". Scores are in [0, 1], low = suspicious.")
    cols = ["row_id", "text", "label"]
    if "suggested_label" in f.columns:
        cols += ["suggested_label", "suggested_label_prob"]
    cols += [*score_cols, "reasons"]
    config = {c: st.column_config.ProgressColumn(c.removesuffix("_score").replace("_", " "), min_value=0.0,
                                                 max_value=1.0, format="%.2f") for c in score_cols}
    config["suggested_label_prob"] = st.column_config.NumberColumn("suggested prob", format="%.2f")
    config["text"] = st.column_config.TextColumn("text", width="large")
    st.dataframe(rows[cols].head(TABLE_ROWS), hide_index=True, width="stretch", height=420, key="cl_table",
                 column_config=config)
    st.download_button("⬇ All signals (CSV)", data=lambda: report.frame.to_csv(index=False).encode("utf-8"),
                       file_name=f"{ds.name.replace(':', '_')}_signals.csv", mime="text/csv", key="cl_download")


def section_sandbox(report: SignalReport) -> None:
    from dq_core.signals.sandbox import MODES, inject_label_noise, score_detection
    from dq_core.space.embed import cached_dataset_embeddings

    st.subheader("Noise-injection sandbox")
    st.caption("Flip a known share of labels, run the label detectors on the noisy copy, and see how many of "
               "the flips they find. Rows that were already mislabelled count as false alarms, so precision "
               "here is a lower bound. Your data is not changed.")
    if len(ds.classes) < 2:
        st.info("The sandbox needs at least two classes.")
        return
    c1, c2, c3 = st.columns(3)
    rate = c1.slider("Share of labels to flip", 0.01, 0.5, 0.1, 0.01, key="cl_sb_rate")
    mode = c2.radio("How", MODES, key="cl_sb_mode", horizontal=False,
                    format_func={"uniform": "uniformly (to any other class)",
                                 "class_conditional": "class-conditional (seeded noise matrix)",
                                 "pairs": "one class into another"}.get)
    seed = int(c3.number_input("Seed", 0, 2**31 - 1, 1, key="cl_sb_seed"))
    pairs = None
    if mode == "pairs":
        src = c2.selectbox("From class", ds.classes, key="cl_sb_from")
        dst = c2.selectbox("To class", [c for c in ds.classes if c != src], key="cl_sb_to")
        pairs = {src: dst}
    if not st.button("Inject noise and detect", key="cl_sb_run", icon="🧪"):
        res = st.session_state.get("cl_sb_result")
        if res is None or res["dataset"] != ds.fingerprint:
            return
    else:
        emb = cached_dataset_embeddings(ds, workspace=ws)
        if emb is None:
            raise DataError("compute the signals first: the sandbox reuses their embeddings")
        noisy = inject_label_noise(ds.labels, rate=rate, mode=mode, seed=seed, pairs=pairs)
        noisy_ds = ds.with_labels(noisy.labels, name=f"{ds.name} + {rate:.0%} {mode} noise")
        detectors = {"ours (combined)": get_signal("label"), "cleanlab (LR + CL)": get_signal("label", method="cleanlab"),
                     "10-NN disagreement": get_signal("label", method="knn")}
        bar = st.progress(0.0, text="Detecting…")
        rep = compute_signals(noisy_ds, list(detectors.values()), embeddings=emb.vectors, workspace=ws, seed=seed,
                              progress=lambda m, f: bar.progress(min(max(f, 0.0), 1.0), text=f"{m}…"))
        bar.empty()
        scores = {}
        for name, sig in detectors.items():
            d = score_detection(noisy.flipped, rep.frame[f"is_{sig.column}_issue"], rep.frame[f"{sig.column}_score"])
            scores[name] = d.to_dict()
        found = rep.frame["is_label_issue"].to_numpy()
        examples = pd.DataFrame({"row_id": ds.row_ids, "text": ds.texts.to_numpy(), "original": noisy.original,
                                 "injected": noisy.labels, "suggested": rep.frame["suggested_label"].to_numpy(),
                                 "flagged": found})[noisy.flipped]
        res = {"dataset": ds.fingerprint, "noise": noisy.to_dict(), "scores": scores,
               "transitions": noisy.transitions(), "examples": examples}
        st.session_state["cl_sb_result"] = res
    n = res["noise"]
    st.markdown(f"**{n['n_flipped']:,}** of {n['n_rows']:,} labels flipped ({n['mode']}, seed {n['seed']}).")
    table = pd.DataFrame(res["scores"]).T[["n_flagged", "n_found", "precision", "recall", "f1", "auroc",
                                           "average_precision"]]
    st.dataframe(table.style.format({c: "{:.3f}" for c in ("precision", "recall", "f1", "auroc", "average_precision")}
                                    | {c: "{:,.0f}" for c in ("n_flagged", "n_found")}),
                 width="stretch", key="cl_sb_table")
    st.plotly_chart(viz_signals.detection_bars(res["scores"]), width="stretch", key="cl_sb_bars")
    c1, c2 = st.columns([1, 2])
    with c1:
        st.caption("Flips injected (original → noisy)")
        st.dataframe(res["transitions"], width="stretch", key="cl_sb_transitions")
    with c2:
        ex = res["examples"]
        st.caption(f"Flipped rows: {int(ex['flagged'].sum()):,} found by ours, "
                   f"{int((ex['suggested'] == ex['original']).sum()):,} with the original label suggested back")
        st.dataframe(ex.head(200), hide_index=True, width="stretch", height=260, key="cl_sb_examples")


# --------------------------------------------------------------------------- page

def section_filter(report: SignalReport) -> None:
    """The second half: what-if filtering, review, label-next and export (ui/filter_panel.py)."""
    from ui.filter_panel import render_filter_panel

    render_filter_panel(ds, ref, report.frame, signal_keys=list(report.columns), seed=seed)


SECTIONS = [section_summary, section_label, section_table, section_sandbox, section_filter]

with user_errors("The signals"):
    signals, seed = _settings()
    report = _report(signals, seed)
    if report is not None:
        for section in SECTIONS:
            with user_errors(section.__name__.removeprefix("section_").capitalize()):
                section(report)
