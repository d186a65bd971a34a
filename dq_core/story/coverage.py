"""Coverage of the reference and the map: `dq coverage`'s figures (coverage_for_datasets, its defaults) and the
Coverage page's map (its cached UMAP when the page has computed one, else the page's quick PCA view), drawn
from at most MAP_POINTS points (viz/coverage.plot_sample: every side and cluster keeps its share)."""

from __future__ import annotations

import numpy as np

from dq_core.data.dataset import TextDataset

MAP_POINTS = 5_000  # an interactive map that opens fast and keeps the story file small (issue 23)
NO_VECTORS = ("the coverage map and the shift's embedding view need both sides' embeddings: give --embeddings "
              "and --reference-embeddings, or embed DATA and the reference first (`dq embed`, or open the "
              "Coverage page) so the workspace holds them")


def story_embeddings(ds: TextDataset, ref: TextDataset | None, embeddings, workspace) -> tuple[tuple | None, str]:
    """((dataset, reference) EmbeddingResults or None, where they came from). Given vectors win and are never
    mixed with cached ones (another model's space); otherwise both sides from the workspace's embedding cache
    when it already holds them (read only: the story never loads a model for them)."""
    if embeddings is not None and any(e is not None for e in embeddings):
        return embeddings, "given (--embeddings)"
    if workspace is None or ref is None:
        return None, "none"
    from dq_core.space.embed_cache import cached_dataset_embeddings

    pair = (cached_dataset_embeddings(ds, workspace=workspace), cached_dataset_embeddings(ref, workspace=workspace))
    if any(e is None for e in pair):
        return None, "none"
    return pair, f"the workspace's embedding cache ({pair[0].model_name})"


def map_projection(ds_emb, ref_emb, workspace):
    """The Coverage page's map of these vectors: its UMAP when cached on disk (same parameters as the page),
    else the quick PCA view the page shows first; a UMAP fit (a minute or more) is not started here."""
    from dq_core.space.projection import cached_umap, project_pca

    sides = dict(ds_valid=ds_emb.valid, ref_valid=ref_emb.valid)
    proj = cached_umap(ds_emb.vectors, ref_emb.vectors, workspace=workspace, **sides) if workspace else None
    return proj if proj is not None else project_pca(ds_emb.vectors, ref_emb.vectors, **sides)


def coverage_section(ds: TextDataset, ref: TextDataset, ds_emb, ref_emb, *, workspace=None,
                     seed: int = 0) -> tuple[dict, object]:
    """(the section's figures, the map's points). The figures are `dq coverage`'s JSON with its defaults."""
    from dq_core.metrics.coverage import coverage_for_datasets
    from dq_core.viz.coverage import map_frame, plot_sample

    res = coverage_for_datasets(ds, ref, ds_emb, ref_emb, seed=seed, workspace=workspace)
    proj = map_projection(ds_emb, ref_emb, workspace)
    frame = map_frame(ds, ref, proj.ds_xy, proj.ref_xy, coverage=res)
    shown = plot_sample(frame, max_points=MAP_POINTS)
    how = (proj.note if proj.method == "umap" else
           "PCA (the first two principal axes): the Coverage page's UMAP map is used once the page has computed it")
    side = shown["side"].to_numpy()
    return {**res.to_dict(), "scene_count": res.scene_count,
            "map": {"method": proj.method, "how": how, "n_points": len(frame), "n_shown": len(shown),
                    "n_dataset_shown": int(np.sum(side == "dataset")),
                    "n_reference_shown": int(np.sum(side == "reference"))}}, shown
