"""The Clean page's "Which cleaning pays?" section: choose where candidates are scored (held-out folds, or a
trusted test set: the labelled reference, a stored labelled dataset or an uploaded file), start the recipe
advisor as a background job, follow it, show every candidate's gain over no cleaning, and load the
recommended recipe into the filter controls.

Every number comes from dq_core.training.advisor (the same as `dq advise`); this file holds widgets only.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from dq_core.data import io as dqio
from dq_core.data.dataset import ColumnMapping, TextDataset, build_dataset, guess_mapping
from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.filtering import recipe_path, save_recipe
from dq_core.training import jobs
from dq_core.training.advisor import DEFAULT_FOLDS, MAX_REPEATS, TRAINERS, candidate_recipes, check_inputs
from dq_core.training.advisor_job import cancel_advice, latest_advice_run, read_advice, submit_advice
from dq_core.training.advisor_result import AdviceResult

WORKING = "working"  # the filter panel's autosaved recipe (ui/clean/controls.py)
PANEL_KEY = "fp"  # the filter panel's widget-key prefix (ui/clean/panel.py)
# where the candidates are scored: held-out folds of the labels as given, or a trusted labelled set
FOLDS, REFERENCE, STORED, UPLOAD = "folds", "reference", "stored", "upload"
EVAL_LABELS = {FOLDS: "held-out folds of this dataset's labels", REFERENCE: "the reference set (its labels)",
               STORED: "a labelled dataset stored in the workspace", UPLOAD: "a labelled file I upload"}
TRUSTED_WHY = ("A trusted test set (rows whose labels you have checked, kept apart from this dataset) measures "
               "the gain directly. Held-out folds score every candidate against the labels as given, noise and "
               "all: a model that learned the true label is marked wrong on every noisy held-out row, so folds "
               "undercount what cleaning wins, and a real gain can read as none.")
TRAINER_HELP = {"baseline": "logistic regression on the sentence embeddings: seconds per fit",
                "transformer": "a 1-epoch MiniLM fine-tune per fit: minutes each on a CPU"}


def advisor_section(ds: TextDataset, ref: TextDataset | None = None, *, signal_keys: list[str] | None = None,
                    seed: int = 0, workspace: Workspace | None = None, key: str = "adv") -> None:
    from dq_app.ui import state

    ws = workspace or state.workspace()
    settings = {"signals": list(signal_keys), "seed": int(seed)} if signal_keys else None
    st.subheader("Which cleaning pays?")
    st.caption("Trains a model on what each candidate recipe keeps (no cleaning, the default, relabel only, drop "
               "only, duplicates and junk only, conservative, and the agreement column's when one is mapped), "
               "scores it on held-out folds of your labels or on a trusted test set you choose, and shows each "
               "one's gain over no cleaning with a 95% paired bootstrap interval. It recommends a recipe only "
               "when its gain lies measurably above zero.")
    run = latest_advice_run(ws, ds)
    active = run is not None and run.state in jobs.ACTIVE
    test, test_ok = test_set_choice(ds, ref, ws, key=key)
    c1, c2, c3, c4 = st.columns([2.6, 0.9, 1.3, 2.0], vertical_alignment="bottom")
    trainer = c1.selectbox("Trainer", TRAINERS, key=f"{key}_trainer", format_func=lambda t: f"{t} — {TRAINER_HELP[t]}")
    folds = int(c2.number_input("Folds", min_value=2, max_value=10, value=DEFAULT_FOLDS, key=f"{key}_folds",
                                disabled=test is not None, help="used only when evaluating on held-out folds"))
    repeats = int(c3.number_input(
        "Fine-tunes per candidate", min_value=1, max_value=MAX_REPEATS, value=1, key=f"{key}_repeats",
        disabled=trainer != "transformer",
        help="transformer only: each candidate fine-tuned this many times (other seeds), so the intervals hold "
             "the training randomness too; the run takes that many times longer"))
    repeats = repeats if trainer == "transformer" else 1
    st.caption(fits_caption(ds, trainer, None if test is not None else folds, repeats))
    if test_ok:
        try:
            check_inputs(ds, test, trainer=trainer, folds=folds, metric="accuracy", repeats=repeats)
        except DataError as exc:
            st.error(f"{exc}.", icon="⚠️")
            test_ok = False
    if c4.button("Find the cleaning that pays", key=f"{key}_start", icon="🧪", disabled=active or not test_ok,
                 help="runs in the background; you can keep working on the page"):
        # the job finds the test set again as a stored workspace dataset (submit_advice stores it)
        submit_advice(ds, ws=ws, test=test, reference=ref, trainer=trainer, folds=folds, seed=int(seed),
                      signal_settings=settings, repeats=repeats)
        st.rerun()
    if run is None:
        st.caption("Not run on this dataset yet.")
        return
    st.fragment(_follow, run_every=2.0 if active else None)(str(run.path), key, active)


def fits_caption(ds: TextDataset, trainer: str, folds: int | None, repeats: int) -> str:
    """How many models the run trains, said before it starts (a CPU fine-tune per fit adds up)."""
    n_cands = len(candidate_recipes(ds))
    n = n_cands * (folds or 1) * repeats
    parts = [f"{n_cands} candidates", *([f"{folds} folds"] if folds else []), *([f"{repeats} runs"] if repeats > 1 else [])]
    what = ("1-epoch fine-tunes: seconds each on a GPU, about a minute per 3,000 rows on a 2-core CPU"
            if trainer == "transformer" else "logistic regressions on the embeddings: seconds each")
    return f"This run trains {n:,} models ({' × '.join(parts)}), {what}."


def labelled_like(test: TextDataset | None, ds: TextDataset) -> bool:
    """``test`` has labels, and at least one of them is a class of ``ds`` (a set of other classes is no test)."""
    if test is None:
        return False
    labels = set(test.labels.dropna().astype(str))
    return bool(labels & set(map(str, ds.classes)))


def stored_test_sets(ws: Workspace, ds: TextDataset, ref: TextDataset | None) -> dict[str, str]:
    """{dataset id: 'name — rows'} of the labelled datasets stored in the workspace, other than ``ds`` and
    ``ref`` (evaluating on the training rows themselves would measure nothing)."""
    skip = {ds.fingerprint[:16]} | ({ref.fingerprint[:16]} if ref is not None else set())
    out = {}
    for meta in ws.list_datasets():
        mapping = meta.get("mapping") or {}
        if meta["id"] in skip or not (isinstance(mapping, dict) and mapping.get("label")):
            continue
        out[str(meta["id"])] = f"{meta.get('name', meta['id'])} — {int(meta.get('n_rows') or 0):,} rows"
    return out


def test_set_choice(ds: TextDataset, ref: TextDataset | None, ws: Workspace, *,
                    key: str) -> tuple[TextDataset | None, bool]:
    """The "Evaluate on" widgets: (the trusted test set, or None for held-out folds; whether the choice is
    complete and usable). Held-out folds are the default."""
    stored = stored_test_sets(ws, ds, ref)
    options = [FOLDS, *([REFERENCE] if labelled_like(ref, ds) else []), *([STORED] if stored else []), UPLOAD]
    if st.session_state.get(f"{key}_eval") not in options:  # first draw, or the reference went away
        st.session_state[f"{key}_eval"] = FOLDS
    choice = st.radio("Evaluate on", options, key=f"{key}_eval", horizontal=True, format_func=EVAL_LABELS.get)
    st.caption(TRUSTED_WHY)
    if choice == FOLDS:
        return None, True
    if choice == REFERENCE:
        return ref, True
    if choice == STORED:
        from dq_app.ui import state

        pick = st.selectbox("Test set", list(stored), key=f"{key}_stored", format_func=stored.get)
        try:
            return state.load_stored(pick), True
        except DataError as exc:
            st.error(f"{exc}.", icon="⚠️")
            return None, False
    up = st.file_uploader("Labelled test file: CSV, TSV, JSON (records), JSONL or Parquet",
                          type=[e.lstrip(".") for e in dqio.TABLE_EXTENSIONS], key=f"{key}_upload")
    if up is None:
        st.info("Upload a file with a text and a label column; it is stored in the workspace when the advisor "
                "starts, so the background job reads it from there.")
        return None, False
    try:
        raw = dqio.read_table_bytes(up.getvalue(), up.name)
        cols = [str(c) for c in raw.frame.columns]
        guess = guess_mapping(raw.frame)
        a, b = st.columns(2)
        text = a.selectbox("Text column", cols, key=f"{key}_up_text",
                           index=cols.index(guess.text) if guess.text in cols else 0)
        lab_guess = guess.mapping.label if guess.mapping is not None else None
        label = b.selectbox("Label column", cols, key=f"{key}_up_label",
                            index=cols.index(lab_guess) if lab_guess in cols else min(1, len(cols) - 1))
        return build_dataset(raw.frame, ColumnMapping(text=text, label=label), name=f"test: {raw.source}",
                             source=raw.source, notes=raw.notes), True
    except DataError as exc:
        st.error(f"The test file cannot be used: {exc}.", icon="⚠️")
        return None, False


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
    test_name = (info.config.get("data") or {}).get("test_name")
    if result.evaluated_on == "test" and test_name:
        st.caption(f"Last run evaluated on the test set **{test_name}**.")
    show_advice(result, key=key)


def show_advice(result: AdviceResult, *, key: str) -> None:
    table = result.table()
    fmt = {c: "{:+.3f}" for c in table.columns if c.startswith("Δ") and "interval" not in c}
    fmt.update({"accuracy": "{:.3f}", "macro-F1": "{:.3f}"})
    st.dataframe(table.style.format(fmt, na_rep="–"), hide_index=True, width="stretch", key=f"{key}_table")
    head, *rest = result.verdict
    shown = " ".join([f"**{head}**", *rest])
    if result.recommended is None:
        st.info(shown, icon="⚖️")
    else:
        st.success(shown, icon="✅")
    st.caption(result.notes_text)
    if result.recommended is not None and st.button(
            f"Load '{result.candidate(result.recommended).title}' into the filter controls", key=f"{key}_load",
            icon="⬇️"):
        load_into_controls(result)
        st.rerun(scope="app")


def load_into_controls(result: AdviceResult) -> None:
    """Make the recommended recipe the filter panel's working recipe; the panel reads it on its next draw."""
    from dq_app.ui import state

    ws = state.workspace()
    ds = state.active_dataset()
    rec = result.recommended_recipe()
    if ds is None or rec is None:
        return
    folder = ws.recipes_dir(ws.save_dataset(ds))
    save_recipe(replace(rec, name=WORKING), recipe_path(folder, WORKING))
    st.session_state.pop(f"{PANEL_KEY}_init", None)  # the panel re-initialises its controls from the file
