"""Shift: how far the dataset (P) is from the reference (Q), per view, whether that is noise, and what moves it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from dq_app.ui import cached_shift, embedding_task, navigation, state
from dq_app.ui.widgets import fmt_num, user_errors
from dq_core import settings
from dq_core.metrics.shift import DIVERGENCES, VERDICTS, ShiftConfig, format_p
from dq_core.metrics.shift.views import metadata_candidates
from dq_core.space.embed_pair import pair_ready, pair_rows
from dq_core.viz import shift as viz_shift

# Below this many texts to embed, the page embeds without asking (~10 s on CPU); above, on a click.
WAIT_SECONDS = 20.0  # how long the page blocks on small sets' embeddings before it polls for them instead
VERDICT_ICONS = {"drift": "🔴", "small shift": "🟠", "inconclusive": "⚪", "no drift": "🟢",
                 "too few rows": "⚪", "skipped": "⚪"}

ds = state.require_dataset()
ref = state.active_reference()

st.title("📐 Shift")
if ref is None:
    st.info("Shift compares the dataset with a **reference** (e.g. the data the model will see in production). "
            "Choose a reference on **Load**.")
    st.page_link(navigation.page("load"), label="Go to Load", icon="📂")
    st.stop()
st.caption(f"Dataset (P) **{ds.name}** — {len(ds):,} rows · reference (Q) **{ref.name}** — {len(ref):,} rows. "
           "Each view compares the two as histograms on shared bins: JS divergence (base 2, 0 = same, "
           "1 = nothing in common) with a 95% bootstrap interval, a permutation p-value (how often shuffling "
           "which set each row belongs to gives as large a value) and a verdict against a threshold.")

ws = state.workspace()
with st.expander("Settings", expanded=False):
    c1, c2, c3 = st.columns(3)
    candidates = metadata_candidates(ds, ref)
    picked = c1.multiselect("Metadata columns to compare", candidates, key="sh_meta",
                            help="Any column present in both sets; numeric ones are binned at quantiles.",
                            placeholder="none" if candidates else "no column is in both sets")
    vocab = c1.number_input("Vocabulary size (top-V words)", 10, 5000, 500, step=50, key="sh_vocab")
    n_boot = c2.select_slider("Bootstrap resamples", [0, 100, 200, 500, 1000, 2000], value=1000, key="sh_boot")
    n_perm = c2.select_slider("Permutations", [0, 100, 200, 500, 1000, 2000], value=1000, key="sh_perm")
    seed = c2.number_input("Seed", 0, 2**31 - 1, 0, key="sh_seed")
    test = c3.selectbox("Test statistic (p-value and verdict)", list(DIVERGENCES), key="sh_test",
                        index=list(DIVERGENCES).index(ShiftConfig.test),
                        format_func=lambda n: f"{n} — {DIVERGENCES[n].description}")
    threshold = c3.number_input("Threshold (0 = the test's default)", 0.0, 10.0, 0.0, step=0.005, format="%.3f",
                                key="sh_thr", help="; ".join(f"{n}: {d.threshold:g}" for n, d in DIVERGENCES.items()))
    k = c3.number_input("Clusters k (0 = automatic, as on Coverage)", 0, 60, 0, key="sh_k",
                        help="With the same k (and automatic = automatic) the cluster ids are the Coverage "
                             "map's cluster ids.")

with user_errors("Shift"):
    config = ShiftConfig(n_bootstrap=int(n_boot), n_permutations=int(n_perm), seed=int(seed), test=test,
                         threshold=float(threshold) or None, vocab_size=int(vocab), n_clusters=int(k) or None)

    # Embeddings: the workspace cache, filled by the one background task the app shares across pages;
    # small sets are waited for in the page, large ones (minutes on CPU) embed on request, in the background.
    ready = pair_ready(ds, ref, ws)
    asked = f"sh_embed_asked_{ds.fingerprint[:12]}_{ref.fingerprint[:12]}"  # per pair of datasets
    # What a view without embeddings tells the user to do: point at the button only where it is drawn.
    needs = "needs the sentence embeddings: they are being computed in the background (progress above)"
    if not ready:
        auto_rows = settings.get("DQ_SHIFT_AUTO_EMBED_ROWS")
        n_texts = pair_rows(ds, ref)
        task = embedding_task.current(ds, ref, ws)
        if (task is not None and not task.failed) or n_texts <= auto_rows or st.session_state.get(asked):
            # Small sets: seconds, so wait and draw the page once; large ones: never block the other views.
            ready = embedding_task.wait(ds, ref, ws, timeout=WAIT_SECONDS if n_texts <= auto_rows else 0)
            if not ready:
                st.info(f"Embedding the texts of {n_texts:,} rows in the background: the embedding-cluster view "
                        "and the domain classifier appear when they are done. The other views are below already.")
                embedding_task.show_progress(ds, ref, ws, key="sh_embed_progress")
        else:
            st.info(f"The embedding-cluster view and the domain classifier need sentence embeddings of the "
                    f"texts of {n_texts:,} rows (a few minutes on CPU, then cached for every page). The other "
                    "views are below already.")
            needs = "needs the sentence embeddings: use **Embed the texts** above"
            if st.button("Embed the texts", key="sh_embed", icon="🧮"):
                st.session_state[asked] = True
                st.rerun()

    res = cached_shift.shift_result(ds, ref, tuple(sorted(config.__dict__.items())), tuple(picked), ready,
                                    str(ws.root))
    views = res.views

    st.subheader("Summary")
    per_row = min(len(views), 4)
    for i, v in enumerate(views.values()):
        if i % per_row == 0:  # a new row of cards, so cards read (and test) in view order
            cards = st.columns(per_row)
        with cards[i % per_row].container(border=True):
            st.markdown(f"**{v.title}**")
            if v.skipped:
                st.metric("JS divergence", "skipped")
                st.caption(needs if v.name == "embedding_clusters" and not ready else v.skipped)
                continue
            st.metric("JS divergence", f"{v.js:.4f}",
                      help=f"KL(P‖Q) {v.kl:.4f} · KL(Q‖P) {v.kl_reverse:.4f} bits · PSI {v.scores['psi']:.3f} · "
                           f"total variation {v.scores['total_variation']:.3f}")
            ci = f"[{v.js_ci[0]:.4f}, {v.js_ci[1]:.4f}]" if v.js_ci else "n/a"
            p = format_p(v.p_value, v.n_permutations) if v.p_value is not None else "n/a"
            st.markdown(f"95% interval **{ci}**  \np-value **{p}**  \n"
                        f"{VERDICT_ICONS.get(v.verdict, '')} **{v.verdict}**",
                        help=f"{VERDICTS[v.verdict]}; {v.test} {fmt_num(v.statistic, 4)} vs threshold "
                             f"{v.threshold:g}")
    dc = res.domain_classifier
    with st.container(border=True):
        d1, d2 = st.columns([1, 3])
        if dc.auc is None:
            d1.metric("Domain classifier ROC-AUC", "n/a")
            d2.caption(needs if not ready else dc.skipped or "")
        else:
            d1.metric("Domain classifier ROC-AUC", f"{dc.auc:.3f}",
                      help="Cross-validated ROC-AUC of a logistic regression telling dataset rows from reference "
                           "rows by their embeddings: 0.5 = indistinguishable, 1 = fully separable.")
            std = f" ± {dc.auc_std:.3f} across {len(dc.fold_aucs)} folds" if dc.auc_std is not None else ""
            d2.markdown(f"**{dc.verdict}**{std}. " + " ".join(dc.notes))
    st.plotly_chart(viz_shift.views_overview(res), width="stretch", key="sh_overview")

    st.subheader("Views")
    tabs = st.tabs([v.title for v in views.values()])
    for tab, (name, v) in zip(tabs, views.items(), strict=True):
        with tab:
            for note in v.notes:
                st.caption(f"ℹ️ {note}")
            if v.skipped:
                st.warning(v.skipped)
                continue
            st.markdown(v.summary())
            if name == "embedding_clusters" and res.clusters:
                if (Path(__file__).parent / "coverage.py").exists():
                    st.page_link(navigation.page("coverage"), label="See these clusters on the Coverage map", icon="🗺️")
            g1, g2 = st.columns(2)
            g1.plotly_chart(viz_shift.histogram_pair(v), width="stretch", key=f"sh_hist_{name}")
            g2.plotly_chart(viz_shift.attribution_bar(v), width="stretch", key=f"sh_attr_{name}")
            table = v.attribution().sort_values("contribution", ascending=False, kind="stable")
            first = ["bin", *[c for c in ("top_terms", "dataset_examples", "reference_examples") if c in table]]
            table = table[first + [c for c in table.columns if c not in first]]
            fmt = {c: "{:.2%}" for c in ("dataset_share", "reference_share", "share_of_js")}
            fmt |= {"difference": "{:+.2%}", "contribution": "{:.5f}", "signed_contribution": "{:+.5f}",
                    "dataset_count": "{:,}", "reference_count": "{:,}"}
            st.caption(f"Each bin's part of the JS divergence ({len(table):,} bins, largest first; "
                       f"counts are {v.unit}).")
            st.dataframe(table.style.format(fmt), hide_index=True, width="stretch",
                         height=min(300, 40 + 35 * len(table)), key=f"sh_table_{name}")
            with st.expander("Observed value vs chance (permutations and bootstrap)"):
                st.plotly_chart(viz_shift.resampling_figure(v), width="stretch", key=f"sh_resample_{name}")
                if v.null_median is not None:
                    st.caption(f"Median {v.test} when the two sets are shuffled together: {v.null_median:.4f} "
                               f"(observed {v.statistic:.4f}).")

    st.subheader("Domain classifier: the most distinctive rows")
    if dc.auc is None:
        st.info(f"The domain classifier {needs}."
                if not ready else dc.skipped or "The domain classifier did not run.")
    else:
        st.plotly_chart(viz_shift.domain_scores(dc), width="stretch", key="sh_domain_hist")
        e1, e2 = st.columns(2)
        for col, title, rows in ((e1, "Most dataset-like dataset rows", dc.distinctive_dataset),
                                 (e2, "Most reference-like reference rows", dc.distinctive_reference)):
            with col:
                st.markdown(f"**{title}**")
                st.dataframe(pd.DataFrame(list(rows)), hide_index=True, width="stretch",
                             key=f"sh_dc_{title[:20]}", column_config={
                                 "p_dataset": st.column_config.NumberColumn("P(dataset)", format="%.3f")})
