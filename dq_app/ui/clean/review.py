"""The filter panel's review: rows to look at (chosen and ranked by dq_core.filtering.review), manual
decisions saved at once, bulk actions, undo, and label-next (dq_core.filtering.label_next).

Every change of decisions goes through :func:`decide`, which says what it did (rows in, rows out, relabels,
as dq_core.filtering.decision_effect counts them) above the table until the decisions change again."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd
import streamlit as st

from dq_app.ui.widgets import user_errors
from dq_core.data.dataset import TextDataset
from dq_core.filtering import (
    DENSITY_NEIGHBORS,
    REVIEW_LIMIT,
    REVIEW_VIEWS,
    UNCERTAINTY_METHODS,
    Decision,
    DecisionStore,
    FilterInputs,
    FilterRecipe,
    LabelInputs,
    RecipeResult,
    decision_effect,
    label_next,
    parse_row_ids,
    review_frame,
)

DECISION_OPTIONS = ["", "keep", "drop", "relabel"]  # "" = no decision


def _state(decisions: Iterable[Decision]) -> tuple:
    return tuple(sorted((str(d.row_id), d.action, d.label or "") for d in decisions))


def decide(key: str, inputs: FilterInputs, recipe: FilterRecipe, store: DecisionStore,
           change: Callable[[], object], *, what: str | None = None) -> None:
    """Run ``change`` (it writes ``store``) and keep what it did to the recipe's rows for the page to say."""
    before = store.decisions()
    change()
    after = store.decisions()
    effect = decision_effect(inputs, recipe, before, after)
    if effect.changes:
        st.session_state[f"{key}_effect"] = (effect.message(what), _state(after))


def _effect_note(key: str, decisions: Iterable[Decision]) -> None:
    """The last change's effect, while the saved decisions are still the ones it left."""
    note = st.session_state.get(f"{key}_effect")
    if note and note[1] == _state(decisions):
        st.info(note[0], icon="🧾")


def _on_review_edit(editor_key: str, key: str, store_path: str, rows: list, current: list, sugg: list,
                    inputs: FilterInputs, recipe: FilterRecipe) -> None:
    """data_editor edits -> decisions saved at once; the editor is then redrawn from the saved state."""
    ss = st.session_state
    edits = (ss.get(editor_key) or {}).get("edited_rows", {})
    store = DecisionStore(Path(store_path).parent)
    selected: set[str] = ss.setdefault(f"{key}_selected", set())
    changes = []
    for idx, ch in edits.items():
        i = int(idx)
        rid = rows[i]
        if "select" in ch:
            (selected.add if ch["select"] else selected.discard)(str(rid))
        if "decision" in ch or "relabel to" in ch:
            action = ch.get("decision", current[i][0]) or ""
            to = ch.get("relabel to", current[i][1])
            if action == "relabel" and not to:
                to = sugg[i]
            if action == "":
                changes.append((rid, None))
            elif action == "relabel":
                if to:
                    changes.append(Decision(rid, "relabel", str(to)))
                else:
                    ss[f"{key}_flash"] = f"row {rid}: choose a label in 'relabel to' to relabel it"
            else:
                changes.append(Decision(rid, action))
    if changes:
        decide(key, inputs, recipe, store, lambda: store.set(changes))
    ss[f"{key}_rv"] = ss.get(f"{key}_rv", 0) + 1


def after_bulk(key: str) -> None:
    st.session_state[f"{key}_rv"] = st.session_state.get(f"{key}_rv", 0) + 1
    st.rerun()


