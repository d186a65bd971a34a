"""The Clean page's "Which cleaning pays?" section: start the recipe advisor as a background job, follow it,
show every candidate's gain over no cleaning, and load the recommended recipe into the filter controls.

Every number comes from dq_core.training.advisor (the same as `dq advise`); this file holds widgets only.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from dq_core.data.dataset import TextDataset
from dq_core.data.workspace import Workspace
from dq_core.filtering import recipe_path, save_recipe
from dq_core.training import jobs
from dq_core.training.advisor import DEFAULT_FOLDS, TRAINERS
from dq_core.training.advisor_job import cancel_advice, latest_advice_run, read_advice, submit_advice
from dq_core.training.advisor_result import AdviceResult

WORKING = "working"  # the filter panel's autosaved recipe (ui/clean/controls.py)
PANEL_KEY = "fp"  # the filter panel's widget-key prefix (ui/clean/panel.py)
TRAINER_HELP = {"baseline": "logistic regression on the sentence embeddings: seconds per fit",
                "transformer": "a 1-epoch MiniLM fine-tune per fit: minutes each on a CPU"}


def advisor_section(ds: TextDataset, ref: TextDataset | None = None, *, signal_keys: list[str] | None = None,
                    seed: int = 0, workspace: Workspace | None = None, key: str = "adv") -> None:
    from ui import state

    ws = workspace or state.workspace()
    settings = {"signals": list(signal_keys), "seed": int(seed)} if signal_keys else None
    st.subheader("Which cleaning pays?")
    st.caption("Trains a model on what each candidate recipe keeps (no cleaning, the default, relabel only, drop "
               "only, duplicates and junk only, conservative, and the agreement column's when one is mapped), "
               "scores it on held-out folds of your labels, and shows each one's gain over no cleaning with a "
               "95% paired bootstrap interval. It recommends a recipe only when its gain lies measurably above "
               "zero.")
    run = latest_advice_run(ws, ds)
    active = run is not None and run.state in jobs.ACTIVE
    c1, c2, c3 = st.columns([2, 1.2, 2.4], vertical_alignment="bottom")
    trainer = c1.selectbox("Trainer", TRAINERS, key=f"{key}_trainer", format_func=lambda t: f"{t} — {TRAINER_HELP[t]}")
    folds = int(c2.number_input("Folds", min_value=2, max_value=10, value=DEFAULT_FOLDS, key=f"{key}_folds"))
    if c3.button("Find the cleaning that pays", key=f"{key}_start", icon="🧪", disabled=active,
                 help="runs in the background; you can keep working on the page"):
        submit_advice(ds, ws=ws, reference=ref, trainer=trainer, folds=folds, seed=int(seed),
                      signal_settings=settings)
        st.rerun()
    if run is None:
        st.caption("Not run on this dataset yet.")
        return
    st.fragment(_follow, run_every=2.0 if active else None)(str(run.path), key, active)


def _follow(run_dir: str, key: str, was_active: bool) -> None:
    info = jobs.get_run(run_dir)
    st_ = info.status
    state_ = info.state
    if state_ in jobs.ACTIVE:
        st.progress(min(max(float(st_.get("progress") or 0.0), 0.0), 1.0),
                    text=f"{st_.get('message') or state_}…")
        if st.button("Cancel", key=f"{key}_cancel", icon="⏹️"):
            cancel_advice(run_dir)
            st.rerun(scope="app")
        return
    if was_active:  # it just finished: redraw the page so the controls and the table agree
        st.rerun(scope="app")
    if state_ == jobs.CANCELLED:
        st.info("The last advisor run was cancelled; nothing was saved. Start it again above.")
        return
    if state_ == jobs.FAILED:
        st.error(f"The advisor failed: {st_.get('error') or 'see its log'}", icon="⚠️")
        return
    result = read_advice(run_dir)
    if result is None:
        st.error("The advisor run finished but its advice.json cannot be read; start it again.", icon="⚠️")
        return
    show_advice(result, key=key)


def show_advice(result: AdviceResult, *, key: str) -> None:
    table = result.table()
    fmt = {c: "{:+.3f}" for c in table.columns if c.startswith("Δ") and "interval" not in c}
    fmt.update({"accuracy": "{:.3f}", "macro-F1": "{:.3f}"})
    st.dataframe(table.style.format(fmt, na_rep="–"), hide_index=True, width="stretch", key=f"{key}_table")
    if result.recommended is None:
        st.info(f"**No cleaning pays measurably here.** {result.recommendation.split(': ', 1)[-1]}.", icon="⚖️")
    else:
        st.success(f"**Recommended: {result.recommendation}.**", icon="✅")
    st.caption(result.evaluation_note + (" " + " ".join(result.notes) if result.notes else ""))
    if result.recommended is not None and st.button(
            f"Load '{result.candidate(result.recommended).title}' into the filter controls", key=f"{key}_load",
            icon="⬇️"):
        load_into_controls(result)
        st.rerun(scope="app")


def load_into_controls(result: AdviceResult) -> None:
    """Make the recommended recipe the filter panel's working recipe; the panel reads it on its next draw."""
    from ui import state

    ws = state.workspace()
    ds = state.active_dataset()
    rec = result.recommended_recipe()
    if ds is None or rec is None:
        return
    folder = ws.recipes_dir(ws.save_dataset(ds))
    save_recipe(replace(rec, name=WORKING), recipe_path(folder, WORKING))
    st.session_state.pop(f"{PANEL_KEY}_init", None)  # the panel re-initialises its controls from the file
