"""The working recipe: kept in session state and in the workspace, never only in the widgets' keys.

Streamlit drops a widget's state whenever a run does not draw it (any page switch), and a widget's key
may only be written before the widget is drawn in a run. So:

- :func:`prepare` runs at the top of the filter panel, before any control is drawn. It puts into the
  widget keys, in this order of precedence: a recipe the user asked to load (a pending load, set by a
  button's callback), the controls' own remembered values after a page switch, or on first sight of a
  dataset its working recipe from this session, else ``recipes/<dataset id>/working.json``, else the
  default recipe.
- :func:`remember` runs right after the controls are read: it keeps the recipe (per dataset
  fingerprint) and the raw widget values in session state.
- :func:`autosave` writes ``working.json`` only for a recipe the user made: an existing working recipe is
  kept in step, but the default the controls start from is never written over it or in its place (a run
  that picks "saved: working.json" must train on what the user chose).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import streamlit as st

from dq_app.ui import state
from dq_app.ui.clean.controls import WORKING, set_controls
from dq_core.errors import DataError
from dq_core.filtering import (
    DecisionStore,
    FilterInputs,
    FilterRecipe,
    default_recipe,
    load_recipe,
    recipe_path,
    save_recipe,
)

ALWAYS_SAVE = "always"  # the baseline once the working recipe is the user's (a file, or a loaded recipe)


def _k(key: str, what: str) -> str:
    return f"{key}_{what}"


def widget_keys(key: str, inputs: FilterInputs) -> list[str]:
    """Every control's widget key (the per-class editor's edits are kept apart: see controls)."""
    ss = st.session_state
    keys = [f"{key}_{part}_{name}" for name in inputs.signal_names for part in ("on", "act", "thr", "flag", "minp")]
    keys += [_k(key, "drop_where"), _k(key, "keep_where")]
    keys += [k for k in list(ss.keys()) if isinstance(k, str) and k.startswith((f"{key}_rs_on_", f"{key}_rs_act_"))]
    return keys


def rules_fingerprint(recipe: FilterRecipe) -> str:
    """The recipe's rules alone: what the controls say (not its name, decisions or signal settings)."""
    return replace(recipe, name=WORKING, description="", decisions=(), signal_settings=None).fingerprint


def request_load(key: str, recipe: FilterRecipe) -> None:
    """Ask the next run to put ``recipe`` into the controls (safe from a button's on_click callback)."""
    st.session_state[_k(key, "pending")] = recipe.to_dict()


def prepare(key: str, ds_id: str, inputs: FilterInputs, folder: Path) -> None:
    """Fill the controls' keys before they are drawn (see the module docstring)."""
    ss = st.session_state
    mem = f"{key}_controls"
    init = (ds_id, tuple(inputs.signal_names))
    pending = ss.pop(_k(key, "pending"), None)
    if pending is not None:
        recipe = FilterRecipe.from_dict(pending)
        set_controls(key, recipe, inputs)
        if recipe.decisions:
            DecisionStore(folder).set(list(recipe.decisions))
        ss[_k(key, "rv")] = ss.get(_k(key, "rv"), 0) + 1  # the review table redraws with them
        ss[_k(key, "baseline")] = ALWAYS_SAVE  # the user chose it: it becomes the working recipe
        st.success(f"Recipe '{recipe.name}' loaded into the controls; it is now the working recipe.")
        ss[_k(key, "init")] = init
        state.forget_widgets(mem)
        return
    if ss.get(_k(key, "init")) == init:
        # Same dataset and signals: bring back what a page switch dropped.
        state.restore_widgets(mem)
        editor = f"{key}_classes_{ss.get(_k(key, 'class_v'), 0)}"
        edited = ss.get(_k(key, "class_edited"))
        if editor not in ss and edited is not None:
            ss[_k(key, "class_base")] = pd.DataFrame(edited)
            ss[_k(key, "class_v")] = ss.get(_k(key, "class_v"), 0) + 1
        return
    working_path = recipe_path(folder, WORKING)
    session_copy = (ss.get(_k(key, "working")) or {}).get(ds_id)
    start, baseline = default_recipe(), None
    if session_copy is not None:
        start = FilterRecipe.from_dict(session_copy)
        baseline = ss.get(_k(key, "baselines"), {}).get(ds_id)
    elif working_path.exists():
        try:
            start, baseline = load_recipe(working_path), ALWAYS_SAVE
        except DataError as exc:
            st.warning(f"The saved working recipe could not be read ({exc}); the controls start from the default "
                       "and the file is left as it is until you change a control.")
    set_controls(key, start, inputs)
    ss[_k(key, "baseline")] = baseline  # None: set from the first reading of the controls
    ss[_k(key, "init")] = init
    ss.pop(_k(key, "class_edited"), None)
    state.forget_widgets(mem)


def remember(key: str, ds_id: str, inputs: FilterInputs, recipe: FilterRecipe) -> None:
    """Keep the recipe the controls describe, and their raw values, in session state."""
    ss = st.session_state
    state.remember_widgets(f"{key}_controls", widget_keys(key, inputs))
    rules_only = replace(recipe, decisions=(), signal_settings=None)
    ss.setdefault(_k(key, "working"), {})[ds_id] = rules_only.to_dict()
    if ss.get(_k(key, "baseline")) is None:
        ss[_k(key, "baseline")] = rules_fingerprint(recipe)
    ss.setdefault(_k(key, "baselines"), {})[ds_id] = ss[_k(key, "baseline")]


def user_made(key: str, recipe: FilterRecipe) -> bool:
    """Whether the recipe is the user's: loaded, read from their file, changed, or holding decisions."""
    baseline = st.session_state.get(_k(key, "baseline"))
    return baseline == ALWAYS_SAVE or bool(recipe.decisions) or rules_fingerprint(recipe) != baseline


def autosave(key: str, folder: Path, recipe: FilterRecipe) -> bool:
    """Write ``working.json`` when the recipe is the user's and differs from the file; True if written."""
    if not user_made(key, recipe):
        return False
    p = recipe_path(folder, WORKING)
    rec = FilterRecipe.from_dict({**recipe.to_dict(), "name": WORKING})
    text = rec.to_json() + "\n"
    try:
        if p.exists() and p.read_text(encoding="utf-8") == text:
            return False
    except OSError:
        pass
    save_recipe(rec, p)
    ss = st.session_state
    ss[_k(key, "baseline")] = ALWAYS_SAVE
    if ds_id := (ss.get(_k(key, "init")) or (None,))[0]:
        ss.setdefault(_k(key, "baselines"), {})[ds_id] = ALWAYS_SAVE
    return True
