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
    comparison_table,
    difference_sentence,
    per_class_frame,
    run_summary_lines,
)
from dq_core.report.load import LOWER_IS_BETTER, Comparison, RunRecord, compare_runs, has_curves
from dq_core.util.wording import format_figure, format_number, is_count
from dq_core.viz import training as vt

TEMPLATES = Path(__file__).with_name("templates")


@functools.cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True,
                             lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    return env.get_template("report.html.j2")


def _table(frame: pd.DataFrame, *, index_name: str = "", text_cols: tuple[str, ...] = (),
           names: str | None = "columns") -> dict:
    """Header and (css class, text) cells of a table; texts are left-aligned.

    ``names``: what names a cell's figure, and so whether it reads as a count: its column (a table of
    records: "support", "n"), its row (a table of metrics: "n_train") or nothing (a table of scores).
    """
    rows = []
    for idx, row in frame.iterrows():
        cells = [("t", str(idx))]
        for c, v in zip(frame.columns, row.to_numpy(), strict=True):
            if c in text_cols or isinstance(v, str):
                cells.append(("t", str(v)))
            else:
                name = {"columns": c, "index": idx}.get(names or "")
                cells.append(("", format_number(v, 4) if name is None else format_figure(name, v)))
        rows.append(cells)
    return {"head": [str(c) for c in [index_name, *frame.columns]], "rows": rows}


def _comparison_cells(comparison: Comparison) -> dict:
    """The comparison table (:func:`comparison_table`'s text), its deltas coloured by better / worse."""
    shown = comparison_table(comparison)
    rows = []
    for metric, row in shown.iterrows():
        cells = [("t", str(metric))]
        for c, text in row.items():
            css = ""
            if c.startswith("Δ ") and not is_count(metric):
                v = comparison.deltas.loc[metric, c[2:]]
                if not (pd.isna(v) or v == 0):
                    css = "pos" if (v < 0 if str(metric) in LOWER_IS_BETTER else v > 0) else "neg"
            cells.append((css, text))
        rows.append(cells)
    return {"head": ["metric", *map(str, shown.columns)], "rows": rows}


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
    ok = [(f"{d.metric}: {d.b}", d.result) for d in comparison.differences if d.result is not None]
    return {"baseline": comparison.names[0],
            "table": _comparison_cells(comparison),
            "metric_bars": vt.metric_bars_figure(t),
            "per_class_f1": vt.per_class_f1_figure({n: r.evaluation for n, r in
                                                    zip(comparison.names, records, strict=True)}),
            "sentences": [difference_sentence(d) for d in comparison.differences],
            "bootstrap": vt.bootstrap_figure(ok) if ok else None}


def _run(name: str, r: RunRecord) -> dict:
    ev = r.evaluation
    return {"name": name, "path": str(r.path), "summary": run_summary_lines(r),
            "headline": _table(pd.DataFrame({"value": r.headline()}), index_name="metric", names="index"),
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
