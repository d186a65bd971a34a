"""Plotly figures for training runs and their evaluation (no streamlit here; pages and reports call these)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dq_core.training.evaluate import BootstrapResult, EvaluationResult
from dq_core.viz.style import DATASET_COLOR, GUIDE_COLOR, REFERENCE_COLOR, RUN_COLORS, legend_row, margin

_MARGIN = margin(40)


def heatmap(matrix: np.ndarray, labels: list[str], *, title: str = "", fmt: str = ".2f",
            x_title: str = "", y_title: str = "", colorscale: str = "Blues") -> go.Figure:
    """A square matrix over ``labels`` with each cell's value printed in it (rows top to bottom)."""
    fig = go.Figure(go.Heatmap(z=matrix, x=labels, y=labels, colorscale=colorscale, texttemplate="%{z:" + fmt + "}",
                               hovertemplate=y_title + " %{y}<br>" + x_title + " %{x}<br>%{z:" + fmt + "}<extra></extra>"))
    fig.update_layout(title=title, height=360, margin=margin(40),
                      xaxis_title=x_title, yaxis_title=y_title, yaxis_autorange="reversed")
    return fig


def confusion_matrix_figure(ev: EvaluationResult, *, normalized: bool = False, title: str = "") -> go.Figure:
    """Rows = true label, columns = predicted; normalised rows show recall on the diagonal."""
    m = ev.confusion_matrix_normalized if normalized else ev.confusion_matrix
    default = ("Confusion matrix (share of each true class)" if normalized
               else "Confusion matrix (counts; rows = true label)")
    return heatmap(m, list(ev.labels), title=title or default, fmt=".2f" if normalized else "d",
                   x_title="predicted", y_title="true")


def reliability_figure(ev: EvaluationResult) -> go.Figure:
    """Accuracy against confidence per bin; the diagonal is perfect calibration; bar width ~ rows."""
    bins = [b for b in ev.reliability if b.count]
    fig = go.Figure()
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dash", color=GUIDE_COLOR), name="perfect",
                    hoverinfo="skip")
    fig.add_bar(x=[(b.lower + b.upper) / 2 for b in bins], y=[b.accuracy for b in bins],
                width=[(b.upper - b.lower) * 0.9 for b in bins], name="accuracy", marker_color=DATASET_COLOR,
                customdata=np.array([[b.count, b.confidence] for b in bins]) if bins else None,
                hovertemplate="confidence %{customdata[1]:.2f}<br>accuracy %{y:.2f}<br>%{customdata[0]} rows"
                              "<extra></extra>")
    fig.add_scatter(x=[b.confidence for b in bins], y=[b.accuracy for b in bins], mode="markers",
                    marker=dict(color=REFERENCE_COLOR, size=8), name="mean confidence", hoverinfo="skip")
    fig.update_layout(title=f"Reliability (ECE {ev.ece:.3f})", height=340, margin=_MARGIN,
                      xaxis=dict(title="confidence", range=[0, 1]), yaxis=dict(title="accuracy", range=[0, 1]),
                      legend=legend_row(-0.2))
    return fig


def training_curves_figure(history: pd.DataFrame, *, title: str = "Loss") -> go.Figure:
    """Train loss and validation loss against the optimiser step."""
    fig = go.Figure()
    if history is not None and len(history):
        for col, name, color in (("loss", "train loss", DATASET_COLOR),
                                 ("eval_loss", "validation loss", REFERENCE_COLOR)):
            if col in history.columns:
                h = history[["step", col]].dropna()
                if len(h):
                    fig.add_scatter(x=h["step"], y=h[col], mode="lines+markers" if len(h) < 30 else "lines",
                                    name=name, line=dict(color=color))
    fig.update_layout(title=title, height=320, margin=_MARGIN, xaxis_title="step", yaxis_title="loss",
                      legend=legend_row(-0.25))
    return fig


def per_class_f1_figure(evals: dict[str, EvaluationResult]) -> go.Figure:
    """Grouped bars of per-class F1, one colour per run, on the union of their classes."""
    labels: list[str] = []
    for ev in evals.values():
        labels += [lab for lab in ev.labels if lab not in labels]
    fig = go.Figure()
    for i, (name, ev) in enumerate(evals.items()):
        fig.add_bar(x=labels, y=[ev.per_class.get(lab, {}).get("f1", np.nan) for lab in labels], name=name,
                    marker_color=RUN_COLORS[i % len(RUN_COLORS)],
                    hovertemplate="%{x}<br>F1 %{y:.3f}<extra>" + f"run {i + 1}" + "</extra>")
    fig.update_layout(barmode="group", title="F1 per class", height=340, margin=_MARGIN, yaxis=dict(range=[0, 1]),
                      legend=legend_row(-0.2))
    return fig


def bootstrap_figure(results: list[tuple[str, BootstrapResult]]) -> go.Figure:
    """The paired-bootstrap interval of each difference; an interval clear of zero is a real change."""
    fig = go.Figure()
    names = [n for n, _ in results]
    deltas = [r.delta for _, r in results]
    fig.add_scatter(x=deltas, y=names, mode="markers", marker=dict(size=10, color=DATASET_COLOR),
                    error_x=dict(type="data", symmetric=False, array=[r.ci_high - r.delta for _, r in results],
                                 arrayminus=[r.delta - r.ci_low for _, r in results]),
                    hovertemplate="%{y}<br>Δ %{x:+.4f}<extra></extra>", showlegend=False)
    fig.add_vline(x=0, line=dict(dash="dash", color=GUIDE_COLOR))
    conf = results[0][1].confidence if results else 0.95
    fig.update_layout(title=f"Difference with a {conf:.0%} paired-bootstrap interval", height=120 + 50 * len(results),
                      margin=_MARGIN, xaxis_title="difference (later run − first run)", yaxis=dict(automargin=True))
    return fig


def slice_figure(frame: pd.DataFrame, column: str) -> go.Figure:
    """Accuracy and macro-F1 per slice value, with the number of rows in the hover."""
    fig = go.Figure()
    for metric, color in (("accuracy", DATASET_COLOR), ("macro_f1", REFERENCE_COLOR)):
        fig.add_bar(x=frame["value"].astype(str), y=frame[metric], name=metric.replace("_", "-"),
                    marker_color=color, customdata=frame["n"],
                    hovertemplate="%{x}<br>%{y:.3f} (%{customdata} rows)<extra></extra>")
    fig.update_layout(barmode="group", title=f"Metrics by {column}", height=320, margin=_MARGIN,
                      yaxis=dict(range=[0, 1]), legend=legend_row(-0.25))
    return fig


def metric_bars_figure(table: pd.DataFrame, metrics: tuple[str, ...] = ("accuracy", "macro_f1", "weighted_f1")
                       ) -> go.Figure:
    """Headline metrics of several runs side by side (``table``: index = metric, columns = runs)."""
    fig = go.Figure()
    rows = [m for m in metrics if m in table.index]
    for i, run in enumerate(table.columns):
        fig.add_bar(x=rows, y=[table.loc[m, run] for m in rows], name=str(run),
                    marker_color=RUN_COLORS[i % len(RUN_COLORS)])
    fig.update_layout(barmode="group", title="Headline metrics", height=320, margin=_MARGIN,
                      yaxis=dict(range=[0, 1]), legend=legend_row(-0.2))
    return fig
