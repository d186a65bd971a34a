"""Coverage figures: the 2-D map (WebGL), per-cluster shares, nearest-neighbour distances, the cluster table.

Built from a plot frame (see :func:`map_frame`, and :func:`plot_sample` for the points a map draws) and
:class:`~dq_core.metrics.coverage.CoverageResult`. No streamlit here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dq_core.metrics.coverage import CoverageResult
from dq_core.space.projection import MAX_PLOT_POINTS
from dq_core.util.sampling import stratified_sample
from dq_core.viz.style import (
    ALERT_COLOR,
    DATASET_COLOR,
    MISSING_COLOR,
    MUTED_COLOR,
    OTHER_COLOR,
    PALETTE,
    REFERENCE_COLOR,
    TEXT_COLOR,
    legend_row,
    margin,
)

UNDER_COLOR = ALERT_COLOR
SIDE_COLORS = {"dataset": DATASET_COLOR, "reference": REFERENCE_COLOR}
HOVER_CHARS = 120
MAX_CATEGORIES = 24  # more categories than this are folded into "other" (a legend people can read)


def map_frame(ds, ref, ds_xy: np.ndarray, ref_xy: np.ndarray, *, coverage: CoverageResult | None = None,
              extra_numeric: dict[str, tuple[np.ndarray, np.ndarray | None]] | None = None) -> pd.DataFrame:
    """One row per point with x, y, side, row_id, label, text, cluster and numeric columns.

    Rows without coordinates (no embedding) are dropped. ``extra_numeric`` maps a column name to
    (dataset values, reference values or None).
    """
    parts = []
    for side, d, xy, clus in (("dataset", ds, ds_xy, None if coverage is None else coverage.ds_cluster),
                              ("reference", ref, ref_xy, None if coverage is None else coverage.ref_cluster)):
        if d is None or xy is None or len(d) == 0:
            continue
        f = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "side": side, "row_id": d.frame["row_id"].to_numpy(dtype=object),
                          "pos": np.arange(len(d)), "label": d.frame["label"].fillna("(none)").astype(str).to_numpy(),
                          "text": d.frame["text"].fillna("").astype(str).to_numpy()})
        if clus is not None and len(clus) == len(d):
            f["cluster"] = clus
        for col in d.frame.columns:
            if col not in ("row_id", "text", "label", "split") and pd.api.types.is_numeric_dtype(d.frame[col]) \
                    and not pd.api.types.is_bool_dtype(d.frame[col]):
                f[col] = pd.to_numeric(d.frame[col], errors="coerce").to_numpy(dtype=float)
        parts.append(f)
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["x", "y", "side"])
    if coverage is not None and "cluster" in frame:
        under = set(coverage.under_covered_clusters)
        frame["under_covered"] = frame["cluster"].isin(under)
        near = np.full(len(frame), np.nan)
        is_ref = (frame["side"] == "reference").to_numpy()
        if len(coverage.ref_nn_distance) == int(is_ref.sum()):
            near[is_ref] = coverage.ref_nn_distance
        is_ds = ~is_ref
        if len(coverage.ds_nn_distance) == int(is_ds.sum()):
            near[is_ds] = coverage.ds_nn_distance
        frame["nearest_dataset_distance"] = near
    for name, (dv, rv) in (extra_numeric or {}).items():
        vals = np.full(len(frame), np.nan)
        is_ref = (frame["side"] == "reference").to_numpy()
        if dv is not None and len(dv) == int((~is_ref).sum()):
            vals[~is_ref] = dv
        if rv is not None and len(rv) == int(is_ref.sum()):
            vals[is_ref] = rv
        frame[name] = vals
    return frame[np.isfinite(frame["x"].to_numpy(dtype=float))].reset_index(drop=True)


def plot_sample(frame: pd.DataFrame, max_points: int = MAX_PLOT_POINTS) -> pd.DataFrame:
    """The points a map draws: at most ``max_points`` of a :func:`map_frame`, stratified by side and cluster
    (by side and label without clusters), so every side and cluster keeps its share; the same rows each time."""
    strata = frame["side"] + ":" + (frame["cluster"].astype(str) if "cluster" in frame else frame["label"])
    keep = stratified_sample(strata.to_numpy(), max_points, rng=0)
    return frame.iloc[keep].reset_index(drop=True)


def color_options(frame: pd.DataFrame) -> list[str]:
    """What the map can be coloured by: side, label, cluster, coverage, then every numeric column."""
    opts = ["dataset vs reference", "label"]
    if "cluster" in frame:
        opts += ["cluster", "under-covered clusters"]
    skip = {"x", "y", "pos", "cluster"}
    opts += [c for c in frame.columns if c not in skip and pd.api.types.is_numeric_dtype(frame[c])
             and not pd.api.types.is_bool_dtype(frame[c]) and frame[c].notna().any()]
    return opts


def _hover(frame: pd.DataFrame) -> np.ndarray:
    """Only the text (cut, wrapped, escaped): side, label and cluster come from customdata and the trace
    name, so the per-point payload stays small (38k tweets: 7.6 MB of figure with a per-point header)."""
    t = frame["text"].str.slice(0, HOVER_CHARS)
    t = t.where(frame["text"].str.len() <= HOVER_CHARS, t + "…")
    t = t.str.replace("<", "&lt;", regex=False)
    t = t.str.replace("\ufffd+", "\ufffd", regex=True)  # runs of undecodable bytes: one mark each
    # Wrap every ~60 chars so long tweets do not make one very wide tooltip.
    return t.str.replace(r"(.{60}\S*)\s", r"\1<br>", regex=True).to_numpy()


def coverage_map(frame: pd.DataFrame, *, color: str = "dataset vs reference", title: str = "",
                 highlight_under: bool = True, height: int = 620, marker_size: float = 4.0) -> go.Figure:
    """WebGL scatter of the plot frame. Each point's ``customdata`` is its frame position (for selection)."""
    fig = go.Figure()
    hover = _hover(frame) if len(frame) else np.array([])
    idx = np.arange(len(frame))
    # customdata = (frame position, side code, cluster): numeric, so plotly ships it as compact typed arrays.
    side_code = (frame["side"] == "reference").to_numpy().astype(np.int64) if len(frame) else idx
    clus = frame["cluster"].to_numpy(dtype=np.int64) if "cluster" in frame else np.full(len(frame), -1)
    custom = np.column_stack([idx, side_code, clus]) if len(frame) else np.zeros((0, 3), dtype=np.int64)
    template = ("%{hovertext}<extra>%{fullData.name}" + (" · C%{customdata[2]}" if "cluster" in frame else "")
                + "</extra>")

    def add(mask: np.ndarray, name: str, colour, *, showlegend: bool = True, hover_rows: bool = True,
            **marker) -> None:
        xs, ys = frame["x"].to_numpy()[mask], frame["y"].to_numpy()[mask]
        style = dict(color=colour, size=marker_size, opacity=0.75, **marker)
        if hover_rows:
            fig.add_trace(go.Scattergl(x=xs, y=ys, mode="markers", name=name, customdata=custom[mask],
                                       hovertext=hover[mask], hovertemplate=template, marker=style,
                                       showlegend=showlegend))
        else:  # decoration only: no texts (they are most of the page's payload), not selectable twice
            fig.add_trace(go.Scattergl(x=xs, y=ys, mode="markers", name=name, hoverinfo="skip", marker=style,
                                       showlegend=showlegend))

    if color == "dataset vs reference":
        # Reference first so the dataset is drawn on top of it.
        for side in ("reference", "dataset"):
            m = (frame["side"] == side).to_numpy()
            if m.any():
                add(m, f"{side} ({int(m.sum()):,})", SIDE_COLORS[side])
    elif color in ("label", "cluster"):
        values = frame[color].astype(str)
        counts = values.value_counts()
        keep = list(counts.index[:MAX_CATEGORIES])
        if color == "cluster":
            keep = sorted(keep, key=lambda v: int(v) if v.lstrip("-").isdigit() else 10**9)
        for i, v in enumerate(keep):
            m = (values == v).to_numpy()
            add(m, f"{color} {v}" if color == "cluster" else v, PALETTE[i % len(PALETTE)])
        rest = ~values.isin(keep).to_numpy()
        if rest.any():
            add(rest, f"other ({int(rest.sum()):,})", OTHER_COLOR)
    elif color == "under-covered clusters":
        under = frame.get("under_covered", pd.Series(False, index=frame.index)).to_numpy(dtype=bool)
        ok = ~under
        if ok.any():
            add(ok, "covered clusters", MUTED_COLOR)
        if under.any():
            add(under & (frame["side"] == "reference").to_numpy(), "under-covered: reference rows", UNDER_COLOR)
            add(under & (frame["side"] == "dataset").to_numpy(), "under-covered: dataset rows", DATASET_COLOR)
    else:
        vals = pd.to_numeric(frame[color], errors="coerce").to_numpy(dtype=float)
        has = np.isfinite(vals)
        if (~has).any():
            add(~has, f"no {color}", MISSING_COLOR)
        if has.any():
            add(has, color, vals[has], showlegend=False, colorscale="Viridis", showscale=True,
                colorbar=dict(title=dict(text=color, side="right"), thickness=12))
    if highlight_under and color != "under-covered clusters" and "under_covered" in frame:
        # Under-covered clusters: a red ring around their reference rows, on top of any colouring.
        m = (frame["under_covered"] & (frame["side"] == "reference")).to_numpy(dtype=bool)
        if m.any():
            add(m, "under-covered (reference rows)", UNDER_COLOR, hover_rows=False, symbol="circle-open",
                line=dict(color=UNDER_COLOR, width=1))
    if "cluster" in frame and len(frame):
        _label_clusters(fig, frame)
    fig.update_layout(title=title or None, height=height, margin=margin(40 if title else 10),
                      legend=legend_row(-0.05, itemsizing="constant"), dragmode="lasso",
                      xaxis=dict(showticklabels=False, title=None, zeroline=False, showgrid=False),
                      yaxis=dict(showticklabels=False, title=None, zeroline=False, showgrid=False,
                                 scaleanchor="x", scaleratio=1), hovermode="closest", uirevision="coverage-map")
    return fig


