"""The Clean page's second half: what-if filtering, a live before/after panel, review, label-next, export.

``render_filter_panel(ds, ref, signals_frame)`` draws it all. Every number comes from dq_core: the
recipe is applied by :func:`dq_core.filtering.apply_prepared` (the code `dq filter` runs) and the
figures by :mod:`dq_core.filtering.whatif`, whose context is built once per (dataset, reference, signals) so moving
a control only recounts. Review decisions go to the workspace at once (DecisionStore, atomic) and the
working recipe to ``recipes/<dataset id>/working.json``, so both survive a reload and training can use it.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from dq_app.ui import coverage_selection
from dq_app.ui.clean import cached, working
from dq_app.ui.clean.before_after import before_after
from dq_app.ui.clean.compare import compare
from dq_app.ui.clean.controls import WORKING, controls
from dq_app.ui.clean.export import export
from dq_app.ui.clean.review import label_next_section, review
from dq_app.ui.clean.rule_figures import fill_counts, rules_in_effect
from dq_app.ui.widgets import user_errors
from dq_core.data.dataset import TextDataset
from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.filtering import (
    DecisionStore,
    RecipeResult,
    apply_prepared,
)
from dq_core.filtering import whatif as wi
from dq_core.signals import find_signal_key


def render_filter_panel(ds: TextDataset, ref: TextDataset | None, signals_frame: pd.DataFrame | None, *,
                        signal_keys: list[str] | None = None, seed: int = 0, key: str = "fp",
                        selections: dict[str, list] | None = None, embeddings: tuple | None = None,
                        workspace: Workspace | None = None) -> RecipeResult | None:
    """Draw the filter half of the Clean page; returns the working recipe's result (None on bad input).

    ``signals_frame``: the wide frame of dq_core.signals (row_id, <signal>_score, is_<signal>_issue,
    suggested_label, ...), or None before signals exist (conditions, class rules and decisions still work).
    ``signal_keys``/``seed``: how that frame was computed (the keys of the signals asked for, e.g.
    ``list(report.columns)``); recorded in the recipe so `dq filter` and training use the same signals.
    ``selections``: named row-id sets (e.g. a coverage-map lasso) offered as row sets.
    ``embeddings``: (dataset, reference) EmbeddingResults when the caller has them; by default the panel
    reads those already in the workspace cache and never embeds on its own.
    """
    from dq_app.ui import state

    ws = workspace or state.workspace()
    ds_id = ws.save_dataset(ds)
    folder = ws.recipes_dir(ds_id)
    store = DecisionStore(folder)
    home = str(ws.root)
    result = None
    with user_errors("The filter panel"):
        inputs = cached.filter_inputs(ds, signals_frame)
        working.prepare(key, ds_id, inputs, folder)

        st.subheader("What if: filter the rows")
        offered = {**coverage_selection.row_sets(ds_id), **(selections or {})}  # the Coverage map's pick too
        recipe, problems, slots = controls(key, inputs, offered)
        working.remember(key, ds_id, inputs, recipe)
        for p in problems:
            st.warning(p)
        recipe = recipe.with_decisions(store.decisions())
        if signal_keys:
            recipe = replace(recipe, signal_settings={"signals": list(signal_keys), "seed": int(seed)})
        working.autosave(key, folder, recipe)
        result = apply_prepared(inputs, recipe, strict=False)
        fill_counts(slots, result)
        for n in result.notes:
            st.caption(f"ℹ️ {n}")
        if result.problems:
            st.error(" ".join(result.problems), icon="⚠️")
        saved_as = (f"autosaved as `{WORKING}.json`" if working.user_made(key, recipe) else
                    f"the default; saved as `{WORKING}.json` once you change a control")
        st.caption(f"Working recipe: {recipe.summary()} — {saved_as} (recipe fingerprint `{recipe.fingerprint}`).")
        with st.expander("Rules in effect", expanded=False):
            rules_in_effect(result, key)

        st.subheader("Before → after")
        ctx = None
        label_key = find_signal_key(signal_keys or [], "label") or "label"
        token = cached.embeddings_token(embeddings)
        try:
            ctx = cached.whatif_context(ds, ref, signals_frame, home, label_key, int(seed), token, embeddings)
        except DataError as exc:
            st.warning(f"The before/after figures could not be prepared: {exc}")
        if ctx is not None:
            before = wi.figures(ctx)
            after = wi.figures_for(ctx, result)
            before_after(key, ctx, before, after)

        st.subheader("Review rows")
        review(key, inputs, result, store)

        st.subheader("Label next")
        with user_errors("Label next"):
            label_next_section(key, ds, signals_frame, result, store,
                               lambda: cached.cached_label_inputs(ds, home, label_key, int(seed), token, embeddings))

        if ctx is not None:
            st.subheader("Recipes side by side")
            compare(key, inputs, ctx, recipe, folder, before)

        st.subheader("Export")
        export(key, ds, signals_frame, result, ws, ds_id)
    return result

