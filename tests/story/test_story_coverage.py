"""The story's coverage section and map: its figures equal `dq coverage`'s, the map is the Coverage page's (its
cached UMAP, else PCA) sampled to at most MAP_POINTS, the workspace's cached embeddings are read when none are
given, and without vectors a line says how to get the section. Tiny data, given vectors: no model is loaded."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dq_core.data.io import load_dataset
from dq_core.data.workspace import Workspace
from dq_core.space.given import load_embeddings_file
from dq_core.story import build_story, story_html, story_json, story_markdown
from tests.cli_helpers import dq
from tests.filter_data import make_embeddings
from tests.story.helpers import EVIL, write_inputs


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    f = write_inputs(tmp_path)
    ds, ref = load_dataset(str(f["data"]))[0], load_dataset(str(f["ref"]))[0]
    np.save(tmp_path / "e.npy", make_embeddings(ds).vectors)
    np.save(tmp_path / "r.npy", make_embeddings(ref, seed=1).vectors)
    return {**f, "e": tmp_path / "e.npy", "r": tmp_path / "r.npy"}


def _pair(files):
    """(ds, ref, their EmbeddingResults as --embeddings reads them)."""
    ds, ref = load_dataset(str(files["data"]))[0], load_dataset(str(files["ref"]))[0]
    return ds, ref, (load_embeddings_file(files["e"], len(ds)), load_embeddings_file(files["r"], len(ref)))


def _story(files, *extra) -> tuple[dict, str]:
    out = files["data"].parent / "story.json"
    r = dq("story", files["data"], "--reference", files["ref"], *extra, "--out", out)
    assert r.returncode == 0, r.stderr
    return json.loads(out.read_text()), r.stderr


def test_coverage_equals_dq_coverage(files):
    given = ("--embeddings", files["e"], "--reference-embeddings", files["r"])
    r = dq("coverage", files["data"], "--reference", files["ref"], *given)
    assert r.returncode == 0, r.stderr
    story, _ = _story(files, *given)
    cov = {k: v for k, v in story["coverage"].items() if k not in ("map", "scene_count")}
    assert cov == json.loads(r.stdout)
    m = story["coverage"]["map"]
    assert (m["method"], m["n_points"], m["n_shown"]) == ("pca", 198, 198)  # 2 empty texts have no vector
    assert m["n_dataset_shown"] + m["n_reference_shown"] == m["n_shown"]
    assert "covers 93.7% of the reference" in story["summary"]


def test_map_is_sampled_to_at_most_map_points(files, monkeypatch):
    """plot_sample keeps each side's share (and the same rows each time); the JSON leaves the points out."""
    import dq_core.story.coverage as sc

    monkeypatch.setattr(sc, "MAP_POINTS", 50)
    ds, ref, pair = _pair(files)
    story = build_story(ds, ref, embeddings=pair)
    assert len(story.map_points) == story.coverage["map"]["n_shown"] == 50
    assert set(story.map_points["side"]) == {"dataset", "reference"}
    assert "map_points" not in json.loads(story_json(story))
    assert "50 of 198 points" in story_markdown(story)


def test_cached_embeddings_are_read_when_none_are_given(files):
    """The Coverage page's warm cache serves the story: the same section as with the vectors given, and the
    shift's embedding view is computed; provenance says where the vectors came from."""
    from dq_core.space.embed_cache import save_dataset_embeddings

    ds, ref, (e, r) = _pair(files)
    ws = Workspace.default()
    save_dataset_embeddings(ds, e, workspace=ws)
    save_dataset_embeddings(ref, r, workspace=ws)
    cached, _ = _story(files)
    given, _ = _story(files, "--embeddings", files["e"], "--reference-embeddings", files["r"])
    assert cached["coverage"] == given["coverage"]
    assert cached["provenance"]["embeddings"].startswith("the workspace's embedding cache")
    views = {v["view"]: v for v in cached["shift"]["views"]}
    assert views["embedding_clusters"]["skipped"] is None


def test_the_pages_cached_umap_is_the_map(files):
    """A UMAP the Coverage page computed (cached under the page's key) is drawn instead of the PCA view."""
    from dq_core.space.projection import CACHE_KIND, projection_key

    ds, ref, (e, r) = _pair(files)
    ws = Workspace.default()
    key = projection_key(e.vectors, r.vectors, ds_valid=e.valid, ref_valid=r.valid)
    ds_xy = np.where(e.valid[:, None], 1.0, np.nan) * np.ones((len(ds), 2))  # NaN where a row has no vector
    ws.save_array(CACHE_KIND, key + "-ds", ds_xy.astype(np.float32))
    ws.save_array(CACHE_KIND, key + "-ref", np.zeros((len(ref), 2), np.float32))
    ws.save_json(CACHE_KIND, key, {"method": "umap", "n_fit": 198, "n_transformed": 0, "seconds": 1.0, "cached": False})
    story = build_story(ds, ref, embeddings=(e, r), workspace=ws)
    assert story.coverage["map"]["method"] == "umap" and story.coverage["map"]["how"].startswith("UMAP")
    assert set(story.map_points.loc[story.map_points["side"] == "reference", "x"]) == {0.0}


def test_without_vectors_a_line_says_how_to_get_the_coverage_section(files):
    story, err = _story(files)
    assert story["coverage"] is None and story["shift"] is not None
    assert "note: the coverage map and the shift's embedding view need both sides' embeddings" in err
    assert any(n.startswith("the coverage map") for n in story["notes"])


def test_map_shows_the_xss_text_escaped_and_draws_without_webgl(files):
    """Row 30's text is a script and an img tag: in the map's hover text it is escaped, and the map is an SVG
    scatter (a story prints to PDF and opens where WebGL is missing)."""
    ds, ref, pair = _pair(files)
    story = build_story(ds, ref, embeddings=pair)
    assert EVIL in set(story.map_points["text"])
    html = story_html(story)
    body = html.split("</script>", 1)[1]  # after the inlined plotly.js
    assert "<img src=x" not in body and "<script>alert(" not in body
    from dq_core.story.html import _svg
    from dq_core.viz.coverage import coverage_map

    assert {t.type for t in _svg(coverage_map(story.map_points)).data} == {"scatter"}
