"""The filter panel's recipes: several side by side (dq_core.filtering.compare), save, load and upload."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from dq_app.ui.clean.before_after import fmt_figure
from dq_app.ui.clean.controls import WORKING
from dq_app.ui.clean.working import request_load
from dq_app.ui.widgets import user_errors
from dq_core.errors import DataError
from dq_core.filtering import (
    FilterInputs,
    FilterRecipe,
    compare_recipes,
    default_recipe,
    load_recipe,
    recipe_path,
    save_recipe,
    saved_recipes,
)
from dq_core.filtering import whatif as wi
from dq_core.filtering.compare import RELABELLED


def compare(key: str, inputs: FilterInputs, ctx: wi.WhatIfContext, working: FilterRecipe, folder: Path,
            before: wi.WhatIfFigures) -> None:
    saved = saved_recipes(folder)
    options = ["default", *[n for n in saved if n != WORKING]]
    picked = st.multiselect("Recipes to compare with the working recipe", options, default=["default"],
                            key=f"{key}_cmp")
    recipes: dict[str, FilterRecipe] = {"working": working}
    for name in picked:
        with user_errors(f"Recipe '{name}'"):
            recipes[name] = default_recipe() if name == "default" else load_recipe(saved[name])
    cmp = compare_recipes(inputs, ctx, recipes, before=before)
    for name, why in cmp.errors.items():
        st.warning(f"Recipe '{name}': {why}")
    keys = cmp.keys()
    table = pd.DataFrame({name: [fmt_figure("n_rows" if k == RELABELLED else k, cmp.value(name, k)) for k in keys]
                          for name in cmp.columns}, index=cmp.labels())
    st.dataframe(table, width="stretch", key=f"{key}_cmp_table", height=36 * (len(table) + 1) + 4)
    for name, problems in cmp.problems().items():
        st.caption(f"⚠️ {name}: {problems}")
    _save_and_load(key, inputs, working, folder, saved)


def _save_and_load(key: str, inputs: FilterInputs, working: FilterRecipe, folder: Path, saved: dict) -> None:
    c1, c2, c3 = st.columns([3, 1.5, 3])
    new_name = c1.text_input("Save the working recipe as", key=f"{key}_save_name", placeholder="e.g. strict")
    if c2.button("Save", key=f"{key}_save_btn", disabled=not (new_name or "").strip()):
        with user_errors("Saving the recipe"):
            p = recipe_path(folder, new_name.strip())
            if p.stem == WORKING:
                raise DataError(f"'{WORKING}' is the autosaved recipe; choose another name")
            save_recipe(FilterRecipe.from_dict({**working.to_dict(), "name": p.stem}), p)
            st.success(f"Saved as `{p.name}` in the workspace; training can use it.")
    loadable = [n for n in saved if n != WORKING]
    with c3:
        to_load = st.selectbox("Load a saved recipe into the controls", ["default", *loadable], key=f"{key}_load_sel")
        if st.button("Load", key=f"{key}_load_btn"):
            with user_errors("Loading the recipe"):
                rec = default_recipe() if to_load == "default" else load_recipe(saved[to_load])
                load_into_controls(key, rec)
    up = st.file_uploader("…or upload a recipe (JSON)", type=["json"], key=f"{key}_upload")
    if up is not None and st.button("Load the uploaded recipe", key=f"{key}_upload_btn"):
        with user_errors("Loading the recipe"):
            rec = FilterRecipe.from_json(up.getvalue().decode("utf-8", errors="replace"), source=f"'{up.name}'")
            load_into_controls(key, rec)


def load_into_controls(key: str, recipe: FilterRecipe) -> None:
    """Controls take the recipe's rules on the next run, before they are drawn (a drawn widget's state
    cannot be written); its manual decisions join the saved ones there (one undo step)."""
    request_load(key, recipe)
    st.rerun()
