"""The Markdown report: tables and bullet lists, every string from the data escaped."""

from __future__ import annotations

import html
import re
import time

import pandas as pd

from dq_core.report.content import (
    confusion_frame,
    difference_sentence,
    fmt_delta,
    fmt_value,
    per_class_frame,
    run_summary_lines,
)
from dq_core.report.load import Comparison, RunRecord, compare_runs

_MD_SPECIAL = re.compile(r"([\\`|\[\]])")


def md_escape(value) -> str:
    """Safe inside a Markdown table cell: HTML-escaped, one line, and every character that could start a
    link, an image or code (backslash, backtick, pipe, brackets) backslash-escaped, so ``[x](javascript:...)`` in the data renders as
    text, never as a link."""
    s = html.escape(str(value), quote=False)
    return _MD_SPECIAL.sub(r"\\\1", s).replace("\r", " ").replace("\n", " ")


def _md_table(frame: pd.DataFrame, *, index_name: str = "") -> list[str]:
    cols = [index_name, *map(str, frame.columns)]
    out = ["| " + " | ".join(md_escape(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    for idx, row in frame.iterrows():
        out.append("| " + " | ".join([md_escape(idx), *[md_escape(v if isinstance(v, str) else fmt_value(v))
                                                         for v in row.to_numpy()]]) + " |")
    return out


def report_markdown(records: list[RunRecord], comparison: Comparison | None = None) -> str:
    comparison = comparison or compare_runs(records)
    lines = ["# Training report", "", f"Generated {time.strftime('%Y-%m-%d %H:%M')}.", ""]
    if len(records) > 1:
        lines += ["## Comparison", "", f"Baseline: **{md_escape(comparison.names[0])}**; deltas are later run "
                  "minus baseline.", ""]
        t = comparison.table.copy()
        shown = pd.DataFrame(index=t.index)
        for c in t.columns:
            shown[c] = [fmt_value(v) for v in t[c]]
        for c in comparison.deltas.columns:
            shown[f"Δ {c}"] = [fmt_delta(v, m) for m, v in comparison.deltas[c].items()]
        lines += _md_table(shown, index_name="metric") + [""]
        lines += ["### F1 per class", ""] + _md_table(comparison.per_class_f1, index_name="class") + [""]
        lines += ["### Paired bootstrap", ""]
        for d in comparison.differences:
            lines.append("- " + md_escape(difference_sentence(d)))
        lines.append("")
    for n, r in zip(comparison.names, records, strict=True):
        ev = r.evaluation
        lines += [f"## Run: {md_escape(n)}", ""]
        lines += [f"- **{md_escape(k)}**: {md_escape(v)}" for k, v in run_summary_lines(r)] + [""]
        head = pd.DataFrame({"value": r.headline()})
        lines += _md_table(head, index_name="metric") + [""]
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
