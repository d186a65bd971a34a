"""Load: pick a dataset (demo, upload, data folder, datasets folder, Hub), map its columns, pick a reference."""

from __future__ import annotations

import streamlit as st

from dq_app.ui import navigation, state
from dq_app.ui.given_inputs import compute_source, describe, subset, vectors_tab
from dq_app.ui.loading import mapping_widgets, pick_source, preview
from dq_app.ui.widgets import user_errors
from dq_core.data import io as dqio
from dq_core.data import reference
from dq_core.data.dataset import build_dataset
from dq_core.space.given import given_record
from dq_core.util.wording import counted

st.title("📂 Load a dataset")
st.caption("Your source file is only read: the dashboard works on a copy stored in the workspace.")

current = state.active_dataset()
if current is not None:
    ref = state.active_reference()
    st.success(f"Active: **{current.name}** ({len(current):,} rows)"
               + (f" · reference **{ref.name}** ({len(ref):,} rows)" if ref is not None else " · no reference"))
    if own := describe(given_record(current, state.workspace())):
        st.caption(f"🧭 The dataset uses {own}: not the embedding model's.")


# The Reference tab's choices outlive a page switch (Streamlit drops the state of widgets not drawn);
# only those whose options never change (a column or split list depends on the active dataset). The
# encoding chosen for a new dataset's file is kept the same way.
REF_KEYS = ["ref_how", "ref_source", "ref_demo", "ref_path", "ref_hub", "ref_hub_split", "ref_encoding",
            "ref_encoding_other"]
DS_KEYS = ["ds_encoding", "ds_encoding_other"]
state.restore_widgets("load_ref", REF_KEYS)
state.restore_widgets("load_ds", DS_KEYS)
tab_new, tab_ref, tab_vec, tab_recent = st.tabs(["New dataset", "Reference set", "Your vectors", "Recent"])

with tab_new:
    with user_errors("Reading the file"):
        picked = pick_source("ds", allow_compute=True)
        if picked and picked[0] == "compute":
            compute_source()
        elif picked and picked[0] == "demo":
            name = picked[1]
            st.caption("Demos come with their column mapping; the tweets keep the crowd's `confidence` "
                       "as an agreement hint and a keyword-derived `topic`.")
            if st.button("Load demo", type="primary", key="load_demo"):
                with st.spinner("Loading the demo…"):
                    ds, ref = dqio.load_demo(name)
                    state.store_and_activate(ds, ref)
                st.toast(f"Loaded demo:{name}")
                state.switch_page(navigation.page("overview"))
        elif picked:
            raw = picked[1]
            preview(raw.frame, raw.notes)
            st.subheader("Column mapping")
            mapping = mapping_widgets(raw.frame, "map")
            if st.button("Use this dataset", type="primary", key="confirm_map"):
                ds = build_dataset(raw.frame, mapping, name=raw.source, source=raw.source, notes=raw.notes)
                for n in ds.notes:
                    if "only one class" in n:
                        st.warning(n)
                # The same data again keeps its reference; a new dataset starts without one, and says so.
                same = current is not None and current.fingerprint == ds.fingerprint
                kept = state.active_reference() if same else None
                state.store_and_activate(ds, kept)
                st.toast(f"Stored {ds.name} ({len(ds):,} rows)" + (
                    f"; reference {kept.name} kept" if kept is not None else
                    "; no reference yet: pick one on Load → Reference set" if current is not None else ""))
                state.switch_page(navigation.page("overview"))

with tab_ref:
    if current is None:
        st.info("Load a dataset first; then pick what to compare it with.")
    else:
        st.caption("The reference is what the model will meet (production traffic, a target domain, a test "
                   "set). Coverage and shift compare the dataset against it.")
        how = st.radio("Reference from", ["A second file or demo", "Rows matching a column value",
                                          "Another split of this dataset", "No reference"],
                       key="ref_how", horizontal=True)
        with user_errors("Setting the reference"):
            if how == "A second file or demo":
                picked = pick_source("ref")
                if picked and picked[0] == "demo":
                    if st.button("Use demo as reference", key="ref_demo_go"):
                        ref, _ = dqio.load_demo(picked[1])
                        state.store_and_activate(current, ref)
                        st.rerun()
                elif picked:
                    raw = picked[1]
                    preview(raw.frame, raw.notes)
                    mapping = mapping_widgets(raw.frame, "refmap", label_optional=True)
                    if st.button("Use as reference", type="primary", key="ref_file_go"):
                        ref = build_dataset(raw.frame, mapping, name=raw.source,
                                            source=raw.source, notes=raw.notes, require_labels=False)
                        state.store_and_activate(current, ref)
                        st.rerun()
            elif how == "Rows matching a column value":
                col = st.selectbox("Column", reference.reference_columns(current), key="ref_col")
                values = reference.column_values(current, col)
                if len(values) > 200:
                    st.warning(f"'{col}' has {len(values):,} distinct values; pick a categorical column.")
                else:
                    chosen = st.multiselect("Values that make up the reference", values.index.tolist(),
                                            format_func=lambda v: f"{v} ({counted(values[v], 'row')})", key="ref_vals")
                    st.caption("The matching rows become the reference; the rest stay the dataset "
                               f"(`--reference-where {col}=VALUE,...` on the command line).")
                    if chosen and st.button("Split into dataset and reference", type="primary", key="ref_split_go"):
                        cut = reference.split_by_values(current, col, chosen, take=subset)
                        state.store_and_activate(cut.dataset, cut.reference)
                        st.rerun()
            elif how == "Another split of this dataset":
                if not current.has_split:
                    st.info("This dataset has no split column mapped. Map one on the New dataset tab, or use "
                            "'Rows matching a column value'.")
                else:
                    splits = reference.split_names(current)
                    c1, c2 = st.columns(2)
                    ds_split = c1.selectbox("Dataset split", splits, key="ref_ds_split")
                    ref_split = c2.selectbox("Reference split", [s for s in splits if s != ds_split] or splits,
                                             key="ref_ref_split")
                    st.caption("Rows of other splits are left out "
                               "(`--dataset-split A --reference-split B` on the command line).")
                    if st.button("Use these splits", type="primary", key="ref_splits_go"):
                        cut = reference.split_by_split(current, ds_split, ref_split, take=subset)
                        state.store_and_activate(cut.dataset, cut.reference)
                        st.rerun()
            elif st.button("Clear the reference", key="ref_clear"):
                state.set_active(state.active_ids()[0], None)
                st.rerun()

with tab_vec:
    if current is None:
        st.info("Load a dataset first; then give its vectors or class probabilities.")
    else:
        with user_errors("Using your files"):
            vectors_tab(current, state.active_reference(), state.workspace())

with tab_recent:
    items = state.workspace().list_datasets()
    if not items:
        st.caption("Nothing stored yet.")
    for meta in items[:30]:
        c1, c2 = st.columns([5, 1])
        c1.markdown(f"**{meta['name']}** · {meta['n_rows']:,} rows · `{meta['id']}`")
        if c2.button("Open", key=f"open_{meta['id']}"):
            state.set_active(meta["id"], None)
            state.switch_page(navigation.page("overview"))

state.remember_widgets("load_ref", REF_KEYS)
state.remember_widgets("load_ds", DS_KEYS)
