"""Distribution shift of a dataset (P) against a reference (Q): divergences, intervals, tests, verdicts.

Divergences
    Small pure functions of two histograms on shared bins, registered by name with a default threshold
    (Evidently's ``stattests`` style: :data:`DIVERGENCES`, :func:`register_divergence`). Each takes
    *counts* (last axis = bins) and broadcasts over leading axes, so one call scores a single pair or a
    thousand resampled pairs. ``js_divergence(p, q, *, base=2)`` is in [0, 1] bits.

Smoothing (empty bins)
    KL and PSI take a log of a ratio, infinite where a bin is empty on one side. They use additive
    (Lidstone) smoothing: ``alpha`` pseudo-counts are added to every bin of *both* histograms before
    normalising. The default ``alpha = 0.5`` is the Jeffreys / Krichevsky-Trofimov estimator: an empty
    bin of n counts gets share 0.5 / (n + 0.5 k), finite and vanishing as data grows. ``alpha=0`` gives
    the textbook value and raises :class:`DataError` where that value would be infinite. JS and total
    variation are finite on any pair of histograms and are computed without smoothing. No function ever
    returns inf or nan.

Per view (see :mod:`dq_core.metrics.shift.views`)
    every registered divergence; a basic (bias-reflecting) bootstrap interval for JS (each side
    resampled on its own, see :func:`basic_interval`); a permutation p-value for the chosen test statistic (which set each row belongs to is
    shuffled, keeping the two sizes); a verdict against the test's threshold; and each bin's share of
    the JS divergence (what is over- or under-represented). Every view gets its own Generator derived
    from the seed and the view's name, so adding a view never changes another view's numbers.

Domain classifier
    cross-validated ROC-AUC of a logistic regression telling dataset rows from reference rows by their
    embeddings (0.5 = indistinguishable), with the rows each side is most recognisable by.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from dq_core.data.dataset import TextDataset
from dq_core.errors import DataError
from dq_core.metrics.shift import views as sv

DEFAULT_ALPHA = 0.5
MIN_ROWS_FOR_TESTS = 2  # per side: the bootstrap and permutation test need at least two rows to move
FEW_ROWS = 20  # per side: under this, say the interval and p-value are rough

Histogram = np.ndarray | Sequence[float]


# --------------------------------------------------------------------------- divergences

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


# --------------------------------------------------------------------------- configuration

@dataclass(frozen=True)
class ShiftConfig:
    """Parameters only; the functions below do the work."""

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
            (self.n_bootstrap >= 0, f"bootstrap resamples {self.n_bootstrap} must be >= 0"),
            (self.n_permutations >= 0, f"permutations {self.n_permutations} must be >= 0"),
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


# --------------------------------------------------------------------------- one view

VERDICTS = {
    "drift": "material and statistically significant",
    "small shift": "statistically significant but below the threshold",
    "inconclusive": "above the threshold but not significant: too few rows to tell it from noise",
    "no drift": "below the threshold and not significant",
    "too few rows": "too few rows on a side for an interval or a test",
    "skipped": "the view could not be computed",
}


@dataclass(frozen=True, eq=False)
class ShiftView:
    """Statistics of one view. ``skipped`` holds the reason when the view could not be computed."""

    name: str
    title: str
    bins: tuple[str, ...] = ()
    counts_dataset: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    counts_reference: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    unit: str = "rows"
    rows_dataset: int = 0
    rows_reference: int = 0
    scores: dict[str, float] = field(default_factory=dict)  # every registered divergence
    js_ci: tuple[float, float] | None = None
    p_value: float | None = None
    test: str = "js_divergence"
    threshold: float = 0.0
    verdict: str = "skipped"
    null_median: float | None = None  # the test statistic expected from sampling noise alone
    n_bootstrap: int = 0
    n_permutations: int = 0
    ordered: bool = False
    notes: tuple[str, ...] = ()
    skipped: str | None = None
    bin_info: dict[str, dict] = field(default_factory=dict, repr=False)
    bootstrap_js: np.ndarray | None = field(default=None, repr=False)
    null_distribution: np.ndarray | None = field(default=None, repr=False)

    # the headline numbers
    @property
    def kl(self) -> float | None:
        return self.scores.get("kl")

    @property
    def kl_reverse(self) -> float | None:
        return self.scores.get("kl_reverse")

    @property
    def js(self) -> float | None:
        return self.scores.get("js_divergence")

    @property
    def js_distance(self) -> float | None:
        return self.scores.get("js_distance")

    @property
    def statistic(self) -> float | None:
        return self.scores.get(self.test)

    @property
    def drift(self) -> bool | None:
        """True/False once tested; None when skipped or too few rows to test."""
        if self.verdict in ("skipped", "too few rows"):
            return None
        return self.verdict == "drift"

    @property
    def n_dataset(self) -> int:
        return int(self.counts_dataset.sum())

    @property
    def n_reference(self) -> int:
        return int(self.counts_reference.sum())

    def summary(self) -> str:
        """One sentence a stakeholder can read."""
        if self.skipped:
            return self.skipped
        parts = [f"JS {self.js:.4f}"]
        if self.js_ci is not None:
            parts[0] += f" (95% interval {self.js_ci[0]:.4f}–{self.js_ci[1]:.4f})"
        if self.test != "js_divergence":
            parts.append(f"{self.test} {self.statistic:.4f}")
        parts.append(f"threshold {self.threshold:g}")
        if self.p_value is not None:
            p = format_p(self.p_value, self.n_permutations)
            parts.append(f"p {p}" if p.startswith("<") else f"p = {p}")
        return f"{self.verdict}: " + ", ".join(parts) + f" ({VERDICTS[self.verdict]})"

    def attribution(self) -> pd.DataFrame:
        """One row per bin: shares, difference, JS contribution (signed: + = over-represented in the dataset)."""
        cols = ["bin", "dataset_count", "reference_count", "dataset_share", "reference_share", "difference",
                "contribution", "signed_contribution", "share_of_js", "direction"]
        if self.skipped or not len(self.bins):
            return pd.DataFrame(columns=cols)
        ps = self.counts_dataset / max(self.n_dataset, 1)
        qs = self.counts_reference / max(self.n_reference, 1)
        contrib = js_contributions(self.counts_dataset, self.counts_reference)
        total = contrib.sum()
        diff = ps - qs
        frame = pd.DataFrame({
            "bin": list(self.bins), "dataset_count": self.counts_dataset, "reference_count": self.counts_reference,
            "dataset_share": ps, "reference_share": qs, "difference": diff, "contribution": contrib,
            "signed_contribution": np.sign(diff) * contrib,
            "share_of_js": contrib / total if total > 0 else np.zeros_like(contrib),
            "direction": np.where(diff > 0, "over-represented", np.where(diff < 0, "under-represented", "same")),
        })
        if self.bin_info:
            keys = sorted({k for info in self.bin_info.values() for k in info})
            for k in keys:
                frame[k] = [self.bin_info.get(b, {}).get(k) for b in self.bins]
        return frame

    def to_dict(self, *, top_bins: int | None = None) -> dict:
        """JSON-ready; ``top_bins`` keeps only the bins that move JS most (all bins of ordered views)."""
        def f(x):
            return None if x is None else float(x)

        out = {
            "title": self.title, "kl": f(self.kl), "kl_reverse": f(self.kl_reverse), "js": f(self.js),
            "js_distance": f(self.js_distance),
            "js_ci": None if self.js_ci is None else [float(self.js_ci[0]), float(self.js_ci[1])],
            "p_value": f(self.p_value), "drift": self.drift, "verdict": self.verdict,
            "psi": f(self.scores.get("psi")), "total_variation": f(self.scores.get("total_variation")),
            "test": self.test, "statistic": f(self.statistic), "threshold": float(self.threshold),
            "null_median": f(self.null_median), "n_bootstrap": self.n_bootstrap,
            "n_permutations": self.n_permutations, "unit": self.unit, "n_dataset": self.n_dataset,
            "n_reference": self.n_reference, "rows_dataset": self.rows_dataset,
            "rows_reference": self.rows_reference, "notes": list(self.notes), "skipped": self.skipped,
            "bins": [],
        }
        a = self.attribution()
        if top_bins is not None and not self.ordered and len(a) > top_bins:
            a = a.sort_values("contribution", ascending=False, kind="stable").head(top_bins)
            out["bins_shown"] = f"top {top_bins} of {len(self.bins)} bins by JS contribution"
        for rec in a.to_dict(orient="records"):
            out["bins"].append({k: (v.item() if isinstance(v, np.generic) else v) for k, v in rec.items()})
        return out


def format_p(p: float, n_permutations: int) -> str:
    """A permutation p-value as text; at its floor 1/(B+1) it reads '< 1/B'."""
    if n_permutations and p <= 1.0 / (n_permutations + 1) + 1e-15:
        return f"< {1.0 / n_permutations:.2g}"
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def skipped_view(name: str, title: str, reason: str, config: ShiftConfig | None = None) -> ShiftView:
    config = config or ShiftConfig()
    return ShiftView(name=name, title=title, skipped=reason, notes=(reason,), verdict="skipped",
                     test=config.test, threshold=config.effective_threshold)


def view_rng(seed: int, name: str) -> np.random.Generator:
    """A Generator per (seed, view): one view's numbers never depend on which other views ran."""
    return np.random.default_rng([int(seed), zlib.crc32(name.encode())])


