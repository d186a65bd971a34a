"""The condition grammar: ``column op literal [and ...]``, tokenized and parsed here, never ``eval``.

:func:`parse_condition` turns text into a :class:`Condition` (clauses joined by ``and``), with the position
of a mistake in its DataError; ``eval_clause`` evaluates one clause on a column (a missing value never
matches, except ``is missing``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dq_core.errors import DataError

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
    return _Parser(text).condition()


class _Parser:
    """Recursive descent over the tokens of one condition: each method reads one part of the grammar."""

    def __init__(self, text: str):
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0

    def peek(self, k: int = 0) -> tuple:
        i = self.i + k
        return self.toks[i] if i < len(self.toks) else (None, None, len(self.text))

    def fail(self, msg: str, at: int | None = None):
        where = f" at position {(at if at is not None else self.peek()[2]) + 1}" if self.toks else ""
        raise DataError(f"condition '{self.text}': {msg}{where}")

    def condition(self) -> Condition:
        """Clauses joined by ``and``, up to the end of the text."""
        clauses = []
        while True:
            clauses.append(self.clause())
            kind, val, at = self.peek()
            if kind is None:
                break
            if kind == "word" and val.lower() == "and":
                self.i += 1
                if self.peek()[0] is None:
                    self.fail("nothing after 'and'")
                continue
            if kind == "word" and val.lower() == "or":
                self.fail("'or' is not supported; write each alternative as its own condition (they are "
                          "combined with or)", at)
            self.fail(f"unexpected {val!r}; join clauses with 'and'", at)
        return Condition(tuple(clauses))

    def clause(self) -> Clause:
        column = self.column()
        op = self.operator()
        return Clause(column, op, self.operand(op))

    def column(self) -> str:
        kind, val, at = self.peek()
        if kind == "bq":
            column = val[1:-1]
        elif kind == "word" and val.lower() not in KEYWORDS:
            column = val
        else:
            self.fail(f"expected a column name, found {val!r}" if val else "expected a column name", at)
        self.i += 1
        return column

    def operator(self) -> str:
        kind, val, at = self.peek()
        word = val.lower() if kind == "word" else None
        if kind == "op":
            op, n = ("==" if val == "=" else val), 1
        elif word in ("in", *STRING_OPS):
            op, n = word, 1
        elif word == "not" and (self.peek(1)[1] or "").lower() == "in":
            op, n = "not in", 2
        elif word == "is":
            nxt = (self.peek(1)[1] or "").lower()
            if nxt == "missing":
                op, n = "is missing", 2
            elif nxt == "not" and (self.peek(2)[1] or "").lower() == "missing":
                op, n = "is not missing", 3
            else:
                self.fail("after 'is' write 'missing' or 'not missing'", at)
        else:
            self.fail(f"expected an operator ({', '.join(OPERATORS)}), found {val!r}" if val else
                      "expected an operator after the column name", at)
        self.i += n
        return op

    def operand(self, op: str) -> object:
        """What follows ``op``: a list for in / not in, quoted text for the string tests, a literal for a
        comparison, nothing for the missing tests."""
        if op in ("in", "not in"):
            return self.literal_list(op)
        if op in STRING_OPS:
            value = self.literal()
            if not isinstance(value, str):
                self.fail(f"'{op}' needs quoted text, e.g. {op} 'http'")
            return value
        if op in COMPARISONS:
            return self.literal()
        return None

    def literal_list(self, op: str) -> tuple:
        if self.peek()[0] != "lb":
            self.fail(f"'{op}' needs a list such as ['a', 'b']")
        self.i += 1
        items = []
        while self.peek()[0] != "rb":
            items.append(self.literal())
            if self.peek()[0] == "comma":
                self.i += 1
            elif self.peek()[0] != "rb":
                self.fail("expected ',' or ']' in the list")
        self.i += 1
        if not items:
            self.fail(f"the list after '{op}' is empty")
        return tuple(items)

    def literal(self):
        kind, val, _ = self.peek()
        if kind == "num":
            self.i += 1
            f = float(val)
            return int(f) if re.fullmatch(r"[-+]?\d+", val) else f
        if kind == "str":
            self.i += 1
            return _unquote(val)
        if kind == "word" and val.lower() in ("true", "false"):
            self.i += 1
            return val.lower() == "true"
        self.fail(f"expected a value (number, 'text', true/false), found {val!r}" if val else
                  "expected a value after the operator")


def eval_clause(s: pd.Series, cl: Clause) -> np.ndarray:
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
