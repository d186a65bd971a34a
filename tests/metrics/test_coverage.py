"""Coverage figures on constructed embeddings with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dq_core.errors import DataError
from dq_core.metrics.coverage import (
    CoverageResult,
    compute_coverage,
    expected_counts,
    reference_coverage,
    sample_coverage,
    scene_coverage,
)


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def scenes(counts: list[int], seed: int, dim: int = 16, noise: float = 0.03) -> tuple[np.ndarray, np.ndarray]:
    """Rows around the first len(counts) basis vectors: scene c gets counts[c] rows."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(counts)), counts)
    x = np.eye(dim)[labels] + rng.normal(scale=noise, size=(len(labels), dim))
    return unit(x), labels


def test_identical_sets_are_fully_covered():
    x, _ = scenes([20, 20, 20, 20], seed=0)
    texts = [f"scene {i % 4} text {i}" for i in range(len(x))]
    res = compute_coverage(x, x.copy(), ds_texts=texts, ref_texts=texts, k=4)
    assert isinstance(res, CoverageResult)
    assert res.reference_coverage == pytest.approx(1.0)
    assert res.scene_coverage == pytest.approx(1.0)
    assert res.sample_coverage == pytest.approx(1.0)
    assert res.under_covered_clusters == []
    assert all(c.coverage_ratio == pytest.approx(1.0) for c in res.clusters)


def test_far_away_reference_is_not_covered():
    ds, _ = scenes([30, 30], seed=1)  # scenes 0 and 1
    rng = np.random.default_rng(2)
    ref = unit(np.eye(16)[[8] * 25 + [9] * 25] + rng.normal(scale=0.03, size=(50, 16)))  # scenes 8, 9
    res = compute_coverage(ds, ref, k=4)
    assert res.reference_coverage == pytest.approx(0.0)
    assert res.scene_coverage == pytest.approx(0.0)
    assert res.sample_coverage == pytest.approx(0.0)
    assert len(res.under_covered_clusters) == 2
    assert np.all(res.ref_nn_distance > res.radius)


def test_four_of_five_scenes_covered():
    ds, _ = scenes([25, 25, 25, 25, 0], seed=3)
    ref, _ = scenes([10, 10, 10, 10, 10], seed=4)
    # Scenes are orthogonal (cosine distance 1 apart), rows within a scene ~0.02 apart: with r = 0.5 a
    # reference row is covered exactly when the dataset holds its scene.
    res = compute_coverage(ds, ref, k=5, min_rows=5, radius=0.5)
    assert res.scene_coverage == pytest.approx(0.8)
    # Scene 4's reference rows have no dataset neighbour: 40 of 50 reference rows are covered.
    assert res.reference_coverage == pytest.approx(0.8)
    # Four scenes at 125% of their expected count, one at 0: 4 * 0.2 * 1 = 0.8.
    assert res.sample_coverage == pytest.approx(0.8)
    uncovered = [c for c in res.clusters if c.under_covered]
    assert len(uncovered) == 1 and uncovered[0].n_dataset == 0 and uncovered[0].n_reference == 10
    d = res.to_dict()
    assert set(d) >= {"reference_coverage", "radius", "scene_coverage", "sample_coverage", "clusters"}
    assert d["clusters"][0]["coverage_ratio"] is not None


def test_automatic_k_finds_the_five_scenes():
    ds, _ = scenes([25, 25, 25, 25, 0], seed=5)
    ref, _ = scenes([10, 10, 10, 10, 10], seed=6)
    res = compute_coverage(ds, ref, min_rows=5)
    assert res.k == 5 and "silhouette" in res.how_k_chosen
    assert res.scene_coverage == pytest.approx(0.8)


def test_sample_coverage_by_hand():
    # N_ds = 40, w = (.2, .2, .6) -> n* = (8, 8, 24)
    assert expected_counts([10, 0, 30], [20, 20, 60]) == pytest.approx([8, 8, 24])
    assert sample_coverage([10, 0, 30], [20, 20, 60]) == pytest.approx(0.2 * 1 + 0.2 * 0 + 0.6 * 1)
    assert sample_coverage([2, 8, 30], [20, 20, 60]) == pytest.approx(0.2 * 0.25 + 0.2 * 1 + 0.6 * 1)
    # Clusters without reference rows weigh nothing.
    # (n* counts every dataset row, also those in clusters the reference lacks: N_ds = 110 -> n* = 55)
    assert sample_coverage([5, 5, 100], [10, 10, 0]) == pytest.approx(2 * 0.5 * (5 / 55))
    assert sample_coverage([0, 0], [3, 1]) == 0.0


def test_scene_coverage_by_hand():
    assert scene_coverage([10, 4, 0, 7, 9], [1, 1, 1, 1, 1], min_rows=5) == pytest.approx(0.6)
    assert scene_coverage([10, 4, 0, 7, 9], [1, 1, 1, 1, 1], min_rows=1) == pytest.approx(0.8)
    assert scene_coverage([10, 4, 0], [0, 1, 1], min_rows=4) == pytest.approx(0.5)  # ref-less cluster ignored


