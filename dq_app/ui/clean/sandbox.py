"""The Clean page's noise-injection sandbox: widgets over :func:`dq_core.signals.sandbox.run_sandbox`."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dq_app.ui.widgets import bar_progress
from dq_core.data.dataset import TextDataset
from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.signals.sandbox import MODES, SandboxResult, run_sandbox
from dq_core.viz import signals as viz_signals

MODE_TITLES = {"uniform": "uniformly (to any other class)",
               "class_conditional": "class-conditional (seeded noise matrix)",
               "pairs": "one class into another"}
RESULT_KEY = "cl_sb_result"  # the last run, kept in the session so it survives reruns
FIGURES = ("precision", "recall", "f1", "auroc", "average_precision")


def sandbox(ds: TextDataset, ws: Workspace) -> None:
    from dq_core.space.embed_cache import cached_dataset_embeddings

    st.subheader("Noise-injection sandbox")
    st.caption("Flip a known share of labels, run the label detectors on the noisy copy, and see how many of "
               "the flips they find. Rows that were already mislabelled count as false alarms, so precision "
               "here is a lower bound. Your data is not changed.")
    if len(ds.classes) < 2:
        st.info("The sandbox needs at least two classes.")
        return
    c1, c2, c3 = st.columns(3)
    rate = c1.slider("Share of labels to flip", 0.01, 0.5, 0.1, 0.01, key="cl_sb_rate")
    mode = c2.radio("How", MODES, key="cl_sb_mode", horizontal=False, format_func=MODE_TITLES.get)
    seed = int(c3.number_input("Seed", 0, 2**31 - 1, 1, key="cl_sb_seed"))
    pairs = None
    if mode == "pairs":
        src = c2.selectbox("From class", ds.classes, key="cl_sb_from")
        dst = c2.selectbox("To class", [c for c in ds.classes if c != src], key="cl_sb_to")
        pairs = {src: dst}
    if not st.button("Inject noise and detect", key="cl_sb_run", icon="🧪"):
        res: SandboxResult | None = st.session_state.get(RESULT_KEY)
        if res is None or res.dataset != ds.fingerprint:
            return
    else:
        emb = cached_dataset_embeddings(ds, workspace=ws)
        if emb is None:
            raise DataError("compute the signals first: the sandbox reuses their embeddings")
        bar = st.progress(0.0, text="Detecting…")
        res = run_sandbox(ds, emb.vectors, rate=rate, mode=mode, seed=seed, pairs=pairs, workspace=ws,
                          progress=bar_progress(bar))
        bar.empty()
        st.session_state[RESULT_KEY] = res
    _show(res)


def _show(res: SandboxResult) -> None:
    n = res.noise
    st.markdown(f"**{n.n_flipped:,}** of {len(n.labels):,} labels flipped ({n.mode}, seed {n.seed}).")
    table = res.score_table()[["n_flagged", "n_found", *FIGURES]]
    st.dataframe(table.style.format({c: "{:.3f}" for c in FIGURES} | {c: "{:,.0f}" for c in ("n_flagged", "n_found")}),
                 width="stretch", key="cl_sb_table")
    st.plotly_chart(viz_signals.detection_bars({k: v.to_dict() for k, v in res.scores.items()}), width="stretch",
                    key="cl_sb_bars")
    c1, c2 = st.columns([1, 2])
    with c1:
        st.caption("Flips injected (original → noisy)")
        st.dataframe(n.transitions(), width="stretch", key="cl_sb_transitions")
    with c2:
        ex: pd.DataFrame = res.examples
        st.caption(f"Flipped rows: {int(ex['flagged'].sum()):,} found by ours, "
                   f"{int((ex['suggested'] == ex['original']).sum()):,} with the original label suggested back")
        st.dataframe(ex.head(200), hide_index=True, width="stretch", height=260, key="cl_sb_examples")
