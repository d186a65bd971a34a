"""A model card (README.md) for the model folder a transformer run exports, from the run's own numbers.

Everything in it comes from what the run wrote (metrics.json's fields and the run config): base model,
labels, train/validation/test sizes, the filter recipe applied, the test metrics per class, and the
caveats a reader must see before using the model (one class predicted for everything, macro-F1 near
chance, classes without test rows, warnings the run recorded).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from dq_core.data.writers import atomic_write_text

CARD_FILE = "README.md"
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")  # owner/name


def _num(v, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) >= 1 and digits == 0):
        return f"{int(v):,}"
    return f"{float(v):.{digits}f}"


def _cell(text) -> str:
    """Text safe inside a Markdown table cell (no pipe, no line break, no link or HTML syntax)."""
    s = " ".join(str(text).split())
    for ch in "\\|[]<>`*_":
        s = s.replace(ch, "\\" + ch)
    return s


def caveats(metrics: dict) -> list[str]:
    """What a reader must know before trusting the model, from the run's metrics."""
    out: list[str] = []
    labels = [str(x) for x in metrics.get("labels") or []]
    cm = metrics.get("confusion_matrix") or []
    k = len(labels)
    if cm and k:
        predicted = [sum(row[j] for row in cm) for j in range(k)]
        n = sum(predicted)
        used = [labels[j] for j in range(k) if predicted[j] > 0]
        if n and len(used) == 1 and k > 1:
            out.append(f"Degenerate model: it predicts '{used[0]}' for every one of the {n:,} test rows.")
    macro = metrics.get("macro_f1")
    if k > 1 and isinstance(macro, (int, float)) and math.isfinite(macro) and macro <= 1.0 / k + 0.05:
        out.append(f"Macro-F1 {macro:.3f} is near chance level (about {1.0 / k:.2f} for {k} classes): the model "
                   "has not learnt to tell the classes apart.")
    split = metrics.get("split") or {}
    train_counts = split.get("train_class_counts") or {}
    test_counts = split.get("test_class_counts") or {}
    if train_counts and test_counts:
        no_test = sorted(set(train_counts) - set(test_counts))
        if no_test:
            out.append("Label mismatch: the test set has no rows of " + ", ".join(f"'{c}'" for c in no_test)
                       + "; the metrics say nothing about those classes.")
    for w in metrics.get("warnings") or []:
        text = w.get("message") if isinstance(w, dict) else w
        if text and str(text) not in out:
            out.append(str(text))
    return out


def model_card(metrics: dict, config: dict | None = None) -> str:
    """The card's Markdown text. ``metrics`` is metrics.json; ``config`` the run's TrainConfig dict."""
    from dq_core import __version__

    cfg = config or {}
    training = metrics.get("training") or {}
    split = metrics.get("split") or {}
    dataset = metrics.get("dataset") or {}
    labels = [str(x) for x in metrics.get("labels") or []]
    base = str(training.get("backbone") or cfg.get("model") or "all-MiniLM-L6-v2")
    hub_id = bool(_HUB_ID.fullmatch(base)) and not Path(base).exists()
    base_name = base if hub_id else Path(base).name
    name = metrics.get("name") or cfg.get("name") or "text classifier"
    front = ["---", "library_name: transformers", "pipeline_tag: text-classification", "tags:",
             "- text-classification", "- dq-dashboard"]
    if hub_id:  # the Hub's metadata links it; a local folder means nothing to a reader elsewhere
        front.append(f"base_model: {base}")
    front.append("---")
    lines = [*front, "", f"# {_cell(name)}", "",
             f"A text classifier fine-tuned from **{_cell(base_name)}** by dq-dashboard {__version__} "
             f"(`dq train` / the Train page). Load it with "
             "`transformers.pipeline(\"text-classification\", model=\"<this folder>\")`.", ""]

    warn = caveats(metrics)
    lines += ["## Caveats", ""]
    lines += [f"- ⚠ {_cell(c)}" for c in warn] or ["- None found in the test metrics (no single-class "
                                                   "predictions, macro-F1 above chance, every class tested)."]
    lines.append("- Measured on one test set; a different population of texts can score lower.")
    lines.append("")

    lines += ["## Data", "", "| | rows |", "|---|---:|",
              f"| train | {_num(split.get('n_train'), 0)} |", f"| validation | {_num(split.get('n_val'), 0)} |",
              f"| test | {_num(split.get('n_test', metrics.get('n_test')), 0)} |", ""]
    source = {"external": "a separate test file", "split": "the dataset's own test split",
              "holdout": "a stratified holdout of the dataset"}.get(str(metrics.get("test_source")),
                                                                    str(metrics.get("test_source") or "–"))
    lines.append(f"Dataset: {_cell(dataset.get('name', '–'))} ({_num(dataset.get('n_rows'), 0)} rows, "
                 f"fingerprint `{_cell(dataset.get('fingerprint', '–'))}`); test rows from {source}.")
    recipe = cfg.get("recipe")
    recipe_notes = [n for n in metrics.get("notes") or [] if str(n).startswith("recipe")]
    if recipe:
        lines.append(f"Filter recipe applied before splitting: **{_cell(Path(str(recipe)).stem)}**"
                     + (f" — {_cell(recipe_notes[0])}." if recipe_notes else "."))
    else:
        lines.append("Filter recipe: none (trained on the labels as given).")
    lines.append("")

    train_counts = split.get("train_class_counts") or {}
    test_counts = split.get("test_class_counts") or {}
    per_class = metrics.get("per_class") or {}
    lines += ["## Labels", "", "| id | label | train rows | test rows | precision | recall | F1 |",
              "|---:|---|---:|---:|---:|---:|---:|"]
    for i, lab in enumerate(labels):
        pc = per_class.get(lab) or {}
        lines.append(f"| {i} | {_cell(lab)} | {_num(train_counts.get(lab), 0)} | {_num(test_counts.get(lab), 0)} "
                     f"| {_num(pc.get('precision'))} | {_num(pc.get('recall'))} | {_num(pc.get('f1'))} |")
    lines.append("")

    lines += ["## Test metrics", "", "| metric | value |", "|---|---:|",
              f"| accuracy | {_num(metrics.get('accuracy'))} |", f"| macro-F1 | {_num(metrics.get('macro_f1'))} |",
              f"| weighted-F1 | {_num(metrics.get('weighted_f1'))} |",
              f"| expected calibration error | {_num(metrics.get('ece'))} |", ""]

    hp = [("epochs", cfg.get("epochs")), ("max steps", cfg.get("max_steps") or None),
          ("learning rate", cfg.get("learning_rate")), ("batch size", cfg.get("batch_size")),
          ("max tokens per text", cfg.get("max_length")), ("seed", cfg.get("seed")),
          ("optimiser steps run", training.get("global_step")),
          ("stopped early", training.get("stopped_early")),
          ("training time (s)", metrics.get("duration_seconds"))]
    lines += ["## Training", "", "| setting | value |", "|---|---:|"]
    lines += [f"| {k} | {_cell(v)} |" for k, v in hp if v is not None]
    lines.append("")
    return "\n".join(lines)


def write_model_card(model_dir: str | Path, metrics: dict, config: dict | None = None) -> Path:
    path = Path(model_dir) / CARD_FILE
    atomic_write_text(path, model_card(metrics, config))
    return path
