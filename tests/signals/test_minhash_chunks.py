"""MinHash signatures hashed in chunks (bounded memory at 1M rows) equal the whole-set signatures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dq_core.signals import minhash


def test_chunked_signatures_equal_whole(monkeypatch):
    texts = pd.Series(["", None, "ab", "Hello   World, hello world!", "ünïcödé téxt ✓", "x" * 500] * 7)
    whole = minhash.signatures(texts, seed=3)
    monkeypatch.setattr(minhash, "CHUNK_CHARS", 7)  # many chunks, some of a single long text
    chunked = minhash.signatures(texts, seed=3)
    assert chunked.shape == (len(texts), 64)
    np.testing.assert_array_equal(chunked, whole)
    # same texts give the same signature wherever the chunk boundaries fell
    np.testing.assert_array_equal(chunked[3], chunked[9])
