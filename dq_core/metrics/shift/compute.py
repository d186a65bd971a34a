"""compute_shift: every view of a dataset (P) against a reference (Q), plus the domain classifier."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

import dq_core.metrics.shift.views as sv
from dq_core.data.dataset import TextDataset
from dq_core.errors import DataError
from dq_core.metrics.shift.config import ShiftConfig
from dq_core.metrics.shift.domain import DomainClassifierResult, classify_domains
from dq_core.metrics.shift.resampling import compute_view_stats
from dq_core.metrics.shift.results import ShiftResult, ShiftView, skipped_view
from dq_core.util.fingerprint import array_fingerprint
from dq_core.util.progress import Progress

STANDARD_VIEWS = {"label": "Labels", "length": "Text length (words)", "vocabulary": "Vocabulary (word unigrams)",
                  "embedding_clusters": "Embedding clusters"}


def compute_shift(ds: TextDataset, ref: TextDataset, *, config: ShiftConfig | None = None,
                  ds_embeddings=None, ref_embeddings=None, metadata: Sequence[str] = (),
                  workspace=None, clusters=None, progress: Progress | None = None) -> ShiftResult:
    """All views of ``ds`` (P) against ``ref`` (Q), plus the domain classifier.

    ``ds_embeddings``/``ref_embeddings`` are :class:`dq_core.space.embed.EmbeddingResult` (or anything with
    ``vectors`` and ``valid``); without them the embedding-cluster view and the domain classifier are
    skipped with a note. ``clusters`` (a :class:`dq_core.space.clusters.JointClusters` over the valid rows)
    is computed with :func:`dq_core.space.clusters.cluster_joint` when not given, cached in ``workspace``.
    """
    config = config or ShiftConfig()
    say = progress or (lambda _msg: None)
    if len(ds) == 0 or len(ref) == 0:
        raise DataError(f"the {'dataset' if len(ds) == 0 else 'reference'} has no rows; shift needs rows "
                        "on both sides")
    views: dict[str, ShiftView] = {}

    def run(name: str, title: str, build: Callable[[], sv.ViewData]) -> None:
        say(f"{title}…")
        try:
            data = build()
        except sv.ViewSkipped as exc:
            views[name] = skipped_view(name, title, str(exc), config)
            return
        views[name] = compute_view_stats(data, config)

    run("label", STANDARD_VIEWS["label"], lambda: sv.label_view(ds, ref))
    run("length", STANDARD_VIEWS["length"], lambda: sv.length_view(ds, ref, n_bins=config.length_bins))
    run("vocabulary", STANDARD_VIEWS["vocabulary"],
        lambda: sv.vocabulary_view(ds, ref, vocab_size=config.vocab_size, stop_words=config.stop_words))
    if ds_embeddings is None or ref_embeddings is None:
        reason = "no embeddings were given, so the embedding-cluster view is skipped"
        views["embedding_clusters"] = skipped_view("embedding_clusters", STANDARD_VIEWS["embedding_clusters"],
                                                   reason, config)
        domain = DomainClassifierResult(auc=None, skipped="no embeddings were given, so the domain "
                                        "classifier is skipped")
        cluster_info = None
    else:
        domain, cluster_info = _embedding_views(ds, ref, ds_embeddings, ref_embeddings, run, say, config=config,
                                                clusters=clusters, workspace=workspace)
    for col in dict.fromkeys(metadata):
        name = f"metadata:{col}"
        run(name, f"Metadata: {col}", lambda c=col: sv.metadata_view(
            ds, ref, c, max_categories=config.max_categories, n_bins=config.length_bins))
    return ShiftResult(views=views, domain_classifier=domain, config=config, n_dataset=len(ds),
                       n_reference=len(ref), clusters=cluster_info, notes=())


def _embedding_views(ds: TextDataset, ref: TextDataset, ds_embeddings, ref_embeddings,
                     run: Callable[[str, str, Callable[[], sv.ViewData]], None], say: Progress, *,
                     config: ShiftConfig, clusters, workspace) -> tuple[DomainClassifierResult, dict | None]:
    """The views that read the embeddings: the embedding-cluster view (through ``run``, as every view) and
    the domain classifier. Returns (the domain classifier, the clustering the view used: None when skipped)."""
    vp_mask = np.asarray(ds_embeddings.valid, dtype=bool)
    vq_mask = np.asarray(ref_embeddings.valid, dtype=bool)
    if len(vp_mask) != len(ds) or len(vq_mask) != len(ref):
        raise DataError("the embeddings do not match the rows (different lengths); embed the datasets again")
    xp = np.asarray(ds_embeddings.vectors)[vp_mask]
    xq = np.asarray(ref_embeddings.vectors)[vq_mask]
    emb_notes = [*sv.missing_note(int((~vp_mask).sum()), "dataset", "text to embed"),
                 *sv.missing_note(int((~vq_mask).sum()), "reference", "text to embed")]
    rows_p = ds.frame.loc[vp_mask, ["row_id", "text"]].reset_index(drop=True)
    rows_q = ref.frame.loc[vq_mask, ["row_id", "text"]].reset_index(drop=True)
    cluster_info = None

    def build_clusters() -> sv.ViewData:
        nonlocal cluster_info
        jc = clusters if clusters is not None else _joint_clusters(xp, xq, config, workspace)
        if len(jc.ds_labels) != len(xp) or len(jc.ref_labels) != len(xq):
            raise DataError("the clusters do not match the embedded rows; cluster the same embeddings")
        how = getattr(jc, "how_k_chosen", f"k={jc.k}")
        cluster_info = {"k": int(jc.k), "how_k_chosen": how, "seed": int(getattr(jc, "seed", 0))}
        info = _cluster_bin_info(jc, xp, xq, rows_p, rows_q, config, workspace=workspace,
                                 cache_key=(ds.fingerprint, ref.fingerprint))
        return sv.cluster_view(jc.ds_labels, jc.ref_labels, jc.k, bin_info=info,
                               notes=(f"clusters of both sets' embeddings together ({how}); ids match "
                                      "the coverage map's clusters", *emb_notes))

    run("embedding_clusters", STANDARD_VIEWS["embedding_clusters"], build_clusters)
    say("Domain classifier…")
    domain = classify_domains(xp, xq, ds_rows=rows_p, ref_rows=rows_q, folds=config.domain_folds,
                              max_rows=config.domain_max_rows, seed=config.seed, n_examples=config.n_examples)
    return domain, cluster_info


def _joint_clusters(xp: np.ndarray, xq: np.ndarray, config: ShiftConfig, workspace):
    """Both sides' embedded rows clustered together; ViewSkipped when a side has none or clustering fails."""
    if len(xp) == 0 or len(xq) == 0:
        raise sv.ViewSkipped(f"the {'dataset' if len(xp) == 0 else 'reference'} has no embedded "
                             "rows, so the embedding-cluster view is skipped")
    from dq_core.space.clusters import cluster_joint

    try:
        return cluster_joint(xp, xq, k=config.n_clusters, seed=config.cluster_seed, workspace=workspace)
    except DataError as exc:
        raise sv.ViewSkipped(f"the embedding-cluster view is skipped: {exc}") from None


