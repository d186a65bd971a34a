"""Overview page figures and tables: class balance and text lengths, built from BalanceResult and frames (no
streamlit)."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from dq_core.metrics.balance import BalanceResult
from dq_core.viz.style import DATASET_COLOR, REFERENCE_COLOR, legend_row, margin


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
                      margin=margin(), legend=legend_row(1.1),
                      xaxis_title=None, yaxis_title="share of rows" if share else "rows")
    return fig


def class_balance_table(ds: BalanceResult, ref: BalanceResult | None = None) -> pd.DataFrame:
    """Rows and share per class, the dataset's columns then the reference's (when it has labels), over every
    class of either side: the label sets may differ, and a class one side lacks is NaN there."""
    columns = {"dataset rows": pd.Series(ds.class_counts, dtype=float),
               "dataset share": pd.Series(ds.class_shares, dtype=float)}
    if ref is not None and ref.n_classes:
        columns |= {"reference rows": pd.Series(ref.class_counts, dtype=float),
                    "reference share": pd.Series(ref.class_shares, dtype=float)}
    return pd.concat(columns, axis=1)


def missing_classes(table: pd.DataFrame) -> dict[str, list[str]]:
    """Per side of a :func:`class_balance_table`, the classes it lacks (that only the other side holds), sorted."""
    return {side: sorted(table.index[table[f"{side} rows"].isna()].astype(str)) for side in ("dataset", "reference")
            if f"{side} rows" in table}


def length_histogram(frame: pd.DataFrame, *, unit: str = "words", max_points: int = 200_000,
                     seed: int = 0) -> go.Figure:
    """Overlaid per-class histograms of text length; ``frame`` has ``label`` and ``length`` columns."""
    if len(frame) > max_points:
        frame = frame.sample(max_points, random_state=seed)
    fig = px.histogram(frame, x="length", color="label", barmode="overlay", histnorm="probability",
                       opacity=0.55, nbins=60)
    fig.update_layout(height=320, margin=margin(), xaxis_title=f"length ({unit})",
                      yaxis_title="share of class", legend_title=None)
    return fig


def length_box(frame: pd.DataFrame, *, unit: str = "words") -> go.Figure:
    fig = px.box(frame, x="label", y="length", color="label", points=False)
    fig.update_layout(height=320, margin=margin(), showlegend=False,
                      yaxis_title=f"length ({unit})", xaxis_title=None)
    return fig
