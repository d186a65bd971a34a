"""Views for distribution shift: pairs of histograms on shared bins, dataset (P) vs reference (Q).

A view knows its bins, the counts on each side and how to resample them (a sampler from
:mod:`dq_core.metrics.shift.samplers`), so the statistics in :mod:`dq_core.metrics.shift.resampling`
never look at rows. One builder per view: label, text length, vocabulary, embedding clusters, metadata.

Builders raise :class:`ViewSkipped` with a sentence for the user when a view cannot be formed (no labels
in the reference, no words at all, a metadata column missing on one side).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dq_core.data.dataset import TextDataset
from dq_core.errors import DataError
from dq_core.metrics.shift.samplers import CountSampler, RowMatrixSampler, Sampler
from dq_core.util.text import word_counts

MISSING = "(missing)"
OTHER = "(other)"
OTHER_WORDS = "(other words)"


class ViewSkipped(DataError):
    """A view that cannot be computed on these inputs; the message says why (shown as a note)."""


@dataclass(frozen=True, eq=False)
class ViewData:
    """One view's bins and resampler, before any statistic is computed."""

    name: str  # key in ShiftResult.views: label, length, vocabulary, embedding_clusters, metadata:<col>
    title: str
    bins: tuple[str, ...]
    sampler: Sampler
    ordered: bool = False  # bins have a natural order (length ranges): plot them in that order
    notes: tuple[str, ...] = ()
    bin_info: dict[str, dict] = field(default_factory=dict)  # per bin: top terms, examples, ...


# --------------------------------------------------------------------------- helpers

def _codes(values_p: pd.Series, values_q: pd.Series, *, max_bins: int | None = None,
           other: str = OTHER) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Shared bins of two categorical series, most frequent (pooled) first, ties by name.

    With ``max_bins`` the rarest categories are merged into one ``other`` bin.
    """
    cp = values_p.value_counts()
    cq = values_q.value_counts()
    pooled = cp.add(cq, fill_value=0)
    order = sorted(pooled.index, key=lambda c: (-pooled[c], str(c)))
    if max_bins is not None and len(order) > max_bins:
        keep = order[: max_bins - 1]
        merged = set(order[max_bins - 1:])
        order = [*keep, other]
        cp = _merge(cp, merged, other)
        cq = _merge(cq, merged, other)
    counts_p = np.array([int(cp.get(c, 0)) for c in order], dtype=np.int64)
    counts_q = np.array([int(cq.get(c, 0)) for c in order], dtype=np.int64)
    return tuple(str(c) for c in order), counts_p, counts_q


def _merge(counts: pd.Series, merged: set, other: str) -> pd.Series:
    keep = counts[~counts.index.isin(merged)]
    rest = int(counts[counts.index.isin(merged)].sum())
    return pd.concat([keep, pd.Series({other: rest})]) if rest else keep


def quantile_bins(values_p: np.ndarray, values_q: np.ndarray, *, n_bins: int = 10,
                  integer: bool = True) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Shared bins at the pooled quantiles (so both sets fill them alike under no shift).

    Edges are rounded up to integers for integer data (word counts), duplicates dropped, so a heavy
    value (say 1-word texts) gets a bin of its own rather than empty slivers.
    """
    vp = np.asarray(values_p, dtype=float)
    vq = np.asarray(values_q, dtype=float)
    pooled = np.concatenate([vp, vq])
    qs = np.quantile(pooled, np.linspace(0, 1, n_bins + 1)[1:-1])
    edges = np.unique(np.ceil(qs) if integer else qs)
    edges = edges[(edges > pooled.min()) & (edges <= pooled.max())]
    k = len(edges) + 1
    counts_p = np.bincount(np.searchsorted(edges, vp, side="right"), minlength=k).astype(np.int64)
    counts_q = np.bincount(np.searchsorted(edges, vq, side="right"), minlength=k).astype(np.int64)
    lo_all, hi_all = pooled.min(), pooled.max()
    bounds = [lo_all, *edges, None]
    fmt = (lambda v: f"{int(v)}") if integer else (lambda v: f"{v:.3g}")
    names = []
    for i in range(k):
        lo, hi = bounds[i], bounds[i + 1]
        if hi is None:
            names.append(fmt(lo) if lo == hi_all else f"≥ {fmt(lo)}")
        elif integer:
            names.append(fmt(lo) if hi - 1 <= lo else f"{fmt(lo)}–{fmt(hi - 1)}")
        else:
            names.append(f"[{fmt(lo)}, {fmt(hi)})")
    return tuple(names), counts_p, counts_q