def review(key: str, inputs: FilterInputs, result: RecipeResult, store: DecisionStore) -> None:
    ss = st.session_state
    decisions = store.as_dict()
    selected: set[str] = ss.setdefault(f"{key}_selected", set())
    if msg := ss.pop(f"{key}_flash", None):
        st.warning(msg)
    c1, c2 = st.columns([3, 2])
    show = c1.radio("Show", REVIEW_VIEWS, horizontal=True, key=f"{key}_show")
    c2.caption(f"**{len(decisions):,}** manual decisions saved (they win over every rule) · "
               f"{len(selected):,} rows selected")
    _effect_note(key, decisions.values())
    recipe = result.recipe
    frame = review_frame(inputs, result, decisions, show)
    frame.insert(2, "select", [str(r) in selected for r in frame["row_id"]])  # after the decision columns
    if len(frame) == 0:
        st.caption("No rows to show here.")
    else:
        _review_table(key, inputs, recipe, frame, store, selected)
    _by_id(key, inputs, recipe, store)
    c1, c2, _ = st.columns([1, 1, 3])
    if c1.button("↶ Undo", key=f"{key}_undo", disabled=not store.can_undo(),
                 help="revert the last decision change (single or bulk)"):
        decide(key, inputs, recipe, store, store.undo, what="Undo")
        after_bulk(key)
    if c2.button("Clear all decisions", key=f"{key}_clear_all", disabled=not decisions):
        decide(key, inputs, recipe, store, store.clear, what="Cleared every decision")
        after_bulk(key)


def _review_table(key: str, inputs: FilterInputs, recipe: FilterRecipe, frame: pd.DataFrame,
                  store: DecisionStore, selected: set[str]) -> None:
    ss = st.session_state
    st.caption(f"{len(frame):,} rows (at most {REVIEW_LIMIT}, most suspicious first). Set a decision per row "
               "or tick rows for the bulk actions below; every change is saved at once.")
    editor_key = f"{key}_review_{ss.get(f'{key}_rv', 0)}"
    rows = frame["row_id"].tolist()
    current = list(zip(frame["decision"], frame["relabel to"], strict=True))
    sugg = frame["suggested_label"].tolist() if "suggested_label" in frame else [None] * len(frame)
    st.data_editor(
        frame, key=editor_key, hide_index=True, width="stretch", height=360,
        disabled=[c for c in frame.columns if c not in ("select", "decision", "relabel to")],
        on_change=_on_review_edit, args=(editor_key, key, str(store.path), rows, current, sugg, inputs, recipe),
        column_config={
            "select": st.column_config.CheckboxColumn("✓", width="small"),
            "text": st.column_config.TextColumn("text", width="large"),
            "repaired text": st.column_config.TextColumn("repaired text (after)", width="large"),
            "decision": st.column_config.SelectboxColumn("decision", options=DECISION_OPTIONS),
            "relabel to": st.column_config.SelectboxColumn("relabel to", options=inputs.classes),
            "suggested_label_prob": st.column_config.NumberColumn("p(suggested)", format="%.2f"),
            "label_score": st.column_config.NumberColumn("label score", format="%.3f"),
        })
    shown = [str(r) for r in rows]
    b = st.columns(6)
    if b[0].button("Select all shown", key=f"{key}_sel_all"):
        selected.update(shown)
        st.rerun()
    if b[1].button("Select none", key=f"{key}_sel_none"):
        selected.clear()
        st.rerun()
    chosen = [r for r in rows if str(r) in selected]

    def save(changes: list) -> None:
        decide(key, inputs, recipe, store, lambda: store.set(changes))
        after_bulk(key)

    if b[2].button(f"Keep selected ({len(chosen)})", key=f"{key}_bulk_keep", disabled=not chosen):
        save([Decision(r, "keep") for r in chosen])
    if b[3].button(f"Drop selected ({len(chosen)})", key=f"{key}_bulk_drop", disabled=not chosen):
        save([Decision(r, "drop") for r in chosen])
    if b[4].button("Accept suggestions", key=f"{key}_bulk_accept", disabled=not chosen or "suggested_label" not in frame,
                   help="relabel the selected rows to their suggested label"):
        sug = dict(zip(frame["row_id"].astype(str), frame.get("suggested_label", pd.Series(dtype=object)),
                       strict=True))
        save([Decision(r, "relabel", str(sug[str(r)])) for r in chosen
              if isinstance(sug.get(str(r)), str) and sug[str(r)]])
    if b[5].button("Clear selected", key=f"{key}_bulk_clear", disabled=not chosen,
                   help="remove the decisions of the selected rows"):
        save([(r, None) for r in chosen])
    if inputs.classes:
        c1, c2 = st.columns([4, 2], vertical_alignment="bottom")
        to = c1.selectbox("Relabel selected rows to", inputs.classes, key=f"{key}_bulk_to")
        if c2.button(f"Relabel selected ({len(chosen)})", key=f"{key}_bulk_relabel", disabled=not chosen):
            save([Decision(r, "relabel", to) for r in chosen])