def test_radius_controls_reference_coverage():
    assert reference_coverage(np.array([0.1, 0.2, 0.3, 0.4]), 0.25) == pytest.approx(0.5)
    ds, _ = scenes([20, 20], seed=7)
    ref, _ = scenes([20, 20], seed=8)
    wide = compute_coverage(ds, ref, radius=2.0, k=2)
    tight = compute_coverage(ds, ref, radius=0.0, k=2)
    assert wide.reference_coverage == 1.0 and wide.radius_source == "given"
    assert tight.reference_coverage == 0.0
    default = compute_coverage(ds, ref, k=2, percentile=100)
    assert default.radius == pytest.approx(float(np.nanmax(default.ds_nn_distance)))
    assert "p100" in default.radius_source


def test_skipped_rows_are_counted_and_left_out():
    ds, _ = scenes([20, 20], seed=9)
    ref, _ = scenes([20, 20], seed=10)
    ds_valid = np.ones(len(ds), dtype=bool)
    ds_valid[:3] = False
    ds = ds.copy()
    ds[:3] = 0.0  # empty texts get zero vectors
    texts = [""] * 3 + [f"t{i}" for i in range(3, len(ds))]
    res = compute_coverage(ds, ref, ds_valid=ds_valid, ds_texts=texts, k=2)
    assert res.n_dataset_skipped == 3 and res.n_dataset == 37
    assert (res.ds_cluster[:3] == -1).all() and (res.ds_cluster[3:] >= 0).all()
    assert np.isnan(res.ds_nn_distance[:3]).all()
    assert sum(c.n_dataset for c in res.clusters) == 37
    assert all(t != "" for c in res.clusters for t in c.dataset_examples)


def test_cluster_table_has_terms_and_examples():
    ds, lab = scenes([15, 15, 0], seed=11)
    ref, rlab = scenes([10, 10, 10], seed=12)
    words = ["flight delay airline", "iphone apple watch", "coachella festival lineup"]
    ds_texts = [f"{words[c]} {i}" for i, c in enumerate(lab)]
    ref_texts = [f"{words[c]} r{i}" for i, c in enumerate(rlab)]
    res = compute_coverage(ds, ref, ds_texts=ds_texts, ref_texts=ref_texts, k=3, n_examples=2)
    gap = [c for c in res.clusters if c.under_covered]
    assert len(gap) == 1
    assert set(gap[0].top_terms[:3]) == {"coachella", "festival", "lineup"}
    assert len(gap[0].reference_examples) == 2 and gap[0].dataset_examples == ()
    assert all("coachella" in t for t in gap[0].reference_examples)


@pytest.mark.parametrize("ds, ref, kwargs, msg", [
    (np.ones((4, 3)), np.zeros((0, 3)), {}, "reference has no rows"),
    (np.ones((1, 3)), np.ones((4, 3)), {}, "at least 2"),
    (np.ones((4, 3)), np.ones((4, 5)), {}, "differ in size"),
    (np.eye(4), np.eye(4), {"radius": 3.0}, "between 0 and 2"),
    (np.eye(4), np.eye(4), {"min_rows": 0}, "at least 1"),
    (np.eye(4), np.eye(4), {"ds_texts": ["a"]}, "1 dataset texts for 4"),
])
def test_bad_input_is_a_clear_error(ds, ref, kwargs, msg):
    with pytest.raises(DataError, match=msg):
        compute_coverage(ds.astype(np.float32), ref.astype(np.float32), k=2, **kwargs)


def test_all_reference_rows_empty():
    with pytest.raises(DataError, match="reference has no rows with text"):
        compute_coverage(np.eye(4, dtype=np.float32), np.zeros((3, 4), np.float32), ref_valid=np.zeros(3, bool), k=2)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=1, max_size=8), st.lists(st.integers(0, 50), min_size=1, max_size=8),
       st.integers(1, 10))
def test_figures_within_bounds(dc, rc, m):
    n = min(len(dc), len(rc))
    dc, rc = dc[:n], rc[:n]
    if sum(rc) == 0:
        with pytest.raises(DataError):
            sample_coverage(dc, rc)
        return
    s = sample_coverage(dc, rc)
    sc = scene_coverage(dc, rc, min_rows=m)
    assert 0.0 <= s <= 1.0 + 1e-12 and 0.0 <= sc <= 1.0
    perm = np.random.default_rng(0).permutation(n)
    assert sample_coverage(np.array(dc)[perm], np.array(rc)[perm]) == pytest.approx(s)


def test_result_invariant_to_reference_row_order():
    ds, _ = scenes([20, 20, 20], seed=13)
    ref, _ = scenes([10, 30, 5], seed=14)
    perm = np.random.default_rng(1).permutation(len(ref))
    a = compute_coverage(ds, ref, k=3)
    b = compute_coverage(ds, ref[perm], k=3)
    assert a.reference_coverage == pytest.approx(b.reference_coverage)
    assert a.scene_coverage == pytest.approx(b.scene_coverage)
    assert a.sample_coverage == pytest.approx(b.sample_coverage)
