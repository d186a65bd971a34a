"""The Clean page's first half: the signals at a glance, the label-noise estimate and the suspicious rows.

Everything shown is read from a :class:`dq_core.signals.SignalReport`.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dq_app.ui.widgets import fmt_num
from dq_core.data.dataset import TextDataset
from dq_core.signals import REGISTRY, SignalReport, find_signal_key
from dq_core.signals.flagged import flag_counts, most_suspicious
from dq_core.viz import signals as viz_signals

TABLE_ROWS = 500
EXAMPLES = 5


def frame_with_text(ds: TextDataset, report: SignalReport) -> pd.DataFrame:
    f = report.frame.copy()
    f.insert(1, "text", ds.texts.to_numpy())
    return f


def summary(ds: TextDataset, report: SignalReport) -> None:
    st.subheader("Signals at a glance")
    flagged = flag_counts(report)
    m = st.columns(4)
    m[0].metric("Rows flagged by any signal", f"{flagged.any_signal:,}", help="rows with at least one is_<signal>_issue")
    m[1].metric("Share flagged", f"{flagged.share(flagged.any_signal):.1%}")
    label_key = find_signal_key(report.summaries, "label")
    if label_key is not None:
        lab = report.summaries[label_key]
        m[2].metric("Estimated noise ratio", f"{lab.get('estimated_noise_ratio', float('nan')):.1%}",
                    help="Confident learning's estimate of the share of rows whose given label is wrong "
                         "(1 − trace of the joint below).")
        m[3].metric("Label issues", f"{lab['n_issues']:,}")
    for key, why in report.skipped.items():
        st.caption(f"⏭️ **{report.titles.get(key, key)}** skipped: {why}.")
    if report.from_cache:
        st.caption("Loaded from the workspace cache (same data, signals and settings).")
    st.plotly_chart(viz_signals.flagged_bar(flagged.per_signal, flagged.n_rows, titles=report.titles), width="stretch",
                    key="cl_bar")

    ft = frame_with_text(ds, report)
    for key, facts_of in report.summaries.items():
        title = report.titles.get(key, key)
        n = flagged.per_signal[key]
        with st.expander(f"{title}: {n:,} rows flagged ({flagged.share(n):.1%})"):
            cls = REGISTRY.get(key.split("(", 1)[0])
            if cls is not None and cls.description:
                st.caption(cls.description)
            if facts_of.get("note"):
                st.warning(facts_of["note"])
            facts = {k: v for k, v in facts_of.items() if k not in ("n_issues", "share", "note")
                     and not isinstance(v, (dict, list))}
            if facts:
                st.caption(" · ".join(f"{k.replace('_', ' ')}: {fmt_num(v) if isinstance(v, float) else v}"
                                      for k, v in facts.items()))
            for k, v in facts_of.items():
                if isinstance(v, dict) and v:
                    st.caption(f"{k.replace('_', ' ')}: " + ", ".join(f"{a} {b:,}" if isinstance(b, int) else f"{a} {b}"
                                                                      for a, b in v.items()))
            if n:
                sc = report.score_column(key)
                ex = ft.iloc[most_suspicious(report, key)[:EXAMPLES]]
                cols = ["row_id", "text", "label", sc, "reasons"]
                st.dataframe(ex[cols], hide_index=True, width="stretch", key=f"cl_ex_{key}",
                             column_config={sc: st.column_config.NumberColumn("score", format="%.3f")})


def label_noise(ds: TextDataset, report: SignalReport) -> None:
    key = find_signal_key(report.summaries, "label")
    if key is None:
        if "label" in report.skipped:
            st.info(f"Label issues were skipped: {report.skipped['label']}.")
        return
    st.subheader("Label noise")
    facts, info = report.summaries[key], report.infos.get(key, {})
    c1, c2 = st.columns([1, 2])
    c1.metric("Estimated noise ratio", f"{facts['estimated_noise_ratio']:.1%}",
              help="noisy rows / all rows, from confident learning's joint")
    c1.metric("Rows flagged", f"{facts['n_issues']:,}")
    per_class = facts.get("issues_per_class") or {}
    if per_class:
        c1.caption("Flagged per given label: " + ", ".join(f"{c} {v:,}" for c, v in per_class.items()))
    if facts.get("unreliable_classes"):
        c1.warning(facts.get("note", "some classes are too small for a reliable label score"))
    if info.get("joint"):
        c2.plotly_chart(viz_signals.joint_heatmap(info["joint"], info["classes"], n_rows=len(ds)),
                        width="stretch", key="cl_joint")
    hint = report.agreement_hint
    if hint:
        low = f"`{hint['column']}` < {hint['threshold']:g}"
        st.markdown(f"**Crowd agreement hint** — the dataset maps `{hint['column']}` as a per-row agreement "
                    f"column; rows the crowd disagreed on (below {hint['threshold']:g}) should get low label "
                    "scores.")
        # short labels, the rest in help: the column's name in the label cut it at 1280 px
        h = st.columns(4)
        h[0].metric("AUROC", fmt_num(hint["auroc"]),
                    help=f"Chance that a row the crowd disagreed on ({low}) scores lower than one it agreed "
                         "on (0.5 = no better than chance).")
        h[1].metric("Spearman ρ", fmt_num(hint["spearman"]),
                    help=f"Spearman rank correlation of the label score with `{hint['column']}`.")
        h[2].metric("Low-agreement rows", f"{hint['n_low_agreement']:,}")
        h[3].metric("Mean score low / high", f"{fmt_num(hint['mean_score_low'], 2)} / {fmt_num(hint['mean_score_high'], 2)}")
        col = hint["column"] if hint["column"] in ds.frame.columns else f"meta_{hint['column']}"
        if col in ds.frame.columns:
            st.plotly_chart(viz_signals.agreement_boxes(report.frame[report.score_column(key)].to_numpy(),
                                                        ds.frame[col].to_numpy(), column=hint["column"],
                                                        threshold=hint["threshold"]),
                            width="stretch", key="cl_agree")


def suspicious_rows(ds: TextDataset, report: SignalReport) -> None:
    st.subheader("Suspicious rows")
    f = frame_with_text(ds, report)
    keys = list(report.summaries)
    choice = st.selectbox("Rows flagged by", ["any signal", *keys], key="cl_table_signal",
                          format_func=lambda k: k if k == "any signal" else report.titles.get(k, k))
    score_cols = [report.score_column(k) for k in keys]
    rows = f.iloc[most_suspicious(report, None if choice == "any signal" else choice)]
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
