"""Plotly figures for the Clean page: the signals, and what a filter recipe leaves. No streamlit here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dq_core.viz.style import (
    BEFORE_COLOR,
    DATASET_COLOR,
    FLAG_COLOR,
    OK_COLOR,
    PALETTE,
    legend_row,
    margin,
    share_colorbar,
)

LAYOUT = dict(margin=margin(40))


def flagged_bar(counts: dict[str, int], n_rows: int, *, titles: dict[str, str] | None = None) -> go.Figure:
    """Horizontal bars: rows flagged per signal (share in the hover)."""
    titles = titles or {}
    keys = list(counts)
    names = [titles.get(k, k) for k in keys]
    vals = [counts[k] for k in keys]
    shares = [v / n_rows if n_rows else 0 for v in vals]
    fig = go.Figure(go.Bar(x=vals, y=names, orientation="h", marker_color=FLAG_COLOR, customdata=shares,
                           text=[f"{v:,} ({s:.1%})" for v, s in zip(vals, shares, strict=True)],
                           textposition="auto", hovertemplate="%{y}: %{x:,} rows (%{customdata:.1%})<extra></extra>"))
    fig.update_layout(height=60 + 32 * len(keys), xaxis_title="rows flagged", yaxis_autorange="reversed",
                      **LAYOUT)
    return fig


def joint_heatmap(joint: np.ndarray | list, classes: list[str], *, n_rows: int | None = None) -> go.Figure:
    """Confident learning's joint: rows = given label, columns = estimated true label, share of all rows."""
    j = np.asarray(joint, dtype=float)
    text = [[f"{v:.1%}" + (f"<br>~{v * n_rows:,.0f} rows" if n_rows else "") for v in row] for row in j]
    off = j.copy()
    np.fill_diagonal(off, np.nan)  # colour by the confusions; the diagonal would swamp the scale
    colorbar, top = share_colorbar(off)  # confusions are often under 1% of all rows: ticks say 0.1%, 0.2%, ...
    fig = go.Figure(go.Heatmap(z=off, x=classes, y=classes, colorscale="Reds", text=text, texttemplate="%{text}",
                               hovertemplate="given %{y} · true %{x}<br>%{text}<extra></extra>",
                               zmin=0.0, zmax=top, colorbar=colorbar))
    fig.update_layout(height=120 + 60 * len(classes), xaxis_title="estimated true label",
                      yaxis_title="given label", yaxis_autorange="reversed",
                      title="Which labels get confused with which (diagonal = correct)", **LAYOUT)
    return fig


def score_histogram(scores: np.ndarray, flags: np.ndarray, *, title: str = "", nbins: int = 50) -> go.Figure:
    s = np.asarray(scores, dtype=float)
    f = np.asarray(flags, dtype=bool)
    fig = go.Figure()
    bins = dict(start=0.0, end=1.0, size=1.0 / nbins)
    fig.add_histogram(x=s[~f], name="not flagged", marker_color=OK_COLOR, xbins=bins)
    fig.add_histogram(x=s[f], name="flagged", marker_color=FLAG_COLOR, xbins=bins)
    fig.update_layout(barmode="stack", height=280, title=title, xaxis_title="score (low = suspicious)",
                      yaxis_title="rows", legend=legend_row(1.15), **LAYOUT)
    return fig


def agreement_boxes(scores: np.ndarray, agreement: np.ndarray, *, column: str = "agreement",
                    threshold: float = 0.6) -> go.Figure:
    """Our label score by bands of the crowd's agreement: good scores fall where the crowd disagreed."""
    a = pd.to_numeric(pd.Series(agreement), errors="coerce")
    s = pd.Series(np.asarray(scores, dtype=float))
    edges = [0.0, 0.4, 0.5, threshold, 0.7, 0.8, 0.9, 1.0 + 1e-9]
    band = pd.cut(a, sorted(set(edges)), right=False)
    fig = go.Figure()
    for iv in band.cat.categories:
        m = (band == iv).to_numpy()
        if m.sum() == 0:
            continue
        low = iv.right <= threshold + 1e-9
        fig.add_box(y=s[m], name=f"{iv.left:.1f}–{min(iv.right, 1.0):.1f} (n={int(m.sum()):,})", boxpoints=False,
                    marker_color=FLAG_COLOR if low else OK_COLOR)
    fig.update_layout(height=320, showlegend=False, xaxis_title=f"crowd {column}",
                      yaxis_title="our label score", **LAYOUT)
    return fig


def detection_bars(results: dict[str, dict]) -> go.Figure:
    """Precision / recall / F1 of each detector against the injected flips."""
    fig = go.Figure()
    names = list(results)
    for metric, color in zip(("precision", "recall", "f1", "average_precision"), PALETTE, strict=False):
        vals = [results[n].get(metric) for n in names]
        fig.add_bar(x=names, y=vals, name=metric.replace("_", " "), marker_color=color,
                    text=[f"{v:.2f}" if v is not None and v == v else "" for v in vals], textposition="outside")
    fig.update_layout(barmode="group", height=340, yaxis_range=[0, 1.1], yaxis_title="vs. the known flips",
                      legend=legend_row(1.15), **LAYOUT)
    return fig


def class_counts_before_after(table: pd.DataFrame) -> go.Figure:
    """Grouped bars of rows per class before and after a filter recipe (``class``, ``before``, ``after``)."""
    fig = go.Figure()
    fig.add_bar(x=table["class"], y=table["before"], name="before", marker_color=BEFORE_COLOR,
                hovertemplate="%{x}<br>%{y:,} rows<extra>before</extra>")
    fig.add_bar(x=table["class"], y=table["after"], name="after", marker_color=DATASET_COLOR,
                hovertemplate="%{x}<br>%{y:,} rows<extra>after</extra>")
    fig.update_layout(barmode="group", height=300, margin=margin(),
                      legend=legend_row(1.12), yaxis_title="rows", xaxis_title=None)
    return fig