def _label_clusters(fig: go.Figure, frame: pd.DataFrame) -> None:
    """A small "C<n>" at each cluster's median position; under-covered ones in red."""
    g = frame[frame["cluster"] >= 0].groupby("cluster")
    med = g[["x", "y"]].median()
    under = g["under_covered"].any() if "under_covered" in frame else pd.Series(False, index=med.index)
    for c, row in med.iterrows():
        red = bool(under.get(c, False))
        fig.add_annotation(x=row["x"], y=row["y"], text=f"<b>C{c}</b>" if red else f"C{c}", showarrow=False,
                           font=dict(size=12 if red else 10, color=UNDER_COLOR if red else TEXT_COLOR),
                           bgcolor="rgba(255,255,255,0.6)")


def cluster_shares_bar(res: CoverageResult) -> go.Figure:
    """Reference vs dataset share per cluster; under-covered clusters' labels in red."""
    cl = [c for c in res.clusters]
    names = [f"C{c.cluster}" for c in cl]
    fig = go.Figure()
    fig.add_bar(x=names, y=[c.reference_share for c in cl], name="reference", marker_color=REFERENCE_COLOR,
                customdata=[c.n_reference for c in cl],
                hovertemplate="%{x}: %{y:.1%} of the reference (%{customdata:,} rows)<extra></extra>")
    fig.add_bar(x=names, y=[c.dataset_share for c in cl], name="dataset", marker_color=DATASET_COLOR,
                customdata=[c.n_dataset for c in cl],
                hovertemplate="%{x}: %{y:.1%} of the dataset (%{customdata:,} rows)<extra></extra>")
    ticks = [f"<span style='color:{UNDER_COLOR}'><b>{n}</b></span>" if c.under_covered else n
             for n, c in zip(names, cl, strict=True)]
    fig.update_layout(barmode="group", height=320, margin=margin(), yaxis_tickformat=".0%",
                      legend=legend_row(1.12), yaxis_title="share of rows",
                      xaxis=dict(tickmode="array", tickvals=names, ticktext=ticks))
    return fig


