"""Reports over one or more finished runs: HTML (self-contained), Markdown and JSON.

One run: its evaluation (headline metrics, per-class table, confusion matrix, ROC-AUC, calibration,
slices, misclassified examples, training curves). Several runs: the same per run, plus a comparison
with the first run as the baseline (see :mod:`dq_core.report.load`).

Every string that comes from the data (texts, labels, slice values, names, paths) is HTML-escaped in
the HTML and the Markdown; the plotly figures carry data only as JSON, which plotly escapes itself.
"""

from __future__ import annotations

import time
from pathlib import Path

from dq_core.data.io import atomic_write_text
from dq_core.errors import DataError
from dq_core.report.html import report_html
from dq_core.report.load import (
    BOOTSTRAP_METRICS,
    HEADLINE,
    LOWER_IS_BETTER,
    N_RESAMPLES,
    Comparison,
    PairedDifference,
    RunRecord,
    compare_runs,
    display_names,
    has_curves,
    load_run,
    paired_difference,
    shared_rows,
)
from dq_core.report.markdown import md_escape, report_markdown
from dq_core.util.jsonsafe import dumps_json

FORMATS = ("html", "md", "json")

__all__ = ["BOOTSTRAP_METRICS", "FORMATS", "HEADLINE", "LOWER_IS_BETTER", "N_RESAMPLES", "Comparison",
           "PairedDifference", "RunRecord", "build_report", "compare_runs", "display_names", "has_curves",
           "load_run", "md_escape", "paired_difference", "report_html", "report_json", "report_markdown",
           "shared_rows", "write_report"]


def report_json(records: list[RunRecord], comparison: Comparison | None = None) -> dict:
    comparison = comparison or compare_runs(records)
    return {"generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "runs": [{"run_id": r.run_id, "name": n, "path": str(r.path), "config": r.config, "metrics": r.metrics,
                      "history": r.history.to_dict(orient="records"),
                      "model_dir": str(r.model_dir) if r.model_dir else None}
                     for n, r in zip(comparison.names, records, strict=True)],
            "comparison": comparison.to_dict() if len(records) > 1 else None}


def build_report(run_dirs: list[str | Path], fmt: str) -> str:
    """The report of ``run_dirs`` in ``fmt`` (html, md or json) as text."""
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise DataError(f"unknown report format '{fmt}'; use html, md or json")
    records = [load_run(d) for d in run_dirs]
    comparison = compare_runs(records)
    if fmt == "json":
        return dumps_json(report_json(records, comparison))
    if fmt == "md":
        return report_markdown(records, comparison)
    return report_html(records, comparison)


def write_report(run_dirs: list[str | Path], fmt: str, out: str | Path) -> Path:
    text = build_report(run_dirs, fmt)
    atomic_write_text(out, text)
    return Path(out)
