"""Small text helpers shared by metrics and signals."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _arrow_strings(texts: pd.Series):
    import pyarrow as pa

    values = texts.fillna("").to_numpy(dtype=object)
    try:
        return pa.array(values, type=pa.large_string())
    except (UnicodeEncodeError, pa.ArrowInvalid, pa.ArrowTypeError):
        # Non-strings, or lone surrogates (a broken emoji escape in JSON) that are not UTF-8.
        return pa.array([str(v).encode("utf-8", "replace").decode("utf-8") for v in values],
                        type=pa.large_string())


def _split_words(arr, *, lower: bool):
    """Words as ``str.split()`` finds them: (Arrow list array of words, words per text).

    Arrow's utf8_split_whitespace splits on the same Unicode whitespace as str.split() (NBSP, em
    space, \\x1c-\\x1f, \\x85 ...) but yields empty strings between consecutive spaces; drop those.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    parts = pc.utf8_split_whitespace(pc.utf8_lower(arr) if lower else arr)
    flat = pc.list_flatten(parts)
    # copied out of Arrow memory, not a zero-copy view of a temporary array (a grouping of equal texts split
    # once in a long test session; see tests/metrics/test_profile.py::test_profile_is_row_order_invariant)
    parents = np.array(pc.list_parent_indices(parts).to_numpy(zero_copy_only=False), dtype=np.int64, copy=True)
    keep = pc.greater(pc.binary_length(flat), 0)
    counts = np.bincount(parents[keep.to_numpy(zero_copy_only=False)], minlength=len(arr)).astype(np.int64)
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]), type=pa.int64())
    return pa.LargeListArray.from_arrays(offsets, flat.filter(keep)), counts


def normalize_for_duplicates(texts: pd.Series) -> pd.Series:
    """Lower-case and collapse whitespace: 'Hello  World ' and 'hello world' are the same text.

    Vectorised in Arrow: the per-row Python str.split here and in word_counts was two thirds of
    `dq profile`'s time on 100k rows (bench/bench_profile.py). Arrow lower-cases with the simple
    Unicode mapping ('İ' -> 'i', final 'Σ' -> 'σ'), which only merges more look-alike texts.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    words, _ = _split_words(_arrow_strings(texts), lower=True)
    joined = pc.binary_join(words, pa.scalar(" ", pa.large_string()))
    return pd.Series(joined.to_numpy(zero_copy_only=False), index=texts.index, dtype="string")


def text_hashes(texts: pd.Series) -> np.ndarray:
    """64-bit content hashes of the normalised texts (for exact-duplicate grouping)."""
    norm = normalize_for_duplicates(texts)
    return pd.util.hash_pandas_object(norm, index=False).to_numpy()


def word_counts(texts: pd.Series) -> np.ndarray:
    """Whitespace-separated words per text (as len(str.split()); missing text has 0)."""
    return _split_words(_arrow_strings(texts), lower=False)[1]


def char_counts(texts: pd.Series) -> np.ndarray:
    """Characters (code points) per text; missing text has 0."""
    import pyarrow.compute as pc

    return pc.utf8_length(_arrow_strings(texts)).to_numpy(zero_copy_only=False).astype(np.int64)
