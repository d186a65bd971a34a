"""FilterRecipe: a declarative, versioned description of which rows to drop or relabel, and how to apply it.

A recipe is plain data (JSON, ``format: dq-filter-recipe``, ``version: 1``) with five parts, applied in a
fixed order so the result never depends on the order rules were written in:

1. labels: relabel rules first (signal rules with a ``relabel`` action, class ``relabel`` rules, then
   manual relabels, which win); ``repair`` junk rules put the junk signal's mojibake repair in place of
   the text (the row is kept unless another step drops it);
2. drops: signal rules (``<signal>_score < threshold`` and/or ``is_<signal>_issue``), class ``drop``
   rules, conditions on columns, row sets (e.g. a map selection);
3. manual decisions by row_id (keep / drop / relabel-to-X) override everything above;
4. ``dedupe`` signal rules then keep one surviving row per duplicate group, chosen by the rules alone
   (the first copy the rules above leave in); a manually kept copy stays in addition to it, a manually
   dropped survivor goes without another copy coming back (a decision moves only its own row);
5. class caps keep at most N rows of a class (by its final label), manually kept rows first.

Applying is deterministic and idempotent: applying a recipe to its own output (kept rows, final labels,
the same signal rows) keeps every row and changes no label. Conditions use a tiny grammar parsed in
:mod:`.conditions`, never ``eval``: ``column op literal [and column op literal ...]``, over the dataset's
columns as loaded (original labels) and the signals' columns. Row ids are matched by their string form, so
ids survive JSON, CSV and Parquet round trips.

The heavy, recipe-independent work (aligning the signals to the rows, label codes, text hashes, parsed
condition masks) lives in :class:`FilterInputs`, built once per (dataset, signals); the page re-applies
recipes against it in milliseconds, and the CLI goes through the same two calls, so both give the same rows.

Modules, one job each (the names other packages use are re-exported here):

``conditions``       the condition grammar: tokenizer, parser, Clause / Condition, evaluating a clause
``rules``            the rules a recipe holds: SignalRule, ClassRule, ConditionRule, RowSet, Decision
``recipe``           the recipe as data: FilterRecipe (JSON, validation), default_recipe,
                     load / save / as_recipe, saved_recipes, recipe_path
``inputs``           FilterInputs (prepared, recipe-independent work), signal_names, align_signals
``apply``            apply_recipe / apply_prepared, iter_signal_flag_counts
``result``           RecipeResult: what a recipe did (keep mask, final labels, repairs, per-rule hits, reasons)
``rule_counts``      count_rules: per rule, in the order rules apply, the rows it selects, removes (all /
                     not removed before), relabels, repairs, and a dedupe rule's copies; class_rows
``export``           cleaned_frame, removal_log, removal_summary, export_bytes, write_export
``dataset_card``     dataset_card: the README.md (Hugging Face dataset card) of an exported datasets folder
``export_folder``    export_all: the cleaned data (with its card), the removal log and the recipe into a folder
``decisions``        DecisionStore: manual review decisions with undo, saved in the workspace
``effect``           decision_effect: what a change of decisions does (rows in, rows out, relabels)
``load_signals``     load_or_compute_signals: the signals a recipe needs, from the cache or computed
``active_learning``  label_next: the rows worth relabelling first (uncertainty, density); label_inputs
``review``           review_frame: which rows to review, ranked most suspicious first (the ranking:
                     dq_core.signals.flagged)
``repair``           find_repairs: the junk signal's mojibake repairs a ``repair`` rule puts in place
``whatif/``          the before/after figures of a recipe, recounted from a keep mask: ``context`` (computed
                     once per data), ``figures``, ``counts`` (the count-based pieces), ``repairs``,
                     ``build`` (the context built on what the workspace holds, in one call)
``compare``          compare_recipes: several recipes side by side
"""

from __future__ import annotations

from dq_core.filtering.active_learning import (
    DENSITY_NEIGHBORS,
    UNCERTAINTY_METHODS,
    LabelInputs,
    label_inputs,
    label_next,
    uncertainty,
)
from dq_core.filtering.apply import apply_prepared, apply_recipe, iter_signal_flag_counts
from dq_core.filtering.compare import compare_recipes
from dq_core.filtering.conditions import parse_condition
from dq_core.filtering.decisions import DecisionStore
from dq_core.filtering.effect import DecisionEffect, decision_effect, diff_results
from dq_core.filtering.export import (
    EXPORT_FORMATS,
    FORMAT_LABELS,
    SPREADSHEET_NOTE,
    cleaned_frame,
    export_bytes,
    label_column,
    removal_log,
    removal_summary,
    write_export,
)
from dq_core.filtering.export_folder import export_all
from dq_core.filtering.inputs import FilterInputs, is_label_signal
from dq_core.filtering.load_signals import load_or_compute_signals
from dq_core.filtering.recipe import (
    DEFAULT_RELABEL_PROB,
    FilterRecipe,
    as_recipe,
    default_recipe,
    load_recipe,
    recipe_path,
    resolve_recipe,
    save_recipe,
    saved_recipes,
)
from dq_core.filtering.result import RecipeResult
from dq_core.filtering.review import REVIEW_LIMIT, REVIEW_VIEWS, parse_row_ids, review_frame
from dq_core.filtering.rule_counts import RuleCount, class_rows, count_rules
from dq_core.filtering.rules import (
    REPAIR_ACTIONS,
    SIGNAL_ACTION_HELP,
    SIGNAL_ACTIONS,
    ClassRule,
    ConditionRule,
    Decision,
    RowSet,
    SignalRule,
    signal_actions,
)

__all__ = [
    "DEFAULT_RELABEL_PROB", "DENSITY_NEIGHBORS", "EXPORT_FORMATS", "FORMAT_LABELS", "REVIEW_LIMIT", "REVIEW_VIEWS",
    "SPREADSHEET_NOTE", "label_column", "resolve_recipe",
    "REPAIR_ACTIONS", "SIGNAL_ACTIONS", "SIGNAL_ACTION_HELP", "UNCERTAINTY_METHODS", "signal_actions",
    "ClassRule", "ConditionRule", "Decision", "DecisionEffect", "DecisionStore", "FilterInputs", "FilterRecipe",
    "LabelInputs", "RecipeResult", "RowSet", "RuleCount", "SignalRule",
    "apply_prepared", "apply_recipe", "as_recipe", "class_rows", "cleaned_frame", "compare_recipes", "count_rules",
    "decision_effect", "default_recipe", "diff_results",
    "export_all", "export_bytes", "is_label_signal", "iter_signal_flag_counts", "label_inputs", "label_next",
    "load_or_compute_signals", "load_recipe", "parse_condition", "parse_row_ids", "recipe_path", "removal_log",
    "removal_summary", "review_frame", "save_recipe", "saved_recipes", "uncertainty", "write_export",
]
