"""The rows a user picked on a plotly map: parsing Streamlit's selection event stays on the UI side.

Streamlit 1.67 sends each selected point of a ``Scattergl`` trace whose ``customdata`` is a 2-d numeric
array with that point's row of customdata as an object keyed by column position, e.g.
``{"point_index": 12, "curve_number": 1, "customdata": {"0": 2008, "1": 1, "2": 0}, ...}``; a list
(``[2008, 1, 0]``) or a bare number are read too. The map puts the point's frame position first.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def _position(customdata) -> int | None:
    cd = customdata
    if isinstance(cd, Mapping):
        cd = cd.get("0", cd.get(0))
    elif isinstance(cd, (list, tuple)):
        cd = cd[0] if cd else None
    if cd is None or isinstance(cd, bool):
        return None
    try:
        return int(cd)
    except (TypeError, ValueError):
        return None


def selected_positions(event_selection) -> np.ndarray:
    """Frame positions (sorted, unique) of the points in a plotly selection event (st.plotly_chart on_select)."""
    if not event_selection:
        return np.zeros(0, dtype=np.int64)
    pts = event_selection.get("points", []) if hasattr(event_selection, "get") else []
    out = [pos for p in pts or [] if hasattr(p, "get") and (pos := _position(p.get("customdata"))) is not None]
    return np.unique(np.asarray(out, dtype=np.int64))


def with_selection(fig, positions: np.ndarray):
    """A copy of the map with these frame positions shown as selected (the others dimmed) on each trace
    whose customdata starts with the frame position; the cached figure is left as it is."""
    import plotly.graph_objects as go

    out = go.Figure(fig)
    if not len(positions):
        return out
    for trace in out.data:
        cd = getattr(trace, "customdata", None)
        if cd is None:
            continue
        cd = np.asarray(cd)
        if cd.ndim != 2 or not len(cd):
            continue
        trace.selectedpoints = np.flatnonzero(np.isin(cd[:, 0].astype(np.int64), positions)).tolist()
    return out
