"""Divergences of two count histograms on shared bins, registered by name with a default threshold.

Each function takes *counts* (last axis = bins) and broadcasts over leading axes, so one call scores a
single pair or a thousand resampled pairs. ``js_divergence(p, q, *, base=2)`` is in [0, 1] bits. The
registry (:data:`DIVERGENCES`, :func:`register_divergence`) follows Evidently's ``stattests`` style.

Smoothing (empty bins)
    KL and PSI take a log of a ratio, infinite where a bin is empty on one side. They use additive
    (Lidstone) smoothing: ``alpha`` pseudo-counts are added to every bin of *both* histograms before
    normalising. The default ``alpha = 0.5`` is the Jeffreys / Krichevsky-Trofimov estimator: an empty
    bin of n counts gets share 0.5 / (n + 0.5 k), finite and vanishing as data grows. ``alpha=0`` gives
    the textbook value and raises :class:`DataError` where that value would be infinite. JS and total
    variation are finite on any pair of histograms and are computed without smoothing. No function ever
    returns inf or nan.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from dq_core.errors import DataError

DEFAULT_ALPHA = 0.5

Histogram = np.ndarray | Sequence[float]


def _check(p: Histogram, q: Histogram) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    if p.shape != q.shape:
        raise DataError(f"the two histograms have different shapes {p.shape} and {q.shape}; "
                        "they must count the same bins")
    if p.ndim == 0 or p.shape[-1] == 0:
        raise DataError("the histograms have no bins")
    if not (np.isfinite(p).all() and np.isfinite(q).all()):
        raise DataError("the histograms hold inf or nan; pass finite counts")
    if (p < 0).any() or (q < 0).any():
        raise DataError("the histograms hold negative counts")
    if (p.sum(axis=-1) == 0).any() or (q.sum(axis=-1) == 0).any():
        raise DataError("a histogram is empty (all counts are 0), so no distribution can be compared")
    return p, q


def _shares(h: np.ndarray, alpha: float = 0.0) -> np.ndarray:
    if alpha < 0 or not np.isfinite(alpha):
        raise DataError(f"smoothing alpha={alpha} must be a finite number >= 0")
    h = h + alpha
    return h / h.sum(axis=-1, keepdims=True)


def _log_base(base: float) -> float:
    if not (np.isfinite(base) and base > 0 and base != 1):
        raise DataError(f"log base {base} must be positive and not 1")
    return float(np.log(base))


def _out(x: np.ndarray) -> float | np.ndarray:
    return float(x) if np.ndim(x) == 0 else x


def kl_divergence(p: Histogram, q: Histogram, *, base: float = 2.0,
                  alpha: float = DEFAULT_ALPHA) -> float | np.ndarray:
    """KL(P||Q) = sum_i p_i log(p_i / q_i) of two count histograms, after additive smoothing ``alpha``."""
    from scipy.special import rel_entr

    p, q = _check(p, q)
    ps, qs = _shares(p, alpha), _shares(q, alpha)
    if alpha == 0 and ((qs == 0) & (ps > 0)).any():
        raise DataError("KL(P||Q) is infinite: some bins are empty in Q but not in P; use smoothing "
                        "(alpha > 0) or the Jensen-Shannon divergence, which is always finite")
    return _out(rel_entr(ps, qs).sum(axis=-1) / _log_base(base))


def kl_reverse(p: Histogram, q: Histogram, *, base: float = 2.0,
               alpha: float = DEFAULT_ALPHA) -> float | np.ndarray:
    """KL(Q||P): how surprising the reference is under the dataset's distribution."""
    return kl_divergence(q, p, base=base, alpha=alpha)


def js_contributions(p: Histogram, q: Histogram, *, base: float = 2.0) -> np.ndarray:
    """Each bin's term of the JS divergence; every term is >= 0 and they sum to JS."""
    from scipy.special import rel_entr

    p, q = _check(p, q)
    ps, qs = _shares(p), _shares(q)
    m = 0.5 * (ps + qs)
    return 0.5 * (rel_entr(ps, m) + rel_entr(qs, m)) / _log_base(base)


