"""Reports over one or more finished runs: HTML (self-contained), Markdown and JSON.

One run: its evaluation (headline metrics, per-class table, confusion matrix, ROC-AUC, calibration,
slices, misclassified examples, training curves). Several runs: the same per run, plus a comparison
with the first run as the baseline: a metric table with deltas, per-class F1 side by side, and for the
headline differences a paired bootstrap interval on the test rows both runs share.

Every string that comes from the data (texts, labels, slice values, names, paths) is HTML-escaped in
the HTML and the Markdown; the plotly figures carry data only as JSON, which plotly escapes itself.
"""

from __future__ import annotations

import html
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dq_core.data.io import atomic_write_text
from dq_core.errors import DataError
from dq_core.training import jobs
from dq_core.training.evaluate import BootstrapResult, EvaluationResult, paired_bootstrap

FORMATS = ("html", "md", "json")
HEADLINE = ("accuracy", "macro_f1", "weighted_f1", "micro_f1", "macro_precision", "macro_recall",
            "roc_auc_macro", "ece")
LOWER_IS_BETTER = {"ece"}
BOOTSTRAP_METRICS = ("accuracy", "macro_f1")
N_RESAMPLES = 1000


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    path: Path
    name: str
    config: dict
    status: dict
    metrics: dict
    evaluation: EvaluationResult
    history: pd.DataFrame
    predictions: pd.DataFrame | None

    def headline(self) -> dict[str, float]:
        ev = self.evaluation
        return {"accuracy": ev.accuracy, "macro_f1": ev.f1.get("macro"), "weighted_f1": ev.f1.get("weighted"),
                "micro_f1": ev.f1.get("micro"), "macro_precision": ev.precision.get("macro"),
                "macro_recall": ev.recall.get("macro"), "roc_auc_macro": ev.roc_auc.get("macro"), "ece": ev.ece}

    @property
    def model_dir(self) -> Path | None:
        d = self.path / "model"
        return d if d.is_dir() else None


def load_run(run_dir: str | Path) -> RunRecord:
    """A finished run's files; DataError if it has no metrics (still running, failed or not a run)."""
    d = Path(run_dir)
    if not d.is_dir():
        raise DataError(f"'{run_dir}' is not a folder; give a run directory written by dq train or the Train page")
    metrics = jobs.read_metrics(d)
    if metrics is None:
        st = jobs.read_status(d)
        state = st.get("state")
        why = f" (it is {state}{': ' + st['error'] if st.get('error') else ''})" if state else ""
        raise DataError(f"'{d.name}' has no metrics.json{why}; only finished runs can be reported")
    config = jobs.read_config(d)
    try:
        ev = EvaluationResult.from_dict(metrics)
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"'{d.name}/metrics.json' is incomplete ({type(exc).__name__}: {exc})") from None
    preds = None
    p = d / "predictions.parquet"
    if p.exists():
        try:
            preds = pd.read_parquet(p)
        except (OSError, ValueError):
            preds = None
    name = metrics.get("name") or config.get("name") or d.name
    return RunRecord(run_id=d.name, path=d, name=str(name), config=config, status=jobs.read_status(d),
                     metrics=metrics, evaluation=ev, history=jobs.read_history(d), predictions=preds)


# --------------------------------------------------------------------------- comparison

@dataclass(frozen=True)
class PairedDifference:
    a: str  # display names
    b: str
    metric: str
    result: BootstrapResult | None
    shared_rows: int
    same_test_set: bool
    note: str = ""

    def to_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "metric": self.metric, "shared_rows": self.shared_rows,
                "same_test_set": self.same_test_set, "note": self.note,
                **(self.result.to_dict() if self.result else {})}


