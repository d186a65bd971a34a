"""Embeddings with the real bundled MiniLM model on a few dozen texts, and the chunked disk cache."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.space import embed, embed_model

TEXTS = [
    "my flight was delayed three hours", "the crew was friendly and helpful", "lost my luggage again",
    "great legroom on this plane", "the new iphone camera is amazing", "apple watch battery died fast",
    "coachella lineup looks great this year", "tickets for coachella sold out in minutes",
    "self-driving cars will change cities", "google car drove itself downtown", "brady and the deflated balls",
    "patriots fans are angry", "customer service put me on hold for an hour", "boarding was quick and smooth",
    "why is the wifi on board so slow", "the ipad update broke my apps", "music festival weekend vibes",
    "autonomous vehicles need better sensors", "footballs under-inflated says report", "seat was broken",
    "thanks for the upgrade to first class", "cancelled flight and no hotel voucher", "love my new macbook",
    "desert heat at the festival", "robot taxi pilot launches", "nfl suspends quarterback",
    "the pilot made a smooth landing", "headphones not included anymore", "stage times announced",
    "who is liable when a driverless car crashes",
]


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.fixture(scope="module")
def fp32_reference() -> np.ndarray:
    model = embed.load_model(None, precision="float32")
    return model.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)


def test_real_model_vectors_match_sentence_transformers(ws, fp32_reference):
    res = embed.embed_texts(TEXTS, workspace=ws, precision="float32")
    assert res.vectors.shape == (len(TEXTS), 384) and res.vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(res.vectors, axis=1), 1.0, atol=1e-5)
    # Input order is kept even though texts are embedded sorted by length.
    assert np.allclose(res.vectors, fp32_reference, atol=1e-5)
    assert res.n_computed == len(TEXTS) and res.n_cached == 0 and res.n_empty == 0
    assert res.max_seq_length == 256
    # Meaning, not noise: the two coachella texts are nearer each other than to a flight complaint.
    v = res.vectors
    assert v[6] @ v[7] > v[6] @ v[0]


def test_cache_hit_and_miss(ws):
    first = embed.embed_texts(TEXTS[:10], workspace=ws, precision="float32")
    again = embed.embed_texts(TEXTS[:10], workspace=ws, precision="float32")
    assert first.n_computed == 10 and again.n_computed == 0 and again.n_cached == 10
    assert np.array_equal(first.vectors, again.vectors)
    other = embed.embed_texts(["a text never seen"], workspace=ws, precision="float32")
    assert other.n_computed == 1 and other.n_cached == 0


def test_adding_rows_embeds_only_the_new_ones(ws):
    embed.embed_texts(TEXTS[:20], workspace=ws, precision="float32")
    seen = []
    res = embed.embed_texts(TEXTS, workspace=ws, precision="float32", progress=lambda m, d, t: seen.append((m, d, t)))
    assert res.n_cached == 20 and res.n_computed == 10
    assert seen[0] == ("embedding", 0, 10) and seen[-1] == ("embedding", 10, 10)


def test_interrupted_run_resumes_where_it_stopped(ws, monkeypatch):
    monkeypatch.setattr(embed, "CHUNK_SIZE", 8)
    monkeypatch.setattr(embed, "PROGRESS_STEP", 4)

    class Interrupted(Exception):
        pass

    def stop_after_two_chunks(message, done, total):
        if done > 16:
            raise Interrupted

    with pytest.raises(Interrupted):
        embed.embed_texts(TEXTS, workspace=ws, precision="float32", batch_size=4, progress=stop_after_two_chunks)
    chunks = list((ws.root / "cache" / "embeddings").glob("*/chunk-*.npz"))
    assert len(chunks) == 2  # the finished chunks were written, the interrupted one was not
    res = embed.embed_texts(TEXTS, workspace=ws, precision="float32")
    assert res.n_cached == 16 and res.n_computed == len(TEXTS) - 16
    full = embed.embed_texts(TEXTS, workspace=ws, precision="float32", use_cache=False)
    assert np.allclose(res.vectors, full.vectors, atol=1e-5)


def test_progress_is_reported_within_a_chunk(ws, monkeypatch):
    monkeypatch.setattr(embed, "PROGRESS_STEP", 8)
    seen = []
    embed.embed_texts(TEXTS, workspace=ws, precision="float32", batch_size=8, progress=lambda m, d, t: seen.append(d))
    assert seen == [0, 8, 16, 24, 30]


def test_plan_counts_what_each_pass_will_embed(ws):
    """The plan's count per pass is the total each pass's progress reports: distinct, non-empty, not cached."""
    embed.embed_texts(TEXTS[:3], workspace=ws)  # cached before
    passes = [TEXTS[:5] + TEXTS[:2] + ["", None], TEXTS[3:8] + ["  "], TEXTS[:8]]
    plan = embed.plan_embedding(passes, workspace=ws)
    assert (plan.n_texts, plan.n_cached, plan.to_embed, plan.total) == (8, 3, (2, 3, 0), 5)
    totals = []
    for texts in passes:
        reports = []
        embed.embed_texts(texts, workspace=ws, progress=lambda m, d, t, r=reports: r.append((d, t)))
        totals.append(reports[-1][1])
    assert tuple(totals) == plan.to_embed
    assert embed.plan_embedding(passes, workspace=ws, skip={1}).to_embed == (0, 0, 0)  # all cached now


def test_empty_and_missing_texts_are_skipped_and_counted(ws):
    texts = pd.Series(["fine flight", "", None, "   ", pd.NA, "fine flight"], dtype=object)
    res = embed.embed_texts(texts, workspace=ws, precision="float32")
    assert res.valid.tolist() == [True, False, False, False, False, True]
    assert res.n_empty == 4
    assert np.all(res.vectors[~res.valid] == 0)
    assert np.allclose(res.vectors[0], res.vectors[5])
    assert res.n_computed == 1  # identical texts are embedded once


def test_all_texts_empty(ws):
    res = embed.embed_texts(["", None], workspace=ws, precision="float32")
    assert res.vectors.shape == (2, 384) and res.n_empty == 2 and res.n_computed == 0


@pytest.mark.parametrize("bad", [[1, 2], ["ok", ["a", "list"]], ["ok", b"bytes"], ["ok", 3.5]])
def test_non_string_cells_are_refused(ws, bad):
    with pytest.raises(DataError, match="not a string"):
        embed.embed_texts(bad, workspace=ws)


def test_long_texts_are_counted_as_truncated(ws):
    long = " ".join(["turbulence"] * 400)
    res = embed.embed_texts(["short text", long], workspace=ws, precision="float32")
    assert res.n_truncated == 1 and res.truncated.tolist() == [False, True]
    again = embed.embed_texts(["short text", long], workspace=ws, precision="float32")
    assert again.n_cached == 2 and again.n_truncated == 1  # the flag is cached with the vector


def test_model_folder_errors(ws, tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        embed.embed_texts(["x"], model=str(tmp_path / "no_such_model"), workspace=ws)
    empty = tmp_path / "not_a_model"
    empty.mkdir()
    (empty / "readme.txt").write_text("hello")
    with pytest.raises(DataError, match="not a sentence-transformers model folder"):
        embed.embed_texts(["x"], model=str(empty), workspace=ws)
    broken = tmp_path / "broken_model"
    broken.mkdir()
    (broken / "modules.json").write_text("[]")
    (broken / "config.json").write_text("{}")
    with pytest.raises(DataError, match="could not load the embedding model"):
        embed.embed_texts(["x"], model=str(broken), workspace=ws)
    file_model = tmp_path / "model.bin"
    file_model.write_bytes(b"0")
    with pytest.raises(DataError, match="is a file"):
        embed.embed_texts(["x"], model=str(file_model), workspace=ws)


def test_bad_precision(ws, monkeypatch):
    with pytest.raises(DataError, match="precision"):
        embed.embed_texts(["x"], workspace=ws, precision="int4")
    monkeypatch.setenv("DQ_EMBED_PRECISION", "fp8")
    with pytest.raises(DataError, match="DQ_EMBED_PRECISION"):
        embed_model.default_precision()


def test_bfloat16_is_close_to_float32_and_cached_apart(ws, fp32_reference):
    res = embed.embed_texts(TEXTS, workspace=ws, precision="bfloat16")
    cos = np.einsum("ij,ij->i", res.vectors, fp32_reference)
    assert cos.min() > 0.99
    assert res.model_name.endswith("-bf16")
    fp = embed.embed_texts(TEXTS, workspace=ws, precision="float32")
    assert fp.n_cached == 0  # bf16 vectors are never served as fp32 ones


def test_embed_dataset_reopens_without_the_model(ws, monkeypatch):
    frame = pd.DataFrame({"text": TEXTS[:12] + [""], "label": ["a", "b"] * 6 + ["a"]})
    ds = build_dataset(frame, ColumnMapping(text="text", label="label"))
    first = embed.embed_dataset(ds, workspace=ws, precision="float32")
    assert first.n_computed == 12 and first.n_empty == 1

    def no_model(*a, **k):
        raise AssertionError("the model must not be loaded for a cached dataset")

    monkeypatch.setattr(embed, "load_model", no_model)
    cached = embed.cached_dataset_embeddings(ds, workspace=ws, precision="float32")
    assert cached is not None and cached.n_computed == 0
    assert np.array_equal(cached.vectors, first.vectors)
    assert cached.valid.tolist() == first.valid.tolist()
    seen = []
    again = embed.embed_dataset(ds, workspace=ws, precision="float32", progress=lambda m, d, t: seen.append((m, d, t)))
    assert again.n_cached == len(ds)
    assert seen == [("embedding", len(ds), len(ds))]  # reopened whole: one report of its rows


def test_model_label_reads_every_kind_of_model_name():
    key = embed_model.cache_key(None, "float32")
    assert embed_model.model_label(key) == "all-MiniLM-L6-v2, bundled"
    assert embed_model.model_label(embed_model.cache_key(None, "bfloat16")) == "all-MiniLM-L6-v2, bundled (bfloat16)"
    assert embed_model.model_label("my-model-0a1b2c") == "my-model"
    assert embed_model.model_label("given:vectors.npy") == "your own vectors (vectors.npy)"
    assert embed_model.model_label("compute:e5-small") == "dq compute output (e5-small)"
