"""The rules a filter recipe is made of (signal, class, condition and row-set rules, manual decisions), each
a frozen dataclass that validates itself and round-trips through JSON, plus the validation helpers they
share with the recipe."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from dq_core.errors import DataError
from dq_core.filtering.conditions import Condition, parse_condition
from dq_core.util.seeds import check_seed

SIGNAL_ACTIONS = ("drop", "relabel", "relabel_or_drop", "dedupe", "repair", "repair_or_drop")
REPAIR_ACTIONS = ("repair", "repair_or_drop")
# Signals whose rows a recipe can repair instead of drop: the junk signal proposes ftfy's fix for mojibake.
REPAIR_SIGNAL = "junk"
CLASS_ACTIONS = ("drop", "relabel", "cap")
CONDITION_ACTIONS = ("drop", "keep_only")
ROWSET_ACTIONS = ("drop", "keep_only")
DECISIONS = ("keep", "drop", "relabel")
CAP_ORDERS = ("random", "least_suspicious")

SIGNAL_ACTION_HELP = {
    "drop": "drop the flagged rows",
    "relabel": "relabel flagged rows to the suggested label when it is confident enough; keep the rest as is",
    "relabel_or_drop": "relabel flagged rows to a confident suggested label; drop the rest (rows already "
                       "carrying the suggested label stay)",
    "dedupe": "keep one row per duplicate group, drop the other copies",
    "repair": "junk only: replace the text of flagged mojibake rows with ftfy's repair and keep them; keep "
              "the rest as is",
    "repair_or_drop": "junk only: repair flagged rows whose only fault is mojibake (ftfy's repair); drop the "
                      "rest of the flagged rows",
}


def is_repair_signal(stem: str) -> bool:
    """Whether a signal (column stem ``junk`` or ``junk_<params>``) proposes repaired texts."""
    return stem == REPAIR_SIGNAL or stem.startswith(f"{REPAIR_SIGNAL}_")


def signal_actions(stem: str) -> tuple[str, ...]:
    """The actions a rule on this signal can take (repairs only where the signal proposes repaired text)."""
    return SIGNAL_ACTIONS if is_repair_signal(stem) else tuple(a for a in SIGNAL_ACTIONS if a not in REPAIR_ACTIONS)


def _check_unit(value, what: str) -> float:
    # A JSON number only: true is not 1.0 and "0.5" is text (float() would take both).
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise DataError(f"{what} must be a number between 0 and 1, got {value!r}")
    try:
        f = float(value)
    except OverflowError:  # a 400-digit integer
        f = math.inf
    if not math.isfinite(f) or not 0.0 <= f <= 1.0:
        raise DataError(f"{what} must lie between 0 and 1 (scores are in [0, 1]), got {value!r}")
    return f


def check_keys(d: Mapping, allowed: Iterable[str], where: str) -> None:
    if not isinstance(d, Mapping):
        raise DataError(f"{where} must be a JSON object, got {type(d).__name__}")
    extra = [k for k in d if k not in allowed]
    if extra:
        hints = []
        for k in extra:
            close = difflib.get_close_matches(str(k), list(allowed), n=1)
            hints.append(f"'{k}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        raise DataError(f"{where} has unknown keys: {', '.join(hints)}; allowed: {', '.join(allowed)}")


def _choice(value, choices: Sequence[str], what: str) -> str:
    if value not in choices:
        raise DataError(f"{what} '{value}' is not one of: {', '.join(choices)}")
    return value


def json_scalar_id(v):
    """A row_id as JSON keeps it: int stays int, anything else its string."""
    if isinstance(v, (bool, np.bool_)):
        raise DataError(f"row_id {v!r} is a boolean; row ids are numbers or text")
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return int(v)
    if isinstance(v, str) and v:
        return v
    raise DataError(f"row_id {v!r} is not a row id (a number or non-empty text)")


@dataclass(frozen=True)
class SignalRule:
    """Flag rows by one signal: ``<signal>_score < threshold`` and/or ``is_<signal>_issue``, then act."""

    signal: str
    action: str = "drop"
    threshold: float | None = None  # None: the score is not used
    use_flag: bool = True  # rows the signal itself flags (is_<signal>_issue)
    min_prob: float = 0.0  # relabel actions: the suggested label's probability must reach this
    enabled: bool = True
    required: bool = True  # False: skipped with a note when the signals frame lacks this signal

    KEYS = ("signal", "action", "threshold", "use_flag", "min_prob", "enabled", "required")

    def __post_init__(self):
        if not isinstance(self.signal, str) or not self.signal.strip():
            raise DataError("a signal rule needs a signal name, e.g. {\"signal\": \"label\"}")
        _choice(self.action, SIGNAL_ACTIONS, f"action of signal rule '{self.signal}'")
        if self.action in REPAIR_ACTIONS and not is_repair_signal(self.signal):
            raise DataError(f"signal rule '{self.signal}' cannot {self.action.replace('_', ' ')}: only the junk "
                            "signal proposes repaired texts (mojibake); use drop for this signal")
        if self.threshold is not None:
            object.__setattr__(self, "threshold", _check_unit(self.threshold, f"threshold of signal '{self.signal}'"))
        object.__setattr__(self, "min_prob", _check_unit(self.min_prob, f"min_prob of signal '{self.signal}'"))
        if self.threshold is None and not self.use_flag and self.enabled:
            raise DataError(f"signal rule '{self.signal}' uses neither a threshold nor the flag, so it selects "
                            "nothing; set a threshold or use_flag: true")

    def to_dict(self) -> dict:
        return {"signal": self.signal, "action": self.action, "threshold": self.threshold,
                "use_flag": bool(self.use_flag), "min_prob": self.min_prob, "enabled": bool(self.enabled),
                "required": bool(self.required)}

    @classmethod
    def from_dict(cls, d: Mapping) -> SignalRule:
        check_keys(d, cls.KEYS, "a signal rule")
        if "signal" not in d:
            raise DataError("a signal rule needs a 'signal' key")
        return cls(signal=d["signal"], action=d.get("action", "drop"), threshold=d.get("threshold"),
                   use_flag=_bool(d.get("use_flag", True), "use_flag"), min_prob=d.get("min_prob", 0.0),
                   enabled=_bool(d.get("enabled", True), "enabled"),
                   required=_bool(d.get("required", True), "required"))

    def describe(self) -> str:
        parts = []
        if self.use_flag:
            parts.append(f"is_{self.signal}_issue")
        if self.threshold is not None:
            parts.append(f"{self.signal}_score < {self.threshold:g}")
        what = " or ".join(parts)
        if self.action == "dedupe":
            return f"duplicate copy ({what})"
        return f"{self.signal} ({what})"


@dataclass(frozen=True)
class ClassRule:
    """Per class: drop its rows, relabel them to ``to``, or cap it at ``max_rows`` (optionally ``where``)."""

    label: str
    action: str
    to: str | None = None
    max_rows: int | None = None
    where: str | None = None  # a condition restricting which rows of the class the rule touches
    order: str = "random"  # cap: which rows stay; random (seeded hash of row_id) or least_suspicious
    rank_by: str = "label_score"  # least_suspicious: the score column, high = kept first
    seed: int = 0

    KEYS = ("label", "action", "to", "max_rows", "where", "order", "rank_by", "seed")

    def __post_init__(self):
        if not isinstance(self.label, str) or not self.label:
            raise DataError("a class rule needs the class name in 'label'")
        _choice(self.action, CLASS_ACTIONS, f"action of the rule for class '{self.label}'")
        _choice(self.order, CAP_ORDERS, f"order of the rule for class '{self.label}'")
        if self.action == "relabel":
            if not isinstance(self.to, str) or not self.to.strip():
                raise DataError(f"the relabel rule for class '{self.label}' needs a target class in 'to'")
            if self.to == self.label:
                raise DataError(f"the relabel rule for class '{self.label}' relabels it to itself")
        if self.action == "cap":
            if isinstance(self.max_rows, bool) or not isinstance(self.max_rows, (int, np.integer)) \
                    or self.max_rows < 1:
                raise DataError(f"the cap rule for class '{self.label}' needs max_rows, a whole number >= 1 "
                                f"(got {self.max_rows!r})")
            object.__setattr__(self, "max_rows", int(self.max_rows))
        if self.where is not None:
            parse_condition(self.where)
        object.__setattr__(self, "seed", check_seed(self.seed, f"seed of the rule for class '{self.label}'"))

    @property
    def condition(self) -> Condition | None:
        return parse_condition(self.where) if self.where else None

    def to_dict(self) -> dict:
        return {"label": self.label, "action": self.action, "to": self.to, "max_rows": self.max_rows,
                "where": self.where, "order": self.order, "rank_by": self.rank_by, "seed": int(self.seed)}

    @classmethod
    def from_dict(cls, d: Mapping) -> ClassRule:
        check_keys(d, cls.KEYS, "a class rule")
        for k in ("label", "action"):
            if k not in d:
                raise DataError(f"a class rule needs '{k}'")
        return cls(label=str(d["label"]), action=d["action"], to=d.get("to"), max_rows=d.get("max_rows"),
                   where=d.get("where"), order=d.get("order", "random"),
                   rank_by=d.get("rank_by", "label_score"), seed=d.get("seed", 0))

    def describe(self) -> str:
        scope = f" where {self.where}" if self.where else ""
        if self.action == "drop":
            return f"class '{self.label}' dropped{scope}"
        if self.action == "relabel":
            return f"class '{self.label}' relabelled to '{self.to}'{scope}"
        return f"class '{self.label}' capped at {self.max_rows:,} rows ({self.order})"


@dataclass(frozen=True)
class ConditionRule:
    """Drop the rows matching ``where`` (``drop``), or every row not matching it (``keep_only``)."""

    where: str
    action: str = "drop"

    KEYS = ("where", "action")

    def __post_init__(self):
        _choice(self.action, CONDITION_ACTIONS, f"action of condition '{self.where}'")
        parse_condition(self.where)

    @property
    def condition(self) -> Condition:
        return parse_condition(self.where)

    def to_dict(self) -> dict:
        return {"where": self.where, "action": self.action}

    @classmethod
    def from_dict(cls, d: Mapping) -> ConditionRule:
        check_keys(d, cls.KEYS, "a condition")
        if "where" not in d:
            raise DataError("a condition needs 'where', e.g. {\"where\": \"confidence < 0.6\"}")
        return cls(where=d["where"], action=d.get("action", "drop"))

    def describe(self) -> str:
        return f"condition {self.where}" if self.action == "drop" else f"not matching {self.where}"


@dataclass(frozen=True)
class RowSet:
    """A named set of row_ids (say a lasso selection on the coverage map) to drop, or to keep only."""

    name: str
    row_ids: tuple
    action: str = "drop"

    KEYS = ("name", "row_ids", "action")

    def __post_init__(self):
        _choice(self.action, ROWSET_ACTIONS, f"action of row set '{self.name}'")
        ids = tuple(json_scalar_id(r) for r in self.row_ids)
        object.__setattr__(self, "row_ids", tuple(sorted(dict.fromkeys(ids), key=lambda r: (isinstance(r, str), r))))

    def to_dict(self) -> dict:
        return {"name": self.name, "row_ids": list(self.row_ids), "action": self.action}

    @classmethod
    def from_dict(cls, d: Mapping) -> RowSet:
        check_keys(d, cls.KEYS, "a row set")
        ids = d.get("row_ids")
        if not isinstance(ids, list):
            raise DataError("a row set needs 'row_ids', a list of row ids")
        return cls(name=str(d.get("name") or "row set"), row_ids=tuple(ids), action=d.get("action", "drop"))

    def describe(self) -> str:
        return f"row set '{self.name}'" if self.action == "drop" else f"outside row set '{self.name}'"


@dataclass(frozen=True)
class Decision:
    """A reviewer's call on one row. Manual decisions take precedence over every rule."""

    row_id: object
    action: str
    label: str | None = None

    KEYS = ("row_id", "action", "label")

    def __post_init__(self):
        object.__setattr__(self, "row_id", json_scalar_id(self.row_id))
        _choice(self.action, DECISIONS, f"decision for row {self.row_id!r}")
        if self.action == "relabel" and (not isinstance(self.label, str) or not self.label.strip()):
            raise DataError(f"the relabel decision for row {self.row_id!r} needs a label")
        if self.action != "relabel" and self.label is not None:
            object.__setattr__(self, "label", None)

    def to_dict(self) -> dict:
        d = {"row_id": self.row_id, "action": self.action}
        if self.action == "relabel":
            d["label"] = self.label
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> Decision:
        check_keys(d, cls.KEYS, "a decision")
        if "row_id" not in d or "action" not in d:
            raise DataError("a decision needs 'row_id' and 'action' (keep, drop or relabel)")
        return cls(row_id=d["row_id"], action=d["action"], label=d.get("label"))


def _bool(v, what: str) -> bool:
    if not isinstance(v, (bool, np.bool_)):
        raise DataError(f"{what} must be true or false, got {v!r}")
    return bool(v)

