"""Where training meets a FilterRecipe: which recipes a run can use, and what one leaves of the dataset.

A run trains on the dataset as a recipe leaves it: a keep mask over the dataset's rows plus a relabel
map {row_id: label} and the repaired texts {row_id: text}. All come from :func:`dq_core.filtering.apply_recipe`, the very call `dq filter` and
the Clean page make, with the signals loaded from (or computed into) the same workspace cache, so a run
trains on exactly the rows the page previewed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dq_core import filtering
from dq_core.data.dataset import TextDataset
from dq_core.data.workspace import Workspace


@dataclass(frozen=True)
class RecipeOutcome:
    keep_mask: np.ndarray  # bool per row of the dataset
    relabel: dict[str, str]  # row_id (as str) -> new label
    description: str
    texts: dict[str, str] = field(default_factory=dict)  # row_id (as str) -> repaired text (a repair rule's)


def list_recipes(ws: Workspace, ds_id: str) -> list[Path]:
    """Recipe files saved for a dataset on the Clean page (newest first)."""
    found = filtering.saved_recipes(ws.recipes_dir(ds_id)).values()
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def apply_recipe(ds: TextDataset, recipe: str | Path | filtering.FilterRecipe, *, ws: Workspace,
                 embeddings=None) -> RecipeOutcome:
    """Apply ``recipe`` ('default', a JSON file or a FilterRecipe) to ``ds``.

    Strict: a recipe that leaves no rows or removes a whole class raises DataError, which fails the run
    with that reason before any training starts.
    """
    rec = filtering.as_recipe(recipe)
    result = filtering.apply_recipe(ds, None, rec, workspace=ws, embeddings=embeddings)
    relabel = {str(k): str(v) for k, v in result.relabels.items()}
    texts = {str(k): after for k, (_, after) in result.repairs.items()}
    name = Path(recipe).stem if isinstance(recipe, (str, Path)) else rec.name or "recipe"
    return RecipeOutcome(keep_mask=result.keep_mask, relabel=relabel, texts=texts,
                         description=f"recipe '{name}': keeps {result.n_kept:,} of {result.n_rows:,} rows, "
                                     f"relabels {len(relabel):,}"
                                     + (f", repairs the text of {len(texts):,}" if texts else ""))
