"""Long texts embedded in chunks: short texts unchanged, long ones the token-weighted mean of their windows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.errors import DataError
from dq_core.space.embed import embed_dataset, embed_texts
from dq_core.space.embed_cache import dataset_key, has_dataset_embeddings
from dq_core.space.embed_model import cache_key, load_model

SHORT = "The film was a quiet delight from start to finish."
LONG = " ".join(f"Paragraph {i}: the council met on Tuesday and voted on the budget for roads." for i in range(40))


def _by_hand(text: str) -> np.ndarray:
    """Windows of max_seq_length - 2 tokens, each wrapped in [CLS] ... [SEP], through the model one by one."""
    m = load_model(None, None, "float32")
    tok = m.tokenizer
    ids = tok(text, add_special_tokens=False)["input_ids"]
    width = m.max_seq_length - 2
    windows = [ids[s:s + width] for s in range(0, len(ids), width)]
    total = np.zeros(m.get_embedding_dimension(), dtype=np.float64)
    for w in windows:
        inp = torch.tensor([[tok.cls_token_id, *w, tok.sep_token_id]])
        feats = {"input_ids": inp, "attention_mask": torch.ones_like(inp), "token_type_ids": torch.zeros_like(inp)}
        with torch.inference_mode():
            v = m(feats)["sentence_embedding"][0].float().numpy().astype(np.float64)
        total += len(w) * v / np.linalg.norm(v)
    assert len(windows) == 3  # the fixture text really is over two windows long
    return total / np.linalg.norm(total)


def test_chunks_keep_short_texts_and_average_long_ones() -> None:
    m = load_model(None, None, "float32")
    n_tokens = len(m.tokenizer(LONG, add_special_tokens=False)["input_ids"])
    assert 550 <= n_tokens <= 700
    cut = embed_texts([SHORT, LONG], precision="float32", long_texts="truncate")
    whole = embed_texts([SHORT, LONG], precision="float32", long_texts="chunks")
    assert float(cut.vectors[0] @ whole.vectors[0]) > 0.9999
    assert cut.truncated.tolist() == [False, True] and whole.n_truncated == 0
    assert float(cut.vectors[1] @ whole.vectors[1]) < 0.995
    assert float(_by_hand(LONG) @ whole.vectors[1]) > 0.9999
    assert np.allclose(np.linalg.norm(whole.vectors, axis=1), 1.0, atol=1e-5)


def test_the_two_modes_never_share_cached_vectors() -> None:
    assert cache_key(None, "float32", "cpu", "chunks") == cache_key(None, "float32", "cpu", "truncate") + "-chunks"
    ds = build_dataset(pd.DataFrame({"text": [SHORT, LONG], "label": ["a", "b"]}),
                       ColumnMapping(text="text", label="label"), name="long")
    assert dataset_key(ds, None, "float32", "chunks") != dataset_key(ds, None, "float32", "truncate")
    first = embed_dataset(ds, precision="float32", long_texts="chunks")
    assert has_dataset_embeddings(ds, precision="float32", long_texts="chunks")
    assert not has_dataset_embeddings(ds, precision="float32", long_texts="truncate")
    again = embed_texts([SHORT, LONG], precision="float32", long_texts="truncate")
    assert again.n_cached == 0 and again.n_computed == 2  # nothing read from the chunks-mode cache
    assert float(first.vectors[1] @ again.vectors[1]) < 0.995


def test_env_var_picks_the_mode_and_a_bad_mode_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DQ_LONG_TEXTS", "chunks")
    assert cache_key(None, "float32", "cpu").endswith("-chunks")
    monkeypatch.setenv("DQ_LONG_TEXTS", "sliding")
    with pytest.raises(DataError, match="DQ_LONG_TEXTS='sliding' must be one of truncate, chunks"):
        cache_key(None, "float32", "cpu")
