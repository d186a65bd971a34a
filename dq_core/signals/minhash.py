"""MinHash-LSH over character shingles: near duplicates that embeddings under-rate.

Sentence embeddings move a lot on small surface edits ("RT @user: " prefixes, a different short URL,
"!!" at the end: cosine 0.73-0.94 with MiniLM), which character-shingle Jaccard barely notices. Fully
vectorised: one rolling hash over the concatenated UTF-8 bytes, ``n_perm`` universal hashes with
segment minima, then LSH banding; a large bucket (many copies) is linked as a star to its first row,
so the pair count stays linear.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def shingle_hashes(texts: pd.Series, n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """(uint64 hash per character n-gram, start offset of each text's n-grams); texts are lower-cased,
    whitespace-collapsed and padded to ``n`` bytes so every text has at least one shingle."""
    import pyarrow as pa

    from dq_core.util.text import normalize_for_duplicates

    norm = normalize_for_duplicates(texts)
    short = norm.str.len().to_numpy() < n
    if short.any():
        norm = norm.copy()
        norm[short] = norm[short].str.pad(n, side="right")
    arr = pa.array(norm.to_numpy(dtype=object), type=pa.large_string())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + len(arr) + 1]
    data = arr.buffers()[2]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    buf = raw[offsets[0]:offsets[-1]].astype(np.uint64)
    starts = offsets[:-1] - offsets[0]
    lens = np.diff(offsets)
    n_win = lens - n + 1
    total = len(buf) - n + 1
    h = np.zeros(max(total, 0), dtype=np.uint64)
    base = np.uint64(1_000_003)
    with np.errstate(over="ignore"):
        for j in range(n):  # polynomial hash of each window, wrapping mod 2^64
            h = h * base + buf[j:j + total]
    # keep windows fully inside one text
    win_start = np.repeat(starts, n_win)
    offs = np.arange(len(win_start)) - np.repeat(np.concatenate([[0], np.cumsum(n_win)[:-1]]), n_win)
    hashes = h[win_start + offs]
    text_start = np.concatenate([[0], np.cumsum(n_win)[:-1]]).astype(np.int64) if len(n_win) else n_win
    return hashes, text_start


CHUNK_CHARS = 8_000_000  # characters hashed at once: the shingle arrays take ~50 bytes per character


def signatures(texts: pd.Series, *, n_perm: int = 64, n: int = 5, seed: int = 0) -> np.ndarray:
    """(n_texts, n_perm) uint32 MinHash signatures (multiply-add hashing mod 2^32 of 32-bit shingle hashes:
    half the memory traffic of 64-bit, and plenty for Jaccard estimates).

    Texts are hashed in chunks of about CHUNK_CHARS characters: a signature depends on its own text only,
    so the result is the same, and the shingle arrays (several uint64 values per character) stay near
    400 MB instead of ~10 GB for 1M paragraph-length texts."""
    rng = np.random.default_rng(seed)
    a = (rng.integers(1, 1 << 32, size=n_perm, dtype=np.uint64) | np.uint64(1)).astype(np.uint32)
    b = rng.integers(0, 1 << 32, size=n_perm, dtype=np.uint64).astype(np.uint32)
    sig = np.empty((len(texts), n_perm), dtype=np.uint32)
    if len(texts) == 0:
        return sig
    lengths = texts.fillna("").astype(str).str.len().to_numpy()
    bounds = [0, *np.flatnonzero(np.diff(np.cumsum(lengths) // CHUNK_CHARS)) + 1, len(texts)]
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        if hi > lo:
            sig[lo:hi] = _chunk_signatures(texts.iloc[lo:hi], a, b, n)
    return sig


def _chunk_signatures(texts: pd.Series, a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    hashes, text_start = shingle_hashes(texts, n)
    h32 = (hashes >> np.uint64(32)).astype(np.uint32) ^ hashes.astype(np.uint32)
    del hashes
    sig = np.empty((len(text_start), len(a)), dtype=np.uint32)
    tmp = np.empty_like(h32)
    with np.errstate(over="ignore"):
        for p in range(len(a)):
            np.multiply(h32, a[p], out=tmp)
            np.add(tmp, b[p], out=tmp)
            sig[:, p] = np.minimum.reduceat(tmp, text_start)
    return sig


def minhash_pairs(texts: pd.Series, *, jaccard: float = 0.8, n_perm: int = 64, bands: int = 16,
                  n: int = 5, seed: int = 0, skip: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows i, rows j, estimated Jaccard) of candidate pairs with estimated Jaccard >= ``jaccard``."""
    sig = signatures(texts, n_perm=n_perm, n=n, seed=seed)
    r = n_perm // bands
    keep = np.ones(len(sig), dtype=bool) if skip is None else ~skip
    idx_all = np.flatnonzero(keep)
    ii, jj = [], []
    for band in range(bands):
        block = np.ascontiguousarray(sig[idx_all, band * r:(band + 1) * r])
        codes, _ = pd.factorize(_rows_key(block))
        counts = np.bincount(codes)
        multi = counts[codes] > 1
        if not multi.any():
            continue
        c = codes[multi]
        rows = idx_all[multi]
        order = np.argsort(c, kind="stable")
        c, rows = c[order], rows[order]
        first = np.r_[True, c[1:] != c[:-1]]
        leader = rows[first][np.cumsum(first) - 1]
        m = rows != leader
        ii.append(leader[m])
        jj.append(rows[m])
    if not ii:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
    n_rows = np.int64(len(sig))
    code = np.unique(np.concatenate(ii).astype(np.int64) * n_rows + np.concatenate(jj))
    pi, pj = code // n_rows, code % n_rows
    est = (sig[pi] == sig[pj]).mean(axis=1)
    ok = est >= jaccard
    return pi[ok], pj[ok], est[ok]


def _rows_key(block: np.ndarray) -> np.ndarray:
    """One uint64 per row of a uint64 block (a hash combine; collisions only add candidates)."""
    h = np.zeros(len(block), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(block.shape[1]):
            h = (h ^ block[:, j].astype(np.uint64)) * np.uint64(0x100000001B3) + np.uint64(j + 1)
    return h
