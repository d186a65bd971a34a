"""The filter panel's before → after figures: metric cards, the class chart and the delta table.

The figures come from :mod:`dq_core.filtering.whatif`; which way is better is its FIGURE_DIRECTION.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from dq_app.ui.widgets import fmt_num
from dq_core.filtering import whatif as wi
from dq_core.util.wording import format_number, is_count
from dq_core.viz import signals as viz

PERCENT_FIGURES = ("noise_ratio", "reference_coverage", "scene_coverage", "sample_coverage")


def fmt_figure(key: str, v, *, delta: bool = False) -> str:
    """A figure (a FIGURE_LABELS key, or ``js:<view>``) as the panel shows it."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "n/a"
    sign = "+" if delta else ""
    if is_count(key):  # n_rows, n_classes
        return format_number(v, count=True, signed=delta)
    if key in PERCENT_FIGURES:
        return f"{v:{sign}.1%}"
    if key.startswith("js:"):
        return f"{v:{sign}.4f}"
    return f"{v:{sign}.3f}"


NOISE_AFTER_NOTE = ("The 'after' noise ratio is optimistic: it is scored with the same out-of-sample label "
                    "probabilities that chose the rows the label rule drops or relabels, so those rows count as "
                    "clean by construction. It still shows how many suspected label errors the recipe leaves in; "
                    "only a model trained on the filtered rows (Train) measures the gain.")


def _metric(col, label: str, before, after, direction: int, pct: bool = False, digits: int = 3,
            help: str | None = None) -> None:
    if after is None:
        col.metric(label, "n/a", help="needs a reference set and its embeddings (Coverage / Shift pages)")
        return
    fmt = (lambda v: f"{v:.1%}") if pct else (lambda v: fmt_num(v, digits))
    delta = None if before is None or after is None else after - before
    dtxt = None
    if delta is not None and abs(delta) > 1e-12:
        dtxt = (f"{delta:+.1%}" if pct else (f"{delta:+,.0f}" if float(delta).is_integer() and abs(delta) >= 1
                                               else f"{delta:+.{digits}f}"))
    color = "normal" if direction > 0 else ("inverse" if direction < 0 else "off")
    col.metric(label, fmt(after), dtxt, delta_color=color, help=help)


def _figure(col, label: str, name: str, before: wi.WhatIfFigures, after: wi.WhatIfFigures, **fmt) -> None:
    _metric(col, label, getattr(before, name), getattr(after, name), wi.FIGURE_DIRECTION[name],
            pct=name in PERCENT_FIGURES, **fmt)


def before_after(key: str, ctx: wi.WhatIfContext, before: wi.WhatIfFigures, after: wi.WhatIfFigures) -> None:
    d = wi.what_if(before, after)
    cols = st.columns(4)
    _figure(cols[0], "Rows", "n_rows", before, after, digits=0)
    _figure(cols[1], "Class-balance index", "class_balance_index", before, after)
    _figure(cols[2], "Imbalance ratio", "imbalance_ratio", before, after, digits=2)
    _figure(cols[3], "Estimated noise ratio", "noise_ratio", before, after, help=NOISE_AFTER_NOTE)
    cols = st.columns(4)
    _figure(cols[0], "Reference coverage", "reference_coverage", before, after)
    _figure(cols[1], "Scene coverage", "scene_coverage", before, after)
    _figure(cols[2], "Sample coverage", "sample_coverage", before, after)
    view = "embedding_clusters" if after.js.get("embedding_clusters") is not None else "label"
    js_b = before.js.get("embedding_clusters") if before.js.get("embedding_clusters") is not None \
        else before.js.get("label")
    _metric(cols[3], "JS (clusters)" if view == "embedding_clusters" else "JS (labels)", js_b, after.js.get(view),
            wi.JS_DIRECTION, digits=4)
    st.caption(f"Estimated noise ratio: {ctx.noise_method or 'needs the label signal'}; relabelled rows count "
               "with their new label. Coverage uses the unfiltered data's radius "
               f"({fmt_num(ctx.radius, 3) if ctx.radius is not None else 'n/a'}) and clusters, held fixed. "
               + NOISE_AFTER_NOTE)
    for n in ctx.notes:
        st.caption(f"ℹ️ {n}")
    c1, c2 = st.columns([3, 2])
    c1.plotly_chart(viz.class_counts_before_after(d.class_table()), width="stretch", key=f"{key}_classes_chart")
    table = d.table()
    shown = table[["figure", "before", "after", "delta", "change"]].copy()
    for c in ("before", "after", "delta"):
        shown[c] = [fmt_figure(k, v, delta=c == "delta") for k, v in zip(table["key"], table[c], strict=True)]
    c2.dataframe(shown, hide_index=True, width="stretch", key=f"{key}_delta_table", height=36 * (len(shown) + 1) + 4)
