"""Small text helpers shared by metrics and signals."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _plain_strings(texts: pd.Series) -> list[str]:
    """Each text as a Python str: a missing text is '', a non-string value its str()."""
    missing = texts.isna().to_numpy()
    return [("" if m else t if isinstance(t, str) else str(t)) for t, m in zip(texts.tolist(), missing, strict=True)]


def normalize_text(text: str | None) -> str:
    """The exact-duplicate rule for one text: words as ``str.split()`` finds them (any Unicode whitespace:
    NBSP, em space, ideographic space, \\x1c-\\x1f, \\x85, ...; never the zero-width space), each lower-cased
    with Python's full Unicode mapping (``str.lower``: 'İ' -> 'i' + U+0307, a word-final 'Σ' -> 'ς', 'ẞ' -> 'ß';
    lower-casing, not case folding: 'ß' and 'ss' stay apart), joined by one space. A missing or
    whitespace-only text is ''."""
    return " ".join(text.lower().split()) if isinstance(text, str) else ""


def _as_string_series(values: list[str], index: pd.Index) -> pd.Series:
    try:
        return pd.Series(values, index=index, dtype="string")
    except (UnicodeEncodeError, ValueError, TypeError):  # lone surrogates (a broken emoji escape) are not UTF-8
        return pd.Series([v.encode("utf-8", "replace").decode("utf-8") for v in values], index=index,
                         dtype="string")


def normalize_for_duplicates(texts: pd.Series) -> pd.Series:
    """:func:`normalize_text` for every row (missing -> '').

    Plain Python on purpose. The vectorised Arrow version this replaces (utf8_lower, then
    utf8_split_whitespace) depended on memory it does not own: pyarrow 26's utf8_split_whitespace reads the
    byte after the last string of its data buffer, and when that byte is >= 0x80 (stale bytes behind
    utf8_lower's output, as a long process leaves its memory pool) a trailing space stays in the last word,
    so 'hello   WORLD ' normalised to 'hello world ' and left its duplicate group (issue 20; see
    tests/metrics/test_duplicate_grouping.py). Python's str.lower and str.split are the documented rule by
    construction, and no slower (bench/bench_text_rule.py)."""
    return _as_string_series([normalize_text(t) for t in _plain_strings(texts)], texts.index)


def text_hashes(texts: pd.Series) -> np.ndarray:
    """64-bit content hashes of the normalised texts (for exact-duplicate grouping)."""
    norm = normalize_for_duplicates(texts)
    return pd.util.hash_pandas_object(norm, index=False).to_numpy()


def word_counts(texts: pd.Series) -> np.ndarray:
    """Whitespace-separated words per text (``len(str.split())``; a missing text has 0)."""
    vals = _plain_strings(texts)
    return np.fromiter((len(t.split()) for t in vals), dtype=np.int64, count=len(vals))


def char_counts(texts: pd.Series) -> np.ndarray:
    """Characters (code points) per text; a missing text has 0."""
    vals = _plain_strings(texts)
    return np.fromiter(map(len, vals), dtype=np.int64, count=len(vals))
