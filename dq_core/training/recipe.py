"""The one place where training meets a FilterRecipe (dq_core/filtering.py, owned by issue 6).

A run trains on the dataset as a recipe leaves it: a keep mask over the dataset's rows plus a relabel
map {row_id: label}. Until dq_core.filtering exists, runs accept those two directly (TrainConfig
``keep_row_ids`` / ``relabel``); once it exists, ``apply_recipe`` loads and applies a recipe through it.
The adapter tolerates the few API shapes the filtering module is likely to settle on, so plugging it in
is a change here only.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dq_core.dataset import TextDataset
from dq_core.errors import DataError
from dq_core.workspace import Workspace


@dataclass(frozen=True)
class RecipeOutcome:
    keep_mask: np.ndarray  # bool per row of the dataset
    relabel: dict[str, str]  # row_id (as str) -> new label
    description: str


def filtering_module():
    """dq_core.filtering, or None while it does not exist yet."""
    try:
        return importlib.import_module("dq_core.filtering")
    except ModuleNotFoundError as exc:
        if exc.name == "dq_core.filtering":
            return None
        raise


def recipes_available() -> bool:
    return filtering_module() is not None


def list_recipes(ws: Workspace, ds_id: str) -> list[Path]:
    """Recipe files saved for a dataset in the workspace (newest first)."""
    d = ws.root / "recipes" / ds_id
    if not d.is_dir():
        return []
    return sorted((p for p in d.rglob("*.json") if "decision" not in p.name), key=lambda p: p.stat().st_mtime,
                  reverse=True)


def _load_recipe(mod, recipe):
    cls = getattr(mod, "FilterRecipe", None)
    if recipe in ("default", None) and hasattr(mod, "default_recipe"):
        return mod.default_recipe()
    if isinstance(recipe, (str, Path)):
        p = Path(recipe)
        if not p.exists():
            raise DataError(f"recipe file '{recipe}' does not exist")
        for name in ("load_recipe", "read_recipe"):
            if hasattr(mod, name):
                return getattr(mod, name)(p)
        if cls is not None and hasattr(cls, "load"):
            return cls.load(p)
        text = p.read_text()
        if cls is not None and hasattr(cls, "from_json"):
            return cls.from_json(text)
        if cls is not None and hasattr(cls, "from_dict"):
            try:
                return cls.from_dict(json.loads(text))
            except json.JSONDecodeError as exc:
                raise DataError(f"recipe file '{p.name}' is not valid JSON ({exc.msg})") from None
        raise DataError("dq_core.filtering has no way to load a recipe file that training knows of")
    return recipe  # already a recipe object


def _as_outcome(result, ds: TextDataset) -> tuple[np.ndarray, dict]:
    if isinstance(result, tuple) and len(result) >= 2:
        mask, relabels = result[0], result[1]
    else:
        mask = next((getattr(result, a) for a in ("keep_mask", "keep", "mask") if hasattr(result, a)), None)
        relabels = next((getattr(result, a) for a in ("relabels", "relabel", "relabel_map") if hasattr(result, a)),
                        {})
    if mask is None:
        raise DataError("the filtering module returned no keep mask")
    mask = np.asarray(mask)
    if mask.dtype != bool:  # a list of kept row_ids
        kept = {str(r) for r in mask.tolist()}
        mask = np.array([str(r) in kept for r in ds.row_ids], dtype=bool)
    return mask, {str(k): str(v) for k, v in dict(relabels or {}).items()}


def apply_recipe(ds: TextDataset, recipe, *, ws: Workspace) -> RecipeOutcome:
    """Load (if a path or 'default') and apply a recipe to ``ds``; DataError when filtering is missing."""
    mod = filtering_module()
    if mod is None:
        raise DataError("filter recipes need dq_core.filtering, which is not part of this build yet; train "
                        "without --recipe (or pass keep_row_ids/relabel in the run config)")
    rec = _load_recipe(mod, recipe)
    for name in ("apply_recipe", "apply"):
        fn = getattr(mod, name, None)
        if fn is not None:
            try:
                result = fn(rec, ds, workspace=ws)
            except TypeError:
                result = fn(rec, ds)
            break
    else:
        if not hasattr(rec, "apply"):
            raise DataError("dq_core.filtering has no apply function that training knows of")
        try:
            result = rec.apply(ds, workspace=ws)
        except TypeError:
            result = rec.apply(ds)
    mask, relabel = _as_outcome(result, ds)
    if mask.shape != (len(ds),):
        raise DataError(f"the recipe's mask has {mask.shape[0]} entries for {len(ds)} rows")
    name = Path(recipe).stem if isinstance(recipe, (str, Path)) else str(getattr(rec, "name", "recipe"))
    return RecipeOutcome(keep_mask=mask, relabel=relabel,
                         description=f"recipe '{name}': keeps {int(mask.sum()):,} of {len(ds):,} rows, "
                                     f"relabels {len(relabel):,}")
