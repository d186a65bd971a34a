"""The shared background embedding task: preview sample, prefetch at app start, and pages waiting on it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from dq_apptest import airline_pair, assert_no_exception, metric, texts

from dq_app.ui import embedding_task, tasks
from dq_app.ui.progress_text import Counted
from dq_core.data.workspace import Workspace
from dq_core.metrics.coverage import coverage_for_datasets
from dq_core.space import embed_pair
from dq_core.space.embed import EmbeddingPlan, embed_texts
from dq_core.space.embed_cache import cached_dataset_embeddings


@pytest.fixture(scope="module")
def pair():
    return airline_pair(60)


@pytest.fixture(autouse=True)
def _join_tasks():
    yield
    assert tasks.wait_all(600)


def test_the_task_publishes_a_preview_sample_then_embeds_everything(pair, monkeypatch):
    ds, ref = pair
    ws = Workspace.default()
    monkeypatch.setattr(embed_pair, "PREVIEW_ROWS", 15)
    monkeypatch.setattr(embed_pair, "PREVIEW_ABOVE", 50)
    task = tasks.Task(key="test", label="Embeddings")
    seen = []
    task.report = lambda progress=None, message=None, phase=None: seen.append((progress, phase))  # noqa: ARG005
    embedding_task._embed_all(task, ds, ref, ws)

    pv = task.partial["preview"]
    assert (len(pv.ds), len(pv.ref)) == (15, 15)
    assert set(pv.ds.row_ids) <= set(ds.row_ids) and set(pv.ref.row_ids) <= set(ref.row_ids)
    full = cached_dataset_embeddings(ds, workspace=ws)
    assert full is not None and cached_dataset_embeddings(ref, workspace=ws) is not None
    pos = {r: i for i, r in enumerate(ds.row_ids)}
    at = [pos[r] for r in pv.ds.row_ids]
    np.testing.assert_allclose(pv.ds_emb.vectors, full.vectors[at], atol=1e-6)  # the same vectors, cached once
    progress = [p for p, _ in seen if p is not None]
    assert progress == sorted(progress) and progress[-1] == pytest.approx(1.0)
    assert [ph for _, ph in seen if ph][0] == "counting"
    assert {ph for _, ph in seen if ph} == {"counting", "preview", "embedding"}
    assert embed_pair.pair_ready(ds, ref, ws)


def _with_repeats(ds, ref):
    """ds with 10 of its texts repeated and 2 empty, ref sharing 5 texts with ds: known distinct counts."""
    from dq_core.data.dataset import ColumnMapping, build_dataset

    a, b = list(ds.texts), list(ref.texts)
    a = a[:48] + a[:10] + ["", " "]  # 60 rows: 48 distinct texts, 2 empty
    b = b[:35] + a[:5]  # 40 rows: 35 more distinct texts (the airline slices share none)
    mk = lambda texts: build_dataset(pd.DataFrame({"text": texts, "label": ["x", "y"] * (len(texts) // 2)}),  # noqa: E731
                                     ColumnMapping(text="text", label="label"))
    return mk(a), mk(b)


def test_progress_counts_distinct_texts_with_one_total_and_names_the_preview_only_while_embedding_it(
        pair, monkeypatch):
    """The total is the distinct texts to embed, the same at every report (not one count in the line and
    another in the heading), and "a preview sample" is named only while the preview is embedded."""
    ds, ref = _with_repeats(*pair)
    assert len({t for t in [*ds.texts, *ref.texts] if t.strip()}) == 83
    ws = Workspace.default()
    monkeypatch.setattr(embed_pair, "PREVIEW_ROWS", 15)
    monkeypatch.setattr(embed_pair, "PREVIEW_ABOVE", 50)
    task = tasks.Task(key="test-counts", label="Embeddings")
    lines, real = [], task.report

    def report(progress=None, message=None, phase=None):
        real(progress, message, phase)
        lines.append((task.phase, embedding_task.status_line(task), task.partial.get("rows")))

    task.report = report
    embedding_task._embed_all(task, ds, ref, ws)

    plan = task.partial["plan"]
    assert (plan.n_texts, plan.n_cached, plan.total) == (83, 0, 83)
    sample = {t for t in [*task.partial["preview"].ds.texts, *task.partial["preview"].ref.texts] if t.strip()}
    assert plan.to_embed[0] == len(sample)
    counted_ = [r for _, _, r in lines if r is not None]
    assert {r.total for r in counted_} == {83} and counted_[-1].done == 83  # one total, reached
    preview = [line for ph, line, _ in lines if ph == "preview"]
    rest = [line for ph, line, _ in lines if ph == "embedding"]
    assert preview and all(line.startswith(f"Embedding a preview sample of {len(sample)} texts first: ")
                           for line in preview)
    assert rest and all(line.startswith("Embedding: ") and "preview" not in line for line in rest)
    assert all("/ 83 distinct texts" in line for line in preview + rest)
    assert embedding_task.counts_note(task, embed_pair.pair_rows(ds, ref)) == (
        "100 rows hold 83 distinct texts: the progress counts the 83 left to embed; a text that repeats is "
        "embedded once, an empty one not at all.")

    again = tasks.Task(key="test-counts-2", label="Embeddings")  # a second run: everything is cached
    embedding_task._embed_all(again, ds, ref, ws)
    assert again.partial["plan"].total == 0 and again.progress == 1.0


def test_small_sets_skip_the_preview(pair):
    ds, ref = pair
    task = tasks.Task(key="test-small", label="Embeddings")
    embedding_task._embed_all(task, ds, ref, Workspace.default())
    assert "preview" not in task.partial


def test_coverage_draws_the_preview_while_the_rest_embeds(page_app, pair):
    ds, ref = pair
    ws = Workspace.default()
    sd, sr = embed_pair.preview_sample(ds, 30), embed_pair.preview_sample(ref, 30)
    ed, er = embed_texts(sd.texts, workspace=ws), embed_texts(sr.texts, workspace=ws)
    # A running task this test controls (no thread): its preview is ready, the full embeddings are not.
    task = tasks.Task(key=embedding_task.task_key(ds, ref, ws), label="Embeddings", progress=0.4,
                      phase="embedding")
    task.publish("plan", EmbeddingPlan(n_texts=118, n_cached=60, to_embed=(0, 40, 18)))
    task.publish("rows", Counted(10, 58, 2.0))
    task.publish("preview", embed_pair.Preview(ds=sd, ref=sr, ds_emb=ed, ref_emb=er))
    with tasks._REGISTRY["lock"]:
        tasks._REGISTRY["tasks"][task.key] = task
    try:
        at = page_app("app_pages/coverage.py", ds, ref)
        at.run(timeout=300)
        assert_no_exception(at)
        assert "Embedding the texts" in texts(at.subheader)
        # one total (distinct texts left to embed), named once beside the rows the heading counts
        assert any("Sentence embeddings of the texts of 120 rows" in m for m in texts(at.markdown))
        assert at.get("progress")[0].proto.text == "Embedding: 10 / 58 distinct texts · 2.0 texts/s · ETA 24 s"
        assert any(c.startswith("120 rows hold 118 distinct texts (60 embedded before): the progress counts the 58 "
                                "left to embed;") for c in texts(at.caption))
        assert any("Preview" in i and "30 dataset and 30 reference rows" in i for i in texts(at.info))
        res = coverage_for_datasets(sd, sr, ed, er, workspace=ws)
        assert metric(at, "Reference coverage") == f"{res.reference_coverage:.1%}"
        assert metric(at, "Sample coverage") == f"{res.sample_coverage:.1%}"
        assert any("PCA" in c for c in texts(at.caption))  # no UMAP on a preview
    finally:
        tasks.forget(task.key)


def test_the_app_prefetches_the_embeddings_of_the_active_pair(new_app, pair, monkeypatch):
    ds, ref = pair
    ws = Workspace.default()
    monkeypatch.setenv("DQ_PREFETCH_EMBEDDINGS", "1")
    at = new_app()
    at.session_state["ds"], at.session_state["ref"] = ws.save_dataset(ds), ws.save_dataset(ref)
    at.run()
    assert_no_exception(at)
    assert embedding_task.current(ds, ref, ws) is not None  # started by app.py, on the Overview page
    assert tasks.wait_all(300)
    assert embed_pair.pair_ready(ds, ref, ws)


def test_a_failed_embedding_shows_its_reason_and_waits_for_try_again(page_app, pair, monkeypatch):
    from dq_core.errors import DataError

    ds, ref = pair
    ws = Workspace.default()

    real, fail = embed_pair.embed_dataset, [True]

    def broken(*a, **k):
        if fail[0]:
            raise DataError("the model folder 'x' is not a sentence-transformers model")
        return real(*a, **k)

    monkeypatch.setattr(embed_pair, "embed_dataset", broken)
    at = page_app("app_pages/coverage.py", ds, ref)
    at.run(timeout=120)
    assert tasks.wait_all(60)
    failed = embedding_task.current(ds, ref, ws)
    assert failed is not None and failed.failed
    at.run(timeout=120)
    assert_no_exception(at)
    assert any("not a sentence-transformers model" in e for e in texts(at.error))
    assert embedding_task.current(ds, ref, ws) is failed  # not restarted on its own
    fail[0] = False
    at.button(key="cov_embed_retry").click().run(timeout=120)
    assert_no_exception(at)
    assert tasks.wait_all(300) and embed_pair.pair_ready(ds, ref, ws)
