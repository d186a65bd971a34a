"""FilterRecipe: a declarative, versioned description of which rows to drop or relabel, and how to apply it.

A recipe is plain data (JSON, ``format: dq-filter-recipe``, ``version: 1``) with five parts, applied in a
fixed order so the result never depends on the order rules were written in:

1. labels: relabel rules first (signal rules with a ``relabel`` action, class ``relabel`` rules, then
   manual relabels, which win);
2. drops: signal rules (``<signal>_score < threshold`` and/or ``is_<signal>_issue``), class ``drop``
   rules, conditions on columns, row sets (e.g. a map selection);
3. manual decisions by row_id (keep / drop / relabel-to-X) override everything above;
4. ``dedupe`` signal rules then keep one surviving row per duplicate group (a manually kept row counts);
5. class caps keep at most N rows of a class (by its final label), manually kept rows first.

Applying is deterministic and idempotent: applying a recipe to its own output (kept rows, final labels,
the same signal rows) keeps every row and changes no label. Conditions use a tiny grammar parsed in
:mod:`.conditions`, never ``eval``: ``column op literal [and column op literal ...]``, over the dataset's
columns as loaded (original labels) and the signals' columns. Row ids are matched by their string form, so
ids survive JSON, CSV and Parquet round trips.

The heavy, recipe-independent work (aligning the signals to the rows, label codes, text hashes, parsed
condition masks) lives in :class:`FilterInputs`, built once per (dataset, signals); the page re-applies
recipes against it in milliseconds, and the CLI goes through the same two calls, so both give the same rows.

Modules, one job each (every name is re-exported here, so ``from dq_core.filtering import X`` works):

``conditions``       the condition grammar: tokenizer, parser, Clause / Condition, evaluating a clause
``recipe``           the recipe as data: the rules, FilterRecipe (JSON, validation), default_recipe,
                     load / save / as_recipe, saved_recipes, recipe_path
``inputs``           FilterInputs (prepared, recipe-independent work), signal_names, aligning the signals
``apply``            apply_recipe / apply_prepared -> RecipeResult, iter_signal_flag_counts, what_if
``export``           cleaned_frame, removal_log, removal_summary, export_bytes, write_export, export_all
``decisions``        DecisionStore: manual review decisions with undo, saved in the workspace
``load_signals``     load_or_compute_signals: the signals a recipe needs, from the cache or computed
``active_learning``  label_next: the rows worth relabelling first (uncertainty, density)
"""

from __future__ import annotations

# Re-exports: every name the single-file module defined stays importable from dq_core.filtering
# (``__all__`` is unchanged, hence the noqa).
from dq_core.filtering.active_learning import (  # noqa: F401
    UNCERTAINTY_METHODS,
    knn_density,
    label_next,
    probabilities_from_signals,
    uncertainty,
)
from dq_core.filtering.apply import (  # noqa: F401
    RecipeResult,
    apply_prepared,
    apply_recipe,
    iter_signal_flag_counts,
    what_if,
)
from dq_core.filtering.conditions import (  # noqa: F401
    COMPARISONS,
    KEYWORDS,
    OPERATORS,
    STRING_OPS,
    Clause,
    Condition,
    parse_condition,
)
from dq_core.filtering.decisions import DECISIONS_FILE, HISTORY_LIMIT, DecisionStore  # noqa: F401
from dq_core.filtering.export import (  # noqa: F401
    EXPORT_FORMATS,
    cleaned_frame,
    export_all,
    export_bytes,
    removal_log,
    removal_summary,
    write_export,
)
from dq_core.filtering.inputs import FilterInputs, _align_signals, signal_names  # noqa: F401
from dq_core.filtering.load_signals import load_or_compute_signals  # noqa: F401
from dq_core.filtering.recipe import (  # noqa: F401
    CAP_ORDERS,
    CLASS_ACTIONS,
    CONDITION_ACTIONS,
    DECISIONS,
    DEFAULT_RELABEL_PROB,
    RECIPE_FORMAT,
    RECIPE_VERSION,
    ROWSET_ACTIONS,
    SIGNAL_ACTION_HELP,
    SIGNAL_ACTIONS,
    ClassRule,
    ConditionRule,
    Decision,
    FilterRecipe,
    RowSet,
    SignalRule,
    as_recipe,
    default_recipe,
    load_recipe,
    recipe_path,
    save_recipe,
    saved_recipes,
)

__all__ = [
    "FilterRecipe", "SignalRule", "ClassRule", "ConditionRule", "RowSet", "Decision", "RecipeResult",
    "FilterInputs", "DecisionStore", "apply_recipe", "apply_prepared", "default_recipe", "load_recipe",
    "save_recipe", "parse_condition", "cleaned_frame", "removal_log", "export_all", "export_bytes",
    "signal_names", "what_if", "label_next", "load_or_compute_signals",
]