@dataclass(frozen=True)
class Comparison:
    names: tuple[str, ...]  # unique display names, in the order given; the first is the baseline
    table: pd.DataFrame  # index = metric, columns = run names
    deltas: pd.DataFrame  # index = metric, columns = later runs (value - first run)
    per_class_f1: pd.DataFrame  # index = label, columns = run names
    differences: tuple[PairedDifference, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return {"runs": list(self.names), "baseline": self.names[0],
                "metrics": _frame_to_nested(self.table), "deltas": _frame_to_nested(self.deltas),
                "per_class_f1": _frame_to_nested(self.per_class_f1),
                "paired_bootstrap": [d.to_dict() for d in self.differences]}


def _frame_to_nested(f: pd.DataFrame) -> dict:
    return {str(c): {str(i): (None if pd.isna(v) else float(v)) for i, v in f[c].items()} for c in f.columns}


def display_names(records: list[RunRecord]) -> list[str]:
    names, seen = [], {}
    for r in records:
        n = r.name
        if n in seen or sum(x.name == n for x in records) > 1:
            n = f"{r.name} [{r.run_id}]"
        seen[n] = True
        names.append(n)
    return names


def shared_rows(a: RunRecord, b: RunRecord) -> pd.DataFrame:
    """Test rows scored by both runs (same row_id, text and true label), with each run's prediction."""
    if a.predictions is None or b.predictions is None:
        return pd.DataFrame(columns=["row_id", "text", "label", "pred_a", "pred_b"])
    cols = ["row_id", "text", "label", "predicted"]
    pa = a.predictions[cols].astype(str).rename(columns={"predicted": "pred_a"})
    pb = b.predictions[cols].astype(str).rename(columns={"predicted": "pred_b"})
    return pa.merge(pb, on=["row_id", "text", "label"], how="inner")


def paired_difference(a: RunRecord, b: RunRecord, *, metric: str, names: tuple[str, str], seed: int = 0,
                      n_resamples: int = N_RESAMPLES) -> PairedDifference:
    both = shared_rows(a, b)
    same = bool(a.metrics.get("test_key") and a.metrics.get("test_key") == b.metrics.get("test_key"))
    if len(both) < 2:
        return PairedDifference(names[0], names[1], metric, None, len(both), same,
                                note="the runs share no test rows: they were scored on different test sets, "
                                     "so their difference cannot be tested")
    res = paired_bootstrap(both["label"], both["pred_a"], both["pred_b"], metric=metric,
                           n_resamples=n_resamples, rng=np.random.default_rng(seed))
    note = "" if same else (f"the test sets differ; the interval uses the {len(both):,} rows both runs scored")
    return PairedDifference(names[0], names[1], metric, res, len(both), same, note)


def compare_runs(records: list[RunRecord], *, seed: int = 0, n_resamples: int = N_RESAMPLES) -> Comparison:
    if not records:
        raise DataError("give at least one run to report")
    names = display_names(records)
    table = pd.DataFrame({n: r.headline() for n, r in zip(names, records, strict=True)}).reindex(list(HEADLINE))
    for n, r in zip(names, records, strict=True):
        table.loc["n_train", n] = r.metrics.get("split", {}).get("n_train", np.nan)
        table.loc["n_test", n] = r.evaluation.n
    deltas = pd.DataFrame({n: table[n] - table[names[0]] for n in names[1:]}, index=table.index)
    labels: list[str] = []
    for r in records:
        labels += [lab for lab in r.evaluation.labels if lab not in labels]
    per_class = pd.DataFrame({n: [r.evaluation.per_class.get(lab, {}).get("f1", np.nan) for lab in labels]
                              for n, r in zip(names, records, strict=True)}, index=labels)
    diffs = []
    for n, r in zip(names[1:], records[1:], strict=True):
        for metric in BOOTSTRAP_METRICS:
            diffs.append(paired_difference(records[0], r, metric=metric, names=(names[0], n), seed=seed,
                                           n_resamples=n_resamples))
    return Comparison(names=tuple(names), table=table, deltas=deltas, per_class_f1=per_class,
                      differences=tuple(diffs))


# --------------------------------------------------------------------------- JSON

def report_json(records: list[RunRecord], comparison: Comparison | None = None) -> dict:
    comparison = comparison or compare_runs(records)
    return {"generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "runs": [{"run_id": r.run_id, "name": n, "path": str(r.path), "config": r.config, "metrics": r.metrics,
                      "history": r.history.to_dict(orient="records"),
                      "model_dir": str(r.model_dir) if r.model_dir else None}
                     for n, r in zip(comparison.names, records, strict=True)],
            "comparison": comparison.to_dict() if len(records) > 1 else None}


# --------------------------------------------------------------------------- Markdown

