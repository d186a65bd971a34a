"""Caches that cannot lie: damaged cache files of every kind are dropped and recomputed with a note, a
damaged stored dataset is said and repaired by loading the file again, and the embedding cache is keyed
by the content of the model's weights."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.space import embed_model
from dq_core.space.embed import embed_dataset, embed_texts
from dq_core.space.embed_cache import EmbeddingCache, cached_dataset_embeddings, dataset_key
from dq_core.space.embed_model import cache_key, model_key
from tests.train_helpers import tiny_dataset

TEXTS = ["the flight was late again", "lovely crew and a smooth landing", "lost my bag in Denver"]


@pytest.fixture
def ws(dq_env) -> Workspace:
    return Workspace.default()


DAMAGE = {"empty": b"", "truncated": None, "garbage": b"\x00garbage\xff" * 10}


def damage(path, how: str) -> None:
    data = DAMAGE[how]
    path.write_bytes(path.read_bytes()[: max(1, path.stat().st_size // 2)] if data is None else data)


@pytest.mark.parametrize("how", list(DAMAGE))
def test_damaged_array_frame_and_json_caches_are_misses_and_dropped(ws, how, caplog):
    ws.save_array("k", "a", np.arange(10.0))
    ws.save_frame("k", "f", pd.DataFrame({"x": [1, 2, 3]}))
    ws.save_json("k", "j", {"x": 1})
    paths = [ws.cache_path("k", "a", ".npy"), ws.cache_path("k", "f", ".parquet"), ws.cache_path("k", "j", ".json")]
    for p in paths:
        damage(p, how)
    with caplog.at_level(logging.WARNING):
        assert ws.load_array("k", "a") is None
        assert ws.load_frame("k", "f") is None
        assert ws.load_json("k", "j") is None
    assert not any(p.exists() for p in paths)  # dropped: the next save writes a sound file
    assert sum("damaged" in r.getMessage() for r in caplog.records) == 3
    ws.save_json("k", "j", {"x": 2})
    assert ws.load_json("k", "j") == {"x": 2}


def test_empty_json_marker_is_no_hit(ws):
    ws.cache_path("dataset_embeddings", "x", ".json").write_bytes(b"")
    assert not ws.has_json("dataset_embeddings", "x")


@pytest.mark.parametrize("how", list(DAMAGE))
def test_damaged_embedding_chunk_is_dropped_and_recomputed(ws, how, caplog):
    first = embed_texts(TEXTS, workspace=ws)
    cache = EmbeddingCache(ws, cache_key(None, first_precision(first)))
    chunks = sorted(cache.dir.glob("chunk-*.npz"))
    assert chunks
    for c in chunks:
        damage(c, how)
    with caplog.at_level(logging.WARNING):
        again = embed_texts(TEXTS, workspace=ws)
    assert again.n_computed == len(TEXTS) and again.n_cached == 0
    np.testing.assert_allclose(again.vectors, first.vectors, atol=1e-5)
    assert any("damaged" in r.getMessage() for r in caplog.records)
    third = embed_texts(TEXTS, workspace=ws)  # the recomputed chunk serves the next call
    assert third.n_cached == len(TEXTS)


def first_precision(res) -> str:
    return "bfloat16" if res.model_name.endswith("-bf16") else "float32"


def test_chunk_with_nan_vectors_is_not_trusted(ws):
    first = embed_texts(TEXTS, workspace=ws)
    cache = EmbeddingCache(ws, first.model_name)
    chunk = sorted(cache.dir.glob("chunk-*.npz"))[0]
    with np.load(chunk) as z:
        h, v, t = z["hashes"], z["vectors"], z["truncated"]
    v[:] = np.nan
    np.savez(chunk, hashes=h, vectors=v, truncated=t)
    again = embed_texts(TEXTS, workspace=ws)
    assert again.n_computed == len(TEXTS) and np.isfinite(again.vectors).all()


def test_damaged_consolidated_embeddings_are_rebuilt(ws):
    ds = tiny_dataset(12)
    embed_dataset(ds, workspace=ws)
    prec = first_precision(cached_dataset_embeddings(ds, workspace=ws))
    key = dataset_key(ds, None, prec)
    ws.cache_path("dataset_embeddings", key, ".npy").write_bytes(b"\x93NUMPY broken")
    assert cached_dataset_embeddings(ds, workspace=ws, precision=prec) is None
    res = embed_dataset(ds, workspace=ws, precision=prec)
    assert res.vectors.shape[0] == 12 and res.n_computed == 0  # rebuilt from the per-text chunks


def test_damaged_stored_dataset_is_said_and_repaired_by_loading_again(ws):
    ds = tiny_dataset(20)
    ds_id = ws.save_dataset(ds)
    d = ws.datasets_dir() / ds_id
    good = (d / "data.parquet").read_bytes()
    (d / "data.parquet").write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError, match="damaged.*load the file again"):
        ws.load_dataset(ds_id)
    assert ws.save_dataset(ds) == ds_id  # loading the file again rewrites the copy
    assert ws.load_dataset(ds_id).texts.tolist() == ds.texts.tolist()
    meta = json.loads((d / "meta.json").read_text())
    del meta["mapping"]
    (d / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(DataError, match="no column mapping"):
        ws.load_dataset(ds_id)
    ws.save_dataset(ds)
    assert ws.load_dataset(ds_id).mapping == ds.mapping
    (d / "meta.json").write_text("")
    with pytest.raises(DataError, match="damaged"):
        ws.load_dataset(ds_id)
    assert ws.list_datasets() == []  # a damaged entry is skipped, not a crash
    with pytest.raises(DataError, match="not in the workspace"):
        ws.load_dataset("0123456789abcdef")


def _fake_model(folder, weights: bytes) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text('{"model_type": "bert"}')
    (folder / "model.safetensors").write_bytes(weights)


def test_model_key_follows_weight_content_not_size(tmp_path, dq_env, monkeypatch):
    m = tmp_path / "m"
    _fake_model(m, b"A" * 4096)
    k1 = model_key(str(m))
    _fake_model(m, b"B" * 4096)  # retrained: same names, same size
    k2 = model_key(str(m))
    assert k1 != k2
    # Remembered by path + size + mtime: an unchanged folder is not read again (not even by a new process,
    # thanks to the side cache).
    monkeypatch.setattr(embed_model, "_DIGESTS", {})
    monkeypatch.setattr(embed_model, "_FOLDER_DIGESTS", {})
    calls = []
    real_open = open

    def counting_open(f, *a, **kw):
        calls.append(str(f))
        return real_open(f, *a, **kw)

    monkeypatch.setattr("builtins.open", counting_open)
    assert model_key(str(m)) == k2
    assert not [c for c in calls if c.endswith(".safetensors")]


def test_damaged_side_cache_is_rebuilt(tmp_path, dq_env):
    m = tmp_path / "m"
    _fake_model(m, b"A" * 128)
    k = model_key(str(m))
    side = embed_model._side_cache_path()
    side.write_text("{broken")
    embed_model._DIGESTS.clear()
    embed_model._FOLDER_DIGESTS.clear()
    assert model_key(str(m)) == k
    assert json.loads(side.read_text())
