"""Small text helpers shared by metrics and signals."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd


def normalize_for_duplicates(texts: pd.Series) -> pd.Series:
    """Lower-case and collapse whitespace: 'Hello  World ' and 'hello world' are the same text."""
    return texts.fillna("").astype(str).str.lower().str.split().str.join(" ")


def text_hashes(texts: pd.Series) -> np.ndarray:
    """64-bit content hashes of the normalised texts (for exact-duplicate grouping)."""
    norm = normalize_for_duplicates(texts)
    return pd.util.hash_pandas_object(norm, index=False).to_numpy()


def stable_text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def word_counts(texts: pd.Series) -> np.ndarray:
    return texts.fillna("").astype(str).str.split().str.len().to_numpy(dtype=np.int64)


def char_counts(texts: pd.Series) -> np.ndarray:
    return texts.fillna("").astype(str).str.len().to_numpy(dtype=np.int64)