def md_escape(value) -> str:
    """Safe inside a Markdown table cell: HTML-escaped, pipes escaped, one line."""
    s = html.escape(str(value), quote=False)
    return s.replace("|", "\\|").replace("\r", " ").replace("\n", " ").replace("`", "\\`")


def _fmt(v, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "n/a"
    if isinstance(v, (int, np.integer)) or (isinstance(v, float) and v.is_integer() and abs(v) >= 2):
        return f"{int(v):,}"
    return f"{float(v):.{digits}f}"


def _fmt_delta(v, metric: str) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "n/a"
    if metric in ("n_train", "n_test"):
        return f"{int(v):+,}"
    return f"{float(v):+.4f}"


def _md_table(frame: pd.DataFrame, *, index_name: str = "") -> list[str]:
    cols = [index_name, *map(str, frame.columns)]
    out = ["| " + " | ".join(md_escape(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    for idx, row in frame.iterrows():
        out.append("| " + " | ".join([md_escape(idx), *[md_escape(v if isinstance(v, str) else _fmt(v))
                                                         for v in row.to_numpy()]]) + " |")
    return out


def _per_class_frame(ev: EvaluationResult) -> pd.DataFrame:
    f = pd.DataFrame(ev.per_class).T[["precision", "recall", "f1", "support", "roc_auc"]]
    f["support"] = f["support"].astype(int)
    return f


def _confusion_frame(ev: EvaluationResult, normalized: bool = False) -> pd.DataFrame:
    m = ev.confusion_matrix_normalized if normalized else ev.confusion_matrix
    return pd.DataFrame(m, index=[f"true {x}" for x in ev.labels], columns=[f"pred {x}" for x in ev.labels])


def _run_summary_lines(r: RunRecord) -> list[tuple[str, str]]:
    m, cfg = r.metrics, r.config.get("train", {})
    split = m.get("split", {})
    items = [("trainer", m.get("trainer", cfg.get("trainer"))), ("dataset", m.get("dataset", {}).get("name")),
             ("test set", f"{m.get('test_source')} · {split.get('n_test', m.get('n_test'))} rows"),
             ("training rows", f"{split.get('n_train')} (cap {split.get('max_train_rows') or 'none'}, "
                               f"{split.get('n_filtered_out', 0)} filtered out, "
                               f"{split.get('n_relabelled', 0)} relabelled)"),
             ("validation rows", split.get("n_val"))]
    if m.get("trainer") == "transformer":
        t = m.get("training", {})
        items += [("backbone", t.get("backbone")),
                  ("settings", f"lr {cfg.get('learning_rate')}, batch {cfg.get('batch_size')}, epochs "
                               f"{cfg.get('epochs')}, max length {cfg.get('max_length')}, seed {cfg.get('seed')}"),
                  ("steps", f"{t.get('global_step')} of {t.get('max_steps')}"
                            + (" (stopped early)" if t.get("stopped_early") else "")),
                  ("throughput", f"{t.get('train_samples_per_second', float('nan')):.1f} samples/s")]
    items += [("duration", f"{m.get('duration_seconds', float('nan')):.1f} s")]
    for n in m.get("notes", []):
        items.append(("note", n))
    return [(k, str(v)) for k, v in items if v is not None]


def report_markdown(records: list[RunRecord], comparison: Comparison | None = None) -> str:
    comparison = comparison or compare_runs(records)
    lines = ["# Training report", "", f"Generated {time.strftime('%Y-%m-%d %H:%M')}.", ""]
    if len(records) > 1:
        lines += ["## Comparison", "", f"Baseline: **{md_escape(comparison.names[0])}**; deltas are later run "
                  "minus baseline.", ""]
        t = comparison.table.copy()
        shown = pd.DataFrame(index=t.index)
        for c in t.columns:
            shown[c] = [_fmt(v) for v in t[c]]
        for c in comparison.deltas.columns:
            shown[f"Δ {c}"] = [_fmt_delta(v, m) for m, v in comparison.deltas[c].items()]
        lines += _md_table(shown, index_name="metric") + [""]
        lines += ["### F1 per class", ""] + _md_table(comparison.per_class_f1, index_name="class") + [""]
        lines += ["### Paired bootstrap", ""]
        for d in comparison.differences:
            lines.append("- " + _difference_sentence(d, md=True))
        lines.append("")
    for n, r in zip(comparison.names, records, strict=True):
        ev = r.evaluation
        lines += [f"## Run: {md_escape(n)}", ""]
        lines += [f"- **{md_escape(k)}**: {md_escape(v)}" for k, v in _run_summary_lines(r)] + [""]
        head = pd.DataFrame({"value": r.headline()})
        lines += _md_table(head, index_name="metric") + [""]
        lines += ["### Per class", ""] + _md_table(_per_class_frame(ev), index_name="class") + [""]
        lines += ["### Confusion matrix (counts; rows = true)", ""] + _md_table(_confusion_frame(ev)) + [""]
        for col, f in ev.slices.items():
            lines += [f"### By {md_escape(col)}", ""] + _md_table(f.set_index("value"), index_name="value") + [""]
        if len(ev.misclassified):
            lines += ["### Misclassified (most confident first)", ""]
            lines += _md_table(ev.misclassified.head(20).set_index("row_id"), index_name="row_id") + [""]
        if r.model_dir:
            lines += [f"Model folder: `{md_escape(r.model_dir)}`", ""]
    return "\n".join(lines)


def _difference_sentence(d: PairedDifference, *, md: bool = False) -> str:
    esc = md_escape if md else (lambda s: html.escape(str(s)))
    if d.result is None:
        return f"{esc(d.metric)}: {esc(d.b)} vs {esc(d.a)}: {esc(d.note)}"
    r = d.result
    verdict = ("a real difference (the interval excludes 0)" if r.significant
               else "not distinguishable from noise (the interval includes 0)")
    s = (f"{esc(d.metric)}: {esc(d.b)} − {esc(d.a)} = {r.delta:+.4f}, {r.confidence:.0%} interval "
         f"[{r.ci_low:+.4f}, {r.ci_high:+.4f}] on {r.n:,} shared test rows ({r.n_resamples} resamples): {verdict}")
    if d.note:
        s += f" — {esc(d.note)}"
    return s


# --------------------------------------------------------------------------- HTML

def has_curves(history: pd.DataFrame) -> bool:
    """A loss curve needs a few points (the baseline logs a single one)."""
    return history is not None and "step" in history.columns and history["step"].nunique() > 1

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1180px;color:#222;padding:0 16px}
h1{margin-bottom:0}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:36px}
table{border-collapse:collapse;margin:8px 0 16px;font-size:14px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:right;vertical-align:top}
th{background:#f4f6f8}td.t{text-align:left;max-width:560px;white-space:pre-wrap;word-break:break-word}
.pos{color:#1a7f37}.neg{color:#c62828}.muted{color:#666}.grid{display:grid;grid-template-columns:1fr 1fr;gap:12px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}dt{font-weight:600}dd{margin:0}
"""


def _html_table(frame: pd.DataFrame, *, index_name: str = "", text_cols: tuple[str, ...] = (),
                delta_cols: tuple[str, ...] = ()) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in [index_name, *frame.columns])
    rows = []
    for idx, row in frame.iterrows():
        cells = [f"<td class='t'>{html.escape(str(idx))}</td>"]
        for c, v in zip(frame.columns, row.to_numpy(), strict=True):
            if c in text_cols or isinstance(v, str):
                cells.append(f"<td class='t'>{html.escape(str(v))}</td>")
            elif c in delta_cols:
                better = None if v is None or pd.isna(v) or v == 0 or str(idx) in ("n_train", "n_test") else \
                    (v < 0 if str(idx) in LOWER_IS_BETTER else v > 0)
                cls = "" if better is None else (" class='pos'" if better else " class='neg'")
                cells.append(f"<td{cls}>{html.escape(_fmt_delta(v, str(idx)))}</td>")
            else:
                cells.append(f"<td>{html.escape(_fmt(v))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


class _Figures:
    """plotly.js inlined with the first figure only; the rest reuse it."""

    def __init__(self):
        self.first = True

    def __call__(self, fig) -> str:
        out = fig.to_html(include_plotlyjs=self.first, full_html=False, config={"displaylogo": False})
        self.first = False
        return f"<div>{out}</div>"


def report_html(records: list[RunRecord], comparison: Comparison | None = None) -> str:
    from dq_core.viz import training as vt

    comparison = comparison or compare_runs(records)
    fig = _Figures()
    e = html.escape
    parts = [f"<h1>Training report</h1><p class='muted'>Generated {e(time.strftime('%Y-%m-%d %H:%M'))} · "
             f"{len(records)} run{'s' if len(records) > 1 else ''}</p>"]
    if len(records) > 1:
        t = comparison.table
        shown = t.copy()
        delta_cols = []
        for c in comparison.deltas.columns:
            shown[f"Δ {c}"] = comparison.deltas[c]
            delta_cols.append(f"Δ {c}")
        parts.append(f"<h2>Comparison</h2><p>Baseline: <b>{e(comparison.names[0])}</b>. Deltas are each later run "
                     "minus the baseline (for ECE lower is better).</p>")
        parts.append(_html_table(shown, index_name="metric", delta_cols=tuple(delta_cols)))
        parts.append(fig(vt.metric_bars_figure(t)))
        parts.append(fig(vt.per_class_f1_figure({n: r.evaluation for n, r in
                                                  zip(comparison.names, records, strict=True)})))
        parts.append("<h3>Paired bootstrap on shared test rows</h3><ul>"
                     + "".join(f"<li>{_difference_sentence(d)}</li>" for d in comparison.differences) + "</ul>")
        ok = [(f"{d.metric}: {d.b}", d.result) for d in comparison.differences if d.result is not None]
        if ok:
            parts.append(fig(vt.bootstrap_figure(ok)))
    for n, r in zip(comparison.names, records, strict=True):
        ev = r.evaluation
        parts.append(f"<h2>Run: {e(n)}</h2><p class='muted'>{e(str(r.path))}</p>")
        parts.append("<dl>" + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in _run_summary_lines(r)) + "</dl>")
        parts.append(_html_table(pd.DataFrame({"value": r.headline()}), index_name="metric"))
        parts.append("<h3>Per class</h3>" + _html_table(_per_class_frame(ev), index_name="class"))
        parts.append("<div class='grid'>" + fig(vt.confusion_matrix_figure(ev))
                     + fig(vt.confusion_matrix_figure(ev, normalized=True)) + "</div>")
        parts.append("<div class='grid'>" + fig(vt.reliability_figure(ev))
                     + (fig(vt.training_curves_figure(r.history)) if has_curves(r.history) else "<div></div>")
                     + "</div>")
        for col, f in ev.slices.items():
            parts.append(f"<h3>By {e(col)}</h3>" + _html_table(f.set_index("value"), index_name="value")
                         + fig(vt.slice_figure(f, col)))
        if len(ev.misclassified):
            parts.append("<h3>Misclassified test rows (most confident first)</h3>"
                         + _html_table(ev.misclassified.head(30).set_index("row_id"), index_name="row_id",
                                       text_cols=("text", "label", "predicted")))
        if r.model_dir:
            parts.append(f"<p>Model folder (loads with <code>transformers.pipeline(\"text-classification\", "
                         f"model=...)</code>): <code>{e(str(r.model_dir))}</code></p>")
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Training report</title>"
            f"<style>{_CSS}</style></head><body>{''.join(parts)}</body></html>")


# --------------------------------------------------------------------------- one entry point

def build_report(run_dirs: list[str | Path], fmt: str) -> str:
    """The report of ``run_dirs`` in ``fmt`` (html, md or json) as text."""
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise DataError(f"unknown report format '{fmt}'; use html, md or json")
    records = [load_run(d) for d in run_dirs]
    comparison = compare_runs(records)
    if fmt == "json":
        return json.dumps(_clean(report_json(records, comparison)), indent=2, default=str)
    if fmt == "md":
        return report_markdown(records, comparison)
    return report_html(records, comparison)


def _clean(o):
    if isinstance(o, float) and o != o:
        return None
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if isinstance(o, np.generic):
        return _clean(o.item())
    return o


def write_report(run_dirs: list[str | Path], fmt: str, out: str | Path) -> Path:
    text = build_report(run_dirs, fmt)
    atomic_write_text(out, text)
    return Path(out)
