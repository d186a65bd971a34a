"""The coverage page's work: cached embeddings, the background UMAP task, memoised coverage.

The embeddings themselves come from ui.embedding_task (one task shared with the other pages).

Everything here calls dq_core; nothing computes a number itself. Keys are content fingerprints, so a
different dataset or reference never reads another's results.
"""

from __future__ import annotations

import streamlit as st

from dq_app.ui import tasks
from dq_core import settings
from dq_core.data.dataset import TextDataset
from dq_core.data.workspace import Workspace
from dq_core.metrics.coverage import (
    DEFAULT_MIN_ROWS,
    DEFAULT_PERCENTILE,
    CoverageResult,
    coverage_for_datasets,
)
from dq_core.space.embed_cache import EmbeddingResult, cached_dataset_embeddings
from dq_core.space.embed_pair import pair_key
from dq_core.space.projection import Projection, cached_umap, project_pca, project_umap
from dq_core.util.progress import fraction


def map_method() -> str:
    """``DQ_MAP_METHOD``: "umap", or "pca" to skip UMAP (e.g. on very slow machines)."""
    return settings.get("DQ_MAP_METHOD")


@st.cache_resource(max_entries=8, show_spinner=False)
def _cached_embeddings(root: str, fp: str, _ds: TextDataset) -> EmbeddingResult | None:
    return cached_dataset_embeddings(_ds, workspace=Workspace(__import__("pathlib").Path(root)))


def embeddings(ds: TextDataset, ws: Workspace) -> EmbeddingResult | None:
    """The dataset's embeddings if they are on disk (memoised per server process), else None."""
    res = _cached_embeddings(str(ws.root), ds.fingerprint, ds)
    if res is None:
        _cached_embeddings.clear()  # do not remember the miss: the background task is about to fill it
    return res


def _map(task: tasks.Task, ds_emb: EmbeddingResult, ref_emb: EmbeddingResult | None, ws: Workspace) -> Projection:
    """The UMAP map of cached embeddings (cached on disk by project_umap)."""
    import numpy as np

    ref_v = ref_emb.vectors if ref_emb is not None else np.zeros((0, ds_emb.vectors.shape[1]), np.float32)

    def progress(phase: str, done: float | None = None, total: float = 1.0) -> None:
        task.report(fraction(done or 0.0, total), f"Map: {phase}", phase="map")

    proj = project_umap(ds_emb.vectors, ref_v, ds_valid=ds_emb.valid,
                        ref_valid=ref_emb.valid if ref_emb is not None else None, workspace=ws, progress=progress)
    task.publish("projection", proj)
    return proj


def _map_key(ds: TextDataset, ref: TextDataset | None, ws: Workspace) -> str:
    return f"map:{ws.root}:{pair_key(ds, ref)}"  # per workspace: another one has its own cached map


def start_map(ds: TextDataset, ref: TextDataset | None, ws: Workspace, ds_emb: EmbeddingResult,
              ref_emb: EmbeddingResult | None) -> tasks.Task:
    return tasks.submit(_map_key(ds, ref, ws), "UMAP map", _map, ds_emb, ref_emb, ws)


def map_task(ds: TextDataset, ref: TextDataset | None, ws: Workspace) -> tasks.Task | None:
    return tasks.get(_map_key(ds, ref, ws))


def forget_map(ds: TextDataset, ref: TextDataset | None, ws: Workspace) -> None:
    tasks.forget(_map_key(ds, ref, ws))


@st.cache_resource(max_entries=8, show_spinner=False)
def pca(key: str, _ds_emb: EmbeddingResult, _ref_emb: EmbeddingResult | None) -> Projection:
    import numpy as np

    ref_v = _ref_emb.vectors if _ref_emb is not None else np.zeros((0, _ds_emb.vectors.shape[1]), np.float32)
    return project_pca(_ds_emb.vectors, ref_v, ds_valid=_ds_emb.valid,
                       ref_valid=_ref_emb.valid if _ref_emb is not None else None)


@st.cache_resource(max_entries=8, show_spinner=False)
def _umap_from_disk(key: str, root: str, _ds_emb: EmbeddingResult, _ref_emb: EmbeddingResult | None) -> Projection | None:
    import numpy as np

    ref_v = _ref_emb.vectors if _ref_emb is not None else np.zeros((0, _ds_emb.vectors.shape[1]), np.float32)
    return cached_umap(_ds_emb.vectors, ref_v, workspace=Workspace(__import__("pathlib").Path(root)),
                       ds_valid=_ds_emb.valid, ref_valid=_ref_emb.valid if _ref_emb is not None else None)


def umap(key: str, ws: Workspace, ds_emb: EmbeddingResult, ref_emb: EmbeddingResult | None) -> Projection | None:
    """The UMAP map if computed (in this process or on disk), else None."""
    res = _umap_from_disk(key, str(ws.root), ds_emb, ref_emb)
    if res is None:
        _umap_from_disk.clear()
    return res


@st.cache_resource(max_entries=24, show_spinner=False)
def coverage(key: str, radius: float | None, percentile: float, min_rows: int, k: int | None, seed: int, root: str,
             _ds: TextDataset, _ref: TextDataset, _ds_emb: EmbeddingResult, _ref_emb: EmbeddingResult) -> CoverageResult:
    """Coverage for these parameters (scenes covered by the coverage-ratio rule, m an absolute floor on
    top; see dq_core.metrics.coverage.scene_rule). Clusters and their terms come from the (k, seed) base
    result, so moving the radius or m re-counts nothing."""
    ws = Workspace(__import__("pathlib").Path(root))
    base = None
    if (radius, percentile, min_rows) != (None, DEFAULT_PERCENTILE, DEFAULT_MIN_ROWS):
        base = coverage(key, None, DEFAULT_PERCENTILE, DEFAULT_MIN_ROWS, k, seed, root, _ds, _ref, _ds_emb, _ref_emb)
    return coverage_for_datasets(_ds, _ref, _ds_emb, _ref_emb, radius=radius, percentile=percentile,
                                 min_rows=min_rows, k=k, seed=seed, workspace=ws,
                                 clusters=base.joint if base is not None else None,
                                 terms=base.terms if base is not None else None)


@st.cache_resource(max_entries=16, show_spinner=False)
def map_view(key: str, proj_tag: str, res_tag: str, color: str, highlight: bool, _ds: TextDataset,
             _ref: TextDataset | None, _proj: Projection, _res: CoverageResult | None):
    """(plotted frame, figure, points before sampling) for one map setting, memoised: building the
    WebGL figure of ~40k points costs ~1 s, and a later visit or a rerun redraws the same one."""
    from dq_core.viz import coverage as vc

    frame = vc.map_frame(_ds, _ref, _proj.ds_xy, _proj.ref_xy if _ref is not None else None, coverage=_res)
    shown = vc.plot_sample(frame)
    if color not in vc.color_options(shown):
        color = "dataset vs reference"
    return shown, vc.coverage_map(shown, color=color, highlight_under=highlight), len(frame)


def color_options(key: str, proj_tag: str, res_tag: str, _ds, _ref, _proj, _res) -> list[str]:
    from dq_core.viz import coverage as vc

    shown, _, _ = map_view(key, proj_tag, res_tag, "dataset vs reference", True, _ds, _ref, _proj, _res)
    return vc.color_options(shown)