def _by_id(key: str, inputs: FilterInputs, recipe: FilterRecipe, store: DecisionStore) -> None:
    with st.form(f"{key}_by_id", clear_on_submit=False, border=True):
        st.markdown("**Decide by row id**")
        c1, c2, c3 = st.columns([3, 2, 2])
        ids_text = c1.text_input("Row ids (comma separated)", key=f"{key}_ids")
        action = c2.selectbox("Decision", ["drop", "keep", "relabel", "clear"], key=f"{key}_ids_action")
        label = c3.selectbox("Label (relabel)", inputs.classes or [""], key=f"{key}_ids_label")
        if st.form_submit_button("Apply"):
            with user_errors("Saving the decision"):
                ids = parse_row_ids(ids_text or "", inputs)
                if action == "clear":
                    changes = [(r, None) for r in ids]
                else:
                    changes = [Decision(r, action, label if action == "relabel" else None) for r in ids]
                decide(key, inputs, recipe, store, lambda: store.set(changes))
                after_bulk(key)


def label_next_section(key: str, ds: TextDataset, signals: pd.DataFrame | None, result: RecipeResult,
                       store: DecisionStore, load_inputs: Callable[[], LabelInputs]) -> None:
    """The rows worth relabelling first, among those the recipe keeps and nobody decided yet
    (``load_inputs``: the label signal's probabilities and density, loaded once the widgets are drawn)."""
    c1, c2, c3 = st.columns([2, 2, 2])
    method = c1.selectbox("Uncertainty", UNCERTAINTY_METHODS, key=f"{key}_ln_method",
                          help="margin: 1 − (p₁ − p₂); entropy: H(p)/log k; least confidence: 1 − p₁ (scaled)")
    dens = c2.toggle("Density-weighted", value=True, key=f"{key}_ln_density",
                     help=f"uncertainty × mean similarity to the {DENSITY_NEIGHBORS} nearest neighbours: favours "
                          "typical rows over outliers")
    n = c3.number_input("Batch size", 10, 5000, 100, step=10, key=f"{key}_ln_n")
    inputs = load_inputs()
    exclude = ~result.keep_mask
    decided = store.as_dict()
    if decided:
        pos = pd.Index(ds.row_ids.astype(str)).get_indexer([str(k) for k in decided])
        exclude = exclude.copy()
        exclude[pos[pos >= 0]] = True
    batch = label_next(ds, inputs.probs, signals=signals, method=method,
                       density=inputs.density if dens else None, n=int(n), exclude=exclude)
    st.caption(f"{inputs.note}. Rows the recipe drops and rows with a decision are left out.")
    if dens and inputs.density is None:
        st.caption("No neighbour graph cached: density weighting is off.")
    st.dataframe(batch, hide_index=True, width="stretch", height=300, key=f"{key}_ln_table")
    from dq_core.data.io import frame_to_bytes

    st.download_button("Download the batch (CSV)", data=frame_to_bytes(batch, "csv"),
                       file_name=f"label_next_{method}.csv", mime="text/csv", key=f"{key}_ln_dl",
                       on_click="ignore")
