"""Coverage: where the data lives on a map, and which parts of the reference it does not cover."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dq_app.ui import coverage_selection as selection
from dq_app.ui import coverage_work as work
from dq_app.ui import embedding_task, navigation, state
from dq_app.ui.map_selection import selected_positions, with_selection
from dq_app.ui.widgets import fmt_num, pair_caption, user_errors
from dq_core import settings
from dq_core.metrics.coverage import DEFAULT_MIN_ROWS, DEFAULT_PERCENTILE
from dq_core.space.embed_model import model_label
from dq_core.space.embed_pair import pair_key, pair_rows
from dq_core.space.projection import warm_umap_in_background
from dq_core.util.wording import counted
from dq_core.viz import coverage as vc

ds = state.require_dataset()
ref = state.active_reference()
ws = state.workspace()

st.title("🗺️ Coverage")
pair_caption(ds, ref)
# Compile umap-learn's numba code now, in the server process, while the embeddings are computed.
if work.map_method() == "umap" and settings.get("DQ_WARM_UMAP"):
    warm_umap_in_background()

if ref is None:
    st.info("Coverage compares the dataset with a **reference** set (what the model will meet). Choose a "
            "reference on **Load**; until then the map below shows the dataset alone.")
    st.page_link(navigation.page("load"), label="Go to Load", icon="📂")
elif len(ref) == 0:
    st.error("The reference has no rows; load a reference with text rows.")
    st.stop()

key = pair_key(ds, ref)


# ------------------------------------------------------------------ 1. embeddings (background, real progress)
preview = None
if embedding_task.ensure(ds, ref, ws) is not None:
    preview = embedding_task.preview(ds, ref, ws)
    st.subheader("Embedding the texts")
    st.write(f"Sentence embeddings of the texts of {pair_rows(ds, ref):,} rows with the bundled "
             "all-MiniLM-L6-v2 model (once; every page and later visits read them from the workspace).")
    embedding_task.show_progress(ds, ref, ws, key="cov_embed", rerun_on_preview=preview is None)
    if preview is None:
        st.stop()
    # Provisional: the whole page below, drawn on the random samples embedded first.
    ds, ref, ds_emb, ref_emb = preview.ds, preview.ref, preview.ds_emb, preview.ref_emb
    key = pair_key(ds, ref)
    st.info(f"**Preview** on a random sample of {len(ds):,} dataset"
            + (f" and {len(ref):,} reference" if ref is not None else "") + " rows, while the rest embeds. "
            "Figures on a sample are estimates: the page redraws itself with every row when the embeddings are "
            "done.", icon="⏳")
else:
    ds_emb = work.embeddings(ds, ws)
    ref_emb = work.embeddings(ref, ws) if ref is not None else None
    if ds_emb is None or (ref is not None and ref_emb is None):  # marked complete on disk, yet unreadable
        embedding_task.repair(ds, ref, ws)
        st.rerun()

# Start the UMAP map now, in the background, so it runs while the coverage figures below are computed.
if preview is None and work.map_method() == "umap" and work.umap(key, ws, ds_emb, ref_emb) is None and work.map_task(ds, ref, ws) is None:
    work.start_map(ds, ref, ws, ds_emb, ref_emb)

# Embedding notes: skipped (empty) and truncated texts, per side.
notes = []
for side, emb in (("dataset", ds_emb), ("reference", ref_emb)):
    if emb is None:
        continue
    if emb.n_empty:
        notes.append(f"{emb.n_empty:,} {side} rows have empty or missing text: skipped (not embedded, not on the map)")
    if emb.n_truncated:
        notes.append(f"{emb.n_truncated:,} {side} texts are longer than the model's {emb.max_seq_length} tokens "
                     "and were truncated")
for n_ in notes:
    st.caption(f"ℹ️ {n_}")
for side, d, emb in (("dataset", ds, ds_emb), ("reference", ref, ref_emb)):
    if emb is not None and emb.n_empty:
        with st.expander(f"The {emb.n_empty:,} {side} rows without text"):
            st.dataframe(d.frame.loc[~emb.valid, [c for c in ("row_id", "text", "label") if c in d.frame]],
                         hide_index=True, width="stretch", height=200, key=f"cov_empty_{side}")
st.caption(f"Embeddings: {ds_emb.dim}-d, model {model_label(ds_emb.model_name)}, cosine distance = 1 − dot product.")

# ------------------------------------------------------------------ 2. coverage figures
res = None
if ref is not None and ref_emb is not None:
    st.subheader("How much of the reference does the dataset cover?")
    c1, c2, c3 = st.columns(3)
    with c1:
        by_hand = st.toggle("Set the radius by hand", key="cov_radius_manual",
                            help="By default the radius is a percentile of the dataset's own nearest-neighbour "
                                 "distances: 'as close as dataset rows usually are to each other'.")
        if by_hand:
            radius = st.slider("Radius (cosine distance)", 0.0, 1.0, 0.35, 0.005, key="cov_radius")
            pct = DEFAULT_PERCENTILE
        else:
            radius = None
            pct = float(st.slider("Radius percentile", 50, 100, int(DEFAULT_PERCENTILE), 1, key="cov_pct",
                                  help="Percentile of the dataset's nearest-neighbour distances used as the radius"))
    with c2:
        m = int(st.number_input("m: dataset rows a scene needs at least", 1, 10_000, DEFAULT_MIN_ROWS, key="cov_m",
                                help="A scene (a cluster holding reference rows) is covered when the dataset holds at "
                                     "least half the rows it would hold if it followed the reference's mix "
                                     "(coverage ratio ≥ 0.5) and at least m rows. m = 1: the ratio alone decides."))
    with c3:
        k_in = int(st.number_input("k: clusters (0 = automatic)", 0, 200, 0, key="cov_k",
                                   help="Automatic: the best silhouette over a small grid of k, on a sample"))
    with user_errors("Coverage"), st.spinner("Computing coverage (nearest neighbours, clusters, terms)…"):
        res = work.coverage(key, radius, pct, m, k_in or None, 0, str(ws.root), ds, ref, ds_emb, ref_emb)
    if res is not None:
        m1, m2, m3, m4 = st.columns(4)
        m1.metric("Reference coverage", f"{res.reference_coverage:.1%}",
                  help="Share of reference rows whose nearest dataset row lies within the radius")
        m2.metric("Scene coverage", f"{res.scene_coverage:.1%}",
                  help=f"Share of reference rows in covered scenes ({res.scene_count}). {res.scene_rule}")
        m3.metric("Sample coverage", f"{res.sample_coverage:.1%}",
                  help="Σ_c w_c · min(1, n_c / n_c*): w_c the reference share of cluster c, n_c* the dataset "
                       "rows c would hold if the dataset followed the reference's mix")
        m4.metric("Radius", fmt_num(res.radius), help=res.radius_source)
        under = res.under_covered_clusters
        st.caption(f"Radius: {res.radius_source}. Clusters: {res.how_k_chosen}. "
                   f"{res.n_dataset:,} dataset and {res.n_reference:,} reference rows embedded."
                   + (f" **{counted(len(under), 'under-covered cluster')}**: " + ", ".join(f"C{c}" for c in under)
                      if under else " No cluster is under-covered."))
        st.caption(f"Scene rule: {res.scene_rule} {res.scene_count}.")

# ------------------------------------------------------------------ 3. the map
st.subheader("Map")
proj = work.umap(key, ws, ds_emb, ref_emb) if work.map_method() == "umap" and preview is None else None
task = work.map_task(ds, ref, ws)
if proj is None and task is not None and "projection" in task.partial:
    proj = task.partial["projection"]
if proj is None and work.map_method() == "umap" and preview is None:
    if task is None or task.done:  # not started, or its cached file is gone: (re)start; a failed one stays
        if task is not None:
            work.forget_map(ds, ref, ws)
        task = work.start_map(ds, ref, ws, ds_emb, ref_emb)
    proj = work.pca(key, ds_emb, ref_emb)

    @st.fragment(run_every=3.0)
    def umap_progress() -> None:
        t = work.map_task(ds, ref, ws)
        if t is None:
            return
        if t.failed:
            st.warning(f"The UMAP map could not be computed ({t.error}); the PCA view stays.")
            if st.button("Try UMAP again", key="cov_umap_retry"):
                work.forget_map(ds, ref, ws)
                st.rerun()
            return
        if "projection" in t.partial or t.done:
            st.rerun()
        st.progress(t.progress, text=t.message or "UMAP queued…")

    umap_progress()
elif proj is None:
    proj = work.pca(key, ds_emb, ref_emb)

proj_tag = f"{proj.method}-{proj.n_fit}-{proj.n_transformed}"
res_tag = "none" if res is None else f"{res.radius}-{res.min_rows}-{res.k}-{res.how_k_chosen}"
opts = work.color_options(key, proj_tag, res_tag, ds, ref, proj, res)
cc1, cc2 = st.columns([2, 1])
color = cc1.selectbox("Colour by", opts, key="cov_color")
highlight = cc2.toggle("Ring the under-covered clusters", value=True, key="cov_highlight",
                       disabled=res is None or not res.under_covered_clusters)
shown, fig, n_frame = work.map_view(key, proj_tag, res_tag, color, bool(highlight), ds, ref, proj, res)
st.caption(proj.note + (f". Showing a stratified sample of {len(shown):,} of {n_frame:,} points (each side and "
                        "cluster in proportion)." if len(shown) < n_frame else f". {len(shown):,} points.")
           + " Box or lasso points to list them below.")
active_id = state.active_ids()[0]
event = st.plotly_chart(with_selection(fig, selection.positions_in(shown, active_id)), key=selection.map_key(),
                        on_select="rerun", selection_mode=("box", "lasso"), width="stretch")
picked = selected_positions(getattr(event, "selection", None) if event is not None else None)
picked = picked[picked < len(shown)]
if len(picked):
    selection.store(shown.iloc[picked], active_id)  # kept in the session; the chart restarts without it
    st.rerun()
selection.show(ds, ref, active_id)

# ------------------------------------------------------------------ 4. clusters
if res is not None:
    st.subheader("Clusters")
    t1, t2 = st.columns(2)
    t1.plotly_chart(vc.cluster_shares_bar(res), width="stretch", key="cov_shares")
    t2.plotly_chart(vc.nn_distance_histogram(res), width="stretch", key="cov_nn_hist")
    table = vc.cluster_table(res)
    only_under = st.toggle("Only under-covered clusters", key="cov_only_under", value=False)
    if only_under:
        table = table[table["under-covered"]]

    def _mark(row: pd.Series) -> list[str]:
        return ["background-color: #fde2e1" if row["under-covered"] else ""] * len(row)

    st.dataframe(table.style.apply(_mark, axis=1).format(
        {"expected dataset rows": "{:,.1f}", "coverage ratio": "{:.2f}", "reference within radius": "{:.0%}"},
        na_rep="—"), hide_index=True, width="stretch", key="cov_cluster_table",
        column_config={"top terms": st.column_config.TextColumn(width="medium"),
                       "reference examples": st.column_config.TextColumn(width="large"),
                       "dataset examples": st.column_config.TextColumn(width="large")})
    st.caption(f"Under-covered: the cluster holds reference rows but the dataset holds under "
               f"{res.min_ratio:g}× the rows it would hold if it followed the reference's mix (coverage ratio < "
               f"{res.min_ratio:g})" + (f" or fewer than {res.min_rows} rows" if res.min_rows > 1 else "")
               + "; every other cluster holding reference rows is covered. Under-covered clusters are ringed in "
               "red on the map.")
