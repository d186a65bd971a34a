"""Plotly figures built from *Result objects and frames. No streamlit here: pages call these."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from dq_core.metrics.balance import BalanceResult

DATASET_COLOR = "#4C78A8"
REFERENCE_COLOR = "#F58518"


def class_balance_bar(ds: BalanceResult, ref: BalanceResult | None = None, *, share: bool = True) -> go.Figure:
    """Grouped bars of class shares (or counts), dataset vs reference, on the union of labels."""
    labels = list(ds.class_counts)
    if ref is not None:
        labels += [c for c in ref.class_counts if c not in ds.class_counts]
    fig = go.Figure()
    for name, res, color in (("dataset", ds, DATASET_COLOR), ("reference", ref, REFERENCE_COLOR)):
        if res is None:
            continue
        values = [(res.class_shares if share else res.class_counts).get(c, 0) for c in labels]
        counts = [res.class_counts.get(c, 0) for c in labels]
        fig.add_bar(x=labels, y=values, name=name, marker_color=color, customdata=counts,
                    hovertemplate="%{x}<br>%{y:.1%} (%{customdata:,} rows)<extra>" + name + "</extra>"
                    if share else "%{x}<br>%{y:,} rows<extra>" + name + "</extra>")
    fig.update_layout(barmode="group", yaxis_tickformat=".0%" if share else ",", height=340,
                      margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=1.1),
                      xaxis_title=None, yaxis_title="share of rows" if share else "rows")
    return fig


def length_histogram(frame: pd.DataFrame, *, unit: str = "words", max_points: int = 200_000,
                     seed: int = 0) -> go.Figure:
    """Overlaid per-class histograms of text length; ``frame`` has ``label`` and ``length`` columns."""
    if len(frame) > max_points:
        frame = frame.sample(max_points, random_state=seed)
    fig = px.histogram(frame, x="length", color="label", barmode="overlay", histnorm="probability",
                       opacity=0.55, nbins=60)
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=10), xaxis_title=f"length ({unit})",
                      yaxis_title="share of class", legend_title=None)
    return fig


def length_box(frame: pd.DataFrame, *, unit: str = "words") -> go.Figure:
    fig = px.box(frame, x="label", y="length", color="label", points=False)
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=10), showlegend=False,
                      yaxis_title=f"length ({unit})", xaxis_title=None)
    return fig


def heatmap(matrix: np.ndarray, labels: list[str], *, title: str = "", fmt: str = ".2f",
            x_title: str = "", y_title: str = "", colorscale: str = "Blues") -> go.Figure:
    fig = go.Figure(go.Heatmap(z=matrix, x=labels, y=labels, colorscale=colorscale, texttemplate="%{z:" + fmt + "}",
                               hovertemplate=y_title + " %{y}<br>" + x_title + " %{x}<br>%{z:" + fmt + "}<extra></extra>"))
    fig.update_layout(title=title, height=360, margin=dict(l=10, r=10, t=40, b=10),
                      xaxis_title=x_title, yaxis_title=y_title, yaxis_autorange="reversed")
    return fig


def class_counts_before_after(table: pd.DataFrame) -> go.Figure:
    """Grouped bars of rows per class before and after a filter recipe (``class``, ``before``, ``after``)."""
    fig = go.Figure()
    fig.add_bar(x=table["class"], y=table["before"], name="before", marker_color="#9AA5B1",
                hovertemplate="%{x}<br>%{y:,} rows<extra>before</extra>")
    fig.add_bar(x=table["class"], y=table["after"], name="after", marker_color=DATASET_COLOR,
                hovertemplate="%{x}<br>%{y:,} rows<extra>after</extra>")
    fig.update_layout(barmode="group", height=300, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", y=1.12), yaxis_title="rows", xaxis_title=None)
    return fig
