"""AppTest of the Coverage page on a small slice of the tweets_airline demo (real model, real UMAP)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from dq_apptest import airline_pair, assert_no_exception, metric, plotly_figures, texts

from dq_core.data.workspace import Workspace
from dq_core.metrics.coverage import coverage_for_datasets
from dq_core.space.embed_cache import cached_dataset_embeddings


@pytest.fixture(scope="module")
def demo_slice():
    return airline_pair(80)


@pytest.fixture
def coverage_app(page_app):
    return lambda ds, ref, **state: page_app("app_pages/coverage.py", ds, ref, **state)


def _length(arr) -> int:
    """Points in a plotly trace array, plain or typed-array encoded ({"dtype", "bdata"})."""
    if isinstance(arr, dict) and "bdata" in arr:
        import base64

        return len(base64.b64decode(arr["bdata"])) // np.dtype(arr["dtype"]).itemsize
    return len(arr)


def _wait(cond, timeout: float = 240.0) -> None:
    end = time.time() + timeout
    while not cond():
        assert time.time() < end, "background work did not finish in time"
        time.sleep(0.5)


def test_coverage_page_embeds_then_shows_dq_core_numbers_map_and_clusters(coverage_app, demo_slice):
    ds, ref = demo_slice
    ws = Workspace.default()
    at = coverage_app(ds, ref).run()
    assert_no_exception(at)
    assert texts(at.title) == ["🗺️ Coverage"]
    # First visit on a fresh workspace: the embeddings are computed in the background with a progress bar.
    assert "Embedding the texts" in texts(at.subheader)
    _wait(lambda: cached_dataset_embeddings(ds, workspace=ws) is not None
          and cached_dataset_embeddings(ref, workspace=ws) is not None)

    at.run()
    assert_no_exception(at)
    emb_d = cached_dataset_embeddings(ds, workspace=ws)
    emb_r = cached_dataset_embeddings(ref, workspace=ws)
    res = coverage_for_datasets(ds, ref, emb_d, emb_r, workspace=ws)
    assert metric(at, "Reference coverage") == f"{res.reference_coverage:.1%}"
    assert metric(at, "Scene coverage") == f"{res.scene_coverage:.1%}"
    assert metric(at, "Sample coverage") == f"{res.sample_coverage:.1%}"
    assert any(c.value.startswith("Radius: p95 of the dataset's nearest-neighbour distances") for c in at.caption)
    # the rule in words, then the count with its verb agreeing ("1 of 5 scenes is covered")
    assert f"Scene rule: {res.scene_rule} {res.scene_count}." in texts(at.caption)
    assert res.scene_count.startswith(f"{res.n_scenes_covered} of {res.n_scenes} scene")
    # airline tweets against other topics: most of the reference lies in clusters the dataset barely holds
    assert res.reference_coverage < 0.9 and res.under_covered_clusters

    # The map: while UMAP runs the PCA view is shown; every point carries its frame position.
    figs = plotly_figures(at)
    scatter = figs[0]
    assert all(tr["type"] == "scattergl" for tr in scatter["data"])
    n_points = sum(_length(tr["x"]) for tr in scatter["data"] if tr["name"] != "under-covered (reference rows)")
    assert n_points == len(ds) + len(ref)
    assert {tr["name"] for tr in scatter["data"]} >= {f"dataset ({len(ds)})", f"reference ({len(ref)})"}
    assert any("ringed" in t or "Ring" in t for t in texts(at.caption) + [t.label for t in at.toggle])

    # The cluster table: one row per cluster, under-covered ones flagged, terms and examples filled in.
    table = next(d.value for d in at.dataframe if "top terms" in d.value.columns)
    assert len(table) == res.k
    assert table["under-covered"].sum() == len(res.under_covered_clusters)
    assert (table["top terms"].str.len() > 0).all()

    # Colour by label, then by a numeric column (the tweets' crowd confidence).
    at.selectbox(key="cov_color").select("label").run()
    assert {tr["name"] for tr in plotly_figures(at)[0]["data"]} >= {"negative", "positive"}
    at.selectbox(key="cov_color").select("confidence").run()
    assert_no_exception(at)
    assert any(tr["marker"].get("showscale") for tr in plotly_figures(at)[0]["data"])

    # Adjusting the radius by hand changes reference coverage as dq_core says.
    at.toggle(key="cov_radius_manual").set_value(True).run()
    at.slider(key="cov_radius").set_value(1.0).run()
    assert metric(at, "Reference coverage") == "100.0%"

    # Later, the UMAP map replaces the PCA view (cached on disk for the next visit).
    _wait(lambda: any(p.name.endswith("-ds.npy") for p in (ws.root / "cache" / "projection").glob("*")))
    at.run()
    assert_no_exception(at)
    assert any("UMAP (cosine)" in c for c in texts(at.caption))


def test_coverage_page_without_reference_maps_the_dataset_and_shows_empty_texts(coverage_app, demo_slice):
    from dataclasses import replace

    from dq_core.data.dataset import content_fingerprint

    ds, _ = demo_slice
    frame = ds.frame.copy()
    frame.loc[3, "text"] = "   "
    ds = replace(ds, frame=frame, fingerprint=content_fingerprint(frame))
    ws = Workspace.default()
    at = coverage_app(ds, None).run()
    assert_no_exception(at)
    assert any("reference" in i.value for i in at.info)
    _wait(lambda: cached_dataset_embeddings(ds, workspace=ws) is not None)
    at.run()
    assert_no_exception(at)
    assert any("1 dataset rows have empty or missing text" in c for c in texts(at.caption))
    assert "The 1 dataset rows without text" in [e.label for e in at.expander]
    assert not [m for m in at.metric if m.label == "Reference coverage"]  # no reference, no coverage figures
    scatter = plotly_figures(at)[0]
    assert sum(_length(tr["x"]) for tr in scatter["data"]) == len(ds) - 1


@pytest.fixture(autouse=True)
def _join_background_work():
    """The page starts threads (embedding, UMAP, the numba warm-up); end them before the next test."""
    yield
    from dq_app.ui import tasks
    from dq_core.space.projection import wait_for_warmup

    assert tasks.wait_all(600)
    assert wait_for_warmup(600)
