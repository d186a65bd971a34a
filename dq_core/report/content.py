"""What every report format shows, as plain strings and frames; each format escapes them its own way."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dq_core.report.load import Comparison, PairedDifference, RunRecord
from dq_core.training.evaluate import EvaluationResult, degenerate_warnings
from dq_core.util.wording import format_figure, format_number


def comparison_table(comparison: Comparison) -> pd.DataFrame:
    """The comparison as every format shows it: one row per metric, each run's value then each later run's
    "Δ <run>", as text (counts such as n_train whole, ``3,539`` / ``+475``; rates with four decimals)."""
    shown = pd.DataFrame(index=comparison.table.index)
    for c in comparison.table.columns:
        shown[c] = [format_figure(m, v) for m, v in comparison.table[c].items()]
    for c in comparison.deltas.columns:
        shown[f"Δ {c}"] = [format_figure(m, v, signed=True) for m, v in comparison.deltas[c].items()]
    return shown


def per_class_frame(ev: EvaluationResult) -> pd.DataFrame:
    f = pd.DataFrame(ev.per_class).T[["precision", "recall", "f1", "support", "roc_auc"]]
    f["support"] = f["support"].astype(int)
    return f


def confusion_frame(ev: EvaluationResult, normalized: bool = False) -> pd.DataFrame:
    m = ev.confusion_matrix_normalized if normalized else ev.confusion_matrix
    return pd.DataFrame(m, index=[f"true {x}" for x in ev.labels], columns=[f"pred {x}" for x in ev.labels])


def training_rows_text(split: dict) -> str:
    """The rows a run trained on, and what its recipe did to them. A recipe only filters the labelled rows
    outside the test set (``n_pool``), so its figures here are of those rows; the recipe's note gives its
    figures on the whole dataset, as Clean and `dq filter` count them."""
    def n(key: str, default=None) -> str:
        return format_number(split.get(key, default), count=True)

    cap = split.get("max_train_rows")
    text = f"{n('n_train')} (cap {n('max_train_rows') if cap else 'none'}"
    if split.get("n_pool") is not None:
        text += (f"; the recipe left out {n('n_filtered_out', 0)} of the {n('n_pool')} labelled rows outside "
                 f"the test set and relabelled {n('n_relabelled', 0)}")
    else:  # a run recorded before the pool size was
        text += f", {n('n_filtered_out', 0)} filtered out, {n('n_relabelled', 0)} relabelled"
    return text + ")"


def run_summary_lines(r: RunRecord) -> list[tuple[str, str]]:
    """(what, value) pairs describing how a run was trained, for the head of its section."""
    m, cfg = r.metrics, r.config.get("train", {})
    split = m.get("split", {})
    items = [("trainer", m.get("trainer", cfg.get("trainer"))), ("dataset", m.get("dataset", {}).get("name")),
             ("test set", f"{m.get('test_source')} · {split.get('n_test', m.get('n_test'))} rows"),
             ("training rows", training_rows_text(split)),
             ("validation rows", split.get("n_val")), ("vectors", m.get("vectors"))]
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
    for w in run_warnings(m):
        items.append(("⚠ warning", w))
    return [(k, str(v)) for k, v in items if v is not None]


def run_warnings(metrics: dict) -> list[str]:
    """The degenerate-model warnings of a run (derived from its figures for runs saved before the check)."""
    if "warnings" in metrics:
        return list(metrics["warnings"] or [])
    if "confusion_matrix" in metrics and "labels" in metrics and metrics.get("macro_f1") is not None:
        return list(degenerate_warnings(np.asarray(metrics["confusion_matrix"]), float(metrics["macro_f1"]),
                                        tuple(metrics["labels"])))
    return []


def difference_sentence(d: PairedDifference) -> str:
    """One paired-bootstrap result in words (plain text: the caller escapes it for its format)."""
    if d.result is None:
        return f"{d.metric}: {d.b} vs {d.a}: {d.note}"
    r = d.result
    verdict = ("a real difference (the interval excludes 0)" if r.significant
               else "not distinguishable from noise (the interval includes 0)")
    s = (f"{d.metric}: {d.b} − {d.a} = {r.delta:+.4f}, {r.confidence:.0%} interval "
         f"[{r.ci_low:+.4f}, {r.ci_high:+.4f}] on {r.n:,} shared test rows ({r.n_resamples} resamples): {verdict}")
    if d.note:
        s += f" — {d.note}"
    return s
