"""A tiny page that shows the filter panel alone (for AppTest): hand-built data and signals.

The signals come from dq_core.signals.run_signals on synthetic embeddings when that module is present,
else from the hand-built frame in tests/filter_data.py; the same synthetic embeddings are handed to the
panel, so the coverage figures and label-next work without the model.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root, for tests.filter_data

from dq_app.ui.clean.panel import render_filter_panel  # noqa: E402
from dq_core.data.workspace import Workspace  # noqa: E402
from tests.filter_data import (  # noqa: E402
    make_dataset,
    make_embeddings,
    make_reference,
    page_signals,
)

st.set_page_config(page_title="Filter panel", layout="wide")
n = int(os.environ.get("DQ_FILTER_PAGE_ROWS", "120"))
ds, ref = make_dataset(n), make_reference()
ws = Workspace.default()
emb, ref_emb = make_embeddings(ds), make_embeddings(ref, seed=1)  # synthetic: no model needed
signals = page_signals(ds, ref, emb, ref_emb, ws)

st.title("Filter panel")
if st.session_state.get("away"):  # as if the user were on another page: the panel's widgets are not drawn
    st.stop()
render_filter_panel(ds, ref, signals, selections={"test selection": [0, 1, 2]}, embeddings=(emb, ref_emb),
                    workspace=ws)
