"""Parameters of a shift comparison (:class:`ShiftConfig`); the other modules of the package do the work."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from dq_core.data.limits import limit
from dq_core.errors import DataError
from dq_core.metrics.shift.divergences import get_divergence


@dataclass(frozen=True)
class ShiftConfig:
    """Parameters only; the functions of this package do the work."""

    n_bootstrap: int = 1000
    n_permutations: int = 1000
    seed: int = 0
    confidence: float = 0.95
    significance: float = 0.05
    test: str = "js_divergence"  # the statistic of the permutation test and the verdict
    threshold: float | None = None  # None: the test's registered default
    vocab_size: int = 500
    stop_words: bool = True
    length_bins: int = 10
    max_categories: int = 30
    n_clusters: int | None = None  # None: the coverage map's automatic k
    cluster_seed: int = 0  # the coverage map's seed, so cluster ids match its clusters
    cluster_terms: bool = True
    domain_folds: int = 5
    domain_max_rows: int = 5000  # per side; the classifier fits on a seeded sample beyond this
    n_examples: int = 8

    def __post_init__(self) -> None:
        checks = [
            # Bounded (DQ_MAX_RESAMPLES): an unbounded count ran for hours and filled memory.
            (0 <= self.n_bootstrap <= limit("DQ_MAX_RESAMPLES"), f"bootstrap resamples {self.n_bootstrap} must "
             f"lie between 0 and {limit('DQ_MAX_RESAMPLES'):,} (DQ_MAX_RESAMPLES)"),
            (0 <= self.n_permutations <= limit("DQ_MAX_RESAMPLES"), f"permutations {self.n_permutations} must "
             f"lie between 0 and {limit('DQ_MAX_RESAMPLES'):,} (DQ_MAX_RESAMPLES)"),
            (0 < self.confidence < 1, f"confidence {self.confidence} must lie between 0 and 1"),
            (0 < self.significance < 1, f"significance {self.significance} must lie between 0 and 1"),
            (self.vocab_size >= 1, f"vocabulary size {self.vocab_size} must be at least 1"),
            (self.length_bins >= 2, f"length bins {self.length_bins} must be at least 2"),
            (self.max_categories >= 2, f"max categories {self.max_categories} must be at least 2"),
            (self.domain_folds >= 2, f"domain classifier folds {self.domain_folds} must be at least 2"),
            (self.domain_max_rows >= 2, f"domain classifier rows {self.domain_max_rows} must be at least 2"),
            (self.threshold is None or (np.isfinite(self.threshold) and self.threshold >= 0),
             f"threshold {self.threshold} must be a number >= 0"),
            (self.n_clusters is None or self.n_clusters >= 2, f"clusters {self.n_clusters} must be at least 2"),
        ]
        for ok, msg in checks:
            if not ok:
                raise DataError(msg)
        get_divergence(self.test)

    @property
    def effective_threshold(self) -> float:
        return self.threshold if self.threshold is not None else get_divergence(self.test).threshold

    def to_dict(self) -> dict:
        return {**asdict(self), "threshold": self.effective_threshold}