def _cluster_terms(jc, rows_p: pd.DataFrame, rows_q: pd.DataFrame, workspace, cache_key) -> dict[int, list[str]]:
    """top_terms_by_cluster over both sets (the coverage table's terms), cached per data + clustering."""
    from dq_core.space.clusters import top_terms_by_cluster

    labels = np.r_[jc.ds_labels, jc.ref_labels].astype(np.int64)
    key = None
    if workspace is not None and cache_key is not None:
        from dq_core.data.workspace import config_key

        key = config_key("shift_cluster_terms", *cache_key, int(jc.k), array_fingerprint(labels))
        hit = workspace.load_json("shift_cluster_terms", key)
        if hit is not None:
            return {int(c): list(w) for c, w in hit.items()}
    texts = pd.concat([rows_p["text"], rows_q["text"]], ignore_index=True).fillna("").tolist()
    terms = top_terms_by_cluster(texts, labels, n=6)
    if key is not None:
        workspace.save_json("shift_cluster_terms", key, {str(c): w for c, w in terms.items()})
    return terms


def _cluster_bin_info(jc, xp: np.ndarray, xq: np.ndarray, rows_p: pd.DataFrame, rows_q: pd.DataFrame,
                      config: ShiftConfig, *, workspace=None, cache_key=None) -> dict[str, dict]:
    """Per cluster: distinguishing terms (as on the coverage page) and the texts nearest its centre."""
    info: dict[str, dict] = {sv.cluster_name(c): {} for c in range(jc.k)}
    if config.cluster_terms:
        terms = _cluster_terms(jc, rows_p, rows_q, workspace, cache_key)
        for c, words in terms.items():
            info[sv.cluster_name(c)]["top_terms"] = ", ".join(words)
    cents = np.asarray(jc.centroids, dtype=np.float32)
    for side, x, labels, rows in (("dataset", xp, jc.ds_labels, rows_p), ("reference", xq, jc.ref_labels, rows_q)):
        if not len(x):
            continue
        sim = np.einsum("ij,ij->i", x, cents[labels])
        order = np.lexsort((-sim, labels))  # by cluster, nearest to its centre first
        lab_sorted = labels[order]
        starts = np.searchsorted(lab_sorted, np.arange(jc.k))
        ends = np.searchsorted(lab_sorted, np.arange(jc.k), side="right")
        texts = rows["text"].fillna("").astype(str).to_numpy()
        for c in range(jc.k):
            picks = order[starts[c]:min(ends[c], starts[c] + 2)]
            info[sv.cluster_name(c)][f"{side}_examples"] = " | ".join(t[:160] for t in texts[picks])
    return info
