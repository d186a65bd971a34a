"""The Train page's data plan: which recipe it offers first, and the rows that recipe keeps.

The count "Trains on N rows" follows the picked recipe: the recipe is applied with
dq_core.filtering.apply_recipe to the signals already in the workspace cache (never computed here; a
run computes what is missing), and the split plan is made with that keep mask and those relabels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from dq_core.data.dataset import TextDataset
from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.filtering import apply_recipe, as_recipe
from dq_core.filtering.load_signals import cached_signals

NONE = "(none: all rows)"
WORKING_FILE = "working.json"


def default_index(options: list[str]) -> int:
    """The working recipe (what the Clean page's controls describe) when there is one, else no recipe."""
    for i, o in enumerate(options):
        if o.endswith("/" + WORKING_FILE) or o == WORKING_FILE:
            return i
    return 0


@st.cache_data(max_entries=16, show_spinner="Applying the recipe…", hash_funcs={TextDataset: lambda d: d.fingerprint})
def recipe_effect(ds: TextDataset, ref: TextDataset | None, pick: str, stamp: float, root: str
                  ) -> tuple[np.ndarray, dict[str, str], int] | str:
    """(keep mask, relabels, rows kept of the whole dataset) of the recipe on ``ds`` (the figures Clean and
    `dq filter` show), or a sentence saying why it cannot be known yet.
    ``stamp`` (the recipe file's mtime) makes a saved-over recipe count again."""
    ws = Workspace(Path(root))
    try:
        recipe = as_recipe(pick)
        signals = (cached_signals(ds, ref, workspace=ws, settings=recipe.signal_settings)
                   if recipe.needs_signals else None)
        if recipe.needs_signals and signals is None:
            return ("the recipe's signals are not computed yet (open Clean, or the run computes them first), so "
                    "the rows it keeps are counted when the run starts")
        res = apply_recipe(ds, signals, recipe, workspace=ws, strict=False)
    except DataError as exc:
        return str(exc)
    return res.keep_mask, {str(k): str(v) for k, v in res.relabels.items()}, res.n_kept


def stamp(pick: str | None) -> float:
    if not pick or pick == "default":
        return 0.0
    try:
        return Path(pick).stat().st_mtime
    except OSError:
        return 0.0
