"""The recipe as plain data: :class:`FilterRecipe` (JSON, validation, fingerprint) over the rules in
``rules``, the built-in :func:`default_recipe`, loading and saving recipe files, and the recipes saved in a
dataset's folder. The rule classes and action names are re-exported here, where callers import them."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from dq_core.data.writers import atomic_write_text
from dq_core.errors import DataError
from dq_core.filtering.rules import (
    CAP_ORDERS,
    CLASS_ACTIONS,
    CONDITION_ACTIONS,
    DECISIONS,
    ROWSET_ACTIONS,
    SIGNAL_ACTION_HELP,
    SIGNAL_ACTIONS,
    ClassRule,
    ConditionRule,
    Decision,
    RowSet,
    SignalRule,
    check_keys,
)
from dq_core.util.jsonsafe import dumps_json
from dq_core.util.seeds import check_seed

__all__ = [
    "CAP_ORDERS", "CLASS_ACTIONS", "CONDITION_ACTIONS", "DECISIONS", "DEFAULT_RELABEL_PROB", "RECIPE_FORMAT",
    "RECIPE_VERSION", "ROWSET_ACTIONS", "SIGNAL_ACTION_HELP", "SIGNAL_ACTIONS", "ClassRule", "ConditionRule",
    "Decision", "FilterRecipe", "RowSet", "SignalRule", "as_recipe", "check_settings", "default_recipe",
    "builtin_recipes", "load_recipe", "recipe_path", "resolve_recipe", "save_recipe", "saved_recipes",
]

RECIPE_FORMAT = "dq-filter-recipe"
RECIPE_VERSION = 1


def _tuple_of(cls, items, what: str) -> tuple:
    if items is None:
        return ()
    if not isinstance(items, (list, tuple)):
        raise DataError(f"'{what}' must be a list")
    return tuple(x if isinstance(x, cls) else cls.from_dict(x) for x in items)


@dataclass(frozen=True)
class FilterRecipe:
    """The whole recipe. Build from JSON with :meth:`from_json` / :func:`load_recipe`."""

    name: str = "recipe"
    description: str = ""
    signals: tuple[SignalRule, ...] = ()
    classes: tuple[ClassRule, ...] = ()
    conditions: tuple[ConditionRule, ...] = ()
    row_sets: tuple[RowSet, ...] = ()
    decisions: tuple[Decision, ...] = ()
    # How the signals were computed ({"signals": [signal keys], "seed": n}), so `dq filter` and training
    # compute (or find in the cache) exactly the signals the page showed; None = the default signals.
    signal_settings: dict | None = None

    KEYS = ("format", "version", "name", "description", "signals", "classes", "conditions", "row_sets",
            "decisions", "signal_settings")

    def __post_init__(self):
        for attr, cls in (("signals", SignalRule), ("classes", ClassRule), ("conditions", ConditionRule),
                          ("row_sets", RowSet), ("decisions", Decision)):
            object.__setattr__(self, attr, _tuple_of(cls, getattr(self, attr), attr))
        seen: dict[str, Decision] = {}
        for d in self.decisions:
            k = str(d.row_id)
            if k in seen:
                raise DataError(f"row {d.row_id!r} has two decisions in the recipe; keep one")
            seen[k] = d
        object.__setattr__(self, "signal_settings", check_settings(self.signal_settings))
        caps = [c.label for c in self.classes if c.action == "cap"]
        dup = {c for c in caps if caps.count(c) > 1}
        if dup:
            raise DataError(f"class '{sorted(dup)[0]}' is capped twice; keep one cap rule per class")

    # ------------------------------------------------------------ JSON
    def to_dict(self) -> dict:
        return {"format": RECIPE_FORMAT, "version": RECIPE_VERSION, "name": self.name,
                "description": self.description,
                "signals": [r.to_dict() for r in self.signals], "classes": [r.to_dict() for r in self.classes],
                "conditions": [r.to_dict() for r in self.conditions],
                "row_sets": [r.to_dict() for r in self.row_sets],
                "decisions": [d.to_dict() for d in sorted(self.decisions, key=lambda d: (isinstance(d.row_id, str),
                                                                                        d.row_id))],
                "signal_settings": None if self.signal_settings is None else {
                    "signals": list(self.signal_settings["signals"]), "seed": self.signal_settings["seed"]}}

    def to_json(self) -> str:
        return dumps_json(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, d: Mapping) -> FilterRecipe:
        if not isinstance(d, Mapping):
            raise DataError(f"a recipe must be a JSON object, got {type(d).__name__}")
        check_keys(d, cls.KEYS, "the recipe")
        fmt = d.get("format", RECIPE_FORMAT)
        if fmt != RECIPE_FORMAT:
            raise DataError(f"this is not a filter recipe (format '{fmt}', expected '{RECIPE_FORMAT}')")
        version = d.get("version", RECIPE_VERSION)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise DataError(f"recipe version {version!r} is not a version number")
        if version > RECIPE_VERSION:
            raise DataError(f"recipe version {version} is newer than this program understands "
                            f"(up to {RECIPE_VERSION}); upgrade dq-dashboard")
        return cls(name=str(d.get("name") or "recipe"), description=str(d.get("description") or ""),
                   signals=d.get("signals"), classes=d.get("classes"), conditions=d.get("conditions"),
                   row_sets=d.get("row_sets"), decisions=d.get("decisions"),
                   signal_settings=d.get("signal_settings"))

    @classmethod
    def from_json(cls, text: str, *, source: str = "the recipe") -> FilterRecipe:
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
        try:
            return cls.from_dict(obj)
        except DataError as exc:
            raise DataError(f"{source}: {exc}") from None

    @property
    def fingerprint(self) -> str:
        payload = dumps_json(self.to_dict(), indent=None, sort_keys=True, ensure_ascii=False)
        return hashlib.blake2b(payload.encode(), digest_size=8).hexdigest()

    # ------------------------------------------------------------ edits (new recipes, never mutation)
    def with_decisions(self, decisions: Iterable[Decision]) -> FilterRecipe:
        return replace(self, decisions=tuple(decisions))

    def with_signal_rule(self, rule: SignalRule) -> FilterRecipe:
        """This recipe with ``rule`` replacing every rule of the same signal."""
        rest = tuple(r for r in self.signals if r.signal != rule.signal)
        return replace(self, signals=(*rest, rule))

    def required_signals(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.signal for r in self.signals if r.enabled))

    @property
    def needs_signals(self) -> bool:
        return bool(self.required_signals()) or any(c.order == "least_suspicious" for c in self.classes
                                                     if c.action == "cap")

    def summary(self) -> str:
        parts = [r.describe() + f" → {r.action}" for r in self.signals if r.enabled]
        parts += [c.describe() for c in self.classes]
        parts += [c.describe() for c in self.conditions]
        parts += [r.describe() for r in self.row_sets]
        if self.decisions:
            parts.append(f"{len(self.decisions):,} manual decisions")
        return "; ".join(parts) or "no rules (keeps every row)"


def check_settings(settings) -> dict | None:
    if settings is None:
        return None
    if not isinstance(settings, Mapping):
        raise DataError("signal_settings must be an object like {\"signals\": [\"label\", ...], \"seed\": 0}")
    check_keys(settings, ("signals", "seed"), "signal_settings")
    sigs = settings.get("signals")
    if sigs is not None and (not isinstance(sigs, (list, tuple)) or not all(isinstance(x, str) and x for x in sigs)):
        raise DataError("signal_settings.signals must be a list of signal keys such as \"label\" or "
                        "\"near_duplicate(threshold=0.1)\"")
    for key in sigs or ():
        _check_signal_key(key)
    seed = check_seed(settings.get("seed", 0), "signal_settings.seed")
    return {"signals": tuple(sigs) if sigs is not None else None, "seed": seed}


def _check_signal_key(key: str) -> None:
    """A signal key parsed now, its parameters checked against their kinds and ranges, so a recipe naming
    ``outlier(k=10**23)`` is refused when it is read, before any data is loaded or embedded."""
    from dq_core.signals import parse_signal_spec

    try:
        parse_signal_spec(key)
    except DataError as exc:
        raise DataError(f"signal_settings.signals '{key}': {exc}") from None


def default_recipe() -> FilterRecipe:
    """What `dq filter` uses without --recipe and what the training bench compares against.

    - exact duplicates: keep one copy per group, drop the others;
    - conflicting labels: drop the rows outside their (near-)duplicate group's clear majority label
      (``conflicting_label_score < 0.2``: the score is half the share of the other members that agree, so
      a tie drops the whole group while the majority of a 3-to-1 group stays);
    - junk (empty, too short, URL-only, ...): drop;
    - label issues: only the rows whose given label is very unlikely (``label_score < 0.2``, P(given label)
      out of sample): relabel to the suggested label when its probability is at least 0.7, else drop.
      The other flagged rows are left as they are.

    Why not every flagged row (relabel a flagged row at p >= 0.7, drop the rest): the flag marks as many
    rows as confident learning estimates are mislabelled, a third of the tweets as they are, and that
    recipe dropped ~44% of them without a measurable gain on crowd-agreed test rows. The recipe advisor
    (`dq advise`, bench/bench_advisor.py, docs/benchmarks.md "Advisor: the recipe advisor") measured
    this narrower rule keeping more rows (on 3,000 tweets as they are 2,460 instead of 2,281) at least as
    accurately, with and without injected noise. Each rule is optional: a signal the frame lacks is
    skipped with a note rather than failing.
    """
    return FilterRecipe(
        name="default",
        description="drop exact-duplicate copies, conflicting duplicates outside their group's majority and "
                    "junk; of the rows whose given label is very unlikely (label score < 0.2), relabel those "
                    "with a confident suggestion (p >= 0.7) and drop the rest",
        signals=(SignalRule("exact_duplicate", action="dedupe", required=False),
                 SignalRule("conflicting_label", action="drop", threshold=0.2, use_flag=False, required=False),
                 SignalRule("junk", action="drop", required=False),
                 SignalRule("label", action="relabel_or_drop", threshold=0.2, use_flag=False,
                            min_prob=DEFAULT_RELABEL_PROB, required=False)))


DEFAULT_RELABEL_PROB = 0.7


def builtin_recipes() -> dict[str, FilterRecipe]:
    """The recipes every command accepts by name instead of a file."""
    return {"default": default_recipe()}


def resolve_recipe(spec: str | Path) -> str:
    """The one rule for a recipe argument (``dq filter``, ``dq train``, a run config): a built-in name
    stays as it is, anything else is a JSON file, checked now and returned as an absolute path so a worker
    started elsewhere finds the same file. Raises DataError for a missing or broken file."""
    if str(spec) in builtin_recipes():
        return str(spec)
    load_recipe(spec)  # a bad recipe fails here, before any data is read
    return str(Path(spec).resolve())


def load_recipe(spec: str | Path) -> FilterRecipe:
    """A recipe from a JSON file, or a built-in one by name (``default``)."""
    builtin = builtin_recipes().get(str(spec))
    if builtin is not None:
        return builtin
    p = Path(spec)
    if not p.exists():
        raise DataError(f"recipe file '{spec}' does not exist; give a JSON recipe file or one of: "
                        f"{', '.join(builtin_recipes())}")
    if p.is_dir():
        raise DataError(f"recipe '{spec}' is a folder; give a JSON recipe file")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DataError(f"recipe file '{p.name}' is not UTF-8 text; save it as JSON") from None
    if not text.strip():
        raise DataError(f"recipe file '{p.name}' is empty")
    return FilterRecipe.from_json(text, source=f"recipe file '{p.name}'")


def save_recipe(recipe: FilterRecipe, path: str | Path) -> Path:
    atomic_write_text(path, recipe.to_json() + "\n")
    return Path(path)


def as_recipe(recipe) -> FilterRecipe:
    if isinstance(recipe, FilterRecipe):
        return recipe
    if isinstance(recipe, Mapping):
        return FilterRecipe.from_dict(recipe)
    if isinstance(recipe, (str, Path)):
        return load_recipe(recipe)
    raise DataError(f"not a recipe: {type(recipe).__name__}")


def saved_recipes(folder: str | Path) -> dict[str, Path]:
    """Recipe files in a dataset's recipes folder (``*.json`` that are not decisions), by name."""
    folder = Path(folder)
    out = {}
    if folder.is_dir():
        for p in sorted(folder.glob("*.json")):
            if "decision" in p.name:
                continue
            out[p.stem] = p
    return out


def recipe_path(folder: str | Path, name: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")
    if not safe:
        raise DataError("give the recipe a name made of letters, digits, '-' or '_'")
    return Path(folder) / f"{safe}.json"
