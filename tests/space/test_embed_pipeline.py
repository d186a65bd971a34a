"""The tokenise-once pipeline of embed_texts: same vectors as bare encode, truncation counted from that one
tokenisation, and the tokeniser threads (also with TOKENIZERS_PARALLELISM=false, as in job workers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from dq_core.space import embed, embed_pipeline

ROOT = Path(__file__).resolve().parents[2]
SHORT = ["my flight was delayed", "great crew", "lost my luggage again at the airport", "ok", "wifi is slow",
         "the new phone camera is amazing", "tickets sold out in minutes", "nfl suspends quarterback"]
# With MiniLM's tokenizer "word " * k is k tokens plus [CLS] and [SEP]; max_seq_length is 256.
AT_LIMIT = "word " * 254  # exactly 256 tokens: not truncated
OVER_BY_ONE = "word " * 255  # 257 tokens: truncated
LONG = ["delayed again and again, " * 80, "hello " * 300, OVER_BY_ONE, " ".join(f"token{i}" for i in range(400))]


def _bare(texts: list[str]) -> np.ndarray:
    m = embed.load_model(None, precision="float32")
    return m.encode(texts, normalize_embeddings=True, convert_to_numpy=True)


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", a, b)


@pytest.mark.parametrize("texts", [SHORT, LONG, [*LONG[:2], *SHORT[:3], AT_LIMIT, *LONG[2:], *SHORT[3:]]],
                         ids=["short", "long-truncated", "mix"])
def test_vectors_equal_bare_encode_in_input_order(texts):
    res = embed.embed_texts(texts, use_cache=False, precision="float32")
    cos = _cos(res.vectors, _bare(texts))
    assert cos.shape == (len(texts),) and cos.min() >= 0.9999
    assert np.allclose(np.linalg.norm(res.vectors, axis=1), 1.0, atol=1e-5)


def test_truncation_count_is_the_rows_over_max_seq_length():
    texts = ["short", AT_LIMIT, OVER_BY_ONE, "hello " * 300, "fine text", AT_LIMIT + "x"]
    m = embed.load_model(None, precision="float32")
    full = [len(ids) for ids in m.tokenizer(texts, truncation=False)["input_ids"]]
    assert full == [3, 256, 257, 302, 4, 257]  # the crafted lengths, from an untruncated tokenisation
    res = embed.embed_texts(texts, use_cache=False, precision="float32")
    assert res.max_seq_length == 256
    assert res.truncated.tolist() == [False, False, True, True, False, True]
    assert res.n_truncated == 3


def test_tokenise_once_only(monkeypatch):
    """Each chunk goes through the tokenizer once (not a second time to count the truncated rows)."""
    calls = []
    real = embed_pipeline.prepare_chunk

    def counting(tok, texts, **kw):
        calls.append(len(texts))
        return real(tok, texts, **kw)

    monkeypatch.setattr(embed_pipeline, "prepare_chunk", counting)
    monkeypatch.setattr(embed, "CHUNK_SIZE", 5)
    texts = [*SHORT, *LONG]
    res = embed.embed_texts(texts, use_cache=False, precision="float32", batch_size=2)
    assert calls == [5, 5, 2]
    assert res.n_truncated == 4 and _cos(res.vectors, _bare(texts)).min() >= 0.9999


def test_several_tokeniser_threads_small_chunks_and_batches(monkeypatch):
    monkeypatch.setenv("DQ_EMBED_TOKENIZER_THREADS", "3")
    monkeypatch.setattr(embed, "CHUNK_SIZE", 3)
    texts = [*LONG, *SHORT, *SHORT[:3]]  # duplicates are embedded once and copied back
    res = embed.embed_texts(texts, use_cache=False, precision="float32", batch_size=2)
    assert res.n_computed == len(LONG) + len(SHORT)
    assert _cos(res.vectors, _bare(texts)).min() >= 0.9999
    assert res.truncated.tolist() == [True] * 4 + [False] * 11
    assert not [t for t in threading.enumerate() if t.name.startswith("dq-tokenize")]


def test_encode_fallback_gives_the_same_vectors_and_count(monkeypatch):
    texts = [*SHORT[:3], *LONG[:2]]
    fast = embed.embed_texts(texts, use_cache=False, precision="float32")
    monkeypatch.setattr(embed_pipeline, "fast_path_ok", lambda m: False)
    slow = embed.embed_texts(texts, use_cache=False, precision="float32")
    assert _cos(fast.vectors, slow.vectors).min() >= 0.9999
    assert fast.truncated.tolist() == slow.truncated.tolist() == [False, False, False, True, True]


def test_run_ahead_keeps_order_and_stops_its_threads_on_error():
    assert list(embed_pipeline.run_ahead(range(7), lambda x: x * x, threads=3, depth=4)) == [
        0, 1, 4, 9, 16, 25, 36]

    def work(x):
        if x == 2:
            raise ValueError("bad chunk")
        return x

    with pytest.raises(ValueError, match="bad chunk"):
        list(embed_pipeline.run_ahead(range(10), work, threads=2, depth=3))
    assert not [t for t in threading.enumerate() if t.name.startswith("dq-tokenize")]


WORKER = """
import json, os, sys
import numpy as np
from dq_core.space import embed
texts = json.loads(sys.stdin.read())
res = embed.embed_texts(texts, use_cache=False, precision="float32", batch_size=4)
m = embed.load_model(None, precision="float32")
ref = m.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
print(json.dumps({"env": os.environ.get("TOKENIZERS_PARALLELISM"), "truncated": res.truncated.tolist(),
                  "cos_min": float(np.einsum("ij,ij->i", res.vectors, ref).min())}))
"""


def test_works_in_a_job_worker_with_tokenizers_parallelism_false():
    texts = [*SHORT, *LONG]
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "DQ_EMBED_TOKENIZER_THREADS": "2"}
    out = subprocess.run([sys.executable, "-c", WORKER], input=json.dumps(texts), capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["env"] == "false"
    assert got["truncated"] == [False] * len(SHORT) + [True] * len(LONG)
    assert got["cos_min"] >= 0.9999
