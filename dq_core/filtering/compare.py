"""Several recipes side by side: each applied against the same prepared inputs, its what-if figures tabulated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from dq_core.errors import DataError
from dq_core.filtering.apply import apply_prepared
from dq_core.filtering.inputs import FilterInputs
from dq_core.filtering.recipe import FilterRecipe
from dq_core.filtering.whatif import FIGURE_LABELS, WhatIfContext, WhatIfFigures, figures_for

RELABELLED = "relabelled"  # the extra row: rows each recipe relabels


@dataclass(frozen=True)
class RecipeComparison:
    """Per column (``before``, then each recipe): its figures (:meth:`WhatIfFigures.to_dict` plus
    ``relabelled`` and ``problems``); ``errors``: recipes that could not be applied, and why."""

    columns: dict[str, dict]
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def js_views(self) -> list[str]:
        return list(dict.fromkeys(v for f in self.columns.values() for v in f.get("js", {})))

    def keys(self) -> list[str]:
        """The rows of the table: the figures, ``relabelled``, then ``js:<view>`` per shift view."""
        return [*FIGURE_LABELS, RELABELLED, *(f"js:{v}" for v in self.js_views)]

    def labels(self) -> list[str]:
        return [FIGURE_LABELS.get(k, k) if not k.startswith("js:") else f"JS {k[3:]}" for k in self.keys()]

    def value(self, column: str, key: str):
        f = self.columns[column]
        return f.get("js", {}).get(key[3:]) if key.startswith("js:") else f.get(key)

    def table(self) -> pd.DataFrame:
        """Figures (rows, labelled) by column; None where a figure does not apply."""
        keys = self.keys()
        return pd.DataFrame({name: [self.value(name, k) for k in keys] for name in self.columns},
                            index=self.labels())

    def problems(self) -> dict[str, str]:
        """Columns whose recipe has problems (e.g. it removes a class), and what they are."""
        return {name: f["problems"] for name, f in self.columns.items() if f.get("problems")}


def compare_recipes(inputs: FilterInputs, ctx: WhatIfContext, recipes: Mapping[str, FilterRecipe], *,
                    before: WhatIfFigures | None = None) -> RecipeComparison:
    """Apply each recipe (not strictly: a recipe with problems is still shown) and take its figures.

    ``before``: the unfiltered figures, shown first when given. A recipe that cannot be applied at all
    (it names a signal the frame lacks, ...) is left out and listed in ``errors``.
    """
    columns: dict[str, dict] = {}
    errors: dict[str, str] = {}
    if before is not None:
        columns["before"] = before.to_dict()
    for name, recipe in recipes.items():
        try:
            res = apply_prepared(inputs, recipe, strict=False)
        except DataError as exc:
            errors[name] = str(exc)
            continue
        fig = figures_for(ctx, res).to_dict()
        fig[RELABELLED] = res.n_relabelled
        fig["problems"] = " ".join(res.problems)
        columns[name] = fig
    return RecipeComparison(columns, errors)