def missing_note(n: int, side: str, what: str) -> list[str]:
    """A note for a view that left out ``n`` rows of one side (none when ``n`` is 0)."""
    return [f"{n:,} {side} rows without {what} left out of this view"] if n else []


# --------------------------------------------------------------------------- views

def label_view(ds: TextDataset, ref: TextDataset) -> ViewData:
    lp = ds.labels.dropna().astype(str)
    lq = ref.labels.dropna().astype(str)
    if len(lq) == 0:
        raise ViewSkipped("the reference has no labels, so the label view is skipped; the other views "
                          "still compare texts")
    if len(lp) == 0:
        raise ViewSkipped("the dataset has no labels, so the label view is skipped")
    bins, cp, cq = _codes(lp, lq)
    notes = [*missing_note(len(ds) - len(lp), "dataset", "a label"),
             *missing_note(len(ref) - len(lq), "reference", "a label")]
    only_p = sorted(set(lp.unique()) - set(lq.unique()))
    only_q = sorted(set(lq.unique()) - set(lp.unique()))
    if only_p and only_q and len(only_p) == lp.nunique() and len(only_q) == lq.nunique():
        notes.append(f"the two sets share no labels (dataset: {_list(only_p)}; reference: {_list(only_q)}): "
                     "the label divergence is at its maximum; check that both use the same label names")
    else:
        if only_p:
            notes.append(f"labels only in the dataset: {_list(only_p)}")
        if only_q:
            notes.append(f"labels only in the reference: {_list(only_q)}")
    return ViewData("label", "Labels", bins, CountSampler(cp, cq), notes=tuple(notes))


def _list(items: Sequence[str], n: int = 8) -> str:
    shown = ", ".join(f"'{x}'" for x in items[:n])
    return shown + (f" and {len(items) - n} more" if len(items) > n else "")


def length_view(ds: TextDataset, ref: TextDataset, *, n_bins: int = 10) -> ViewData:
    wp, wq = word_counts(ds.texts), word_counts(ref.texts)
    bins, cp, cq = quantile_bins(wp, wq, n_bins=n_bins)
    notes = []
    if len(bins) == 1:
        notes.append(f"every text has the same length ({bins[0]} words)")
    return ViewData("length", "Text length (words)", bins, CountSampler(cp, cq), ordered=True,
                    notes=tuple(notes))


def token_pattern() -> str:
    """The coverage clusters' tokenizer, so terms read the same on the shift and coverage pages."""
    from dq_core.space.clusters import TOKEN_PATTERN

    return TOKEN_PATTERN



def vocabulary_view(ds: TextDataset, ref: TextDataset, *, vocab_size: int = 500,
                    stop_words: bool = True) -> ViewData:
    """Token unigrams over the pooled top-``vocab_size`` words, plus one bin for all other words."""
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    if vocab_size < 1:
        raise DataError(f"vocabulary size {vocab_size} is too small; use at least 1")
    tp = ds.texts.fillna("").astype(str).to_numpy(dtype=object)
    tq = ref.texts.fillna("").astype(str).to_numpy(dtype=object)
    # Canonical row order (by text) so the row bootstrap does not depend on the input's row order.
    tp = tp[np.argsort(tp, kind="stable")]
    tq = tq[np.argsort(tq, kind="stable")]
    vec = CountVectorizer(lowercase=True, token_pattern=token_pattern(), dtype=np.int64,
                          stop_words=sorted(ENGLISH_STOP_WORDS) if stop_words else None)
    try:
        x = vec.fit_transform(np.concatenate([tp, tq]).tolist()).tocsr()
    except ValueError:  # sklearn: "empty vocabulary"
        raise ViewSkipped("no words in either set (texts are empty or hold only stop words, numbers or "
                          "punctuation), so the vocabulary view is skipped") from None
    totals = np.asarray(x.sum(axis=0)).ravel()
    names = vec.get_feature_names_out()  # alphabetical: a stable tie-break for equal counts
    top = np.argsort(-totals, kind="stable")[:vocab_size]
    xv = x[:, top]
    other = np.asarray(x.sum(axis=1)).ravel() - np.asarray(xv.sum(axis=1)).ravel()
    bins = [str(names[i]) for i in top]
    if other.any():
        xv = sp.hstack([xv, sp.csr_matrix(other.reshape(-1, 1))]).tocsr()
        bins.append(OTHER_WORDS)
    x_p, x_q = xv[: len(tp)], xv[len(tp):]
    sampler = RowMatrixSampler(x_p.tocsr(), x_q.tocsr())
    cp, cq = sampler.counts()
    for side, c in (("dataset", cp), ("reference", cq)):
        if c.sum() == 0:
            raise ViewSkipped(f"the {side} has no words (texts empty or only stop words), so the vocabulary "
                              "view is skipped")
    notes = [f"top {len(top):,} words of both sets together"
             + (f"; the rest ({int(other.sum()):,} tokens) in '{OTHER_WORDS}'" if other.any() else "")
             + ("; English stop words left out" if stop_words else "")]
    return ViewData("vocabulary", "Vocabulary (word unigrams)", tuple(bins), sampler, notes=tuple(notes))


