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
the same signal rows) keeps every row and changes no label. Conditions use a tiny grammar parsed here,
never ``eval``: ``column op literal [and column op literal ...]``, over the dataset's columns as loaded
(original labels) and the signals' columns. Row ids are matched by their string form, so ids survive
JSON, CSV and Parquet round trips.

The heavy, recipe-independent work (aligning the signals to the rows, label codes, text hashes, parsed
condition masks) lives in :class:`FilterInputs`, built once per (dataset, signals); the page re-applies
recipes against it in milliseconds, and the CLI goes through the same two calls, so both give the same rows.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from dq_core.dataset import CANONICAL, TextDataset
from dq_core.errors import DataError

RECIPE_FORMAT = "dq-filter-recipe"
RECIPE_VERSION = 1

SIGNAL_ACTIONS = ("drop", "relabel", "relabel_or_drop", "dedupe")
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
}


# =========================================================================== the condition grammar

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<num>[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)(?![A-Za-z_])
     |(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
     |(?P<bq>`[^`]+`)
     |(?P<op><=|>=|==|!=|<|>|=)
     |(?P<lb>\[)|(?P<rb>\])|(?P<comma>,)
     |(?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""", re.X)

KEYWORDS = {"and", "in", "not", "contains", "icontains", "startswith", "endswith", "is", "missing", "true",
            "false"}
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
STRING_OPS = ("contains", "icontains", "startswith", "endswith")
OPERATORS = (*COMPARISONS, "in", "not in", *STRING_OPS, "is missing", "is not missing")


@dataclass(frozen=True)
class Clause:
    """``column op value``; ``value`` is a number, string, bool, a tuple of those, or None (missing tests)."""

    column: str
    op: str
    value: object = None

    def __str__(self) -> str:
        col = self.column if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.column) \
            and self.column not in KEYWORDS else f"`{self.column}`"
        if self.op in ("is missing", "is not missing"):
            return f"{col} {self.op}"
        return f"{col} {self.op} {_literal_text(self.value)}"


def _literal_text(v) -> str:
    if isinstance(v, tuple):
        return "[" + ", ".join(_literal_text(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    return repr(v)


@dataclass(frozen=True)
class Condition:
    """Clauses joined by ``and``."""

    clauses: tuple[Clause, ...]

    def __str__(self) -> str:
        return " and ".join(str(c) for c in self.clauses)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.column for c in self.clauses))


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            bad = text[pos:].strip()[:20]
            raise DataError(f"condition '{text}': cannot read '{bad}' at position {pos + 1}; write "
                            "column op value, e.g. confidence < 0.6 or topic in ['apple', 'coachella']")
        kind = m.lastgroup
        tokens.append((kind, m.group(kind), m.start(kind)))
        pos = m.end()
    return tokens


def _unquote(s: str) -> str:
    body = s[1:-1]
    return re.sub(r"\\(.)", lambda m: m.group(1), body)


def parse_condition(text: str) -> Condition:
    """Parse ``column op literal [and ...]`` without eval; DataError with the position of a mistake.

    Columns are bare identifiers or `backticked names`. Operators: == != < <= > >= (= means ==),
    in / not in [list], contains / icontains / startswith / endswith 'text', is missing, is not missing.
    Literals: numbers, 'single' or "double" quoted strings, true, false, [lists of those].
    """
    if not isinstance(text, str) or not text.strip():
        raise DataError("a condition is empty; write column op value, e.g. confidence < 0.6")
    if len(text) > 2000:
        raise DataError("a condition is longer than 2,000 characters; split it into several conditions")
    toks = _tokenize(text)
    i = 0

    def peek(k: int = 0):
        return toks[i + k] if i + k < len(toks) else (None, None, len(text))

    def fail(msg: str, at: int | None = None):
        where = f" at position {(at if at is not None else peek()[2]) + 1}" if toks else ""
        raise DataError(f"condition '{text}': {msg}{where}")

    def literal():
        nonlocal i
        kind, val, _ = peek()
        if kind == "num":
            i += 1
            f = float(val)
            return int(f) if re.fullmatch(r"[-+]?\d+", val) else f
        if kind == "str":
            i += 1
            return _unquote(val)
        if kind == "word" and val.lower() in ("true", "false"):
            i += 1
            return val.lower() == "true"
        fail(f"expected a value (number, 'text', true/false), found {val!r}" if val else
             "expected a value after the operator")

    clauses = []
    while True:
        kind, val, at = peek()
        if kind == "bq":
            column = val[1:-1]
        elif kind == "word" and val.lower() not in KEYWORDS:
            column = val
        else:
            fail(f"expected a column name, found {val!r}" if val else "expected a column name", at)
        i += 1
        kind, val, at = peek()
        if kind == "op":
            op = "==" if val == "=" else val
            i += 1
        elif kind == "word" and val.lower() in ("in", "contains", "icontains", "startswith", "endswith"):
            op = val.lower()
            i += 1
        elif kind == "word" and val.lower() == "not" and (peek(1)[1] or "").lower() == "in":
            op = "not in"
            i += 2
        elif kind == "word" and val.lower() == "is":
            nxt = (peek(1)[1] or "").lower()
            if nxt == "missing":
                op, i = "is missing", i + 2
            elif nxt == "not" and (peek(2)[1] or "").lower() == "missing":
                op, i = "is not missing", i + 3
            else:
                fail("after 'is' write 'missing' or 'not missing'", at)
        else:
            fail(f"expected an operator ({', '.join(OPERATORS)}), found {val!r}" if val else
                 "expected an operator after the column name", at)
        value: object = None
        if op in ("in", "not in"):
            if peek()[0] != "lb":
                fail(f"'{op}' needs a list such as ['a', 'b']")
            i += 1
            items = []
            while peek()[0] != "rb":
                items.append(literal())
                if peek()[0] == "comma":
                    i += 1
                elif peek()[0] != "rb":
                    fail("expected ',' or ']' in the list")
            i += 1
            if not items:
                fail(f"the list after '{op}' is empty")
            value = tuple(items)
        elif op in STRING_OPS:
            value = literal()
            if not isinstance(value, str):
                fail(f"'{op}' needs quoted text, e.g. {op} 'http'")
        elif op in COMPARISONS:
            value = literal()
        clauses.append(Clause(column, op, value))
        kind, val, at = peek()
        if kind is None:
            break
        if kind == "word" and val.lower() == "and":
            i += 1
            if peek()[0] is None:
                fail("nothing after 'and'")
            continue
        if kind == "word" and val.lower() == "or":
            fail("'or' is not supported; write each alternative as its own condition (they are combined "
                 "with or)", at)
        fail(f"unexpected {val!r}; join clauses with 'and'", at)
    return Condition(tuple(clauses))


def _eval_clause(s: pd.Series, cl: Clause) -> np.ndarray:
    """Rows of ``s`` matching the clause; a missing value never matches (except ``is missing``)."""
    isna = s.isna().to_numpy()
    if cl.op == "is missing":
        return isna
    if cl.op == "is not missing":
        return ~isna
    v = cl.value
    if cl.op in STRING_OPS:
        st = s.astype("string")
        if cl.op == "contains":
            out = st.str.contains(v, regex=False)
        elif cl.op == "icontains":
            out = st.str.lower().str.contains(v.lower(), regex=False)
        elif cl.op == "startswith":
            out = st.str.startswith(v)
        else:
            out = st.str.endswith(v)
        return out.fillna(False).to_numpy(dtype=bool)
    values = v if isinstance(v, tuple) else (v,)
    is_bool_col = pd.api.types.is_bool_dtype(s)
    if all(isinstance(x, bool) for x in values) and is_bool_col:
        col = s.astype("boolean")
    elif all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in values):
        col = s if pd.api.types.is_numeric_dtype(s) and not is_bool_col else pd.to_numeric(s, errors="coerce")
        col = col.astype("Float64")
    else:
        col = s.astype("string")
        values = tuple(_literal_str(x) for x in values)
    if cl.op in ("in", "not in"):
        hit = col.isin(list(values)).to_numpy(dtype=bool)
        out = hit if cl.op == "in" else ~hit
        return out & ~col.isna().to_numpy()
    x = values[0]
    ops = {"==": col.__eq__, "!=": col.__ne__, "<": col.__lt__, "<=": col.__le__, ">": col.__gt__,
           ">=": col.__ge__}
    try:
        res = ops[cl.op](x)
    except TypeError:
        raise DataError(f"condition '{cl}': cannot compare column '{cl.column}' with {_literal_text(x)}") from None
    return pd.array(res, dtype="boolean").fillna(False).to_numpy(dtype=bool)


def _literal_str(x) -> str:
    if isinstance(x, bool):
        return "True" if x else "False"
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


# =========================================================================== recipe parts

def _check_unit(value, what: str) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise DataError(f"{what} must be a number between 0 and 1, got {value!r}") from None
    if not math.isfinite(f) or not 0.0 <= f <= 1.0:
        raise DataError(f"{what} must lie between 0 and 1 (scores are in [0, 1]), got {value!r}")
    return f


def _check_keys(d: Mapping, allowed: Iterable[str], where: str) -> None:
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


def _json_scalar_id(v):
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
        _check_keys(d, cls.KEYS, "a signal rule")
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
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)):
            raise DataError(f"seed of the rule for class '{self.label}' must be a whole number")

    @property
    def condition(self) -> Condition | None:
        return parse_condition(self.where) if self.where else None

    def to_dict(self) -> dict:
        return {"label": self.label, "action": self.action, "to": self.to, "max_rows": self.max_rows,
                "where": self.where, "order": self.order, "rank_by": self.rank_by, "seed": int(self.seed)}

    @classmethod
    def from_dict(cls, d: Mapping) -> ClassRule:
        _check_keys(d, cls.KEYS, "a class rule")
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
        _check_keys(d, cls.KEYS, "a condition")
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
        ids = tuple(_json_scalar_id(r) for r in self.row_ids)
        object.__setattr__(self, "row_ids", tuple(sorted(dict.fromkeys(ids), key=lambda r: (isinstance(r, str), r))))

    def to_dict(self) -> dict:
        return {"name": self.name, "row_ids": list(self.row_ids), "action": self.action}

    @classmethod
    def from_dict(cls, d: Mapping) -> RowSet:
        _check_keys(d, cls.KEYS, "a row set")
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
        object.__setattr__(self, "row_id", _json_scalar_id(self.row_id))
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
        _check_keys(d, cls.KEYS, "a decision")
        if "row_id" not in d or "action" not in d:
            raise DataError("a decision needs 'row_id' and 'action' (keep, drop or relabel)")
        return cls(row_id=d["row_id"], action=d["action"], label=d.get("label"))


def _bool(v, what: str) -> bool:
    if not isinstance(v, (bool, np.bool_)):
        raise DataError(f"{what} must be true or false, got {v!r}")
    return bool(v)


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
        object.__setattr__(self, "signal_settings", _check_settings(self.signal_settings))
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
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    @classmethod
    def from_dict(cls, d: Mapping) -> FilterRecipe:
        if not isinstance(d, Mapping):
            raise DataError(f"a recipe must be a JSON object, got {type(d).__name__}")
        _check_keys(d, cls.KEYS, "the recipe")
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
        payload = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, default=str)
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


def _check_settings(settings) -> dict | None:
    if settings is None:
        return None
    if not isinstance(settings, Mapping):
        raise DataError("signal_settings must be an object like {\"signals\": [\"label\", ...], \"seed\": 0}")
    _check_keys(settings, ("signals", "seed"), "signal_settings")
    sigs = settings.get("signals")
    if sigs is not None and (not isinstance(sigs, (list, tuple)) or not all(isinstance(x, str) and x for x in sigs)):
        raise DataError("signal_settings.signals must be a list of signal keys such as \"label\" or "
                        "\"near_duplicate(threshold=0.1)\"")
    seed = settings.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise DataError(f"signal_settings.seed must be a whole number, got {seed!r}")
    return {"signals": tuple(sigs) if sigs is not None else None, "seed": int(seed)}


def default_recipe() -> FilterRecipe:
    """What `dq filter` uses without --recipe and what the training bench compares against.

    - exact duplicates: keep one copy per group, drop the others;
    - conflicting labels: drop the rows outside their (near-)duplicate group's clear majority label
      (``conflicting_label_score < 0.2``: the score is half the share of the other members that agree, so
      a tie drops the whole group while the majority of a 3-to-1 group stays);
    - junk (empty, too short, URL-only, ...): drop;
    - label issues: relabel a flagged row to the suggested label when its out-of-sample probability is at
      least 0.7, drop the other flagged rows.

    Chosen with bench/bench_default_recipe.py (docs/benchmarks.md, issue 6): over 20% uniform and
    class-conditional noise on the tweets and SMS spam it was the one variant never clearly below training
    on the noisy labels and among the best elsewhere; dropping every conflicting row (rather than the
    minority) cost accuracy everywhere, and a confident relabel keeps ~5-10% more rows than dropping
    every flagged row at about 80-99% relabel precision. Each rule is optional: a signal the frame lacks
    is skipped with a note rather than failing.
    """
    return FilterRecipe(
        name="default",
        description="drop exact-duplicate copies, conflicting duplicates outside their group's majority and "
                    "junk; relabel label issues with a confident suggestion (p >= 0.7), drop the other label "
                    "issues",
        signals=(SignalRule("exact_duplicate", action="dedupe", required=False),
                 SignalRule("conflicting_label", action="drop", threshold=0.2, use_flag=False, required=False),
                 SignalRule("junk", action="drop", required=False),
                 SignalRule("label", action="relabel_or_drop", min_prob=DEFAULT_RELABEL_PROB, required=False)))


DEFAULT_RELABEL_PROB = 0.7


def load_recipe(spec: str | Path) -> FilterRecipe:
    """A recipe from a JSON file, or the built-in ``default``."""
    if str(spec) == "default":
        return default_recipe()
    p = Path(spec)
    if not p.exists():
        raise DataError(f"recipe file '{spec}' does not exist; give a JSON recipe file or 'default'")
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
    from dq_core.io import atomic_write_text

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


# =========================================================================== prepared inputs

def signal_names(frame: pd.DataFrame | None) -> list[str]:
    """Signals present in a wide frame: stems of ``<name>_score`` and ``is_<name>_issue`` columns."""
    if frame is None:
        return []
    names = []
    for c in frame.columns:
        c = str(c)
        m = re.fullmatch(r"is_(.+)_issue", c)
        if m:
            names.append(m.group(1))
        elif c.endswith("_score"):
            names.append(c[: -len("_score")])
    return list(dict.fromkeys(names))


def _id_keys(ids) -> pd.Index:
    """row_ids as strings: JSON, CSV and Parquet round trips agree on the string of an id."""
    arr = np.asarray(ids)
    if arr.dtype.kind in "iu":
        return pd.Index(arr.astype(str))
    return pd.Index([str(_json_scalar_id(v)) if not isinstance(v, str) else v for v in arr.tolist()])


class FilterInputs:
    """Everything about (dataset, signals) a recipe is applied against, computed once.

    Holds the signals aligned to the dataset's rows, label codes, and lazily the text hashes (for
    dedupe) and each condition's mask (memoised by text), so re-applying recipes is cheap.
    """

    def __init__(self, ds: TextDataset, signals: pd.DataFrame | None = None):
        self.ds = ds
        self.n = len(ds)
        self.row_ids = ds.row_ids
        self.signals = _align_signals(ds, signals)
        labels = ds.labels
        self.classes: list[str] = sorted(labels.dropna().unique().tolist())
        cat = pd.Categorical(labels.astype(object), categories=self.classes)
        self.label_codes = cat.codes.astype(np.int32)  # -1 = missing
        self.signal_names = signal_names(self.signals)
        self._cond_cache: dict[str, np.ndarray] = {}
        self._hash_cache: dict[str, np.ndarray] = {}
        self._rank_cache: dict[tuple, np.ndarray] = {}
        self._arrays: dict[str, object] = {}

    @cached_property
    def id_index(self) -> pd.Index:
        return _id_keys(self.row_ids)

    def prepare(self) -> FilterInputs:
        """Compute now what recipes would otherwise compute on first use (row-id index, suggestions,
        duplicate groups, score arrays), so the first recipe is as fast as the next; returns self."""
        self.id_index.get_indexer(["\x00"])  # builds the index and its hash table once
        if self.signals is not None:
            for name in self.signal_names:
                if name.startswith("label") and self.suggestion_column(name) is not None:
                    self.suggestions(name)
                self.score(name)
                self.flag(name)
                if f"{name}_group" in self.signals.columns:
                    self.group_codes(name)
        self.random_rank(0)
        return self

    def positions(self, ids: Sequence) -> tuple[np.ndarray, list]:
        """Positions of ``ids`` in the dataset and the ids that are not in it."""
        keys = [str(i) for i in ids]
        pos = self.id_index.get_indexer(keys)
        missing = [i for i, p in zip(ids, pos, strict=True) if p < 0]
        return pos[pos >= 0].astype(np.int64), missing

    # columns usable in conditions: the dataset's own, then the signals'
    def columns(self) -> list[str]:
        cols = [c for c in self.ds.frame.columns]
        if self.signals is not None:
            cols += [c for c in self.signals.columns if c not in cols]
        return cols

    def column(self, name: str) -> pd.Series:
        f = self.ds.frame
        if name in f.columns:
            return f[name]
        if self.signals is not None and name in self.signals.columns:
            return self.signals[name]
        meta = f"meta_{name}"
        if name in CANONICAL and meta in f.columns:
            return f[meta]
        raise DataError(_unknown("column", name, self.columns()))

    def condition_mask(self, text: str) -> np.ndarray:
        hit = self._cond_cache.get(text)
        if hit is None:
            cond = parse_condition(text)
            mask = np.ones(self.n, dtype=bool)
            for cl in cond.clauses:
                mask &= _eval_clause(self.column(cl.column).reset_index(drop=True), cl)
            hit = self._cond_cache[text] = mask
        return hit

    def score(self, signal: str) -> np.ndarray | None:
        col = f"{signal}_score"
        if self.signals is None or col not in self.signals.columns:
            return None
        hit = self._arrays.get(col)
        if hit is None:
            hit = self._arrays[col] = pd.to_numeric(self.signals[col], errors="coerce").to_numpy(dtype=np.float64)
        return hit

    def flag(self, signal: str) -> np.ndarray | None:
        col = f"is_{signal}_issue"
        if self.signals is None or col not in self.signals.columns:
            return None
        hit = self._arrays.get(col)
        if hit is None:
            hit = self._arrays[col] = self.signals[col].fillna(False).to_numpy(dtype=bool)
        return hit

    def suggestion_column(self, signal: str | None = None) -> str | None:
        """The suggested-label column for ``signal``: ``<signal>__suggested_label`` (a non-default label
        signal's), else the plain ``suggested_label``."""
        sig = self.signals
        if sig is None:
            return None
        for col in ([f"{signal}__suggested_label"] if signal else []) + ["suggested_label"]:
            if col in sig.columns:
                return col
        return None

    def suggestions(self, signal: str | None = None) -> tuple[np.ndarray, list[str], np.ndarray]:
        """(codes into the suggested labels, those labels sorted, probabilities) from the signals frame."""
        col = self.suggestion_column(signal)
        if col is None:
            raise DataError("a relabel rule needs the 'suggested_label' column the label signal produces; "
                            "compute the label signal, or use the drop action")
        hit = self._arrays.get(f"__suggestions:{col}")
        if hit is not None:
            return hit
        sig = self.signals
        lab = sig[col].astype("string")
        lab = lab.where(lab.str.strip().ne(""))
        cat = pd.Categorical(lab, categories=sorted(lab.dropna().unique().tolist()))
        pcol = col + "_prob"
        if pcol in sig.columns:
            prob = pd.to_numeric(sig[pcol], errors="coerce").fillna(0.0).to_numpy(dtype=np.float64)
        else:
            prob = np.ones(self.n, dtype=np.float64)
        hit = self._arrays[f"__suggestions:{col}"] = (cat.codes.astype(np.int64), list(cat.categories), prob)
        return hit

    def group_codes(self, signal: str) -> np.ndarray:
        """Duplicate groups for ``signal``: its ``<signal>_group`` column when the frame has one
        (-1 / missing = no group), else normalised-text hashes (as the profile's exact duplicates)."""
        hit = self._hash_cache.get(signal)
        if hit is not None:
            return hit
        col = f"{signal}_group"
        if self.signals is not None and col in self.signals.columns:
            g = self.signals[col]
            codes, _ = pd.factorize(g.where(g.astype("string") != "-1"), use_na_sentinel=True)
            out = codes.astype(np.int64)
        else:
            from dq_core.text import text_hashes

            texts = self.ds.texts
            h = text_hashes(texts)
            codes, _ = pd.factorize(h)
            empty = texts.fillna("").astype(str).str.strip().eq("").to_numpy()
            out = np.where(empty, -1, codes).astype(np.int64)  # empties are junk, not duplicates
        self._hash_cache[signal] = out
        return out

    def random_rank(self, seed: int) -> np.ndarray:
        """A seeded pseudo-random key per row from its row_id alone (so it does not depend on row order)."""
        key = ("random", int(seed))
        hit = self._rank_cache.get(key)
        if hit is None:
            hk = hashlib.blake2b(str(seed).encode(), digest_size=8).hexdigest()
            ids = np.asarray(self.row_ids)
            if ids.dtype.kind in "iu":  # integer ids hash as numbers: 1M rows in milliseconds
                hit = pd.util.hash_array(ids.astype(np.int64) ^ np.int64(int(hk, 16) & 0x7FFFFFFFFFFFFFFF))
            else:
                hit = pd.util.hash_array(self.id_index.to_numpy(dtype=object), hash_key=hk)
            self._rank_cache[key] = hit
        return hit


def _unknown(what: str, name: str, available: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(available), n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    shown = ", ".join(f"'{a}'" for a in list(available)[:20]) + (" ..." if len(available) > 20 else "")
    return f"the recipe names {what} '{name}', which does not exist{hint} (available: {shown or 'none'})"


def _align_signals(ds: TextDataset, signals: pd.DataFrame | None) -> pd.DataFrame | None:
    """The signals rows in the dataset's row order (matched by row_id); extra signal rows are ignored."""
    if signals is None:
        return None
    if not isinstance(signals, pd.DataFrame):
        raise DataError("signals must be a table (a wide frame with row_id and <signal>_score columns)")
    if "row_id" not in signals.columns:
        raise DataError("the signals table has no row_id column; compute the signals again")
    ids = ds.row_ids
    sig_ids = signals["row_id"].to_numpy()
    if len(sig_ids) == len(ids) and sig_ids.dtype == ids.dtype and np.array_equal(sig_ids, ids):
        return signals.reset_index(drop=True)
    keys = _id_keys(sig_ids)
    if not keys.is_unique:
        raise DataError("the signals table repeats row_ids; compute the signals again")
    pos = keys.get_indexer(_id_keys(ids))
    if (pos < 0).any():
        n_miss = int((pos < 0).sum())
        raise DataError(f"the signals do not cover {n_miss:,} of the dataset's {len(ids):,} rows (computed on "
                        "other data?); compute the signals for this dataset again")
    return signals.iloc[pos].reset_index(drop=True)


# =========================================================================== applying

@dataclass(frozen=True, eq=False)
class RecipeResult:
    """What a recipe does to a dataset. Everything is per row position of the dataset it was applied to."""

    keep_mask: np.ndarray  # bool (n,)
    label_codes: np.ndarray  # int32 (n,) final label per row (-1 missing), codes into ``classes``
    classes: tuple[str, ...]  # the dataset's classes, then any new class a relabel introduced
    original_codes: np.ndarray  # int32 (n,)
    row_ids: np.ndarray
    rule_names: tuple[str, ...]  # one per rule that can drop or relabel, in recipe order
    drop_hits: tuple[np.ndarray, ...]  # per rule: rows it asked to drop (bool (n,))
    relabel_hits: tuple[np.ndarray, ...]  # per rule: rows it relabelled
    manual_drop: np.ndarray
    manual_keep: np.ndarray  # kept by a decision (keep or relabel) whatever the rules said
    recipe: FilterRecipe
    notes: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()  # why this result must not be exported (no rows left, a class gone)
    dataset_fingerprint: str = ""

    # ------------------------------------------------------------ counts
    @property
    def n_rows(self) -> int:
        return int(len(self.keep_mask))

    @property
    def n_kept(self) -> int:
        return int(self.keep_mask.sum())

    @property
    def n_dropped(self) -> int:
        return self.n_rows - self.n_kept

    @cached_property
    def relabelled_mask(self) -> np.ndarray:
        return self.keep_mask & (self.label_codes != self.original_codes)

    @property
    def n_relabelled(self) -> int:
        return int(self.relabelled_mask.sum())

    @cached_property
    def relabels(self) -> dict:
        """{row_id: new label} for kept rows whose label changed."""
        pos = np.flatnonzero(self.relabelled_mask)
        return {_native(self.row_ids[p]): self.classes[self.label_codes[p]] for p in pos}

    @property
    def kept_row_ids(self) -> np.ndarray:
        return self.row_ids[self.keep_mask]

    def final_labels(self) -> np.ndarray:
        """Object array of final labels per row (None where missing), for every row (kept or not)."""
        cls = np.array([*self.classes, None], dtype=object)
        return cls[np.where(self.label_codes >= 0, self.label_codes, len(self.classes))]

    def rule_counts(self) -> pd.DataFrame:
        """Per rule: rows it flags, rows it actually removes or relabels in this recipe."""
        rows = []
        dropped = ~self.keep_mask
        for name, d, r in zip(self.rule_names, self.drop_hits, self.relabel_hits, strict=True):
            rows.append({"rule": name, "flags": int((d | r).sum()), "drops": int((d & dropped).sum()),
                         "relabels": int((r & self.relabelled_mask).sum())})
        rows.append({"rule": "manual decisions", "flags": int((self.manual_drop | self.manual_keep).sum()),
                     "drops": int((self.manual_drop & dropped).sum()),
                     "relabels": int((self.manual_keep & self.relabelled_mask).sum())})
        return pd.DataFrame(rows)

    # ------------------------------------------------------------ reasons
    def reasons_at(self, positions: Sequence[int]) -> list[str]:
        """Why each row at ``positions`` was dropped or relabelled ('' for untouched rows)."""
        out = []
        for p in positions:
            parts = []
            if self.manual_drop[p]:
                parts.append("manual decision: drop")
            if self.manual_keep[p] and self.relabelled_mask[p] and \
                    not any(r[p] for r in self.relabel_hits):
                parts.append("manual decision: relabel")
            if not self.keep_mask[p] and not self.manual_drop[p]:
                parts += [n for n, d in zip(self.rule_names, self.drop_hits, strict=True) if d[p]]
            if self.relabelled_mask[p]:
                parts += [f"relabel: {n}" for n, r in zip(self.rule_names, self.relabel_hits, strict=True) if r[p]]
            out.append("; ".join(parts))
        return out

    @cached_property
    def reasons(self) -> dict:
        """{row_id: why} for every dropped or relabelled row (built on first use)."""
        pos = self.touched_positions()
        return {_native(self.row_ids[p]): r for p, r in zip(pos, self.reasons_at(pos), strict=True)}

    def touched_positions(self) -> np.ndarray:
        return np.flatnonzero(~self.keep_mask | self.relabelled_mask)

    def check(self) -> RecipeResult:
        """Raise DataError when the result must not be used (no rows left, a class removed); else self."""
        if self.problems:
            raise DataError(" ".join(self.problems))
        return self


def _native(v):
    return v.item() if hasattr(v, "item") else v


def apply_recipe(ds, signals=None, recipe=None, *, workspace=None, strict: bool = True,
                 inputs: FilterInputs | None = None) -> RecipeResult:
    """Apply ``recipe`` to ``ds`` given the wide signals frame; returns keep mask, relabels and reasons.

    ``recipe`` may be a FilterRecipe, a dict, a JSON file path or ``"default"``. With ``strict`` (the
    default) a recipe that removes every row or a whole class raises DataError; otherwise the result
    carries ``problems`` (the page shows them and refuses to export).

    With ``signals=None`` the signals the recipe needs are loaded from (or computed into) the workspace
    cache exactly as `dq filter` does.
    """
    if not isinstance(ds, TextDataset):
        raise DataError("apply_recipe needs a TextDataset")
    if recipe is None:
        raise DataError("no recipe given")
    rec = as_recipe(recipe)
    if signals is None and inputs is None and rec.needs_signals:
        signals = load_or_compute_signals(ds, workspace=workspace, settings=rec.signal_settings)
    inp = inputs if inputs is not None else FilterInputs(ds, signals)
    return apply_prepared(inp, rec, strict=strict)


def apply_prepared(inp: FilterInputs, recipe: FilterRecipe, *, strict: bool = True) -> RecipeResult:
    """Apply a recipe against prepared inputs (see the module docstring for the order of the steps)."""
    n = inp.n
    notes: list[str] = []
    classes = list(inp.classes)
    class_index = {c: i for i, c in enumerate(classes)}

    def code_of(label: str) -> int:
        if label not in class_index:
            class_index[label] = len(classes)
            classes.append(label)
        return class_index[label]

    orig = inp.label_codes
    codes = orig.copy()
    names: list[str] = []
    drops: list[np.ndarray] = []
    relabs: list[np.ndarray] = []
    dedupe_rules: list[tuple[int, SignalRule, np.ndarray]] = []
    explicit_gone: set[str] = set()  # classes a class rule removes on purpose
    none = np.zeros(n, dtype=bool)

    # ---- signal rules
    available = inp.signal_names
    for rule in recipe.signals:
        if not rule.enabled:
            continue
        score, flag = inp.score(rule.signal), inp.flag(rule.signal)
        if score is None and flag is None:
            if rule.required:
                raise DataError(_unknown("signal", rule.signal, available))
            notes.append(f"signal '{rule.signal}' is not in the signals, so its rule is skipped")
            continue
        if rule.threshold is not None and score is None:
            raise DataError(f"the recipe sets a threshold on signal '{rule.signal}', but the signals have no "
                            f"'{rule.signal}_score' column; use its flag (use_flag) instead")
        if rule.use_flag and flag is None and rule.threshold is None:
            raise DataError(f"the recipe uses the flag of signal '{rule.signal}', but the signals have no "
                            f"'is_{rule.signal}_issue' column; set a threshold on its score instead")
        hit = np.zeros(n, dtype=bool)
        if rule.use_flag and flag is not None:
            hit |= flag
        if rule.threshold is not None:
            hit |= np.nan_to_num(score, nan=1.0) < rule.threshold
        name = rule.describe()
        if rule.action == "dedupe":
            names.append(name)
            drops.append(none)  # filled in after the manual decisions
            relabs.append(none)
            dedupe_rules.append((len(names) - 1, rule, hit))
            continue
        if rule.action in ("relabel", "relabel_or_drop"):
            suggested, suggested_prob = _suggestions(inp, code_of, rule.signal)
            ok = hit & (suggested >= 0) & (suggested != codes) & (suggested_prob >= rule.min_prob)
            # a flagged row already carrying the suggested label has nothing left to fix (this is also
            # what keeps a relabelled row on a second application)
            settled = hit & (suggested == codes)
            codes = np.where(ok, suggested, codes).astype(np.int32)
            names.append(name)
            relabs.append(ok)
            drops.append(hit & ~ok & ~settled if rule.action == "relabel_or_drop" else none)
        else:
            names.append(name)
            drops.append(hit)
            relabs.append(none)

    # ---- class rules (relabel / drop now; caps after the manual decisions)
    caps: list[tuple[int, ClassRule]] = []
    for rule in recipe.classes:
        if rule.label not in inp.classes:
            if rule.action == "cap":
                raise DataError(_unknown("class", rule.label, inp.classes))
            notes.append(f"class '{rule.label}' is not in the dataset, so its {rule.action} rule does nothing")
            names.append(rule.describe())
            drops.append(none)
            relabs.append(none)
            continue
        in_class = orig == inp.classes.index(rule.label)
        if rule.where:
            in_class = in_class & inp.condition_mask(rule.where)
        names.append(rule.describe())
        if rule.action == "relabel":
            codes = np.where(in_class, code_of(rule.to), codes).astype(np.int32)
            relabs.append(in_class)
            drops.append(none)
            if not rule.where:
                explicit_gone.add(rule.label)
        elif rule.action == "drop":
            drops.append(in_class)
            relabs.append(none)
            if not rule.where:
                explicit_gone.add(rule.label)
        else:
            drops.append(none)  # filled in below
            relabs.append(none)
            caps.append((len(names) - 1, rule))

    # ---- conditions and row sets
    for rule in recipe.conditions:
        for col in rule.condition.columns:
            inp.column(col)  # a clear error for an unknown column before anything else
        m = inp.condition_mask(rule.where)
        names.append(rule.describe())
        drops.append(m if rule.action == "drop" else ~m)
        relabs.append(none)
    for rs in recipe.row_sets:
        pos, missing = inp.positions(rs.row_ids)
        if missing:
            notes.append(f"row set '{rs.name}': {len(missing):,} of its {len(rs.row_ids):,} row ids are not in this "
                         f"dataset and are ignored (e.g. {missing[0]!r})")
        m = np.zeros(n, dtype=bool)
        m[pos] = True
        names.append(rs.describe())
        drops.append(m if rs.action == "drop" else ~m)
        relabs.append(none)

    drop = np.zeros(n, dtype=bool)
    for d in drops:
        drop |= d

    # ---- manual decisions win
    manual_drop = np.zeros(n, dtype=bool)
    manual_keep = np.zeros(n, dtype=bool)
    if recipe.decisions:
        ids = [d.row_id for d in recipe.decisions]
        keys = inp.id_index.get_indexer([str(i) for i in ids])
        n_missing = int((keys < 0).sum())
        if n_missing:
            notes.append(f"{n_missing:,} manual decisions name rows not in this dataset and are ignored")
        for d, p in zip(recipe.decisions, keys, strict=True):
            if p < 0:
                continue
            if d.action == "drop":
                manual_drop[p] = True
            else:
                manual_keep[p] = True
                if d.action == "relabel":
                    codes[p] = code_of(d.label)
    drop = (drop | manual_drop) & ~manual_keep

    # ---- dedupe: one survivor per group (manually kept rows count as survivors)
    for idx, rule, hit in dedupe_rules:
        groups = inp.group_codes(rule.signal)
        flagged_groups = np.unique(groups[hit & (groups >= 0)])
        if not len(flagged_groups):
            continue
        member = np.isin(groups, flagged_groups)
        alive = np.flatnonzero(member & ~drop)
        g = groups[alive]
        # order: group, manual keeps first, then position
        order = np.lexsort((alive, ~manual_keep[alive], g))
        alive, g = alive[order], g[order]
        first = np.r_[True, g[1:] != g[:-1]] if len(g) else np.zeros(0, dtype=bool)
        extra = alive[~first & ~manual_keep[alive]]
        m = np.zeros(n, dtype=bool)
        m[extra] = True
        drops[idx] = m
        drop |= m

    # ---- caps on final labels, manual keeps first
    for idx, rule in caps:
        target = inp.classes.index(rule.label)
        alive = np.flatnonzero((codes == target) & ~drop)
        if len(alive) <= rule.max_rows:
            continue
        if rule.order == "random":
            key = inp.random_rank(rule.seed)[alive]
            order = np.lexsort((alive, key, ~manual_keep[alive]))
        else:
            s = inp.score(rule.rank_by.removesuffix("_score"))
            if s is None:
                raise DataError(_unknown("score column", rule.rank_by, [f"{x}_score" for x in inp.signal_names
                                                                      if inp.score(x) is not None]))
            order = np.lexsort((alive, -np.nan_to_num(s[alive], nan=-1.0), ~manual_keep[alive]))
        cut = alive[order][rule.max_rows:]
        cut = cut[~manual_keep[cut]]
        m = np.zeros(n, dtype=bool)
        m[cut] = True
        drops[idx] = m
        drop |= m

    keep = ~drop
    problems = _problems(inp, keep, codes, classes, explicit_gone)
    result = RecipeResult(keep_mask=keep, label_codes=codes, classes=tuple(classes), original_codes=orig,
                          row_ids=inp.row_ids, rule_names=tuple(names), drop_hits=tuple(drops),
                          relabel_hits=tuple(relabs), manual_drop=manual_drop, manual_keep=manual_keep,
                          recipe=recipe, notes=tuple(notes), problems=tuple(problems),
                          dataset_fingerprint=inp.ds.fingerprint)
    return result.check() if strict else result


def _suggestions(inp: FilterInputs, code_of, signal: str) -> tuple[np.ndarray, np.ndarray]:
    """Suggested label per row as codes of this application's class list (-1 = none), and its probability."""
    fcodes, uniques, prob = inp.suggestions(signal)
    lut = np.array([code_of(str(u)) for u in uniques] + [-1], dtype=np.int32)
    return lut[np.where(fcodes >= 0, fcodes, len(uniques))], prob


def _problems(inp: FilterInputs, keep: np.ndarray, codes: np.ndarray, classes: list[str],
              explicit_gone: set[str]) -> list[str]:
    problems = []
    n_kept = int(keep.sum())
    if n_kept == 0:
        problems.append(f"the recipe removes every one of the {inp.n:,} rows; loosen its thresholds or rules "
                        "(an empty dataset is never exported)")
        return problems
    before = np.bincount(inp.label_codes[inp.label_codes >= 0], minlength=len(classes))
    kept_codes = codes[keep & (codes >= 0)]
    after = np.bincount(kept_codes, minlength=len(classes))
    gone = [c for i, c in enumerate(inp.classes) if before[i] > 0 and after[i] == 0 and c not in explicit_gone]
    if gone:
        shown = ", ".join(f"'{c}' ({before[inp.classes.index(c)]:,} rows)" for c in gone[:5])
        problems.append(f"the recipe removes every row of class {shown}; loosen its rules for that class, or "
                        "add a class rule that drops (or relabels) the class on purpose")
    return problems


def what_if(before, after):
    """Before/after deltas of the Clean page's figures (see :mod:`dq_core.whatif`, which computes them)."""
    from dq_core.whatif import what_if as _what_if

    return _what_if(before, after)


# =========================================================================== outputs

def cleaned_frame(ds: TextDataset, result: RecipeResult, *, original_names: bool = True) -> pd.DataFrame:
    """The kept rows with their final labels; with ``original_names`` the columns get the user's names back.

    ``row_id`` is kept (renamed to the id column when one was mapped) so every row traces back to the
    source and to the removal log.
    """
    result.check()
    if len(result.keep_mask) != len(ds):
        raise DataError("the recipe result is for another dataset (different number of rows)")
    f = ds.frame.loc[result.keep_mask].copy()
    f["label"] = pd.array(result.final_labels()[result.keep_mask], dtype="string")
    f = f.reset_index(drop=True)
    if not original_names:
        return f
    m = ds.mapping
    rename = {"text": m.text, "label": m.label or "label"}
    if m.split and "split" in f.columns:
        rename["split"] = m.split
    if m.id:
        rename["row_id"] = m.id
    for c in list(f.columns):
        if c.startswith("meta_") and c[5:] in CANONICAL:
            rename[c] = c[5:]
    targets = list(rename.values())
    if len(set(targets)) == len(targets):
        keep_names = [c for c in f.columns if c not in rename]
        if not set(targets) & set(keep_names):
            f = f.rename(columns=rename)
    return f


def removal_log(ds: TextDataset, result: RecipeResult, signals: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per dropped or relabelled row: row_id, action, reasons, labels, text, signal scores."""
    pos = result.touched_positions()
    labels = result.final_labels()
    frame = ds.frame
    log = pd.DataFrame({
        "row_id": ds.row_ids[pos],
        "action": np.where(result.keep_mask[pos], "relabel", "drop"),
        "reasons": result.reasons_at(pos),
        "label": frame["label"].to_numpy(dtype=object)[pos],
        "new_label": np.where(result.relabelled_mask[pos], labels[pos], None),
        "text": frame["text"].to_numpy(dtype=object)[pos],
    })
    aligned = _align_signals(ds, signals) if signals is not None else None
    if aligned is not None:
        cols = [c for c in aligned.columns if c.endswith("_score") or c in ("suggested_label", "suggested_label_prob")]
        for c in cols:
            log[c] = aligned[c].to_numpy()[pos]
    return log


def removal_summary(result: RecipeResult) -> dict:
    return {"recipe": result.recipe.name, "recipe_fingerprint": result.recipe.fingerprint,
            "n_rows": result.n_rows, "n_kept": result.n_kept, "n_dropped": result.n_dropped,
            "n_relabelled": result.n_relabelled, "notes": list(result.notes),
            "rules": result.rule_counts().to_dict(orient="records")}


EXPORT_FORMATS = {"csv": ".csv", "parquet": ".parquet", "jsonl": ".jsonl", "datasets": ""}


def export_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """Bytes for a download; a ``datasets`` folder comes as a zip of the folder."""
    from dq_core.io import frame_to_bytes

    if fmt not in EXPORT_FORMATS:
        raise DataError(f"unknown export format '{fmt}'; use one of: {', '.join(EXPORT_FORMATS)}")
    if len(frame) == 0:
        raise DataError("nothing to export: the table has no rows")
    if fmt != "datasets":
        return frame_to_bytes(frame, fmt)
    import io
    import tempfile
    import zipfile

    from dq_core.io import write_frame

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "cleaned"
        write_frame(frame, folder)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for p in sorted(folder.rglob("*")):
                if p.is_file():
                    z.write(p, p.relative_to(folder.parent))
        return buf.getvalue()


def write_export(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a cleaned table / log atomically by extension (a path without extension is a datasets folder)."""
    from dq_core.io import write_frame

    if len(frame) == 0:
        raise DataError(f"nothing to write to '{Path(path).name}': the table has no rows")
    write_frame(frame, path)
    return Path(path)


def export_all(ds: TextDataset, result: RecipeResult, signals: pd.DataFrame | None, folder: str | Path, *,
               fmt: str = "csv", stem: str | None = None) -> dict[str, Path]:
    """Cleaned data, removal log (CSV) and the recipe (JSON) into ``folder``; returns the paths written."""
    result.check()
    folder = Path(folder)
    stem = stem or re.sub(r"[^A-Za-z0-9_.-]+", "_", result.recipe.name) or "recipe"
    data_path = folder / f"{stem}.cleaned{EXPORT_FORMATS[fmt]}" if fmt != "datasets" else folder / f"{stem}.cleaned"
    out = {"data": write_export(cleaned_frame(ds, result), data_path)}
    log = removal_log(ds, result, signals)
    log_path = folder / f"{stem}.removed.csv"
    from dq_core.io import atomic_write_bytes, frame_to_bytes

    atomic_write_bytes(log_path, frame_to_bytes(log, "csv"))  # an empty log is fine: nothing was removed
    out["log"] = log_path
    out["recipe"] = save_recipe(result.recipe, folder / f"{stem}.recipe.json")
    return out


# =========================================================================== decisions store

DECISIONS_FILE = "decisions.json"
HISTORY_LIMIT = 200


class DecisionStore:
    """Manual review decisions of one dataset, saved at once (atomically) in the workspace, with undo.

    One JSON file holds the decisions and an undo history of diffs ({row_id: previous decision or None}
    per change), so a crash never leaves the two out of step. A reload reads the same file back.
    """

    def __init__(self, folder: str | Path):
        self.path = Path(folder) / DECISIONS_FILE

    @classmethod
    def for_dataset(cls, workspace, ds_id: str) -> DecisionStore:
        return cls(workspace.recipes_dir(ds_id))

    def _read(self) -> dict:
        if not self.path.exists():
            return {"version": 1, "decisions": [], "history": []}
        try:
            obj = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise DataError(f"the saved review decisions ({self.path}) cannot be read ({type(exc).__name__}); "
                            "move the file away to start over") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("decisions"), list):
            raise DataError(f"the saved review decisions ({self.path}) are not in the expected format")
        obj.setdefault("history", [])
        return obj

    def _write(self, decisions: dict[str, Decision], history: list) -> None:
        from dq_core.io import atomic_write_text

        obj = {"version": 1,
               "decisions": [d.to_dict() for d in sorted(decisions.values(),
                                                         key=lambda d: (isinstance(d.row_id, str), d.row_id))],
               "history": history[-HISTORY_LIMIT:]}
        atomic_write_text(self.path, json.dumps(obj, ensure_ascii=False))

    def decisions(self) -> tuple[Decision, ...]:
        return tuple(Decision.from_dict(d) for d in self._read()["decisions"])

    def as_dict(self) -> dict[str, Decision]:
        return {str(d.row_id): d for d in self.decisions()}

    def set(self, changes: Iterable[Decision | tuple]) -> int:
        """Set decisions; a ``(row_id, None)`` pair clears one. One undo step per call. Returns rows changed."""
        obj = self._read()
        cur = {str(d["row_id"]): Decision.from_dict(d) for d in obj["decisions"]}
        diff = {}
        for ch in changes:
            if isinstance(ch, Decision):
                key, new = str(ch.row_id), ch
                rid = ch.row_id
            else:
                rid, new = _json_scalar_id(ch[0]), ch[1]
                key = str(rid)
            old = cur.get(key)
            if (old.to_dict() if old else None) == (new.to_dict() if new else None):
                continue
            if key not in diff:
                diff[key] = {"row_id": rid, "previous": old.to_dict() if old else None}
            if new is None:
                cur.pop(key, None)
            else:
                cur[key] = new
        if not diff:
            return 0
        history = obj["history"] + [list(diff.values())]
        self._write(cur, history)
        return len(diff)

    def clear(self) -> int:
        return self.set([(d.row_id, None) for d in self.decisions()])

    def can_undo(self) -> bool:
        return bool(self._read()["history"])

    def undo(self) -> int:
        """Revert the last change (single or bulk); returns rows restored, 0 when there is nothing to undo."""
        obj = self._read()
        if not obj["history"]:
            return 0
        step = obj["history"].pop()
        cur = {str(d["row_id"]): Decision.from_dict(d) for d in obj["decisions"]}
        for entry in step:
            key = str(entry["row_id"])
            prev = entry.get("previous")
            if prev is None:
                cur.pop(key, None)
            else:
                cur[key] = Decision.from_dict(prev)
        self._write(cur, obj["history"])
        return len(step)


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


def iter_signal_flag_counts(inp: FilterInputs, rules: Iterable[SignalRule]) -> dict[str, int]:
    """Rows each signal rule would flag on its own (what the controls show next to each signal)."""
    out = {}
    for rule in rules:
        score, flag = inp.score(rule.signal), inp.flag(rule.signal)
        hit = np.zeros(inp.n, dtype=bool)
        if rule.use_flag and flag is not None:
            hit |= flag
        if rule.threshold is not None and score is not None:
            hit |= np.nan_to_num(score, nan=1.0) < rule.threshold
        out[rule.signal] = int(hit.sum())
    return out


__all__ = [
    "FilterRecipe", "SignalRule", "ClassRule", "ConditionRule", "RowSet", "Decision", "RecipeResult",
    "FilterInputs", "DecisionStore", "apply_recipe", "apply_prepared", "default_recipe", "load_recipe",
    "save_recipe", "parse_condition", "cleaned_frame", "removal_log", "export_all", "export_bytes",
    "signal_names", "what_if", "label_next", "load_or_compute_signals",
]


# =========================================================================== signals for the CLI and the page

def load_or_compute_signals(ds: TextDataset, ref: TextDataset | None = None, *, workspace=None,
                            settings: dict | None = None, progress=None) -> pd.DataFrame:
    """The wide signals frame of ``ds``, from the workspace cache or computed into it.

    ``settings`` is a recipe's ``signal_settings`` ({"signals": [keys], "seed": n}; None = the default
    signals, seed 0): the Clean page records the signals it showed there, so `dq filter`, training
    (through :func:`apply_recipe`) and the page compute, or find in the cache, the very same frame and
    the same recipe selects the same rows everywhere. dq_core.signals (issue 5) owns the computation and
    its cache (keyed by dataset, signal keys, embedding model, reference and seed).
    """
    try:
        from dq_core.signals import compute_signals, parse_signal_spec
    except ImportError:  # pragma: no cover - another issue's package
        raise DataError("this recipe needs per-row signals, but the signals module is not available in this "
                        "build; pass a signals file (dq signals DATA --out FILE, then --signals FILE)") from None
    from dq_core.workspace import Workspace

    ws = workspace or Workspace.default()
    settings = _check_settings(settings) or {"signals": None, "seed": 0}
    signals = [parse_signal_spec(k) for k in settings["signals"]] if settings["signals"] else None
    return compute_signals(ds, signals, reference=ref, workspace=ws, seed=settings["seed"],
                           progress=progress).frame


# =========================================================================== label next (active learning)

UNCERTAINTY_METHODS = ("margin", "entropy", "least_confidence")


def uncertainty(probs: np.ndarray, method: str = "margin") -> np.ndarray:
    """Per-row uncertainty in [0, 1] (1 = most uncertain) of class probabilities (rows sum to 1).

    margin: 1 - (p_top - p_second); entropy: H(p) / log(k); least_confidence: (1 - p_top) k / (k - 1).
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise DataError("uncertainty needs class probabilities for at least two classes")
    k = p.shape[1]
    if method == "margin":
        top2 = -np.partition(-p, 1, axis=1)[:, :2]
        return np.clip(1.0 - (top2[:, 0] - top2[:, 1]), 0.0, 1.0)
    if method == "entropy":
        with np.errstate(divide="ignore", invalid="ignore"):
            h = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
        return np.clip(h / np.log(k), 0.0, 1.0)
    if method == "least_confidence":
        return np.clip((1.0 - p.max(axis=1)) * k / (k - 1), 0.0, 1.0)
    raise DataError(f"unknown uncertainty '{method}'; choose one of: {', '.join(UNCERTAINTY_METHODS)}")


def probabilities_from_signals(signals: pd.DataFrame | None, classes: Sequence[str]) -> np.ndarray | None:
    """The out-of-sample probability matrix when the signals frame carries it (``prob_<class>`` columns)."""
    if signals is None:
        return None
    for prefix in ("prob_", "pred_prob_", "p_"):
        cols = [f"{prefix}{c}" for c in classes]
        if all(c in signals.columns for c in cols):
            return signals[cols].to_numpy(dtype=np.float64)
    return None


def label_next(ds: TextDataset, probs: np.ndarray | None = None, *, signals: pd.DataFrame | None = None,
               method: str = "margin", density: np.ndarray | None = None, beta: float = 1.0, n: int = 100,
               exclude: np.ndarray | None = None, classes: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows worth relabelling first: highest uncertainty, optionally weighted by density (Settles & Craven).

    ``probs`` (n, k): out-of-sample class probabilities in ``classes`` order (default: the dataset's
    classes); without it they are read from the signals frame, and failing that only the suggested
    label's probability is used (least confidence). ``density`` (n,) in [0, 1], high = typical: the
    score becomes uncertainty * density**beta, so outliers do not crowd the batch. ``exclude``: rows
    already decided or dropped; empty texts are left out too. Ties break by row position, so the batch
    is deterministic. Linear in the rows (a partial sort), so it stays quick on large sets.
    """
    classes = list(classes or ds.classes)
    aligned = _align_signals(ds, signals) if signals is not None else None
    if probs is None:
        probs = probabilities_from_signals(aligned, classes)
    n_rows = len(ds)
    if probs is not None:
        probs = np.asarray(probs, dtype=np.float64)
        if probs.shape != (n_rows, len(classes)):
            raise DataError(f"probabilities of shape {probs.shape} do not match {n_rows} rows x {len(classes)} classes")
        u = uncertainty(probs, method)
    else:
        if aligned is None or "suggested_label_prob" not in aligned.columns:
            raise DataError("label-next needs the out-of-sample probabilities of the label signal; compute "
                            "the signals first")
        method = "least_confidence"
        p_sugg = pd.to_numeric(aligned["suggested_label_prob"], errors="coerce").fillna(1.0).to_numpy(dtype=np.float64)
        k = max(len(classes), 2)
        u = np.clip((1.0 - p_sugg) * k / (k - 1), 0.0, 1.0)
    score = u
    d = None
    if density is not None:
        d = np.clip(np.nan_to_num(np.asarray(density, dtype=np.float64), nan=0.0), 0.0, 1.0)
        if len(d) != n_rows:
            raise DataError(f"{len(d)} density values for {n_rows} rows")
        score = u * d ** float(beta)
    candidates = np.ones(n_rows, dtype=bool) if exclude is None else ~np.asarray(exclude, dtype=bool)
    candidates &= ds.texts.fillna("").str.strip().ne("").to_numpy()  # nothing to read in an empty row
    pos = np.flatnonzero(candidates)
    take = max(int(n), 0)
    if take < len(pos):
        # the take-th largest score, then everything above it and the earliest rows tied with it
        kth = np.partition(score[pos], len(pos) - take)[len(pos) - take]
        above = pos[score[pos] > kth]
        tied = pos[score[pos] == kth][: take - len(above)]
        pos = np.r_[above, tied]
    pos = pos[np.lexsort((pos, -score[pos]))][:take]
    out = pd.DataFrame({"rank": np.arange(1, len(pos) + 1), "row_id": ds.row_ids[pos],
                        "text": ds.texts.to_numpy(dtype=object)[pos], "label": ds.labels.to_numpy(dtype=object)[pos]})
    if probs is not None:
        pp = probs[pos]
        order = np.argsort(-pp, axis=1, kind="stable")
        cls = np.array(classes, dtype=object)
        rows = np.arange(len(pos))
        out["predicted"] = cls[order[:, 0]] if len(pos) else []
        out["p_predicted"] = pp[rows, order[:, 0]] if len(pos) else []
        out["second"] = cls[order[:, 1]] if len(pos) else []
        out["p_second"] = pp[rows, order[:, 1]] if len(pos) else []
        out["margin"] = out["p_predicted"] - out["p_second"]
    else:
        out["predicted"] = aligned["suggested_label"].to_numpy(dtype=object)[pos] if "suggested_label" in aligned \
            else None
        out["p_predicted"] = p_sugg[pos]
    out["uncertainty"] = u[pos]
    if d is not None:
        out["density"] = d[pos]
    out["score"] = score[pos]
    out["method"] = method + (" × density" if d is not None else "")
    return out


def knn_density(distances: np.ndarray) -> np.ndarray:
    """Density per row from its k nearest neighbours' cosine distances: mean similarity, in [0, 1]."""
    d = np.asarray(distances, dtype=np.float64)
    return np.clip(1.0 - d.mean(axis=1), 0.0, 1.0)
