"""The rows a user picked on a plotly map: parsing Streamlit's selection event stays on the UI side."""

from __future__ import annotations

import numpy as np


def selected_positions(event_selection) -> np.ndarray:
    """Frame positions of the points in a plotly selection event (st.plotly_chart on_select)."""
    if not event_selection:
        return np.zeros(0, dtype=np.int64)
    pts = event_selection.get("points", []) if hasattr(event_selection, "get") else []
    out = []
    for p in pts:
        cd = p.get("customdata")
        if isinstance(cd, (list, tuple)):
            cd = cd[0] if cd else None
        if cd is not None:
            try:
                out.append(int(cd))
            except (TypeError, ValueError):
                continue
    return np.unique(np.asarray(out, dtype=np.int64))
