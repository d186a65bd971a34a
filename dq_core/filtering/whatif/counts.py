"""Count-based pieces of the what-if figures: each one rebuilds, from histograms or class counts, the bins
a metric module builds from raw rows, so the panel recounts a filtered dataset without filtering it.

:mod:`.figures` calls these for every recipe; the tests' oracle (tests/filtering/whatif_oracle.py)
computes the same figures from the filtered rows, and the tests check both agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dq_core.errors import DataError
from dq_core.metrics import coverage as cov
from dq_core.metrics.shift import js_divergence
from dq_core.metrics.shift.views import quantile_bins, token_pattern
from dq_core.signals.label import estimate_joint


def js_or_none(cp: np.ndarray, cq: np.ndarray) -> float | None:
    """JS divergence (base 2) of two count vectors, None when either side is empty."""
    cp = np.asarray(cp, dtype=np.float64)
    cq = np.asarray(cq, dtype=np.float64)
    if cp.size == 0 or cp.sum() <= 0 or cq.sum() <= 0:
        return None
    return float(js_divergence(cp, cq))


def quantile_edges_from_hist(hist: np.ndarray, n_bins: int) -> np.ndarray:
    """``np.quantile`` (linear) of integer data given as a value histogram, at the inner n_bins quantiles.

    Reproduces numpy's arithmetic (virtual index (n-1)q, then its lerp) so the edges equal those
    :func:`dq_core.metrics.shift.views.quantile_bins` computes on the raw values.
    """
    total = int(hist.sum())
    cum = np.cumsum(hist)
    qs = np.linspace(0, 1, n_bins + 1)[1:-1]
    virtual = (total - 1) * qs
    lo = np.floor(virtual)
    gamma = virtual - lo
    lo_i = lo.astype(np.int64)
    hi_i = np.minimum(lo_i + 1, total - 1)
    a = np.searchsorted(cum, lo_i, side="right").astype(np.float64)
    b = np.searchsorted(cum, hi_i, side="right").astype(np.float64)
    diff = b - a
    out = a + diff * gamma
    upper = gamma >= 0.5
    out[upper] = b[upper] - diff[upper] * (1 - gamma[upper])
    return out


def length_counts(hist_p: np.ndarray, hist_q: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts of the pooled-quantile length bins (as shift.views.quantile_bins) from two value histograms."""
    size = max(len(hist_p), len(hist_q))
    hp = np.zeros(size, dtype=np.int64)
    hq = np.zeros(size, dtype=np.int64)
    hp[: len(hist_p)] = hist_p
    hq[: len(hist_q)] = hist_q
    pooled = hp + hq
    nz = np.flatnonzero(pooled)
    vmin, vmax = nz[0], nz[-1]
    edges = np.unique(np.ceil(quantile_edges_from_hist(pooled, n_bins)))
    edges = edges[(edges > vmin) & (edges <= vmax)]
    k = len(edges) + 1
    values = np.arange(size)
    bin_of_value = np.searchsorted(edges, values, side="right")
    return (np.bincount(bin_of_value, weights=hp, minlength=k).astype(np.int64),
            np.bincount(bin_of_value, weights=hq, minlength=k).astype(np.int64))


