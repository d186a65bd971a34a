"""The rows picked on the Coverage map: kept in session state (per dataset), listed, offered to Clean.

A box or lasso selection arrives as the chart's widget state. The page copies the picked row_ids here
and redraws the chart under a new key at once, so the selection (hundreds of KB for thousands of points)
is not sent back with every later rerun, the 2-3 s progress polls included; the chart then shows the
stored selection itself (see ui.map_selection.with_selection).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dq_core.data.dataset import TextDataset
from dq_core.util.jsonsafe import to_native

SELECTED_KEY = "dq_selected_row_ids"  # dataset row_ids picked on the map
SELECTED_REF_KEY = "dq_selected_reference_row_ids"
SELECTED_FOR = "dq_selected_for"  # the dataset id those row_ids belong to
ROW_SET_NAME = "map selection"
GEN = "_cov_map_gen"
EXAMPLES = 200  # rows listed per side


def _plain(values) -> list:
    """row_ids as plain Python values (ints stay ints), as the filters expect them."""
    return [to_native(v) for v in values]


def map_key() -> str:
    """The chart's key: a new one starts the chart without a selection (its state cannot be written)."""
    return f"cov_map_{st.session_state.get(GEN, 0)}"


def store(picked: pd.DataFrame, ds_id: str | None) -> None:
    """Keep the picked points' row_ids (``picked`` holds the map frame's side and row_id columns) and
    start the chart afresh under a new key."""
    ss = st.session_state
    ss[SELECTED_KEY] = _plain(picked.loc[picked["side"] == "dataset", "row_id"])
    ss[SELECTED_REF_KEY] = _plain(picked.loc[picked["side"] == "reference", "row_id"])
    ss[SELECTED_FOR] = ds_id
    ss[GEN] = ss.get(GEN, 0) + 1


def clear() -> None:
    ss = st.session_state
    for k in (SELECTED_KEY, SELECTED_REF_KEY, SELECTED_FOR):
        ss.pop(k, None)
    ss[GEN] = ss.get(GEN, 0) + 1


def current(ds_id: str | None) -> tuple[list, list]:
    """(dataset row_ids, reference row_ids) selected on the map of this dataset; empty for another one."""
    ss = st.session_state
    if ss.get(SELECTED_FOR) != ds_id:
        return [], []
    return list(ss.get(SELECTED_KEY) or []), list(ss.get(SELECTED_REF_KEY) or [])


def positions_in(shown: pd.DataFrame, ds_id: str | None) -> np.ndarray:
    """Frame positions of the stored selection in the plotted frame (to draw it as selected)."""
    ds_ids, ref_ids = current(ds_id)
    if not ds_ids and not ref_ids:
        return np.zeros(0, dtype=np.int64)
    mask = ((shown["side"] == "dataset") & shown["row_id"].isin(ds_ids)) | (
        (shown["side"] == "reference") & shown["row_id"].isin(ref_ids))
    return np.flatnonzero(mask.to_numpy())


def row_sets(ds_id: str | None) -> dict[str, list]:
    """The map selection as a named row set for Clean (the dataset rows only)."""
    ds_ids, _ = current(ds_id)
    return {ROW_SET_NAME: ds_ids} if ds_ids else {}


def show(ds: TextDataset, ref: TextDataset | None, ds_id: str | None) -> None:
    """The selection's counts and example rows, with a button to clear it."""
    ds_ids, ref_ids = current(ds_id)
    if not ds_ids and not ref_ids:
        st.caption("Nothing selected: choose Box or Lasso select in the chart's toolbar and drag over points.")
        return
    st.markdown(f"**Selected: {len(ds_ids):,} dataset rows, {len(ref_ids):,} reference rows.** The dataset rows "
                f"are offered on **Clean** as the row set “{ROW_SET_NAME}” (drop them, or keep only them).")
    parts = []
    for side, d, ids in (("dataset", ds, ds_ids), ("reference", ref, ref_ids)):
        if d is None or not ids:
            continue
        rows = d.frame.loc[d.frame["row_id"].isin(ids), [c for c in ("row_id", "text", "label") if c in d.frame]]
        parts.append(rows.head(EXAMPLES).assign(side=side))
    if parts:
        frame = pd.concat(parts, ignore_index=True)[["side", *[c for c in ("row_id", "text", "label")
                                                               if c in parts[0]]]]
        st.dataframe(frame, hide_index=True, width="stretch", height=260, key="cov_selected_rows")
        st.caption(f"Examples: up to {EXAMPLES} rows per side.")
    if st.button("Clear the selection", key="cov_clear_sel"):
        clear()
        st.rerun()
