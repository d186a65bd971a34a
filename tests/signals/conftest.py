"""Small real data for the signal tests: an SMS-spam slice embedded once with the bundled model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dq_core.data.dataset import ColumnMapping, build_dataset


@pytest.fixture(scope="session")
def sms_slice():
    """240 SMS messages (160 ham, 80 spam) plus their real MiniLM embeddings."""
    from dq_core.data.io import load_demo

    full, _ = load_demo("sms_spam")
    f = full.frame
    rng = np.random.default_rng(0)
    pick = np.concatenate([rng.choice(np.flatnonzero(f["label"] == "ham"), 160, replace=False),
                           rng.choice(np.flatnonzero(f["label"] == "spam"), 80, replace=False)])
    pick.sort()
    raw = f.iloc[pick][["text", "label"]].reset_index(drop=True)
    raw = raw.drop_duplicates("text").reset_index(drop=True)
    return raw, embed(raw["text"].tolist())


_EMB_CACHE: dict[tuple[str, ...], np.ndarray] = {}


def embed(texts: list[str]) -> np.ndarray:
    """Real bundled-model vectors, memoised per process (no workspace cache: tests stay independent)."""
    key = tuple(texts)
    if key not in _EMB_CACHE:
        from dq_core.space.embed import embed_texts

        _EMB_CACHE[key] = embed_texts(texts, use_cache=False).vectors
    return _EMB_CACHE[key]


@pytest.fixture(scope="session")
def rich_inputs(sms_slice):
    """A dataset exercising every signal: annotators, an agreement column, a reference with a leak."""
    raw, emb = sms_slice
    raw = raw.copy()
    rng = np.random.default_rng(1)
    n = len(raw)
    other = {"ham": "spam", "spam": "ham"}
    for j in range(3):
        flip = rng.random(n) < 0.1 * (j + 1)
        raw[f"ann{j}"] = [other[v] if f else v for v, f in zip(raw["label"], flip, strict=True)]
    raw["conf"] = rng.uniform(0.3, 1.0, n).round(2)
    ds = build_dataset(raw, ColumnMapping("text", "label", annotators=("ann0", "ann1", "ann2"), agreement="conf",
                                          metadata=("conf",)))
    ref_raw = pd.DataFrame({"text": [raw["text"][3], raw["text"][10], "a reference message about trains",
                                     "completely unrelated text on astronomy and telescopes"],
                            "label": ["ham", "ham", "ham", "ham"]})
    ref = build_dataset(ref_raw, ColumnMapping("text", "label"))
    ref_emb = np.vstack([emb[3], emb[10], embed(ref_raw["text"][2:].tolist())])
    return ds, emb, ref, ref_emb