def category_counts(cp: np.ndarray, cq: np.ndarray, names: Sequence[str], max_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """shift.views' category codes on counts: categories present, rarest (pooled) merged into one '(other)' bin."""
    pooled = cp + cq
    present = np.flatnonzero(pooled > 0)
    order = sorted(present, key=lambda i: (-pooled[i], str(names[i])))
    if len(order) > max_bins:
        keep, rest = order[: max_bins - 1], order[max_bins - 1:]
        p = np.r_[cp[keep], cp[rest].sum()]
        q = np.r_[cq[keep], cq[rest].sum()]
        return p, q
    return cp[order], cq[order]


def scene_coverage_from_counts(ds_counts: np.ndarray, ref_counts: np.ndarray,
                               min_rows: int = cov.DEFAULT_MIN_ROWS) -> float | None:
    """dq_core.metrics.coverage.scene_coverage, None where it is undefined (no reference-populated cluster)."""
    try:
        return cov.scene_coverage(ds_counts, ref_counts, min_rows=min_rows)
    except DataError:
        return None


def sample_coverage_from_counts(ds_counts: np.ndarray, ref_counts: np.ndarray) -> float | None:
    """dq_core.metrics.coverage.sample_coverage, None where it is undefined (no reference rows)."""
    try:
        return cov.sample_coverage(ds_counts, ref_counts)
    except DataError:
        return None


def noise_ratio_cl(codes: np.ndarray, probs: np.ndarray) -> float:
    """Confident learning's estimated noise ratio, 1 - trace(joint), as the label signal reports it.

    ``codes`` index ``probs``' columns (-1 = unlabelled); a code past the last column (a class a relabel
    invented, which has no probability) is left out like an unlabelled row.
    """
    codes = np.asarray(codes, dtype=np.int64)
    codes = np.where(codes < probs.shape[1], codes, -1)
    return estimate_joint(codes, np.asarray(probs, dtype=np.float64))[1]


def _vectorizer(stop_words: bool):
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    return CountVectorizer(lowercase=True, token_pattern=token_pattern(), dtype=np.int64,
                           stop_words=sorted(ENGLISH_STOP_WORDS) if stop_words else None)


def vocabulary_matrix(ds_texts: pd.Series, ref_texts: pd.Series, *, stop_words: bool = True):
    """Token counts over the pooled vocabulary, tokenised as shift.views.vocabulary_view does: the dataset's
    as a (V, n) CSR matrix (``X^T @ keep`` is then one mat-vec), the reference's totals and the V terms in
    column order (sorted); None without words."""
    tp = ds_texts.fillna("").astype(str).tolist()
    tq = ref_texts.fillna("").astype(str).tolist()
    vec = _vectorizer(stop_words)
    try:
        x = vec.fit_transform(tp + tq).tocsr()
    except ValueError:  # empty vocabulary
        return None
    xp = x[: len(tp)]
    return (xp.astype(np.float64).T.tocsr(), np.asarray(x[len(tp):].sum(axis=0)).ravel().astype(np.float64),
            vec.get_feature_names_out())


@dataclass(frozen=True, eq=False)
class RepairVocabulary:
    """Repaired texts' token counts over the union of the pooled vocabulary and theirs (sorted, the order the
    view's tie-break relies on), built once per set of repairs: a recount is then two small mat-vecs."""

    texts: dict[int, str]  # position -> repaired text
    positions: np.ndarray  # (r,) the rows of ``texts``, in that order
    old_index: np.ndarray  # (V,) each pooled term's place in the union
    old_counts: object  # CSR (V, r): the rows' original token counts
    new_counts: object  # CSR (U, r): their repaired token counts
    ref_totals: np.ndarray  # (U,) the reference's totals over the union


def repair_vocabulary(vocab_x, ref_totals: np.ndarray, terms: np.ndarray, texts: dict[int, str], *,
                      stop_words: bool = True) -> RepairVocabulary:
    import scipy.sparse as sp

    positions = np.fromiter(texts, dtype=np.int64, count=len(texts))
    vec = _vectorizer(stop_words)
    try:
        xr = vec.fit_transform([texts[int(p)] for p in positions]).T.tocsr().astype(np.float64)
        new_terms = vec.get_feature_names_out()
    except ValueError:  # the repaired texts hold no words
        xr, new_terms = sp.csr_matrix((0, len(positions))), np.array([], dtype=str)
    union = np.union1d(np.asarray(terms, dtype=str), np.asarray(new_terms, dtype=str))
    old_index = np.searchsorted(union, np.asarray(terms, dtype=str))
    new_index = np.searchsorted(union, np.asarray(new_terms, dtype=str))
    new_counts = sp.csr_matrix((len(union), len(positions)))
    if len(new_terms):
        new_counts = sp.csr_matrix(
            (np.ones(len(new_terms)), (new_index, np.arange(len(new_terms)))), shape=(len(union), len(new_terms))
        ) @ xr
    tq = np.zeros(len(union))
    tq[old_index] = ref_totals
    return RepairVocabulary(texts=dict(texts), positions=positions, old_index=old_index,
                            old_counts=vocab_x[:, positions].tocsr(), new_counts=new_counts.tocsr(), ref_totals=tq)


def repaired_vocabulary_totals(vocab_x, ref_totals: np.ndarray, terms: np.ndarray, keep: np.ndarray,
                               repairs: dict[int, str], *, stop_words: bool = True,
                               cache: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The kept rows' token totals (and the reference's) when the rows in ``repairs`` ({position: repaired
    text}) carry their repaired text: their original counts are taken out, the repaired text's put in, over
    the union of both vocabularies. ``cache`` (a dict kept with the context) holds the
    :class:`RepairVocabulary`, rebuilt only when a repair it lacks comes in."""
    repairs = {int(p): t for p, t in repairs.items() if keep[p]}
    totals_p = vocab_x @ keep.astype(np.float64)
    if not repairs:
        return totals_p, ref_totals
    cache = {} if cache is None else cache
    rv = cache.get("vocabulary")
    if rv is None or any(rv.texts.get(p) != t for p, t in repairs.items()):
        rv = repair_vocabulary(vocab_x, ref_totals, terms, {**(rv.texts if rv else {}), **repairs},
                               stop_words=stop_words)
        cache["vocabulary"] = rv
    m = np.array([p in repairs for p in rv.positions.tolist()], dtype=np.float64)
    tp = np.zeros(len(rv.ref_totals))
    tp[rv.old_index] = totals_p - rv.old_counts @ m
    return tp + rv.new_counts @ m, rv.ref_totals


def vocabulary_js(vocab_x, ref_totals: np.ndarray, keep: np.ndarray, vocab_size: int) -> float | None:
    """JS of the kept rows' pooled top-``vocab_size`` words (plus one bin for all others) against the reference."""
    return vocabulary_js_from_totals(vocab_x @ keep.astype(np.float64), ref_totals, vocab_size)


def vocabulary_js_from_totals(totals_p: np.ndarray, ref_totals: np.ndarray, vocab_size: int) -> float | None:
    """:func:`vocabulary_js` from the kept rows' token totals (columns in sorted term order)."""
    pooled = totals_p + ref_totals
    v = vocab_size
    if len(pooled) > v:
        top = np.argpartition(-pooled, v - 1)[:v]
        # the same top-V as a stable sort by (-count, word), which is what the view takes
        thr = pooled[top].min()
        tied = np.flatnonzero(pooled == thr)
        above = np.flatnonzero(pooled > thr)
        top = np.r_[above, tied[: v - len(above)]]
    else:
        top = np.arange(len(pooled))
    cp = totals_p[top]
    cq = ref_totals[top]
    other_p = totals_p.sum() - cp.sum()
    other_q = ref_totals.sum() - cq.sum()
    if other_p > 0 or other_q > 0:
        cp, cq = np.r_[cp, other_p], np.r_[cq, other_q]
    if totals_p.sum() == 0 or ref_totals.sum() == 0:
        return None
    return js_or_none(cp, cq)


def metadata_spec(ds_col: pd.Series, ref_col: pd.Series, max_categories: int) -> tuple:
    """A metadata column prepared for recounting, as shift.views.metadata_view bins it: ``("num", values,
    ref_values)`` for a numeric column with many values, else ``("cat", codes, ref_counts, names)``."""
    numeric = pd.api.types.is_numeric_dtype(ds_col) and pd.api.types.is_numeric_dtype(ref_col) \
        and not pd.api.types.is_bool_dtype(ds_col)
    if numeric and pd.concat([ds_col, ref_col]).nunique(dropna=True) > max_categories:
        vp = ds_col.to_numpy(dtype=float, na_value=np.nan)
        vq = ref_col.dropna().to_numpy(dtype=float)
        return "num", vp, vq[np.isfinite(vq)]

    def as_cat(s: pd.Series) -> pd.Series:
        try:
            out = s.astype("string")
        except (TypeError, ValueError):
            out = s.map(lambda v: None if v is None else str(v)).astype("string")
        return out.fillna("(missing)")

    cp, cq = as_cat(ds_col), as_cat(ref_col)
    names = sorted(set(cp.unique()) | set(cq.unique()))
    codes = pd.Categorical(cp, categories=names).codes.astype(np.int64)
    ref_counts = np.bincount(pd.Categorical(cq, categories=names).codes, minlength=len(names))
    return "cat", codes, ref_counts, names


def metadata_js(spec: tuple, keep: np.ndarray, max_categories: int, length_bins: int) -> float | None:
    """JS of the kept rows' metadata column (a :func:`metadata_spec`) against the reference."""
    if spec[0] == "cat":
        _, codes, ref_counts, names = spec
        cp = np.bincount(codes[keep], minlength=len(names))
        p, q = category_counts(cp, ref_counts, names, max_categories)
        return js_or_none(p, q)
    _, vp, vq = spec
    v = vp[keep]
    v = v[np.isfinite(v)]
    if len(v) == 0 or len(vq) == 0:
        return None
    integer = bool(np.all(np.mod(np.concatenate([v, vq]), 1) == 0))
    _, cp, cq = quantile_bins(v, vq, n_bins=length_bins, integer=integer)
    return js_or_none(cp, cq)
