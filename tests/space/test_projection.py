"""2-D maps (PCA, UMAP with a fit sample + placement, disk cache), plot sampling, and the map figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dq_app.ui.map_selection import selected_positions
from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.space import projection as pj
from dq_core.util.sampling import stratified_sample
from dq_core.viz import coverage as vc


def blobs(n_per: int, seed: int, dim: int = 16) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(3), n_per)
    x = np.eye(dim)[labels * 3] + rng.normal(scale=0.05, size=(len(labels), dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), labels


def separated(xy: np.ndarray, labels: np.ndarray) -> bool:
    """Every blob's points are nearer their own centre than any other blob's centre."""
    centres = np.stack([xy[labels == c].mean(axis=0) for c in np.unique(labels)])
    d = np.linalg.norm(xy[:, None, :] - centres[None], axis=2)
    return bool((d.argmin(axis=1) == labels).mean() > 0.95)


def test_pca_view_keeps_rows_and_marks_missing_ones():
    ds, _ = blobs(20, 0)
    ref, _ = blobs(10, 1)
    valid = np.ones(len(ds), bool)
    valid[0] = False
    p = pj.project_pca(ds, ref, ds_valid=valid)
    assert p.method == "pca" and p.ds_xy.shape == (60, 2) and p.ref_xy.shape == (30, 2)
    assert np.isnan(p.ds_xy[0]).all() and np.isfinite(p.ds_xy[1:]).all()
    assert "PCA" in p.note


def test_umap_fits_a_sample_places_the_rest_and_is_cached(tmp_path):
    ws = Workspace(tmp_path / "ws")
    ds, dl = blobs(60, 2)
    ref, rl = blobs(40, 3)
    p = pj.project_umap(ds, ref, workspace=ws, fit_sample=120, n_neighbors=10)
    assert p.method == "umap" and not p.cached
    assert p.n_fit == 120 and p.n_transformed == 180
    assert "fitted on a stratified sample of 120 rows" in p.note
    xy = np.vstack([p.ds_xy, p.ref_xy])
    assert np.isfinite(xy).all()
    assert separated(xy, np.r_[dl, rl])
    again = pj.project_umap(ds, ref, workspace=ws, fit_sample=120, n_neighbors=10)
    assert again.cached and np.array_equal(again.ds_xy, p.ds_xy)
    assert pj.cached_umap(ds, ref, workspace=ws, fit_sample=120, n_neighbors=10) is not None
    assert pj.cached_umap(ds, ref, workspace=ws, fit_sample=121, n_neighbors=10) is None


def test_warm_up_is_idempotent():
    pj.warm_umap()
    assert pj.warm_state()["state"] == "warm"
    assert pj.warm_umap() == 0.0
    assert pj.warm_umap_in_background() is None


def test_umap_bad_input():
    with pytest.raises(DataError, match="at least 4"):
        pj.project_umap(np.eye(2, dtype=np.float32), np.zeros((0, 2), np.float32))
    with pytest.raises(DataError, match="differ in size"):
        pj.project_pca(np.eye(3, dtype=np.float32), np.eye(4, dtype=np.float32))


def test_stratified_sample_keeps_every_group_in_proportion():
    groups = np.array(["a"] * 9000 + ["b"] * 900 + ["c"] * 3)
    keep = stratified_sample(groups, 1000, rng=0)
    assert len(keep) <= 1000 + 3 and np.all(np.diff(keep) > 0)
    counts = pd.Series(groups[keep]).value_counts()
    assert counts["c"] >= 1 and counts["a"] == pytest.approx(909, abs=2) and counts["b"] == pytest.approx(90, abs=2)
    assert np.array_equal(stratified_sample(groups[:50], 1000), np.arange(50))


def _frame(n_ds: int = 6, n_ref: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = n_ds + n_ref
    return pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n),
                         "side": ["dataset"] * n_ds + ["reference"] * n_ref, "row_id": list(range(n_ds)) + list(range(n_ref)),
                         "label": ["pos", "neg"] * (n // 2), "text": [f"text <{i}>" for i in range(n)],
                         "cluster": [0, 1] * (n // 2), "under_covered": [False, True] * (n // 2),
                         "confidence": np.linspace(0, 1, n)})


def test_map_figure_points_carry_their_frame_position():
    frame = _frame()
    fig = vc.coverage_map(frame, color="dataset vs reference")
    rows = [tr for tr in fig.data if tr.customdata is not None]
    positions = sorted(int(c[0]) for tr in rows for c in tr.customdata)
    assert positions == list(range(len(frame)))
    assert all(tr.type == "scattergl" for tr in fig.data)
    assert any(tr.name == "under-covered (reference rows)" and tr.hoverinfo == "skip" for tr in fig.data)
    assert all("&lt;" in t for tr in rows for t in tr.hovertext)  # texts are escaped, never HTML
    assert [a.text for a in fig.layout.annotations] == ["C0", "<b>C1</b>"]
    numeric = vc.coverage_map(frame, color="confidence", highlight_under=False)
    assert any(tr.marker.showscale for tr in numeric.data)
    assert vc.color_options(frame)[:4] == ["dataset vs reference", "label", "cluster", "under-covered clusters"]
    assert "confidence" in vc.color_options(frame)


def test_selected_positions_from_a_selection_event():
    sel = {"points": [{"customdata": [3, 0, 1]}, {"customdata": 5}, {"customdata": [3, 0, 1]}, {"x": 1}],
           "point_indices": [0, 1]}
    assert selected_positions(sel).tolist() == [3, 5]
    assert selected_positions(None).tolist() == []
    assert selected_positions({"points": []}).tolist() == []
