"""Report: one run's evaluation, or two or more runs compared, with HTML / Markdown / JSON downloads."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dq_app.ui import navigation, state
from dq_app.ui import runs as cached_runs
from dq_app.ui.story import clean_recipe, story_download
from dq_app.ui.widgets import fmt_num, user_errors
from dq_core.report import RunRecord, has_curves
from dq_core.report.content import comparison_table, training_rows_text
from dq_core.training import jobs
from dq_core.viz import training as vt

ws = state.workspace()
active = state.active_dataset()

st.title("📝 Report")

with user_errors("Listing the runs"):
    finished = [r for r in jobs.list_runs(ws.runs_dir()) if r.state == jobs.SUCCEEDED]
if not finished:
    st.info("No finished run yet. Start one on **Train**.")
    st.page_link(navigation.page("train"), label="Go to Train", icon="🏋️")
    st.stop()

if active is not None and st.toggle(f"Only runs on the active dataset ({active.name})", value=False, key="rp_only_active"):
    finished = [r for r in finished
                if r.config.get("data", {}).get("dataset_fingerprint") == active.fingerprint] or finished
ids = [r.run_id for r in finished]
by_id = {r.run_id: r for r in finished}
default = [i for i in st.session_state.get("report_runs", []) if i in by_id] or ids[:1]
picked = st.multiselect("Runs — pick two or more to compare; the first is the baseline", ids, default=default,
                        key="rp_runs", format_func=lambda i: f"{by_id[i].name} · {i}")
if not picked:
    st.info("Pick at least one run.")
    st.stop()
paths = [str(by_id[i].path) for i in picked]


def show_run(rec: RunRecord, key: str) -> None:
    ev = rec.evaluation
    h = rec.headline()
    cols = st.columns(5)
    for col, (label, metric) in zip(cols, [("Accuracy", "accuracy"), ("Macro-F1", "macro_f1"),
                                           ("Weighted-F1", "weighted_f1"), ("ROC-AUC (macro, OvR)", "roc_auc_macro"),
                                           ("ECE", "ece")], strict=True):
        col.metric(label, fmt_num(h[metric]))
    m = rec.metrics
    split = m.get("split", {})
    st.caption(f"{m.get('trainer')} · test: {m.get('test_source')} ({ev.n:,} rows) · training rows: "
               f"{training_rows_text(split)} · {m.get('duration_seconds', 0):.0f} s")
    for note in m.get("notes", []):
        st.caption(f"ℹ️ {note}")
    st.markdown("**Per class**")
    pc = pd.DataFrame(ev.per_class).T[["precision", "recall", "f1", "support", "roc_auc"]]
    st.dataframe(pc.style.format({"precision": "{:.3f}", "recall": "{:.3f}", "f1": "{:.3f}", "support": "{:,.0f}",
                                  "roc_auc": "{:.3f}"}), width="stretch", key=f"{key}_pc")
    c1, c2 = st.columns(2)
    norm = c1.toggle("Normalise rows", value=False, key=f"{key}_norm")
    c1.plotly_chart(vt.confusion_matrix_figure(ev, normalized=norm), width="stretch", key=f"{key}_cm")
    c2.plotly_chart(vt.reliability_figure(ev), width="stretch", key=f"{key}_rel")
    if has_curves(rec.history):
        st.plotly_chart(vt.training_curves_figure(rec.history, title="Training curves"), width="stretch",
                        key=f"{key}_curves")
    if ev.slices:
        col = st.selectbox("Metrics per slice of", list(ev.slices), key=f"{key}_slice")
        c1, c2 = st.columns([2, 1])
        c1.plotly_chart(vt.slice_figure(ev.slices[col], col), width="stretch", key=f"{key}_slice_fig")
        c2.dataframe(ev.slices[col], hide_index=True, width="stretch", key=f"{key}_slice_table")
    st.markdown(f"**Misclassified test rows** ({ev.n_misclassified:,}; "
                "most confident first)")
    st.dataframe(ev.misclassified, hide_index=True, width="stretch", height=280, key=f"{key}_mis",
                 column_config={"confidence": st.column_config.ProgressColumn("confidence", min_value=0.0,
                                                                              max_value=1.0, format="%.2f")})
    if rec.model_dir:
        st.markdown("Model folder — `transformers.pipeline(\"text-classification\", model=...)` loads it:")
        st.code(str(rec.model_dir), language=None)


with user_errors("Building the report"):
    if len(paths) == 1:
        rec = cached_runs.load_run(paths[0])
        st.subheader(rec.name)
        show_run(rec, "rp_single")
    else:
        cmp = cached_runs.compare(paths)
        st.subheader("Comparison")
        st.caption(f"Baseline: **{cmp.names[0]}** — deltas are each later run minus the baseline.")
        table = comparison_table(cmp)  # the text the HTML and Markdown reports show: counts whole, rates .4f
        st.dataframe(table, width="stretch", key="rp_cmp_table",
                     column_config={c: st.column_config.TextColumn(c, alignment="right") for c in table.columns})
        c1, c2 = st.columns(2)
        c1.plotly_chart(vt.metric_bars_figure(cmp.table), width="stretch", key="rp_cmp_bars")
        records = [cached_runs.load_run(p) for p in paths]
        c2.plotly_chart(vt.per_class_f1_figure({n: r.evaluation for n, r in zip(cmp.names, records, strict=True)}),
                        width="stretch", key="rp_cmp_f1")
        st.markdown("**Is the difference real?** A paired bootstrap over the test rows both runs scored:")
        ok = []
        for d in cmp.differences:
            if d.result is None:
                st.warning(f"{d.metric}: {d.note}")
                continue
            r = d.result
            verdict = "a real difference" if r.significant else "within noise"
            st.markdown(f"- **{d.metric}**: {d.b} − {d.a} = **{r.delta:+.4f}**, {r.confidence:.0%} interval "
                        f"[{r.ci_low:+.4f}, {r.ci_high:+.4f}] on {r.n:,} shared rows → *{verdict}*"
                        + (f" ({d.note})" if d.note else ""))
            ok.append((f"{d.metric}: {d.b}", r))
        if ok:
            st.plotly_chart(vt.bootstrap_figure(ok), width="stretch", key="rp_cmp_boot")
        tabs = st.tabs([n for n in cmp.names])
        for i, (tab, rec) in enumerate(zip(tabs, records, strict=True)):
            with tab:
                show_run(rec, f"rp_run{i}")

    st.subheader("Download")
    c1, c2, c3 = st.columns(3)
    stem = "report_" + "_vs_".join(picked)[:80]
    c1.download_button("HTML (self-contained)", data=lambda: cached_runs.report_text(paths, "html"),
                       file_name=f"{stem}.html", mime="text/html", key="rp_dl_html")
    c2.download_button("Markdown", data=lambda: cached_runs.report_text(paths, "md"), file_name=f"{stem}.md",
                       mime="text/markdown", key="rp_dl_md")
    c3.download_button("JSON", data=lambda: cached_runs.report_text(paths, "json"), file_name=f"{stem}.json",
                       mime="application/json", key="rp_dl_json")

st.subheader("The story")
if active is None:
    st.info("Load a dataset to download the story: data, issues, recipe and these runs in one document.")
else:
    story_ref = state.active_reference()
    st.caption(f"One document from data to model: **{active.name}**"
               + (" with its reference" if story_ref is not None else "")
               + ", the Clean page's working recipe when there is one, and the runs picked above.")
    with user_errors("The story"):
        story_download(active, story_ref, key="rp_story", label="Download the story",
                       recipe=clean_recipe(ws, active), runs=paths, workspace=ws)