def _valid_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a.sum(axis=1) > 0) & (b.sum(axis=1) > 0)


def compute_view_stats(view: sv.ViewData, config: ShiftConfig | None = None,
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
                observed = scores[test.name]
                # Ties count as at least as extreme (the observed split is one of the permutations).
                n_ge = int((null >= observed - 1e-12 * max(1.0, abs(observed))).sum())
                n_perm = int(ok.sum())
                p_value = (1 + n_ge) / (1 + n_perm)
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


def _verdict(statistic: float, threshold: float, p_value: float | None, significance: float) -> str:
    material = statistic > threshold
    if p_value is None:  # no permutations asked for: the threshold alone decides
        return "drift" if material else "no drift"
    significant = p_value < significance
    if material:
        return "drift" if significant else "inconclusive"
    return "small shift" if significant else "no drift"


# --------------------------------------------------------------------------- domain classifier

@dataclass(frozen=True, eq=False)
class DomainClassifierResult:
    """How well a linear model tells dataset rows from reference rows (0.5 = not at all)."""

    auc: float | None
    auc_std: float | None = None
    fold_aucs: tuple[float, ...] = ()
    n_dataset: int = 0
    n_reference: int = 0
    distinctive_dataset: tuple[dict, ...] = ()  # rows the model is surest are from the dataset
    distinctive_reference: tuple[dict, ...] = ()
    notes: tuple[str, ...] = ()
    skipped: str | None = None
    scores_dataset: np.ndarray | None = field(default=None, repr=False)  # out-of-fold P(dataset)
    scores_reference: np.ndarray | None = field(default=None, repr=False)

    @property
    def verdict(self) -> str:
        if self.auc is None:
            return "skipped"
        a = self.auc
        if a < 0.6:
            return "indistinguishable"
        if a < 0.75:
            return "partly distinguishable"
        if a < 0.9:
            return "clearly distinguishable"
        return "almost perfectly separable"

    def to_dict(self) -> dict:
        return {"auc": self.auc, "auc_std": self.auc_std, "fold_aucs": list(self.fold_aucs),
                "verdict": self.verdict, "n_dataset": self.n_dataset, "n_reference": self.n_reference,
                "distinctive_dataset": list(self.distinctive_dataset),
                "distinctive_reference": list(self.distinctive_reference), "notes": list(self.notes),
                "skipped": self.skipped}


def classify_domains(ds_vectors: np.ndarray, ref_vectors: np.ndarray, *,
                     ds_rows: pd.DataFrame | None = None, ref_rows: pd.DataFrame | None = None,
                     folds: int = 5, max_rows: int = 5000, seed: int = 0,
                     n_examples: int = 8) -> DomainClassifierResult:
    """Cross-validated ROC-AUC of a logistic regression separating the two sets' embeddings.

    ``ds_rows``/``ref_rows`` (same length as the vectors; ``row_id`` and ``text`` columns) name the
    distinctive examples. Above ``max_rows`` rows a side, a seeded sample of that size is used.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    xp = np.asarray(ds_vectors, dtype=np.float32)
    xq = np.asarray(ref_vectors, dtype=np.float32)
    if xp.ndim != 2 or xq.ndim != 2 or (len(xp) and len(xq) and xp.shape[1] != xq.shape[1]):
        raise DataError("dataset and reference embeddings must be 2-D with the same width; embed both "
                        "with the same model")
    n_min = min(len(xp), len(xq))
    if n_min < 2:
        side = "dataset" if len(xp) < 2 else "reference"
        return DomainClassifierResult(auc=None, skipped=f"the {side} has {min(len(xp), len(xq))} embedded "
                                      "row(s); the domain classifier needs at least 2 on each side")
    rng = np.random.default_rng([int(seed), zlib.crc32(b"domain")])
    notes = []
    ip = np.sort(rng.choice(len(xp), max_rows, replace=False)) if len(xp) > max_rows else np.arange(len(xp))
    iq = np.sort(rng.choice(len(xq), max_rows, replace=False)) if len(xq) > max_rows else np.arange(len(xq))
    if len(ip) < len(xp) or len(iq) < len(xq):
        notes.append(f"fitted on a seeded sample of {len(ip):,} dataset and {len(iq):,} reference rows")
    x = np.vstack([xp[ip], xq[iq]])
    y = np.r_[np.ones(len(ip), dtype=np.int64), np.zeros(len(iq), dtype=np.int64)]
    k = int(min(folds, len(ip), len(iq)))
    if k < folds:
        notes.append(f"{k} folds instead of {folds}: a side has only {k} rows")
    oof = np.zeros(len(y), dtype=np.float64)
    aucs = []
    for train, test in StratifiedKFold(n_splits=k, shuffle=True, random_state=int(seed)).split(x, y):
        # tol 1e-3: the AUC is settled long before the default 1e-4 (3x fewer lbfgs iterations here).
        model = LogisticRegression(C=1.0, tol=1e-3, max_iter=1000, class_weight="balanced")
        model.fit(x[train], y[train])
        oof[test] = model.predict_proba(x[test])[:, 1]
        if len(np.unique(y[test])) == 2:
            aucs.append(float(roc_auc_score(y[test], oof[test])))
    auc = float(np.mean(aucs)) if aucs else float(roc_auc_score(y, oof))
    sp, sq = oof[: len(ip)], oof[len(ip):]

    def examples(rows: pd.DataFrame | None, idx: np.ndarray, scores: np.ndarray, top_high: bool) -> tuple:
        order = np.argsort(-scores if top_high else scores, kind="stable")[:n_examples]
        out = []
        for j in order:
            rec = {"p_dataset": float(scores[j])}
            if rows is not None:
                r = rows.iloc[int(idx[j])]
                rec = {"row_id": r["row_id"].item() if hasattr(r["row_id"], "item") else r["row_id"],
                       "text": None if pd.isna(r["text"]) else str(r["text"]), **rec}
            else:
                rec = {"position": int(idx[j]), **rec}
            out.append(rec)
        return tuple(out)

    return DomainClassifierResult(
        auc=auc, auc_std=float(np.std(aucs)) if len(aucs) > 1 else None, fold_aucs=tuple(aucs),
        n_dataset=len(ip), n_reference=len(iq),
        distinctive_dataset=examples(ds_rows, ip, sp, True), distinctive_reference=examples(ref_rows, iq, sq, False),
        notes=tuple(notes), scores_dataset=sp, scores_reference=sq)


# --------------------------------------------------------------------------- everything

@dataclass(frozen=True, eq=False)
class ShiftResult:
    views: dict[str, ShiftView]  # label, length, vocabulary, embedding_clusters, metadata:<col>...
    domain_classifier: DomainClassifierResult
    config: ShiftConfig
    n_dataset: int
    n_reference: int
    clusters: dict | None = None  # k and how it was chosen, when the cluster view ran
    notes: tuple[str, ...] = ()

    @property
    def drifting(self) -> list[str]:
        return [name for name, v in self.views.items() if v.drift]

    def to_dict(self, *, top_bins: int | None = None) -> dict:
        return {
            "n_rows": {"dataset": self.n_dataset, "reference": self.n_reference},
            "views": {name: v.to_dict(top_bins=top_bins) for name, v in self.views.items()},
            "domain_classifier_auc": self.domain_classifier.auc,
            "domain_classifier": self.domain_classifier.to_dict(),
            "clusters": self.clusters, "drifting_views": self.drifting,
            "config": self.config.to_dict(), "notes": list(self.notes),
        }


STANDARD_VIEWS = {"label": "Labels", "length": "Text length (words)", "vocabulary": "Vocabulary (word unigrams)",
                  "embedding_clusters": "Embedding clusters"}

Progress = Callable[[str], None]


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
    notes: list[str] = []

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

    have_emb = ds_embeddings is not None and ref_embeddings is not None
    cluster_info = None
    if not have_emb:
        reason = "no embeddings were given, so the embedding-cluster view is skipped"
        views["embedding_clusters"] = skipped_view("embedding_clusters", STANDARD_VIEWS["embedding_clusters"],
                                                   reason, config)
        domain = DomainClassifierResult(auc=None, skipped="no embeddings were given, so the domain "
                                        "classifier is skipped")
    else:
        vp_mask = np.asarray(ds_embeddings.valid, dtype=bool)
        vq_mask = np.asarray(ref_embeddings.valid, dtype=bool)
        if len(vp_mask) != len(ds) or len(vq_mask) != len(ref):
            raise DataError("the embeddings do not match the rows (different lengths); embed the datasets again")
        xp = np.asarray(ds_embeddings.vectors)[vp_mask]
        xq = np.asarray(ref_embeddings.vectors)[vq_mask]
        emb_notes = [*sv._missing_note(int((~vp_mask).sum()), "dataset", "text to embed"),
                     *sv._missing_note(int((~vq_mask).sum()), "reference", "text to embed")]
        rows_p = ds.frame.loc[vp_mask, ["row_id", "text"]].reset_index(drop=True)
        rows_q = ref.frame.loc[vq_mask, ["row_id", "text"]].reset_index(drop=True)

        def build_clusters() -> sv.ViewData:
            nonlocal cluster_info
            jc = clusters
            if jc is None:
                if len(xp) == 0 or len(xq) == 0:
                    raise sv.ViewSkipped(f"the {'dataset' if len(xp) == 0 else 'reference'} has no embedded "
                                         "rows, so the embedding-cluster view is skipped")
                try:
                    from dq_core.space.clusters import cluster_joint
                except ImportError:  # pragma: no cover - another issue's module
                    raise sv.ViewSkipped("clustering is not available in this install, so the embedding-"
                                         "cluster view is skipped") from None
                try:
                    jc = cluster_joint(xp, xq, k=config.n_clusters, seed=config.cluster_seed,
                                       workspace=workspace)
                except DataError as exc:
                    raise sv.ViewSkipped(f"the embedding-cluster view is skipped: {exc}") from None
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
                                  max_rows=config.domain_max_rows, seed=config.seed,
                                  n_examples=config.n_examples)

    for col in dict.fromkeys(metadata):
        name = f"metadata:{col}"
        run(name, f"Metadata: {col}", lambda c=col: sv.metadata_view(
            ds, ref, c, max_categories=config.max_categories, n_bins=config.length_bins))
    return ShiftResult(views=views, domain_classifier=domain, config=config, n_dataset=len(ds),
                       n_reference=len(ref), clusters=cluster_info, notes=tuple(notes))


def _cluster_terms(jc, rows_p: pd.DataFrame, rows_q: pd.DataFrame, workspace, cache_key) -> dict[int, list[str]]:
    """top_terms_by_cluster over both sets (the coverage table's terms), cached per data + clustering."""
    import hashlib

    from dq_core.space.clusters import top_terms_by_cluster

    labels = np.r_[jc.ds_labels, jc.ref_labels].astype(np.int64)
    key = None
    if workspace is not None and cache_key is not None:
        from dq_core.data.workspace import config_key

        key = config_key("shift_cluster_terms", *cache_key, int(jc.k),
                         hashlib.blake2b(labels.tobytes(), digest_size=12).hexdigest())
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
        try:
            terms = _cluster_terms(jc, rows_p, rows_q, workspace, cache_key)
        except ImportError:  # pragma: no cover - clusters.py is another issue's module
            terms = {}
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
