"""Colours and layout pieces shared by every figure, so a side or a verdict has one colour on all pages."""

from __future__ import annotations

# The two sides of every comparison.
DATASET_COLOR = "#4C78A8"
REFERENCE_COLOR = "#F58518"

# Categories (labels, clusters, metrics) in the order they appear; runs in a comparison.
PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#B279A2", "#E45756", "#72B7B2", "#EECA3B", "#FF9DA6",
           "#9D755D", "#BAB0AC", "#1F77B4", "#2CA02C", "#9467BD", "#8C564B", "#E377C2", "#17BECF")
RUN_COLORS = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#FF9DA6", "#9D755D")

# Something to look at (an under-covered cluster, drift, the observed value) against the rest.
ALERT_COLOR = "#D62728"
FLAG_COLOR = "#E45756"  # rows a signal flags
OK_COLOR = DATASET_COLOR  # rows it does not
BEFORE_COLOR = "#9AA5B1"  # the dataset before a filter recipe (after = DATASET_COLOR)
VERDICT_COLORS = {"drift": ALERT_COLOR, "small shift": "#FF9F1C", "inconclusive": "#B8B8B8",
                  "no drift": "#2CA02C", "too few rows": "#B8B8B8", "skipped": "#DDDDDD"}

# Greys: points folded into "other", de-emphasised points, points without a value, reference lines.
OTHER_COLOR = "#BBBBBB"
MUTED_COLOR = "#C7C7C7"
MISSING_COLOR = "#DDDDDD"
TEXT_COLOR = "#333333"
LINE_COLOR = "#555"  # thresholds
ZERO_LINE_COLOR = "#444"
GUIDE_COLOR = "grey"  # dashed guides: perfect calibration, no difference
CHANCE_COLOR = "#999"  # what shuffled data gives
UNKNOWN_COLOR = "#888"


def margin(top: int = 30) -> dict:
    """Tight margins (the pages put figures in narrow columns); ``top`` leaves room for a title."""
    return dict(l=10, r=10, t=top, b=10)


def legend_row(y: float, **extra) -> dict:
    """A horizontal legend: ``y`` above 1 puts it over the plot, below 0 under it."""
    return dict(orientation="h", y=y, **extra)


def share_colorbar(values, *, title: str = "share", n_ticks: int = 5) -> tuple[dict, float]:
    """(colorbar, zmax) for a colour scale of shares from 0 to the largest of ``values``.

    Ticks sit at round steps (1, 2 or 5 x 10^k) and each carries as many decimals as the step needs: a
    fixed ".0%" would write "0%" at every tick of a scale that ends at 0.4%.
    """
    import math

    import numpy as np

    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    top = float(v.max()) if v.size and v.max() > 0 else 0.01
    raw = top / n_ticks
    k = math.floor(math.log10(raw))
    step = min((m * 10**k for m in (1, 2, 5, 10) if m * 10**k >= raw), default=10 ** (k + 1))
    decimals = max(0, -math.floor(math.log10(step * 100) + 1e-9))  # the step in percent: 0.1% -> 1 decimal
    ticks = [i * step for i in range(int(top / step + 1e-9) + 1)]
    return (dict(title=title, tickmode="array", tickvals=ticks, ticktext=[f"{t:.{decimals}%}" if t else "0%" for t in ticks]), top)
