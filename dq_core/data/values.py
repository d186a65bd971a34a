"""What the loader does to values, each change said in a note: labels as categories (kept as given, less
surrounding whitespace; one number written two ways is one class) and NUL characters replaced.

Kept apart from dataset.py, which maps columns to roles; these rules decide what a value becomes.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from dq_core.errors import DataError


def is_missing(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


_DECIMAL = re.compile(r"[+-]?\d+\.\d*")
_NESTED = (list, tuple, dict, set, np.ndarray)
_SHOWN = 5  # changes named in a note before "and N more"


def _label_value(v, name: str) -> tuple[str | None, bool]:
    """One label as text and whether surrounding whitespace was removed from it.

    A text is kept as given ('2.50' stays '2.50'), less surrounding whitespace; '' or whitespace only is
    missing. A number from a typed column (JSON, Parquet) is written without a fractional part when whole
    (1.0 -> '1', so an integer column that pandas made float by a missing value keeps its classes), else
    in Python's shortest form (2.5 -> '2.5'). Nested values (lists) are refused."""
    if isinstance(v, _NESTED):
        raise DataError(f"column '{name}' holds lists or records, not one label per row; multi-label data "
                        "is not supported: choose a column with a single label per row")
    if is_missing(v):
        return None, False
    if isinstance(v, str):
        t = v.strip()
        return (t or None), t != v
    if isinstance(v, (float, np.floating)) and np.isfinite(v) and float(v).is_integer():
        return str(int(v)), False
    return str(v), False


def _class_key(label: str) -> str:
    """The one spelling of a label's number: a decimal text without trailing zeros or '+' ('2.50' -> '2.5',
    '1.0' -> '1', '-0.0' -> '0'); any other label is its own key."""
    if not _DECIMAL.fullmatch(label):
        return label
    v = label.rstrip("0").rstrip(".") or "0"
    return "0" if v in ("-0", "+0") else v.lstrip("+")


