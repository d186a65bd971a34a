"""Distribution shift of a dataset (P) against a reference (Q): divergences, intervals, tests, verdicts.

One module per job; this package re-exports the public names, so ``from dq_core.metrics.shift import X``
is the way in:

- :mod:`~dq_core.metrics.shift.divergences`: KL, JS, PSI, total variation of two count histograms, and
  the registry of divergences with their default drift thresholds.
- :mod:`~dq_core.metrics.shift.config`: :class:`ShiftConfig`, the parameters.
- :mod:`~dq_core.metrics.shift.views`: one pair of histograms per view (label, text length, vocabulary,
  embedding clusters, metadata), each with a sampler from :mod:`~dq_core.metrics.shift.samplers`.
- :mod:`~dq_core.metrics.shift.resampling`: per view, every divergence, a bootstrap interval for JS, a
  permutation p-value and a verdict against the test's threshold.
- :mod:`~dq_core.metrics.shift.domain`: the domain classifier (cross-validated ROC-AUC of a logistic
  regression telling dataset rows from reference rows by their embeddings).
- :mod:`~dq_core.metrics.shift.results`: :class:`ShiftView` and :class:`ShiftResult`.
- :mod:`~dq_core.metrics.shift.compute`: :func:`compute_shift`, all of the above on two datasets.
"""

from __future__ import annotations

from dq_core.metrics.shift import views
from dq_core.metrics.shift.compute import STANDARD_VIEWS, Progress, compute_shift
from dq_core.metrics.shift.config import ShiftConfig
from dq_core.metrics.shift.divergences import (
    DEFAULT_ALPHA,
    DIVERGENCES,
    Divergence,
    Histogram,
    get_divergence,
    js_contributions,
    js_distance,
    js_divergence,
    kl_divergence,
    kl_reverse,
    psi,
    register_divergence,
    total_variation,
)
from dq_core.metrics.shift.domain import DomainClassifierResult, classify_domains
from dq_core.metrics.shift.resampling import (
    FEW_ROWS,
    MIN_ROWS_FOR_TESTS,
    basic_interval,
    compute_view_stats,
    permutation_p_value,
    view_rng,
)
from dq_core.metrics.shift.results import VERDICTS, ShiftResult, ShiftView, format_p, skipped_view

__all__ = [
    "DEFAULT_ALPHA", "DIVERGENCES", "FEW_ROWS", "MIN_ROWS_FOR_TESTS", "STANDARD_VIEWS", "VERDICTS",
    "Divergence", "DomainClassifierResult", "Histogram", "Progress", "ShiftConfig", "ShiftResult", "ShiftView",
    "basic_interval", "classify_domains", "compute_shift", "compute_view_stats", "format_p", "get_divergence",
    "js_contributions", "js_distance", "js_divergence", "kl_divergence", "kl_reverse", "permutation_p_value",
    "psi", "register_divergence", "skipped_view", "total_variation", "view_rng", "views",
]
