"""Result objects of a shift comparison: one view (:class:`ShiftView`) and all of them (:class:`ShiftResult`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dq_core.metrics.shift.config import ShiftConfig
from dq_core.metrics.shift.divergences import js_contributions
from dq_core.metrics.shift.domain import DomainClassifierResult
from dq_core.util.jsonsafe import to_native

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
            out["bins"].append({k: to_native(v) for k, v in rec.items()})
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
