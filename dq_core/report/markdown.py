"""The Markdown report: tables and bullet lists, every string from the data escaped."""

from __future__ import annotations

import time

import pandas as pd

from dq_core.report.content import (
    comparison_table,
    confusion_frame,
    difference_sentence,
    per_class_frame,
    run_summary_lines,
)
from dq_core.report.load import Comparison, RunRecord, compare_runs
from dq_core.util.markdown import md_escape
from dq_core.util.wording import format_figure, format_number


def _md_table(frame: pd.DataFrame, *, index_name: str = "", names: str | None = "columns") -> list[str]:
    """``names``: what names a cell's figure (its column, its row or nothing), as in the HTML report's tables."""
    cols = [index_name, *map(str, frame.columns)]
    out = ["| " + " | ".join(md_escape(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    for idx, row in frame.iterrows():
        cells = []
        for c, v in zip(frame.columns, row.to_numpy(), strict=True):
            name = {"columns": c, "index": idx}.get(names or "")
            cells.append(v if isinstance(v, str) else
                         format_number(v, 4) if name is None else format_figure(name, v))
        out.append("| " + " | ".join([md_escape(idx), *map(md_escape, cells)]) + " |")
    return out


def report_markdown(records: list[RunRecord], comparison: Comparison | None = None) -> str:
    comparison = comparison or compare_runs(records)
    lines = ["# Training report", "", f"Generated {time.strftime('%Y-%m-%d %H:%M')}.", ""]
    if len(records) > 1:
        lines += ["## Comparison", "", f"Baseline: **{md_escape(comparison.names[0])}**; deltas are later run "
                  "minus baseline.", ""]
        lines += _md_table(comparison_table(comparison), index_name="metric") + [""]
        lines += ["### F1 per class", ""] + _md_table(comparison.per_class_f1, index_name="class", names=None) + [""]
        lines += ["### Paired bootstrap", ""]
        for d in comparison.differences:
            lines.append("- " + md_escape(difference_sentence(d)))
        lines.append("")
    for n, r in zip(comparison.names, records, strict=True):
        ev = r.evaluation
        lines += [f"## Run: {md_escape(n)}", ""]
        lines += [f"- **{md_escape(k)}**: {md_escape(v)}" for k, v in run_summary_lines(r)] + [""]
        head = pd.DataFrame({"value": r.headline()})
        lines += _md_table(head, index_name="metric", names="index") + [""]
        lines += ["### Per class", ""] + _md_table(per_class_frame(ev), index_name="class") + [""]
        lines += ["### Confusion matrix (counts; rows = true)", ""] + _md_table(confusion_frame(ev)) + [""]
        for col, f in ev.slices.items():
            lines += [f"### By {md_escape(col)}", ""] + _md_table(f.set_index("value"), index_name="value") + [""]
        if len(ev.misclassified):
            lines += ["### Misclassified (most confident first)", ""]
            lines += _md_table(ev.misclassified.head(20).set_index("row_id"), index_name="row_id") + [""]
        if r.model_dir:
            lines += [f"Model folder: `{md_escape(r.model_dir)}`", ""]
    return "\n".join(lines)
