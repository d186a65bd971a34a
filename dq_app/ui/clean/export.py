"""The filter panel's export: the cleaned data, the removal log and the recipe, as downloads or to the workspace."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dq_app.ui.widgets import user_errors
from dq_core.data.dataset import TextDataset
from dq_core.data.io import frame_to_bytes
from dq_core.data.workspace import Workspace
from dq_core.filtering import (
    EXPORT_FORMATS,
    FORMAT_LABELS,
    SPREADSHEET_NOTE,
    RecipeResult,
    cleaned_frame,
    export_all,
    export_bytes,
    label_column,
    removal_log,
)
from dq_core.filtering.dataset_card import card_files


def export(key: str, ds: TextDataset, signals: pd.DataFrame | None, result: RecipeResult, ws: Workspace,
           ds_id: str) -> None:
    if result.problems:
        st.error("Nothing can be exported: " + " ".join(result.problems), icon="⛔")
        return
    c1, c2 = st.columns([2, 3])
    fmt = c1.selectbox("Format of the cleaned data", list(EXPORT_FORMATS), key=f"{key}_fmt",
                       format_func=lambda f: FORMAT_LABELS.get(f, f))
    stem = (ds.name.replace("demo:", "").replace(" ", "_").replace("/", "_") or "dataset") + f"-{result.recipe.name}"
    c2.caption(f"Keeps **{result.n_kept:,}** of {result.n_rows:,} rows · drops {result.n_dropped:,} · relabels "
               f"{result.n_relabelled:,}. Every format keeps the texts and labels exactly as they are"
               + (", except this one." if fmt == "csv_spreadsheet" else "."))
    if fmt == "csv_spreadsheet":
        st.warning(SPREADSHEET_NOTE, icon="⚠️")
    ext = EXPORT_FORMATS[fmt] or ".zip"  # a datasets folder downloads as one zip
    b1, b2, b3, b4 = st.columns(4)
    # Callables: the bytes are built when the button is clicked, not on every rerun.
    def cleaned_bytes() -> bytes:
        frame = cleaned_frame(ds, result)
        card = card_files(ds, result, signals=signals, frame=frame) if fmt == "datasets" else None  # the zipped folder's README.md
        return export_bytes(frame, fmt, label_col=label_column(ds, frame), extra_files=card)

    b1.download_button("⬇ Cleaned data", data=cleaned_bytes, file_name=f"{stem}.cleaned{ext}",
                       mime="text/csv" if ext.endswith(".csv") else None, key=f"{key}_dl_data", on_click="ignore")
    b2.download_button("⬇ Removal log (CSV)", data=lambda: frame_to_bytes(removal_log(ds, result, signals), "csv"),
                       file_name=f"{stem}.removed.csv", mime="text/csv", key=f"{key}_dl_log", on_click="ignore")
    b3.download_button("⬇ Recipe (JSON)", data=result.recipe.to_json(), file_name=f"{stem}.recipe.json",
                       mime="application/json", key=f"{key}_dl_recipe", on_click="ignore")
    if b4.button("Save all to the workspace", key=f"{key}_save_ws"):
        with user_errors("Export"):
            paths = export_all(ds, result, signals, ws.exports_dir(ds_id), fmt=fmt, stem=stem)
            st.success("Written: " + ", ".join(f"`{p}`" for p in paths.values()))
