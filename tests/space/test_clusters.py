"""Joint clustering and distinguishing terms on constructed data with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.space.clusters import (
    PCA_DIM,
    JointClusters,
    _normalise,
    _reduce,
    cluster_joint,
    k_grid,
    top_terms,
    top_terms_by_cluster,
)


def blobs(n_per: int, centers: np.ndarray, seed: int, scale: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(len(centers)), n_per)
    x = centers[truth] + rng.normal(scale=scale, size=(len(truth), centers.shape[1]))
    return x.astype(np.float32), truth


@pytest.fixture
def centers() -> np.ndarray:
    return np.random.default_rng(42).normal(size=(6, 32))


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """True when two labelings group the rows identically (up to renaming)."""
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def test_recovers_well_separated_clusters_with_automatic_k(centers):
    ds, ds_truth = blobs(60, centers, seed=1)
    ref, ref_truth = blobs(40, centers, seed=2)
    res = cluster_joint(ds, ref, seed=0)
    assert isinstance(res, JointClusters)
    assert res.k == 6 and res.method == "silhouette"
    assert same_partition(np.r_[res.ds_labels, res.ref_labels], np.r_[ds_truth, ref_truth])
    assert res.ds_labels.shape == (360,) and res.ref_labels.shape == (240,)
    assert res.centroids.shape == (6, 32)
    assert np.allclose(np.linalg.norm(res.centroids, axis=1), 1.0, atol=1e-5)
    d = res.to_dict()
    assert d["k"] == 6 and sum(d["ds_counts"]) == 360 and sum(d["ref_counts"]) == 240
    assert "silhouette" in d["how_k_chosen"]


def test_given_k_deterministic_and_sorted_by_size(centers):
    ds, _ = blobs(50, centers, seed=3)
    ref, _ = blobs(50, centers[:3], seed=4)
    a = cluster_joint(ds, ref, k=4, seed=7)
    b = cluster_joint(ds, ref, k=4, seed=7)
    assert a.k == 4 and a.method == "given" and a.to_dict()["silhouette_by_k"] == {}
    assert np.array_equal(a.ds_labels, b.ds_labels) and np.array_equal(a.ref_labels, b.ref_labels)
    total = a.ds_counts + a.ref_counts
    assert list(total) == sorted(total, reverse=True)


def test_workspace_cache_returns_same_result(centers, tmp_path):
    ws = Workspace(tmp_path / "ws")
    ds, _ = blobs(30, centers, seed=5)
    ref, _ = blobs(30, centers, seed=6)
    first = cluster_joint(ds, ref, workspace=ws)
    assert list((tmp_path / "ws" / "cache" / "clusters").glob("*-labels.npy"))
    again = cluster_joint(ds, ref, workspace=ws)
    assert again.k == first.k and again.scores == first.scores
    assert np.array_equal(again.ds_labels, first.ds_labels)


def test_row_order_does_not_change_grouping(centers):
    ds, truth = blobs(40, centers, seed=8)
    ref, _ = blobs(40, centers, seed=9)
    perm = np.random.default_rng(0).permutation(len(ds))
    a = cluster_joint(ds, ref, k=6)
    b = cluster_joint(ds[perm], ref, k=6)
    assert same_partition(a.ds_labels[perm], b.ds_labels)


def test_wide_embeddings_go_through_pca_first():
    """Past PCA_DIM dimensions the vectors are reduced before k-means: the blobs are still recovered, and
    the reduced axes are the principal ones, each with a fixed sign."""
    centers = np.random.default_rng(7).normal(size=(5, 128))
    ds, ds_truth = blobs(40, centers, seed=10)
    ref, ref_truth = blobs(30, centers, seed=11)
    res = cluster_joint(ds, ref, seed=0)
    assert res.k == 5 and same_partition(np.r_[res.ds_labels, res.ref_labels], np.r_[ds_truth, ref_truth])
    x = _normalise(np.vstack([ds, ref]))
    z = _reduce(x, seed=0)
    assert z.shape == (350, PCA_DIM) and z.dtype == np.float32
    assert np.array_equal(z, _reduce(x, seed=0))
    var = z.var(axis=0)
    assert np.all(np.diff(var) <= 1e-6)  # descending variance: the top principal axes, in order
    # z = (x - mean) @ axes, so the axes come back from z by least squares; the largest loading is positive
    axes = np.linalg.lstsq(x - x.mean(axis=0), z, rcond=None)[0]
    assert np.all(axes[np.abs(axes).argmax(axis=0), np.arange(PCA_DIM)] > 0)


@pytest.mark.parametrize("ds, ref, k, msg", [
    (np.zeros((0, 4)), np.ones((3, 4)), None, "dataset has no embedded rows"),
    (np.ones((3, 4)), np.zeros((0, 4)), None, "reference has no embedded rows"),
    (np.ones((3, 4)), np.ones((3, 5)), None, "differ in size"),
    (np.ones((3, 4)), np.ones((3, 4)), 1, "at least 2"),
    (np.ones((3, 4)), np.ones((3, 4)), 10, "only 6 rows"),
])
def test_bad_input(ds, ref, k, msg):
    with pytest.raises(DataError, match=msg):
        cluster_joint(ds, ref, k=k)


def test_k_grid_bounds():
    assert k_grid(100) == [4, 5, 6]
    assert max(k_grid(100_000)) <= 30
    assert all(k >= 2 for k in k_grid(6))


def test_top_terms_distinguish_a_cluster():
    apple = ["I love my new iPhone #apple", "the apple watch battery is great", "iphone update broke my apps"]
    air = ["flight delayed again @united", "lost my bag on the flight", "the airline crew was kind"]
    terms = top_terms(apple, apple + air, 4)
    assert terms and set(terms) <= {"#apple", "apple", "iphone", "love", "watch", "battery", "great", "update",
                                    "broke", "apps", "new"}
    assert "iphone" in terms
    assert "flight" not in terms
    assert top_terms([], ["", None], 3) == []


def test_top_terms_by_cluster_matches_topics():
    texts = ["flight delayed", "flight cancelled again", "my flight was late", "coachella lineup", "coachella tickets sold out",
             "going to coachella"]
    labels = np.array([0, 0, 0, 1, 1, 1])
    out = top_terms_by_cluster(texts, labels, 2)
    assert out[0][0] == "flight" and out[1][0] == "coachella"
    with pytest.raises(DataError):
        top_terms_by_cluster(texts, labels[:2])


def test_float16_memmap_input_clusters_like_float32(centers, tmp_path):
    # the 1M-row path: float16 vectors on disk are cast block by block, never copied whole
    ds, ref = blobs(20, centers, seed=5)[0], blobs(10, centers, seed=6)[0]
    path = tmp_path / "ds.npy"
    np.save(path, ds.astype(np.float16))
    mm = np.load(path, mmap_mode="r")
    a = cluster_joint(mm, ref, k=4, seed=0)
    b = cluster_joint(np.asarray(mm, dtype=np.float32), ref, k=4, seed=0)
    assert np.array_equal(a.ds_labels, b.ds_labels) and np.array_equal(a.ref_labels, b.ref_labels)
    np.testing.assert_array_equal(a.centroids, b.centroids)
