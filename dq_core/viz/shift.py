"""Plotly figures for distribution shift, built from ShiftResult / ShiftView objects (no streamlit)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dq_core.metrics.shift import DomainClassifierResult, ShiftResult, ShiftView
from dq_core.viz.style import (
    ALERT_COLOR,
    CHANCE_COLOR,
    DATASET_COLOR,
    LINE_COLOR,
    REFERENCE_COLOR,
    UNKNOWN_COLOR,
    VERDICT_COLORS,
    ZERO_LINE_COLOR,
    legend_row,
    margin,
)

OVER_COLOR = DATASET_COLOR  # more of it in the dataset than in the reference
UNDER_COLOR = REFERENCE_COLOR
_LAYOUT = dict(margin=margin(40), legend=legend_row(1.12))


def _empty(message: str, height: int = 240) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(height=height, xaxis_visible=False, yaxis_visible=False, **_LAYOUT)
    return fig


def views_overview(result: ShiftResult) -> go.Figure:
    """JS divergence per view with its bootstrap interval, coloured by verdict, threshold as a line."""
    views = [v for v in result.views.values() if not v.skipped]
    if not views:
        return _empty("No view could be computed")
    names = [v.title for v in views][::-1]
    js = [v.js for v in views][::-1]
    lo = [v.js - v.js_ci[0] if v.js_ci else 0 for v in views][::-1]
    hi = [v.js_ci[1] - v.js if v.js_ci else 0 for v in views][::-1]
    colors = [VERDICT_COLORS.get(v.verdict, UNKNOWN_COLOR) for v in views][::-1]
    verdicts = [v.verdict for v in views][::-1]
    fig = go.Figure(go.Bar(
        x=js, y=names, orientation="h", marker_color=colors, customdata=verdicts,
        error_x=dict(type="data", symmetric=False, array=np.maximum(hi, 0), arrayminus=np.maximum(lo, 0)),
        hovertemplate="%{y}<br>JS %{x:.4f}<br>%{customdata}<extra></extra>"))
    thresholds = {v.threshold for v in views if v.test == "js_divergence"}
    for t in thresholds:
        fig.add_vline(x=t, line_dash="dash", line_color=LINE_COLOR, annotation_text=f"threshold {t:g}",
                      annotation_position="top")
    fig.update_layout(height=90 + 45 * len(views), xaxis_title="Jensen-Shannon divergence (bits, 0-1)",
                      title="Shift per view (bars: JS; whiskers: 95% bootstrap interval)", **_LAYOUT)
    return fig


def _shown_bins(view: ShiftView, top: int) -> pd.DataFrame:
    a = view.attribution()
    if view.ordered or len(a) <= top:
        return a
    return a.sort_values("contribution", ascending=False, kind="stable").head(top)


def histogram_pair(view: ShiftView, *, top: int = 30) -> go.Figure:
    """Overlaid shares per bin, dataset vs reference (ordered bins in order; else the top movers)."""
    if view.skipped:
        return _empty(view.skipped)
    a = _shown_bins(view, top)
    fig = go.Figure()
    for side, col, color in (("dataset", "dataset_share", DATASET_COLOR),
                             ("reference", "reference_share", REFERENCE_COLOR)):
        counts = a[f"{side}_count"].to_numpy()
        fig.add_bar(x=a["bin"], y=a[col], name=side, marker_color=color, opacity=0.6, customdata=counts,
                    hovertemplate="%{x}<br>%{y:.2%} (%{customdata:,} " + view.unit + ")<extra>" + side + "</extra>")
    subset = "" if len(a) == len(view.bins) else f"<br><sup>the {len(a)} of {len(view.bins)} bins that move JS most</sup>"
    fig.update_layout(barmode="overlay", height=360, yaxis_tickformat=".1%", yaxis_title=f"share of {view.unit}",
                      title=f"{view.title}: dataset vs reference{subset}", xaxis_type="category", **_LAYOUT)
    return fig


def attribution_bar(view: ShiftView, *, top: int = 20) -> go.Figure:
    """Diverging bars: each bin's share of the JS divergence, right = over-represented in the dataset."""
    if view.skipped:
        return _empty(view.skipped)
    a = view.attribution()
    a = a[a["contribution"] > 0].sort_values("contribution", ascending=False, kind="stable").head(top)
    if a.empty:
        return _empty("Both sides have the same shares in every bin")
    a = a.iloc[::-1]
    colors = np.where(a["signed_contribution"] > 0, OVER_COLOR, UNDER_COLOR)
    custom = np.c_[a["dataset_share"], a["reference_share"], a["share_of_js"]]
    fig = go.Figure(go.Bar(
        x=a["signed_contribution"], y=a["bin"], orientation="h", marker_color=colors, customdata=custom,
        hovertemplate="%{y}<br>dataset %{customdata[0]:.2%} · reference %{customdata[1]:.2%}"
                      "<br>%{customdata[2]:.1%} of the JS divergence<extra></extra>"))
    fig.add_vline(x=0, line_color=ZERO_LINE_COLOR)
    fig.update_layout(height=120 + 22 * len(a), yaxis_type="category",
                      xaxis_title="JS contribution (bits)<br>← under-represented · over-represented in the "
                                  "dataset →",
                      title=f"{view.title}: what moves the divergence", **_LAYOUT)
    return fig


def resampling_figure(view: ShiftView) -> go.Figure:
    """The permutation null (what noise alone gives) beside the bootstrap distribution of JS."""
    if view.skipped:
        return _empty(view.skipped)
    if view.null_distribution is None and view.bootstrap_js is None:
        return _empty("No resampling was run for this view")
    fig = go.Figure()
    if view.null_distribution is not None:
        fig.add_histogram(x=view.null_distribution, name=f"shuffled sets ({view.test})", marker_color=CHANCE_COLOR,
                          opacity=0.6, histnorm="probability")
    if view.bootstrap_js is not None:
        fig.add_histogram(x=view.bootstrap_js, name="bootstrap resamples (JS)", marker_color=DATASET_COLOR, opacity=0.6,
                          histnorm="probability")
    fig.add_vline(x=view.statistic, line_color=ALERT_COLOR, annotation_text="observed",
                  annotation_position="top right")
    fig.add_vline(x=view.threshold, line_dash="dash", line_color=LINE_COLOR, annotation_text="threshold",
                  annotation_position="top left")
    fig.update_layout(barmode="overlay", height=300, xaxis_title="divergence", yaxis_title="share of resamples",
                      title=f"{view.title}: observed vs chance", **_LAYOUT)
    return fig


def domain_scores(dc: DomainClassifierResult) -> go.Figure:
    """Out-of-fold P(dataset) per side: two piles far apart = the sets are easy to tell apart."""
    if dc.scores_dataset is None or dc.scores_reference is None:
        return _empty(dc.skipped or "No domain classifier was run")
    fig = go.Figure()
    for name, s, color in (("dataset rows", dc.scores_dataset, DATASET_COLOR),
                           ("reference rows", dc.scores_reference, REFERENCE_COLOR)):
        fig.add_histogram(x=s, name=name, marker_color=color, opacity=0.6, histnorm="probability",
                          xbins=dict(start=0, end=1, size=0.025))
    fig.update_layout(barmode="overlay", height=300, xaxis_title="P(dataset) from the classifier (out of fold)",
                      yaxis_title="share of rows", title=f"Domain classifier: ROC-AUC {dc.auc:.3f}", **_LAYOUT)
    return fig
