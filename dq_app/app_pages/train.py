"""Train: launch a baseline or a fine-tune as a background job, watch it, cancel it; runs listed from disk."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from dq_app.ui import embedding_task, navigation, state, train_plan
from dq_app.ui import runs as cached_runs
from dq_app.ui.widgets import fmt_num, user_errors
from dq_core.report.content import run_warnings
from dq_core.training import jobs
from dq_core.training.config import DEFAULT_MAX_TRAIN_ROWS, TrainConfig
from dq_core.training.given_vectors import given_test_problem, vectors_label, vectors_record
from dq_core.training.model_folders import confine_model_folder, models_dir
from dq_core.training.recipe import list_recipes
from dq_core.training.runner import data_spec
from dq_core.training.splits import make_splits
from dq_core.viz import training as vt

ds = state.require_dataset()
ref = state.active_reference()
ws = state.workspace()
runs_dir = ws.runs_dir()

st.title("🏋️ Train")
st.caption(f"**{ds.name}** — {len(ds):,} rows · {len(ds.classes)} classes. Runs are separate processes: "
           "they keep going across page switches, reloads and server restarts.")

# --------------------------------------------------------------------------- launch form
with st.expander("New run", expanded=True):
    c1, c2 = st.columns([1, 2])
    trainer = c1.radio("Trainer", ["transformer", "baseline"], horizontal=True, key="tr_trainer",
                       format_func=lambda t: {"transformer": "Fine-tune a transformer",
                                              "baseline": "Baseline (logistic regression on embeddings)"}[t])
    name = c2.text_input("Run name", key="tr_name", placeholder=f"{trainer} · {ds.name}")
    own = vectors_record(ws, ds)
    if own is not None:
        st.caption(f"🧭 This dataset carries {vectors_label(own)}: " + (
            "the transformer fine-tunes on the texts and does not use them (the baseline trains on them)."
            if trainer == "transformer" else "the baseline trains and scores on them instead of embedding the texts."))
    d = TrainConfig()
    settings: dict = {}
    if trainer == "transformer":
        settings["model"] = st.text_input(
            "Model folder (empty = bundled all-MiniLM-L6-v2)", key="tr_model",
            placeholder="a folder name inside the models folder",
            help=f"a Hugging Face model folder inside {models_dir()} (DQ_MODELS_DIR); checked below") or None
        a, b, c, e = st.columns(4)
        settings["learning_rate"] = a.number_input("Learning rate", 1e-6, 1e-2, d.learning_rate, format="%.1e",
                                                   key="tr_lr")
        settings["batch_size"] = b.number_input("Batch size", 1, 512, d.batch_size, key="tr_bs")
        settings["epochs"] = c.number_input("Epochs", 0.1, 50.0, d.epochs, step=0.5, key="tr_epochs")
        settings["max_length"] = e.number_input("Max length (tokens)", 8, 512, d.max_length, step=8, key="tr_maxlen")
        a, b, c, e = st.columns(4)
        settings["weight_decay"] = a.number_input("Weight decay", 0.0, 0.5, d.weight_decay, step=0.01,
                                                  key="tr_wd")
        settings["warmup_ratio"] = b.number_input("Warm-up (share of steps)", 0.0, 0.5, d.warmup_ratio, step=0.05,
                                                  key="tr_warmup")
        settings["early_stopping_patience"] = c.number_input(
            "Early stopping patience (0 = off)", 0, 20, 0, key="tr_patience",
            help="stop after this many validation evaluations without a lower validation loss")
        settings["seed"] = e.number_input("Seed", 0, 2**31 - 1, 0, key="tr_seed")
    else:
        a, b = st.columns(2)
        settings["c"] = a.number_input("C (inverse regularisation)", 0.001, 1000.0, 1.0, key="tr_c")
        settings["seed"] = b.number_input("Seed", 0, 2**31 - 1, 0, key="tr_seed_b")
        busy = embedding_task.current(ds, None, ws) or embedding_task.current(ds, ref, ws)
        if busy is not None and not busy.done and not busy.failed:
            st.caption(f"🧮 The app is embedding this dataset in the background ({busy.progress:.0%}). A baseline "
                       "started now embeds the rows still missing itself; started after, it reads them all from "
                       "the cache and takes seconds.")
    settings["class_weights"] = st.checkbox("Weight classes by inverse frequency", key="tr_cw")

    st.markdown("**Data**")
    a, b, c, e = st.columns(4)
    cap_default = DEFAULT_MAX_TRAIN_ROWS[trainer]
    settings["max_train_rows"] = a.number_input(
        "Training-row cap (0 = all)", 0, 10_000_000, cap_default, step=500, key=f"tr_cap_{trainer}",
        help="a stratified sample of at most this many training rows (class shares kept); the default "
             "keeps a fine-tune of the demo under three minutes on a 2-core CPU")
    settings["val_fraction"] = b.number_input("Validation share", 0.0, 0.5, d.val_fraction, step=0.05,
                                              key="tr_val")
    sources = ["auto", "holdout", "split"] + (["reference"] if ref is not None else [])
    settings["test_source"] = c.selectbox(
        "Test set", sources, key="tr_test_source",
        format_func=lambda s: {"auto": "auto (test split, else held-out)", "holdout": "stratified held-out split",
                               "split": "the dataset's test split", "reference": "the labelled reference"}[s],
        help="fixed before any filtering, so runs with and without a recipe are scored on the same rows")
    settings["balancing"] = e.selectbox("Balance the train split", ["none", "oversample", "augment"],
                                        key="tr_balance",
                                        help="oversample: repeat rows of small classes; augment: perturbed copies "
                                             "(word swap/delete/insert). Validation and test are never touched.")
    recipes = list_recipes(ws, ds.fingerprint[:16])
    options = [train_plan.NONE, "default", *[str(p) for p in recipes]]
    if st.session_state.get("tr_recipe") not in options:  # first visit, or a recipe since deleted
        st.session_state["tr_recipe"] = options[train_plan.default_index(options)]
    pick = st.selectbox("Filter recipe", options, key="tr_recipe",
                        format_func=lambda o: {"default": "default recipe (duplicates, junk, label issues)"}
                        .get(o, o if o.startswith("(") else f"saved: {o.rsplit('/', 1)[-1]}"),
                        help="the run trains on the rows the recipe keeps, with its relabels; the test set "
                             "is never filtered. Recipes saved on the Clean page are listed here. Signals the "
                             "recipe needs are computed in the run if they are not cached yet.")
    settings["recipe"] = None if pick.startswith("(none") else pick

    plan = None
    with user_errors("Checking the settings"):
        settings["model"] = confine_model_folder(settings.get("model"))  # the browser user may not own the server
        cfg = TrainConfig(trainer=trainer, name=name or f"{trainer} · {ds.name}", **settings).validate()
        effect = (train_plan.recipe_effect(ds, ref, cfg.recipe, train_plan.stamp(cfg.recipe), str(ws.root))
                  if cfg.recipe else None)
        keep, relabel, n_kept = effect if isinstance(effect, tuple) else (None, None, None)
        plan = make_splits(ds, cfg.with_(recipe=None), ws=ws, reference=ref, keep_mask=keep, relabel=relabel)
        s = plan.summary()
        cap = s["max_train_rows"]
        if isinstance(effect, str):
            st.caption(f"ℹ️ The count below is before the recipe: {effect}.")
        elif effect is not None:
            st.caption(f"The recipe keeps {n_kept:,} of the {len(ds):,} rows (as Clean and `dq filter` count them). "
                       f"The test set is never filtered: of the {s['n_pool']:,} labelled rows outside it, the recipe "
                       f"leaves out {s['n_filtered_out']:,} and relabels {s['n_relabelled']:,}.")
        st.info(f"Trains on **{s['n_train']:,}** rows"
                + (f" (a stratified sample: the cap drops {s['n_capped_out']:,} of "
                   f"{s['n_train'] + s['n_capped_out']:,})" if s["n_capped_out"] else "")
                + f", validates on **{s['n_val']:,}**, tests on **{s['n_test']:,}** ({s['test_source']})"
                + (f" — cap {cap:,}" if cap else "") + ".", icon="ℹ️")
        if trainer == "baseline" and s["test_source"] == "reference" and (
                problem := given_test_problem(ws, ds, ref, "reference")):
            plan = None  # the run would stop on it: say so now
            st.error(problem, icon="⚠️")
    if st.button("Start training", type="primary", key="tr_start", disabled=plan is None):
        with user_errors("Starting the run"):
            data = data_spec(ds, ws=ws, reference=ref if cfg.test_source == "reference" else None)
            run_dir = jobs.submit({"name": cfg.name, "train": cfg.to_dict(), "data": data}, runs_dir=runs_dir)
            st.session_state["tr_last_run"] = str(run_dir)
            st.success(f"Run **{run_dir.name}** queued.")


# --------------------------------------------------------------------------- runs (polled)
def _eta(seconds) -> str:
    if seconds is None:
        return "—"
    seconds = int(seconds)
    return f"{seconds // 60}m {seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def _detail_label(r: jobs.RunInfo) -> str:
    on = r.config.get("data", {}).get("dataset_name")
    other = on and r.config.get("data", {}).get("dataset_fingerprint") != ds.fingerprint and on not in r.name
    return " · ".join([r.name, *([f"on {on}"] if other else []), r.run_id, r.state])


def _runs_panel() -> None:
    runs = jobs.list_runs(runs_dir)
    active = [r for r in runs if r.state in jobs.ACTIVE]
    was_active = st.session_state.get("tr_was_active", False)
    st.session_state["tr_was_active"] = bool(active)
    if was_active and not active:
        st.rerun(scope="app")  # stop polling once nothing runs any more
    st.subheader(f"Runs ({len(runs)})")
    if not runs:
        st.caption("No runs yet.")
        return
    for r in active:
        s = r.status
        with st.container(border=True):
            st.markdown(f"**{r.name}** · `{r.run_id}` · {r.state}")
            st.progress(min(1.0, float(s.get("progress") or 0.0)), text=s.get("message") or r.state)
            m1, m2, m3, m4 = st.columns(4)
            total = s.get("total_steps")
            m1.metric(f"Step of {int(total):,}" if total else "Step", f"{int(s.get('step') or 0):,}" if total else "—")
            m2.metric("Epoch", fmt_num(s.get("epoch"), 2) if s.get("epoch") is not None else "—")
            m3.metric("ETA", _eta(s.get("eta_seconds")))
            m4.metric("Elapsed", _eta(s.get("elapsed_seconds")))
            hist = jobs.read_history(r.path)
            if len(hist):
                st.plotly_chart(vt.training_curves_figure(hist, title="Live loss"), width="stretch",
                                key=f"tr_curve_{r.run_id}")
            if st.button("Cancel", key=f"tr_cancel_{r.run_id}"):
                jobs.cancel(r.path)
                st.toast(f"Cancelling {r.run_id}")
            if "cancel" in (s.get("message") or "") and st.button("Force stop", key=f"tr_kill_{r.run_id}"):
                jobs.cancel(r.path, force=True)
    table = pd.DataFrame([r.summary() for r in runs])
    table["created"] = pd.to_datetime(table["created"], unit="s").dt.strftime("%Y-%m-%d %H:%M")
    st.dataframe(table[["run", "name", "state", "trainer", "dataset", "accuracy", "macro_f1", "message",
                        "created"]], hide_index=True, width="stretch", key="tr_runs_table")
    finished = [r for r in runs if r.state in jobs.FINAL]
    if finished:
        started = st.session_state.get("tr_last_run")
        cached_runs.select_detail_run(finished, fingerprint=ds.fingerprint,
                                      started=Path(started).name if started else None)
        pick = st.selectbox("Run details", [r.run_id for r in finished], key=cached_runs.DETAIL_KEY,
                            format_func=lambda rid: next(_detail_label(r) for r in finished if r.run_id == rid))
        r = next(r for r in finished if r.run_id == pick)
        if r.state == jobs.FAILED:
            st.error(f"Failed: {r.status.get('error') or 'unknown error'}")
            with st.expander("End of the log"):
                st.code(r.status.get("log_tail") or jobs.log_tail(r.path) or "(empty log)")
        elif r.state == jobs.CANCELLED:
            st.warning("Cancelled.")
        else:
            m = jobs.read_metrics(r.path) or {}
            st.success(f"Accuracy {fmt_num(m.get('accuracy'))} · macro-F1 {fmt_num(m.get('macro_f1'))} · "
                       f"{m.get('n_test', 0):,} test rows")
            if m.get("vectors"):
                st.caption(f"Vectors: {m['vectors']}")
            for w in run_warnings(m):
                st.warning(f"Degenerate model: {w}.", icon="⚠️")
            hist = jobs.read_history(r.path)
            if len(hist) > 1:
                st.plotly_chart(vt.training_curves_figure(hist), width="stretch", key="tr_detail_curve")
            if st.button("Open in Report", key="tr_to_report"):
                st.session_state["report_runs"] = [r.run_id]
                st.switch_page(navigation.page("report"))
        c1, c2 = st.columns(2)
        c1.caption(f"Folder: `{r.path}`")
        if c2.button("Delete this run", key="tr_delete"):
            with user_errors("Deleting the run"):
                jobs.delete_run(r.path)
                st.rerun()


has_active = any(jobs.read_status(p).get("state") in jobs.ACTIVE for p in runs_dir.iterdir() if p.is_dir())
with user_errors("Listing the runs"):
    # Poll only while something runs; the panel reruns the whole page once the last run ends.
    st.fragment(_runs_panel, run_every=2.0 if has_active else None)()
