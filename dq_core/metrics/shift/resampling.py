"""Statistics of one view: every divergence, a bootstrap interval for JS, a permutation p-value, a verdict.

The JS interval is a basic (bias-reflecting) bootstrap interval, each side resampled on its own (see
:func:`basic_interval`). The p-value is that of a permutation test of the chosen statistic: which set
each row belongs to is shuffled, keeping the two sizes. Every view gets its own Generator derived from
the seed and the view's name (:func:`view_rng`), so adding a view never changes another view's numbers.
How a view's counts are resampled is its sampler's business (:mod:`dq_core.metrics.shift.samplers`).
"""

from __future__ import annotations

import zlib

import numpy as np

from dq_core.metrics.shift.config import ShiftConfig
from dq_core.metrics.shift.divergences import DIVERGENCES, get_divergence, js_divergence
from dq_core.metrics.shift.results import ShiftView, skipped_view
from dq_core.metrics.shift.views import ViewData

MIN_ROWS_FOR_TESTS = 2  # per side: the bootstrap and permutation test need at least two rows to move
FEW_ROWS = 20  # per side: under this, say the interval and p-value are rough


def view_rng(seed: int, name: str) -> np.random.Generator:
    """A Generator per (seed, view): one view's numbers never depend on which other views ran."""
    return np.random.default_rng([int(seed), zlib.crc32(name.encode())])


def _valid_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a.sum(axis=1) > 0) & (b.sum(axis=1) > 0)


def compute_view_stats(view: ViewData, config: ShiftConfig | None = None,
                       rng: np.random.Generator | None = None) -> ShiftView:
    """Every divergence, a JS bootstrap interval, a permutation p-value and a verdict for one view."""
    config = config or ShiftConfig()
    rng = rng if rng is not None else view_rng(config.seed, view.name)
    cp, cq = view.sampler.counts()
    rows_p, rows_q = view.sampler.n_rows
    if cp.sum() == 0 or cq.sum() == 0:
        side = "dataset" if cp.sum() == 0 else "reference"
        return skipped_view(view.name, view.title, f"the {side} has nothing to count in this view", config)
    scores = {name: float(d.func(cp, cq)) for name, d in DIVERGENCES.items()}
    test = get_divergence(config.test)
    threshold = config.effective_threshold
    notes = list(view.notes)
    js_ci = p_value = null_median = None
    boot = null = None
    n_boot = n_perm = 0
    if min(rows_p, rows_q) < MIN_ROWS_FOR_TESTS:
        side = "dataset" if rows_p < MIN_ROWS_FOR_TESTS else "reference"
        n = min(rows_p, rows_q)
        notes.append(f"the {side} has only {n} row{'s' if n != 1 else ''}: an interval and a p-value need at "
                     f"least {MIN_ROWS_FOR_TESTS} rows on each side, so the divergences are shown untested")
        verdict = "too few rows"
    else:
        if min(rows_p, rows_q) < FEW_ROWS:
            notes.append(f"fewer than {FEW_ROWS} rows on a side: the interval and p-value are rough")
        if config.n_bootstrap:
            bp, bq = view.sampler.bootstrap(rng, config.n_bootstrap)
            ok = _valid_pairs(bp, bq)
            if ok.any():
                boot = np.asarray(js_divergence(bp[ok], bq[ok]))
                js_ci = basic_interval(scores["js_divergence"], boot, config.confidence)
                n_boot = int(ok.sum())
        k_used = int(((cp + cq) > 0).sum())
        if min(cp.sum(), cq.sum()) < 5 * k_used:
            notes.append(f"few {view.sampler.unit} per bin (under 5 on average over {k_used:,} bins): JS is "
                         "biased upward here and its interval is rough")
        if config.n_permutations:
            pp, pq = view.sampler.permute(rng, config.n_permutations)
            ok = _valid_pairs(pp, pq)
            if ok.any():
                null = np.asarray(test.func(pp[ok], pq[ok]), dtype=float)
                n_perm = int(ok.sum())
                p_value = permutation_p_value(scores[test.name], null)
                null_median = float(np.median(null))
        verdict = _verdict(scores[test.name], threshold, p_value, config.significance)
    return ShiftView(
        name=view.name, title=view.title, bins=view.bins, counts_dataset=np.asarray(cp, dtype=np.int64),
        counts_reference=np.asarray(cq, dtype=np.int64), unit=view.sampler.unit, rows_dataset=rows_p,
        rows_reference=rows_q, scores=scores, js_ci=js_ci, p_value=p_value, test=test.name,
        threshold=float(threshold), verdict=verdict, null_median=null_median, n_bootstrap=n_boot,
        n_permutations=n_perm, ordered=view.ordered, notes=tuple(notes), bin_info=dict(view.bin_info),
        bootstrap_js=boot, null_distribution=null)


def basic_interval(estimate: float, boot: np.ndarray, confidence: float = 0.95,
                   bounds: tuple[float, float] = (0.0, 1.0)) -> tuple[float, float]:
    """The basic (reverse-percentile) bootstrap interval [2t - q_hi, 2t - q_lo], clipped to ``bounds``.

    Why not the plain percentile interval: plug-in JS is biased upward (resampling adds spurious
    differences), so bootstrap values sit above the estimate and the percentile interval misses the true
    value (in a simulation with 20 bins and 200 rows a side it covered it 1% of the time, and never
    contained 0 when there was no shift; the basic interval covered it 96-99%). The basic interval
    reflects the bias back.
    """
    tail = 50 * (1 - confidence)
    q_lo, q_hi = np.percentile(boot, [tail, 100 - tail])
    lo = float(np.clip(2 * estimate - q_hi, *bounds))
    hi = float(np.clip(2 * estimate - q_lo, *bounds))
    return lo, hi


def permutation_p_value(observed: float, null: np.ndarray) -> float:
    """(1 + #null >= observed) / (1 + #null): the observed split counts as one of the permutations.

    Ties count as at least as extreme; the tolerance keeps a null value equal to the observed one up to
    rounding from being missed.
    """
    null = np.asarray(null, dtype=float)
    n_ge = int((null >= observed - 1e-12 * max(1.0, abs(observed))).sum())
    return (1 + n_ge) / (1 + len(null))


def _verdict(statistic: float, threshold: float, p_value: float | None, significance: float) -> str:
    material = statistic > threshold
    if p_value is None:  # no permutations asked for: the threshold alone decides
        return "drift" if material else "no drift"
    significant = p_value < significance
    if material:
        return "drift" if significant else "inconclusive"
    return "small shift" if significant else "no drift"
