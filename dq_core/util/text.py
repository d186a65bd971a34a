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

    Plain Python on purpose. A vectorised Arrow version (utf8_lower, then utf8_split_whitespace) depends
    on memory it does not own: pyarrow 26's utf8_split_whitespace reads the
    byte after the last string of its data buffer, and when that byte is >= 0x80 (stale bytes behind
    utf8_lower's output, as a long process leaves its memory pool) a trailing space stays in the last word,
    so 'hello   WORLD ' normalises to 'hello world ' and leaves its duplicate group (see
    tests/metrics/test_duplicate_grouping.py). Python's str.lower and str.split are the documented rule by
    construction, and no slower (bench/bench_text_rule.py)."""
    return _as_string_series([normalize_text(t) for t in _plain_strings(texts)], texts.index)


def empty_texts(texts: pd.Series) -> np.ndarray:
    """Per row: the text is empty under the duplicate rule (missing, '' or whitespace only, as
    :func:`normalize_text` reads whitespace). Empty texts are junk, never duplicates of each other."""
    return (normalize_for_duplicates(texts).to_numpy(dtype=object, na_value="") == "").astype(bool)


def exact_duplicate_codes(texts: pd.Series) -> np.ndarray:
    """The exact-duplicate groups, the one rule every count, signal, dedupe and match uses: a group code
    per row (int64) for rows whose :func:`normalize_text` equals another row's, numbered in order of the
    texts' first appearance; -1 for a unique text and for an empty one (missing or whitespace only).

    Groups the normalised texts themselves (``pd.factorize``), not hashes of them: no 64-bit collisions,
    and less work on 100k rows. Grouped as plain Python strings: factorizing the Arrow-backed string
    Series gave two equal texts two codes in one state of a long test session (a shuffled copy of the same
    rows read one group short), which the object-array hash table has never done."""
    norm = normalize_for_duplicates(texts).to_numpy(dtype=object, na_value="")
    codes, _ = pd.factorize(norm)
    codes = codes.astype(np.int64)
    in_group = (np.bincount(codes, minlength=1)[codes] > 1) & (norm != "")
    return np.where(in_group, codes, -1)


def first_row_of_group(codes: np.ndarray) -> np.ndarray:
    """Group codes (-1 = none) renamed to the position of each group's first row (-1 stays -1): an id that
    names a row, as the exact_duplicate signal writes it."""
    codes = np.asarray(codes, dtype=np.int64)
    out = np.full(len(codes), -1, dtype=np.int64)
    m = codes >= 0
    if m.any():
        pos = np.flatnonzero(m)
        first = np.full(int(codes[m].max()) + 1, len(codes), dtype=np.int64)
        np.minimum.at(first, codes[m], pos)
        out[m] = first[codes[m]]
    return out


def first_exact_match(texts: pd.Series, other: pd.Series) -> np.ndarray:
    """Per row of ``texts``: the position in ``other`` of the first row with the same text by the
    exact-duplicate rule (:func:`exact_duplicate_codes` over both), -1 when none or the text is empty."""
    n = len(texts)
    both = pd.concat([texts.reset_index(drop=True).astype(object), other.reset_index(drop=True).astype(object)],
                     ignore_index=True)
    codes = exact_duplicate_codes(both)
    mine, theirs = codes[:n], codes[n:]
    out = np.full(n, -1, dtype=np.int64)
    m = theirs >= 0
    if not m.any():
        return out
    none = len(other)
    first = np.full(int(codes.max()) + 1, none, dtype=np.int64)
    pos = np.flatnonzero(m)
    np.minimum.at(first, theirs[pos], pos)
    hit = mine >= 0
    out[hit] = first[mine[hit]]
    return np.where(out == none, -1, out)


def word_counts(texts: pd.Series) -> np.ndarray:
    """Whitespace-separated words per text (``len(str.split())``; a missing text has 0)."""
    vals = _plain_strings(texts)
    return np.fromiter((len(t.split()) for t in vals), dtype=np.int64, count=len(vals))


def char_counts(texts: pd.Series) -> np.ndarray:
    """Characters (code points) per text; a missing text has 0."""
    vals = _plain_strings(texts)
    return np.fromiter(map(len, vals), dtype=np.int64, count=len(vals))