def cluster_view(ds_labels: np.ndarray, ref_labels: np.ndarray, k: int, *,
                 bin_info: dict[str, dict] | None = None, notes: Sequence[str] = ()) -> ViewData:
    """Shares of rows per joint-embedding cluster; cluster ids are the coverage map's ids."""
    lp = np.asarray(ds_labels, dtype=np.int64)
    lq = np.asarray(ref_labels, dtype=np.int64)
    if len(lp) == 0 or len(lq) == 0:
        side = "dataset" if len(lp) == 0 else "reference"
        raise ViewSkipped(f"the {side} has no embedded rows, so the embedding-cluster view is skipped")
    if k < 1 or lp.min(initial=0) < 0 or lq.min(initial=0) < 0 or max(lp.max(), lq.max()) >= k:
        raise DataError(f"cluster labels must lie in 0..{k - 1}")
    cp = np.bincount(lp, minlength=k).astype(np.int64)
    cq = np.bincount(lq, minlength=k).astype(np.int64)
    bins = tuple(cluster_name(i) for i in range(k))
    return ViewData("embedding_clusters", "Embedding clusters", bins, CountSampler(cp, cq),
                    notes=tuple(notes), bin_info=bin_info or {})


def cluster_name(i: int) -> str:
    return f"cluster {i}"


def metadata_candidates(ds: TextDataset, ref: TextDataset) -> list[str]:
    """Metadata columns present on both sides (the ones a metadata view can compare)."""
    return [c for c in ds.metadata_columns if c in ref.frame.columns]


def metadata_view(ds: TextDataset, ref: TextDataset, column: str, *, max_categories: int = 30,
                  n_bins: int = 10) -> ViewData:
    """A metadata column: categories (rarest merged into '(other)'), or quantile bins when numeric."""
    if column not in ds.frame.columns or column in ("row_id", "text"):
        raise DataError(f"'{column}' is not a metadata column of the dataset; choose one of: "
                        f"{', '.join(ds.metadata_columns) or '(none)'}")
    if column not in ref.frame.columns:
        raise ViewSkipped(f"the reference has no column '{column}', so its view is skipped")
    sp_, sq_ = ds.frame[column], ref.frame[column]
    name = f"metadata:{column}"
    title = f"Metadata: {column}"
    numeric = pd.api.types.is_numeric_dtype(sp_) and pd.api.types.is_numeric_dtype(sq_) \
        and not pd.api.types.is_bool_dtype(sp_)
    if numeric and pd.concat([sp_, sq_]).nunique(dropna=True) > max_categories:
        vp, vq = sp_.dropna().to_numpy(dtype=float), sq_.dropna().to_numpy(dtype=float)
        vp, vq = vp[np.isfinite(vp)], vq[np.isfinite(vq)]
        if len(vp) == 0 or len(vq) == 0:
            side = "dataset" if len(vp) == 0 else "reference"
            raise ViewSkipped(f"column '{column}' has no values in the {side}, so its view is skipped")
        integer = bool(np.all(np.mod(np.concatenate([vp, vq]), 1) == 0))
        bins, cp, cq = quantile_bins(vp, vq, n_bins=n_bins, integer=integer)
        notes = [*missing_note(len(sp_) - len(vp), "dataset", f"a value in '{column}'"),
                 *missing_note(len(sq_) - len(vq), "reference", f"a value in '{column}'"),
                 f"numeric column binned at {len(bins)} pooled quantiles"]
        return ViewData(name, title, bins, CountSampler(cp, cq), ordered=True, notes=tuple(notes))

    def as_cat(s: pd.Series) -> pd.Series:
        try:
            out = s.astype("string")
        except (TypeError, ValueError):
            out = s.map(lambda v: None if v is None else str(v)).astype("string")
        return out.fillna(MISSING)

    bins, cp, cq = _codes(as_cat(sp_), as_cat(sq_), max_bins=max_categories)
    notes = []
    if OTHER in bins:
        notes.append(f"categories beyond the {max_categories - 1} most frequent merged into '{OTHER}'")
    return ViewData(name, title, bins, CountSampler(cp, cq), notes=tuple(notes))
