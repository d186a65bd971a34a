"""AppTest of the Shift page on a small slice of the tweets_airline demo preset (real model, real clusters)."""

from __future__ import annotations

import numpy as np
import pytest
from dq_apptest import airline_pair, assert_no_exception, metric, plotly_figures, texts

from dq_app.ui import tasks
from dq_core.data.workspace import Workspace
from dq_core.metrics.shift import ShiftConfig, compute_shift, format_p
from dq_core.space.embed_cache import cached_dataset_embeddings

VIEW_TITLES = ["Labels", "Text length (words)", "Vocabulary (word unigrams)", "Embedding clusters"]


@pytest.fixture(scope="module")
def demo_slice():
    return airline_pair(60)


@pytest.fixture
def shift_app(page_app):
    return lambda ds, ref, **state: page_app("app_pages/shift.py", ds, ref, **state)


def _attribution_tables(at) -> list:
    return [d.value for d in at.dataframe if "contribution" in d.value.columns]


def test_shift_page_shows_every_view_with_the_numbers_of_dq_core(shift_app, demo_slice):
    ds, ref = demo_slice
    at = shift_app(ds, ref, sh_boot=100, sh_perm=100).run()
    assert_no_exception(at)
    assert texts(at.title) == ["📐 Shift"]
    assert [t.label for t in at.tabs] == VIEW_TITLES

    # the same numbers as compute_shift on the same data, settings and (now cached) embeddings
    ws = Workspace.default()
    emb_p, emb_q = cached_dataset_embeddings(ds, workspace=ws), cached_dataset_embeddings(ref, workspace=ws)
    assert emb_p is not None and emb_q is not None  # the page embedded the small slice by itself
    res = compute_shift(ds, ref, config=ShiftConfig(n_bootstrap=100, n_permutations=100), ds_embeddings=emb_p,
                        ref_embeddings=emb_q, workspace=ws)
    cards = [m.value for m in at.markdown if m.value.startswith("95% interval")]
    assert len(cards) == 4
    assert [m for m in texts(at.markdown) if m.startswith("**") and m.strip("*") in VIEW_TITLES] == \
        [f"**{t}**" for t in VIEW_TITLES]
    for nth, (card, v) in enumerate(zip(cards, res.views.values(), strict=True)):
        assert metric(at, "JS divergence", nth) == f"{v.js:.4f}"
        assert f"[{v.js_ci[0]:.4f}, {v.js_ci[1]:.4f}]" in card
        assert f"p-value **{format_p(v.p_value, v.n_permutations)}**" in card
        assert f"**{v.verdict}**" in card
    assert metric(at, "Domain classifier ROC-AUC") == f"{res.domain_classifier.auc:.3f}"
    # airline tweets against other topics: the words and the clusters differ far beyond chance
    assert res.views["vocabulary"].verdict == "drift" and res.domain_classifier.auc > 0.8

    tables = _attribution_tables(at)
    assert len(tables) == 4
    assert sorted(tables[0]["bin"]) == ["negative", "neutral", "positive"]
    assert tables[2]["bin"].iloc[0] == res.views["vocabulary"].attribution().sort_values(
        "contribution", ascending=False).iloc[0]["bin"]
    clusters = tables[3]
    assert set(clusters["bin"]) == {f"cluster {i}" for i in range(res.clusters["k"])}
    assert {"top_terms", "dataset_examples", "reference_examples"} <= set(clusters.columns)
    assert any("ids match the coverage map's clusters" in c for c in texts(at.caption))

    figs = plotly_figures(at)
    overview = figs[0]["data"][0]
    assert overview["y"] == VIEW_TITLES[::-1]
    assert overview["x"] == pytest.approx([v.js for v in res.views.values()][::-1])
    distinctive = [d.value for d in at.dataframe if "p_dataset" in d.value.columns]
    assert len(distinctive) == 2 and all(len(d) == 8 and d["text"].notna().all() for d in distinctive)
    shown = " ".join(m.value for m in at.metric) + " ".join(texts(at.markdown))
    assert "nan" not in shown.lower().split() and "inf" not in shown.lower().split()


def test_metadata_picker_adds_a_view(shift_app, demo_slice):
    ds, ref = demo_slice
    at = shift_app(ds, ref, sh_boot=0, sh_perm=100).run()
    assert_no_exception(at)
    picker = at.multiselect(key="sh_meta")
    assert "topic" in picker.options
    picker.set_value(["topic"]).run()
    assert_no_exception(at)
    assert [t.label for t in at.tabs] == [*VIEW_TITLES, "Metadata: topic"]
    topic = _attribution_tables(at)[-1]
    assert "airlines" in set(topic["bin"])
    # airlines only in the dataset and the other topics only in the reference: JS at its maximum
    assert metric(at, "JS divergence", 4) == "1.0000"


def test_unlabelled_reference_skips_the_label_view_with_a_note(shift_app, demo_slice):
    ds, ref = demo_slice
    unlabelled = ref.with_labels(np.array([None] * len(ref), dtype=object), name="unlabelled ref")
    at = shift_app(ds, unlabelled, sh_boot=0, sh_perm=0).run()
    assert_no_exception(at)
    assert metric(at, "JS divergence", 0) == "skipped"
    assert 0 <= float(metric(at, "JS divergence", 1)) <= 1
    assert any("the reference has no labels" in w for w in texts(at.warning))


def test_without_a_reference_the_page_points_to_load(shift_app, demo_slice):
    ds, _ = demo_slice
    at = shift_app(ds, None).run()
    assert_no_exception(at)
    assert any("reference" in i for i in texts(at.info))
    assert not at.metric


def test_large_sets_embed_on_a_click(shift_app, demo_slice, monkeypatch):
    ds, ref = demo_slice
    monkeypatch.setenv("DQ_SHIFT_AUTO_EMBED_ROWS", "10")  # the slice counts as large
    at = shift_app(ds, ref, sh_boot=0, sh_perm=50).run()
    assert_no_exception(at)
    assert any("need sentence embeddings of the texts of 120 rows" in i for i in texts(at.info))
    assert metric(at, "JS divergence", 3) == "skipped" and metric(at, "Domain classifier ROC-AUC") == "n/a"
    assert 0 <= float(metric(at, "JS divergence", 0)) <= 1  # the other views do not wait
    at.button(key="sh_embed").click().run()
    assert_no_exception(at)
    assert any("Embedding the texts of 120 rows in the background" in i for i in texts(at.info))  # not blocked
    assert 0 <= float(metric(at, "JS divergence", 0)) <= 1
    assert tasks.wait_all(300)
    at.run()  # what the progress fragment does when the task is done
    assert_no_exception(at)
    assert 0 <= float(metric(at, "JS divergence", 3)) <= 1
    assert 0.5 <= float(metric(at, "Domain classifier ROC-AUC")) <= 1