def _label_texts(s: pd.Series, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the label as text (object array, None when missing) and whether whitespace was stripped."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if pd.api.types.infer_dtype(s, skipna=True) == "string":
        # strings only: each distinct label once, not each of (say) 1M rows
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        parts = [_label_value(u, name) for u in uniques] + [(None, False)]  # code -1 (missing) -> None
        texts = np.array([t for t, _ in parts], dtype=object)[codes]
        stripped = np.array([x for _, x in parts], dtype=bool)[codes]
        return texts, stripped
    parts = [_label_value(v, name) for v in s.to_numpy(dtype=object)]
    return np.array([t for t, _ in parts], dtype=object), np.array([x for _, x in parts], dtype=bool)


def _strip_note(role: str, raw: pd.Series, texts: np.ndarray, stripped: np.ndarray) -> str | None:
    if not stripped.any():
        return None
    blank = stripped & pd.isna(texts)
    example = next(v for v, t in zip(raw.to_numpy(dtype=object)[stripped], texts[stripped], strict=True)
                   if t is not None) if (stripped & ~blank).any() else None
    parts = []
    if example is not None:
        parts.append(f"{int((stripped & ~blank).sum()):,} labels had whitespace around them, removed "
                     f"({example!r} -> {example.strip()!r})")
    if blank.any():
        parts.append(f"{int(blank.sum()):,} held only whitespace and count as missing")
    return f"{role}: " + "; ".join(parts)


def _merge_note(role: str, texts: np.ndarray, rename: dict[str, str]) -> str | None:
    changed = pd.Series(texts[pd.Series(texts).isin(list(rename)).to_numpy()], dtype=object)
    if changed.empty:
        return None
    counts = changed.value_counts()
    shown = [f"{g!r} read as {rename[g]!r} ({n:,} rows)" for g, n in counts.head(_SHOWN).items()]
    more = f" and {len(counts) - _SHOWN} more" if len(counts) > _SHOWN else ""
    return f"{role}: labels that are the same number are one class: {', '.join(shown)}{more}"


def labels_as_categories(columns: dict[str, tuple[str, pd.Series]]) -> tuple[dict[str, pd.Series], list[str]]:
    """The label column and annotator columns (``{key: (role, values)}``) as string categories, one rule
    for all of them, and notes naming every change made to a label.

    Labels are kept as given (see :func:`_label_value`) with two changes, each said in a note with its
    rows: surrounding whitespace is removed (whitespace only is missing), and where these columns spell
    one number two ways ('1' and '1.0', 2.5 and '2.50') those labels become one class under the number's
    shortest spelling (:func:`_class_key`). Merged over all the columns, so annotators compare as one."""
    texts = {k: _label_texts(s, k) for k, (_, s) in columns.items()}
    spellings: dict[str, set[str]] = {}
    for t, _ in texts.values():
        for g in pd.unique(t[~pd.isna(t)]):
            spellings.setdefault(_class_key(g), set()).add(g)
    rename = {g: k for k, gs in spellings.items() if len(gs) > 1 for g in gs if g != k}
    out, notes = {}, []
    for k, (role, raw) in columns.items():
        t, stripped = texts[k]
        notes += [n for n in (_strip_note(role, raw, t, stripped), _merge_note(role, t, rename)) if n]
        labels = pd.Series(t, index=raw.index, name=raw.name, dtype=object)
        out[k] = (labels.replace(rename) if rename else labels).astype("string")
    return out, notes


NUL_REPLACEMENT = "\ufffd"


def _nul_rows(s: pd.Series) -> np.ndarray:
    """Per row: the value is a string holding a NUL character."""
    if isinstance(s.dtype, pd.StringDtype):
        return s.str.contains("\x00", regex=False).fillna(False).to_numpy(dtype=bool)
    values = s.to_numpy(dtype=object)
    return np.fromiter((isinstance(v, str) and "\x00" in v for v in values), dtype=bool, count=len(values))


def replace_nul(frame: pd.DataFrame) -> str | None:
    """Replace, in place, each NUL character (\\x00) in a string value by U+FFFD; a note naming the rows.

    Why: a NUL is no character of any text (a C string ends at it; a CSV reader, dq's own included, takes
    a file holding one for binary), so a kept text holding one made a CSV export that could not be read
    back. U+FFFD is what dq already puts for bytes it cannot decode, and it reads back from every format.
    """
    found = []
    for c in frame.columns:
        s = frame[c]
        if c == "row_id" or not (s.dtype == object or pd.api.types.is_string_dtype(s)):
            continue
        rows = _nul_rows(s)
        if rows.any():
            fixed = s[rows].map(lambda v: v.replace("\x00", NUL_REPLACEMENT))
            frame[c] = s.mask(rows, fixed)
            ids = frame["row_id"].to_numpy()[rows]
            more = f" and {len(ids) - _SHOWN:,} more" if len(ids) > _SHOWN else ""
            found.append(f"'{c}' in {len(ids):,} rows (row_id {', '.join(map(str, ids[:_SHOWN]))}{more})")
    if not found:
        return None
    return "NUL characters (\\x00) replaced by U+FFFD so every export reads back: " + "; ".join(found)


# --------------------------------------------------------------------------- column types


def json_integers(frame: pd.DataFrame, rows: list[dict]) -> pd.DataFrame:
    """``frame`` (from JSON ``rows``) with each column of integers and nulls as nullable Int64: pandas made
    it floats (3 -> 3.0), and an export then wrote 3.0."""
    for c in frame.columns:
        if frame[c].dtype == "float64" and frame[c].isna().any():
            values = [r.get(c) for r in rows]
            if all(v is None or type(v) is int for v in values):  # True is not an int here
                try:
                    frame[c] = pd.array(values, dtype="Int64")
                except (OverflowError, TypeError, ValueError):  # beyond int64: left as pandas read it
                    pass
    return frame


def arrow_to_pandas(table, *, skip: tuple[str, ...] = ()) -> pd.DataFrame:
    """``table.to_pandas()``, but an integer column with missing values stays integers (nullable Int64 and
    kin) instead of pandas' floats, so 3 is not exported as 3.0 and 2**63 + 5 keeps its last digits."""
    import pyarrow as pa

    frame = table.to_pandas()
    for name in table.column_names:
        col = table.column(name)
        if name in skip or name not in frame.columns or not pa.types.is_integer(col.type) or not col.null_count:
            continue
        kind = f"{'UInt' if pa.types.is_unsigned_integer(col.type) else 'Int'}{col.type.bit_width}"
        frame[name] = col.to_pandas(types_mapper=lambda _t, k=kind: pd.api.types.pandas_dtype(k)).array
    return frame
