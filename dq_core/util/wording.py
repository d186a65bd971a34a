"""How a figure reads on screen and in a report: one home for the pages, the CLI and the exported reports.

A count (rows, texts, test rows, support) reads as a whole number with thousands separators, ``3,539`` or
``+475`` as a difference, never ``3539.0000``; a rate or a score keeps its decimals. Tables often hold
counts as floats (a column with a missing value is float), so whether a figure is a count is decided by
its name (:func:`is_count`), not by its type. :func:`counted` puts a count before its noun with the noun's
number right: "1 scene", "5 scenes"; :func:`sentence` makes a clause written to follow a colon into a
sentence of its own.
"""

from __future__ import annotations

import math
import numbers

import pandas as pd

# Figure names that count things, besides the n_* / *_rows / *_count / *_texts families.
COUNT_NAMES = frozenset({"n", "count", "rows", "support", "kept", "dropped", "relabelled", "repaired"})


def is_count(name: object) -> bool:
    """Whether the figure called ``name`` counts things (``n_train``, ``n_test``, ``kept_rows``, ``support``)."""
    n = str(name).strip().lower()
    return n in COUNT_NAMES or n.startswith("n_") or n.endswith(("_rows", "_count", "_texts"))


def format_number(value: object, digits: int = 3, *, count: bool = False, signed: bool = False) -> str:
    """``value`` as text: "n/a" when missing, a whole number with separators when it is a count (``count``,
    an int, or a whole float of 1,000 or more), else ``digits`` decimals; ``signed`` writes "+" on gains."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)
    v = float(value)
    if math.isnan(v):
        return "n/a"
    sign = "+" if signed else ""
    if math.isinf(v):
        return ("-" if v < 0 else sign) + "∞"
    if count or isinstance(value, numbers.Integral) or (v.is_integer() and abs(v) >= 1000):
        return f"{round(v):{sign},}"
    return f"{v:{sign}.{digits}f}"


def format_figure(name: object, value: object, *, digits: int = 4, signed: bool = False) -> str:
    """A named figure (a metric, a column): counts as whole numbers, everything else with ``digits`` decimals."""
    return format_number(value, digits, count=is_count(name), signed=signed)


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """"1 scene", "5 scenes", "1,204 rows": the count with its thousands separators and the noun agreeing."""
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


def sentence(text: str) -> str:
    """``text`` as a sentence: its first letter capitalised (the rest untouched: names, "F1", "--test") and
    a full stop at the end unless it ends with one already (or with "?", "!")."""
    t = str(text).strip()
    if not t:
        return t
    t = t[0].upper() + t[1:]
    return t if t.endswith((".", "?", "!")) else t + "."
