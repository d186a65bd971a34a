"""Overview: class balance, text lengths, empties and duplicates, dataset beside reference."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dq_app.ui import cached, state
from dq_app.ui.story import story_download
from dq_app.ui.widgets import fmt_num, pair_caption, show_rows, user_errors
from dq_core.metrics.balance import RARE_SHARE_OF_UNIFORM
from dq_core.metrics.profile import length_frame, profile_rows
from dq_core.viz import overview as viz

ds = state.require_dataset()
ref = state.active_reference()

st.title("📊 Overview")
pair_caption(ds, ref)
for note in ds.notes:
    st.caption(f"ℹ️ {note}")

with user_errors("Profiling"):
    p = cached.profile(ds)
    rp = cached.profile(ref) if ref is not None else None
    b = p.balance
    if b.n_classes < 2:
        st.warning("Only one class is present: balance figures and label checks need at least two classes.")

    st.subheader("Class balance")
    sides = [("Dataset", p)] + ([("Reference", rp)] if rp is not None else [])
    cols = st.columns(len(sides))
    per_row = 4 // len(sides)  # two tiles a row beside the reference: four in half the page cut "14,640"
    for col, (title, prof) in zip(cols, sides, strict=True):
        bb = prof.balance
        with col:
            st.markdown(f"**{title}**")
            m1, m2, m3, m4 = [tile for _ in range(0, 4, per_row) for tile in st.columns(per_row)]
            m1.metric("Rows", f"{bb.n_rows:,}")
            m2.metric("Classes", bb.n_classes)
            m3.metric("Balance index", fmt_num(bb.class_balance_index),
                      help="1 − Σ_c (n_c/N − 1/C)²: 1 when every class has the same share")
            m4.metric("Imbalance", fmt_num(bb.imbalance_ratio, 2), help="Imbalance ratio: largest class / smallest class")
            st.caption(f"Normalised label entropy **{fmt_num(bb.normalized_entropy)}** (1 = uniform)")
            for c in bb.rare_classes:
                st.warning(f"Class **{c}** holds {bb.class_shares[c]:.2%} of the rows, under "
                           f"{RARE_SHARE_OF_UNIFORM:.0%} of a uniform share ({bb.uniform_share:.1%}).")

    share = st.toggle("Show shares (off: counts)", value=True, key="ov_share")
    st.plotly_chart(viz.class_balance_bar(b, rp.balance if rp is not None and rp.balance.n_classes else None,
                                          share=share), width="stretch", key="ov_balance")
    table = viz.class_balance_table(b, rp.balance if rp is not None else None)
    for side, missing in viz.missing_classes(table).items():
        if missing:
            other = "reference" if side == "dataset" else "dataset"
            st.warning(f"Label sets differ: {', '.join(f'**{c}**' for c in missing)} appear only in the {other}.")
    st.dataframe(table.fillna(0).style.format({c: "{:.1%}" for c in table.columns if "share" in c}
                                              | {c: "{:,.0f}" for c in table.columns if "rows" in c}),
                 width="stretch", key="ov_class_table")

    st.subheader("Text length per class")
    unit = st.radio("Unit", ["words", "chars"], horizontal=True, key="ov_unit")
    lf = length_frame(ds, unit)
    c1, c2 = st.columns(2)
    c1.plotly_chart(viz.length_histogram(lf, unit=unit), width="stretch", key="ov_len_hist")
    c2.plotly_chart(viz.length_box(lf, unit=unit), width="stretch", key="ov_len_box")
    stats = p.words if unit == "words" else p.chars
    st.caption("Dataset " + unit + ": " + " · ".join(
        f"{k} {int(v):,}" if float(v).is_integer() else f"{k} {fmt_num(v, 1)}" for k, v in stats.to_dict().items()))

    st.subheader("Rows to look at")
    counts = {  # the tile's name starts the full one (short enough for a quarter of a 1280 px page)
        "empty": ("Empty texts (empty or whitespace-only)", p.n_empty),
        "missing_label": ("Missing labels", b.n_missing_labels),
        "exact_duplicate": ("Redundant exact copies (texts as loaded, after case/whitespace normalisation: the rows "
                            "beyond the first of each group of identical texts; dropping them keeps one copy of "
                            "each)", p.n_exact_duplicates),
        "conflicting_duplicate": ("Mixed-label exact copies (rows in groups of identical texts whose labels differ; "
                                  "Clean's near duplicates with mixed labels also count near duplicates)",
                                  p.n_conflicting_duplicates),
    }
    # two tiles a row: four in a row cut the longer labels at 1280 px
    q = [col for _ in range(0, len(counts), 2) for col in st.columns(2)][:len(counts)]
    for (label, n), col in zip(counts.values(), q, strict=True):
        col.metric(label.split(" (")[0], f"{n:,}", help=label)
    for kind, (label, n) in counts.items():
        if n:
            with st.expander(f"{label}: {n:,}"):
                rows = profile_rows(ds, kind)
                if kind == "exact_duplicate":
                    st.caption(f"{p.n_rows_in_duplicate_groups:,} rows in {p.n_duplicate_groups:,} groups of identical "
                               f"texts: {n:,} are redundant copies (the figure above). On Clean, the exact-duplicate "
                               f"signal flags the {p.n_rows_in_duplicate_groups:,} rows in groups, and its dedupe rule "
                               "removes the copies the recipe's other rules leave (it shows both figures).")
                cols_shown = [c for c in ("row_id", "duplicate_group", "text", "label") if c in rows.columns]
                show_rows(rows, key=f"ov_rows_{kind}", columns=cols_shown)

    if p.split_sizes:
        st.subheader("Splits")
        st.dataframe(pd.Series(p.split_sizes, name="rows").to_frame(), width="stretch", key="ov_splits")

st.subheader("The data story")
st.caption("The data alone (at a glance, and the shift from the reference when there is one) in one document; "
           "the full story with the recipe and runs is on **Report**.")
with user_errors("The data story"):
    story_download(ds, ref, key="ov_story", label="Download the data story", workspace=state.workspace())
