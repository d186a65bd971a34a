"""The self-contained HTML report, rendered from ``templates/report.html.j2``.

Autoescaping is on, so every string from the data (texts, labels, slice values, names, paths) is
escaped by the template; only the plotly figures go in unescaped, and they carry the data as JSON,
which plotly escapes itself.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import jinja2
import pandas as pd

from dq_core.report.content import (
    difference_sentence,
    fmt_delta,
    fmt_value,
    per_class_frame,
    run_summary_lines,
)
from dq_core.report.load import LOWER_IS_BETTER, Comparison, RunRecord, compare_runs, has_curves
from dq_core.viz import training as vt

TEMPLATES = Path(__file__).with_name("templates")


@functools.cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True,
                             lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    return env.get_template("report.html.j2")


def _table(frame: pd.DataFrame, *, index_name: str = "", text_cols: tuple[str, ...] = (),
           delta_cols: tuple[str, ...] = ()) -> dict:
    """Header and (css class, text) cells of a table; texts are left-aligned, deltas coloured by better/worse."""
    rows = []
    for idx, row in frame.iterrows():
        cells = [("t", str(idx))]
        for c, v in zip(frame.columns, row.to_numpy(), strict=True):
            if c in text_cols or isinstance(v, str):
                cells.append(("t", str(v)))
            elif c in delta_cols:
                better = None if v is None or pd.isna(v) or v == 0 or str(idx) in ("n_train", "n_test") else \
                    (v < 0 if str(idx) in LOWER_IS_BETTER else v > 0)
                cells.append(("" if better is None else ("pos" if better else "neg"), fmt_delta(v, str(idx))))
            else:
                cells.append(("", fmt_value(v)))
        rows.append(cells)
    return {"head": [str(c) for c in [index_name, *frame.columns]], "rows": rows}


class _Figures:
    """plotly.js inlined with the first figure the template places; the rest reuse it.

    The template marks the output ``|safe``: plotly writes the data as escaped JSON itself.
    """

    def __init__(self):
        self.first = True

    def __call__(self, fig) -> str:
        out = fig.to_html(include_plotlyjs=self.first, full_html=False, config={"displaylogo": False})
        self.first = False
        return f"<div>{out}</div>"


def _comparison(records: list[RunRecord], comparison: Comparison) -> dict:
    t = comparison.table
    shown = t.copy()
    delta_cols = []
    for c in comparison.deltas.columns:
        shown[f"Δ {c}"] = comparison.deltas[c]
        delta_cols.append(f"Δ {c}")
    ok = [(f"{d.metric}: {d.b}", d.result) for d in comparison.differences if d.result is not None]
    return {"baseline": comparison.names[0],
            "table": _table(shown, index_name="metric", delta_cols=tuple(delta_cols)),
            "metric_bars": vt.metric_bars_figure(t),
            "per_class_f1": vt.per_class_f1_figure({n: r.evaluation for n, r in
                                                    zip(comparison.names, records, strict=True)}),
            "sentences": [difference_sentence(d) for d in comparison.differences],
            "bootstrap": vt.bootstrap_figure(ok) if ok else None}


def _run(name: str, r: RunRecord) -> dict:
    ev = r.evaluation
    return {"name": name, "path": str(r.path), "summary": run_summary_lines(r),
            "headline": _table(pd.DataFrame({"value": r.headline()}), index_name="metric"),
            "per_class": _table(per_class_frame(ev), index_name="class"),
            "confusion": vt.confusion_matrix_figure(ev),
            "confusion_normalized": vt.confusion_matrix_figure(ev, normalized=True),
            "reliability": vt.reliability_figure(ev),
            "curves": vt.training_curves_figure(r.history) if has_curves(r.history) else None,
            "slices": [{"column": col, "table": _table(f.set_index("value"), index_name="value"),
                        "figure": vt.slice_figure(f, col)} for col, f in ev.slices.items()],
            "misclassified": _table(ev.misclassified.head(30).set_index("row_id"), index_name="row_id",
                                    text_cols=("text", "label", "predicted")) if len(ev.misclassified) else None,
            "model_dir": str(r.model_dir) if r.model_dir else None}


def report_html(records: list[RunRecord], comparison: Comparison | None = None) -> str:
    comparison = comparison or compare_runs(records)
    return _template().render(
        generated=time.strftime("%Y-%m-%d %H:%M"), n_runs=len(records),
        comparison=_comparison(records, comparison) if len(records) > 1 else None,
        runs=[_run(n, r) for n, r in zip(comparison.names, records, strict=True)],
        plot=_Figures())