def nn_distance_histogram(res: CoverageResult) -> go.Figure:
    """Distances to the nearest dataset row: reference rows vs dataset rows, with the radius."""
    fig = go.Figure()
    d_ds = res.ds_nn_distance[np.isfinite(res.ds_nn_distance)]
    d_ref = res.ref_nn_distance[np.isfinite(res.ref_nn_distance)]
    if len(d_ds):
        fig.add_histogram(x=d_ds, name="dataset → nearest other dataset row", marker_color=DATASET_COLOR,
                          opacity=0.6, histnorm="probability", nbinsx=60)
    fig.add_histogram(x=d_ref, name="reference → nearest dataset row", marker_color=REFERENCE_COLOR, opacity=0.6,
                      histnorm="probability", nbinsx=60)
    fig.add_vline(x=res.radius, line_dash="dash", line_color=UNDER_COLOR,
                  annotation_text=f"radius {res.radius:.3f}", annotation_position="top right")
    fig.update_layout(barmode="overlay", height=300, margin=margin(),
                      xaxis_title="cosine distance", yaxis_title="share of rows", yaxis_tickformat=".0%",
                      legend=legend_row(1.15))
    return fig


EXAMPLE_CHARS = 120  # each example text in the cluster table is cut to this many characters


def cluster_table(res: CoverageResult) -> pd.DataFrame:
    """One row per cluster: whether it is under-covered, its rows on each side, the dataset rows it would
    hold if the dataset followed the reference's mix, its coverage ratio and share of reference rows within
    the radius (NaN where it holds no reference rows), its top terms and example texts."""
    return pd.DataFrame([{
        "cluster": f"C{c.cluster}", "under-covered": c.under_covered, "reference rows": c.n_reference,
        "dataset rows": c.n_dataset, "expected dataset rows": c.expected_dataset,
        "coverage ratio": np.nan if c.coverage_ratio is None else c.coverage_ratio,
        "reference within radius": np.nan if c.reference_within_radius is None else c.reference_within_radius,
        "top terms": ", ".join(c.top_terms),
        "reference examples": " ‖ ".join(t[:EXAMPLE_CHARS] for t in c.reference_examples),
        "dataset examples": " ‖ ".join(t[:EXAMPLE_CHARS] for t in c.dataset_examples),
    } for c in res.clusters])