def js_divergence(p: Histogram, q: Histogram, *, base: float = 2.0) -> float | np.ndarray:
    """Jensen-Shannon divergence; in [0, 1] for base 2 (1 = no bin in common). No smoothing needed."""
    upper = np.log(2.0) / _log_base(base)
    return _out(np.clip(js_contributions(p, q, base=base).sum(axis=-1), 0.0, upper))


def js_distance(p: Histogram, q: Histogram, *, base: float = 2.0) -> float | np.ndarray:
    """sqrt(JS divergence): a metric (obeys the triangle inequality); scipy's ``jensenshannon``."""
    return _out(np.sqrt(js_divergence(p, q, base=base)))


def total_variation(p: Histogram, q: Histogram) -> float | np.ndarray:
    """Half the L1 distance of the shares: the largest difference in probability any set of bins gets."""
    p, q = _check(p, q)
    return _out(0.5 * np.abs(_shares(p) - _shares(q)).sum(axis=-1))


def psi(p: Histogram, q: Histogram, *, alpha: float = DEFAULT_ALPHA) -> float | np.ndarray:
    """Population stability index sum_i (p_i - q_i) ln(p_i / q_i) (natural log, by convention), smoothed."""
    p, q = _check(p, q)
    ps, qs = _shares(p, alpha), _shares(q, alpha)
    if alpha == 0 and ((qs == 0) ^ (ps == 0)).any():
        raise DataError("PSI is infinite: some bins are empty on one side only; use smoothing (alpha > 0)")
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where((ps == 0) & (qs == 0), 0.0, (ps - qs) * np.log(ps / qs))
    return _out(terms.sum(axis=-1))


@dataclass(frozen=True)
class Divergence:
    """A registered divergence: a pure function of two count histograms plus its metadata."""

    name: str
    func: Callable[[np.ndarray, np.ndarray], float | np.ndarray]
    threshold: float  # default drift threshold: above it the shift is called material
    description: str
    unit: str
    symmetric: bool


DIVERGENCES: dict[str, Divergence] = {}


def register_divergence(name: str, *, threshold: float, description: str, unit: str, symmetric: bool):
    """Decorator: register ``func(p, q) -> float | array`` under ``name`` with a default threshold."""
    def deco(func):
        DIVERGENCES[name] = Divergence(name, func, threshold, description, unit, symmetric)
        return func
    return deco


register_divergence("kl", threshold=0.05, unit="bits", symmetric=False,
                    description="KL(P||Q), dataset vs reference, smoothed")(
    lambda p, q: kl_divergence(p, q))
register_divergence("kl_reverse", threshold=0.05, unit="bits", symmetric=False,
                    description="KL(Q||P), reference vs dataset, smoothed")(
    lambda p, q: kl_reverse(p, q))
# 0.01 bits of JS is a JS distance of 0.1, the default of Evidently's jensenshannon test; a 10-point
# move between two classes (0.9/0.1 -> 0.8/0.2) is just above it, a 5-point one across three is well below.
register_divergence("js_divergence", threshold=0.01, unit="bits", symmetric=True,
                    description="Jensen-Shannon divergence, base 2, in [0, 1]")(
    lambda p, q: js_divergence(p, q))
register_divergence("js_distance", threshold=0.1, unit="bits^1/2", symmetric=True,
                    description="Jensen-Shannon distance sqrt(JS), in [0, 1]")(
    lambda p, q: js_distance(p, q))
# PSI's conventional bands: < 0.1 stable, 0.1-0.25 moderate, > 0.25 major.
register_divergence("psi", threshold=0.1, unit="nats", symmetric=True,
                    description="population stability index, smoothed")(lambda p, q: psi(p, q))
register_divergence("total_variation", threshold=0.1, unit="share", symmetric=True,
                    description="total variation distance, in [0, 1]")(
    lambda p, q: total_variation(p, q))


def get_divergence(name: str) -> Divergence:
    try:
        return DIVERGENCES[name]
    except KeyError:
        raise DataError(f"unknown divergence '{name}'; choose one of: {', '.join(DIVERGENCES)}") from None
