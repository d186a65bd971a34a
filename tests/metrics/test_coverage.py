"""Coverage figures on constructed embeddings with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dq_core.errors import DataError
from dq_core.metrics.coverage import (
    DEFAULT_MIN_RATIO,
    CoverageResult,
    compute_coverage,
    covered_scenes,
    expected_counts,
    reference_coverage,
    sample_coverage,
    scene_coverage,
    scene_rule,
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
    # N_ds = 80, reference shares 1/4 each -> n* = 20 per scene; covered from 0.5 * 20 = 10 dataset rows.
    # Scene coverage = the reference share of the covered scenes.
    assert covered_scenes([40, 20, 10, 9], [25, 25, 25, 25]).tolist() == [True, True, True, False]
    assert scene_coverage([40, 20, 10, 9], [25, 25, 25, 25]) == pytest.approx(0.75)
    assert scene_coverage([40, 20, 10, 9], [25, 25, 25, 25], min_ratio=1.0) == pytest.approx(0.5)
    # m is an absolute floor on top of the ratio
    assert scene_coverage([40, 20, 10, 9], [25, 25, 25, 25], min_rows=15) == pytest.approx(0.5)
    # Reference-less clusters are no scene (neither covered nor counted): N_ds = 14, n* = 7 for the two.
    assert covered_scenes([10, 4, 0], [0, 1, 1]).tolist() == [False, True, False]
    assert scene_coverage([10, 4, 0], [0, 1, 1]) == pytest.approx(0.5)
    # The case: 15 dataset rows in a scene holding 2,463 of 2,473 reference rows is not covered
    # (an absolute m = 5 called it covered).
    assert covered_scenes([15, 3000], [2463, 10]).tolist() == [False, True]
    assert scene_coverage([15, 3000], [2463, 10]) == pytest.approx(10 / 2473)
    # uneven reference shares weigh the scenes: (w = .1, .3, .6; n* = 10, 30, 60 of N_ds = 100)
    assert scene_coverage([60, 40, 0], [10, 30, 60]) == pytest.approx(0.4)
    assert DEFAULT_MIN_RATIO == 0.5


def test_scene_rule_in_words():
    rule = scene_rule()
    assert "covered" in rule and "under-covered" in rule and "0.5" in rule and "reference's mix" in rule
    assert "at least 5 dataset rows" in scene_rule(min_ratio=0.8, min_rows=5) and "0.8" in scene_rule(min_ratio=0.8)


def test_scene_count_agrees_with_its_number():
    """It read "1 of 5 scenes are covered"."""
    from dataclasses import replace

    ref, _ = scenes([10, 10, 10, 10, 10], seed=4)
    one, _ = scenes([25, 0, 0, 0, 0], seed=3)
    res = compute_coverage(one, ref, k=5, min_rows=5, radius=0.5)
    assert (res.n_scenes_covered, res.n_scenes) == (1, 5)
    assert res.scene_count == "1 of 5 scenes is covered"
    four, _ = scenes([25, 25, 25, 25, 0], seed=3)
    assert compute_coverage(four, ref, k=5, min_rows=5, radius=0.5).scene_count == "4 of 5 scenes are covered"
    covered = next(c for c in res.clusters if c.covered)
    assert replace(res, clusters=(covered,)).scene_count == "1 of 1 scene is covered"
    assert replace(res, clusters=(replace(covered, covered=False),)).scene_count == "0 of 1 scene is covered"


def blob_set(centres: np.ndarray, sizes: list[int], seed: int, noise: float = 0.15) -> np.ndarray:
    """Gaussian blobs around ``centres`` (unit vectors), ``sizes[i]`` rows each, L2-normalised."""
    rng = np.random.default_rng(seed)
    idx = np.repeat(np.arange(len(sizes)), sizes)
    return unit(centres[idx] + rng.normal(scale=noise / np.sqrt(centres.shape[1]), size=(len(idx), centres.shape[1])))


def random_centres(n: int, dim: int, seed: int) -> np.ndarray:
    return unit(np.random.default_rng(seed).normal(size=(n, dim)))


def test_two_unrelated_corpora_read_low_even_with_strays():
    """Known answer: two sets of well-separated blobs (two domains) -> scene coverage near 0.

    The dataset holds 10 stray rows in each of the reference's scenes (as BBC news held 15 rows in a
    movie-review cluster): an absolute "5 dataset rows" rule would read this pair 1.000. The reference holds
    5 stray rows in each of the dataset's scenes: counted one scene each, they would read 0.5.
    """
    centres = random_centres(12, 32, seed=20)
    ds = np.vstack([blob_set(centres[:6], [490] * 6, seed=21), blob_set(centres[6:], [10] * 6, seed=22)])
    ref = np.vstack([blob_set(centres[6:], [500] * 6, seed=23), blob_set(centres[:6], [5] * 6, seed=24)])
    res = compute_coverage(ds, ref, k=12, radius=0.5)
    dc = np.array([c.n_dataset for c in res.clusters])
    rc = np.array([c.n_reference for c in res.clusters])
    assert sorted(zip(dc.tolist(), rc.tolist(), strict=True)) == [(10, 500)] * 6 + [(490, 5)] * 6
    assert np.mean(dc[rc > 0] >= 5) == 1.0  # a "5 dataset rows" rule: every reference scene "covered"
    assert res.n_scenes == 12 and res.n_scenes_covered == 6  # the stray scenes, unweighted: 0.5
    assert res.scene_coverage == pytest.approx(30 / 3030)
    assert res.sample_coverage < 0.05
    assert sorted(res.under_covered_clusters) == sorted(np.flatnonzero(rc == 500).tolist())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_halves_of_one_corpus_read_high(seed):
    """Known answer: one set of blobs (uneven sizes) shuffled and split in two -> scene coverage near 1.

    Sampling noise can push the smallest scene of a random split under the ratio (seed 2: 12 against 28
    rows of a 40-row blob), so one of eight scenes may read under-covered.
    """
    centres = random_centres(8, 32, seed=30 + seed)
    x = blob_set(centres, [200, 150, 120, 100, 80, 60, 50, 40], seed=31 + seed)
    perm = np.random.default_rng(seed).permutation(len(x))
    half = len(x) // 2
    res = compute_coverage(x[perm[:half]], x[perm[half:]])  # k chosen by silhouette
    assert res.scene_coverage >= 0.85
    assert res.sample_coverage >= 0.85
    assert len(res.under_covered_clusters) <= 1


def test_covered_and_under_covered_are_complements():
    centres = random_centres(6, 16, seed=40)
    ds = blob_set(centres, [100, 80, 5, 30, 0, 60], seed=41)
    ref = blob_set(centres, [50, 10, 40, 40, 30, 0], seed=42)
    res = compute_coverage(ds, ref, k=6)
    for c in res.clusters:
        if c.n_reference:
            assert c.covered != c.under_covered
            assert c.covered == (c.coverage_ratio >= DEFAULT_MIN_RATIO)
        else:
            assert not c.covered and not c.under_covered
    assert res.scene_coverage == pytest.approx(sum(c.reference_share for c in res.clusters if c.covered))
    assert 0 < res.n_scenes_covered < res.n_scenes == sum(1 for c in res.clusters if c.n_reference)
    d = res.to_dict()
    assert d["scene_rule"] == scene_rule() and d["min_ratio"] == DEFAULT_MIN_RATIO
    assert d["n_scenes"] == res.n_scenes and d["n_scenes_covered"] == res.n_scenes_covered
    assert res.scene_coverage == pytest.approx(scene_coverage([c.n_dataset for c in res.clusters],
                                                              [c.n_reference for c in res.clusters]))


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
    (np.eye(4), np.eye(4), {"min_ratio": 0.0}, "must be above 0"),
    (np.eye(4), np.eye(4), {"min_ratio": float("nan")}, "must be above 0"),
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
    # every covered scene holds at least half its expected rows: sample coverage >= half their weight
    cov = covered_scenes(dc, rc, min_rows=m)
    w = np.array(rc) / sum(rc)
    assert s >= DEFAULT_MIN_RATIO * w[cov].sum() - 1e-9
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
