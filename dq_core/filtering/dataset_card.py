"""A dataset card (README.md, the Hugging Face dataset-card layout) for the datasets folder an export writes.

Its figures are the export's own: the label counts of the dataset as loaded and of the rows written, the
recipe in words (:func:`~dq_core.filtering.rule_counts.recipe_in_words`, the story's sentences) and the
numbers of :func:`~dq_core.filtering.export.removal_summary`, so the card, `dq filter`'s summary and the
Clean page agree. Every string from the data is escaped: in the YAML front matter as a double-quoted scalar
that any YAML reader takes back as the same string, in the Markdown by :func:`~dq_core.util.markdown.md_escape`.
Provenance names the source file only (never its folders, which may say more than the data does).
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections import Counter
from pathlib import Path

import pandas as pd

from dq_core.data.dataset import TextDataset
from dq_core.data.writers import class_label_names
from dq_core.filtering.export import cleaned_frame, label_column, removal_summary
from dq_core.filtering.inputs import signal_names
from dq_core.filtering.result import RecipeResult
from dq_core.filtering.rule_counts import count_rules, recipe_in_words
from dq_core.util.markdown import md_escape

CARD_FILE = "README.md"
NO_LABEL = "*(no label)*"  # how the label table shows a missing label
DATA_FILES = "data-*.arrow"  # the Arrow files save_to_disk writes: the Hub reads them as the train split
SHARE_SHIFT = 5.0  # percentage points: a class share moved this much by the cleaning is named in the limitations
# The Hub's size_categories buckets, by the number of rows written.
_SIZES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
          (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"))
# Characters a YAML reader refuses in a stream or takes for a line break inside a quoted scalar (JSON leaves
# them raw): written as \\u escapes, which YAML reads back as the same character.
_YAML_UNSAFE = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\x85\u2028\u2029\ufeff]")


def yaml_str(value) -> str:
    """``value`` as a double-quoted YAML scalar that reads back as ``str(value)`` (a JSON string is YAML)."""
    s = json.dumps(str(value), ensure_ascii=False)
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", s)


def size_category(n: int) -> str:
    for limit, name in _SIZES:
        if n < limit:
            return name
    return "n>1B"


def label_counts(ds: TextDataset, result: RecipeResult) -> tuple[dict[str | None, int], dict[str | None, int]]:
    """Rows per label in the dataset as loaded and in the rows the export writes (final labels of the kept
    rows); missing labels count under None (a label may well be called "(no label)")."""
    def count(values) -> dict[str | None, int]:
        return dict(Counter(None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else str(v)
                            for v in values))

    before = count(ds.frame["label"].astype(object).tolist())
    after = count(result.final_labels()[result.keep_mask].tolist())
    return before, after


def _front_matter(pretty_name: str, frame: pd.DataFrame, text_col: str, label_col: str | None,
                  names: list[str]) -> list[str]:
    # No language: dq does not detect one, and a wrong code is worse than none (the limitations say so).
    lines = ["---", f"pretty_name: {yaml_str(pretty_name)}", "task_categories:", "- text-classification",
             "size_categories:", f"- {size_category(len(frame))}", "tags:", "- dq-dashboard", "configs:",
             "- config_name: default", "  data_files:", "  - split: train", f"    path: {yaml_str(DATA_FILES)}",
             "dataset_info:",
             "  features:", f"  - name: {yaml_str(text_col)}", "    dtype: string"]
    if label_col:
        lines += [f"  - name: {yaml_str(label_col)}", "    dtype:", "      class_label:", "        names:"]
        lines += [f"          '{i}': {yaml_str(n)}" for i, n in enumerate(names)]
    lines += ["  splits:", "  - name: train", f"    num_examples: {len(frame)}", "---"]
    return lines


def _field_meaning(col: str, ds: TextDataset, text_col: str, label_col: str | None) -> tuple[str, str]:
    m = ds.mapping
    if col == text_col:
        return "string", "the text (as repaired where a repair rule fixed it)"
    if col == label_col:
        return "ClassLabel", "the label after cleaning, stored as a class id (names below)"
    if col in (m.id, "row_id"):
        return "value", "the row's id in the source file, as in the removal log"
    if col == m.split:
        return "string", "the split the source file gave the row"
    return "value", "carried over from the source file"


def _structure(frame: pd.DataFrame, ds: TextDataset, text_col: str, label_col: str | None) -> list[str]:
    lines = ["## Dataset Structure", "", "### Data Fields", "", "| field | type | meaning |", "|---|---|---|"]
    for c in frame.columns:
        kind, meaning = _field_meaning(str(c), ds, text_col, label_col)
        if kind == "value":
            kind = str(frame[c].dtype)
        lines.append(f"| {md_escape(c)} | {md_escape(kind)} | {meaning} |")
    lines += ["", "### Data Splits", "",
              f"One table of {len(frame):,} rows (a `datasets.Dataset`, saved with `save_to_disk`); "
              "load it with `datasets.load_from_disk(\"<this folder>\")` or `dq profile <this folder>`.", ""]
    return lines


def _label_table(before: dict[str | None, int], after: dict[str | None, int], names: list[str]) -> list[str]:
    lines = ["### Label counts", "", "| id | label | rows before cleaning | rows after cleaning | change |",
             "|---:|---|---:|---:|---:|"]
    order = [*names, *sorted(k for k in before if k not in names and k is not None)]
    order += [None] if None in before or None in after else []
    for lab in order:
        b, a = before.get(lab, 0), after.get(lab, 0)
        ident = str(names.index(lab)) if lab in names else "–"
        shown = NO_LABEL if lab is None else md_escape(lab)
        lines.append(f"| {ident} | {shown} | {b:,} | {a:,} | {a - b:+,} |")
    lines.append(f"| | **all** | {sum(before.values()):,} | {sum(after.values()):,} "
                 f"| {sum(after.values()) - sum(before.values()):+,} |")
    return [*lines, ""]


def _curation(result: RecipeResult, summary: dict) -> list[str]:
    lines = ["## Dataset Creation", "", "### Curation Rationale", "",
             f"The rows were cleaned with the filter recipe **{md_escape(summary['recipe'])}**, applied as "
             "follows (each removal counted at the first step that removed the row):", ""]
    lines += [f"- {md_escape(s)}" for s in recipe_in_words(result)]
    lines += ["", "| | rows |", "|---|---:|", f"| before cleaning | {summary['n_rows']:,} |",
              f"| kept | {summary['n_kept']:,} |", f"| removed | {summary['n_dropped']:,} |",
              f"| relabelled | {summary['n_relabelled']:,} |", f"| text repaired | {summary['n_repaired']:,} |", ""]
    if summary["notes"]:
        lines += ["Notes from applying the recipe:", "", *[f"- {md_escape(n)}" for n in summary["notes"]], ""]
    return lines


def _signals_used(result: RecipeResult, signals: pd.DataFrame | None) -> list[str]:
    """The recipe's rules that read a signal, with count_rules' figures (the Clean page's *Rules in effect*)."""
    lines = ["#### Signals used", ""]
    read = [c for c in count_rules(result) if c.signal]
    if not read:
        lines += ["No rule of the recipe reads a quality signal.", ""]
    else:
        lines += ["| step | rule | signal | rows its test selects | removed | relabelled |",
                  "|---:|---|---|---:|---:|---:|"]
        lines += [f"| {c.step} | {md_escape(c.rule)} | {md_escape(c.signal)} | {c.selects:,} | {c.removes:,} "
                  f"| {c.relabels:,} |" for c in read]
        lines.append("")
    settings = result.recipe.signal_settings
    if signals is not None:
        names = ", ".join(md_escape(n) for n in signal_names(signals)) or "none"
        lines += [f"Signals computed for the data: {names}."]
    if settings is not None:
        keys = ", ".join(md_escape(k) for k in settings["signals"]) if settings["signals"] else "the default set"
        lines += [f"The recipe computes its signals as: {keys}, seed {settings['seed']}."]
    return [*lines, ""] if lines[-1] else lines


def _limitations(result: RecipeResult, before: dict[str | None, int], after: dict[str | None, int]) -> list[str]:
    """What a reader of the cleaned data should know, from the same figures as the tables above."""
    items = ["The recipe's rules and the quality signals they read chose the rows, not a person reading each "
             "one: a removed row may be sound and a kept row may still be wrong; the removal log lists every "
             "removed row with its reasons for review."]
    if result.n_relabelled:
        items.append(f"{result.n_relabelled:,} labels were changed by the recipe: the label column holds the "
                     "labels after cleaning, not the ones in the source file.")
    if result.n_repaired:
        items.append(f"{result.n_repaired:,} texts were repaired: they differ from the source file.")
    gone = [k for k in before if k is not None and before[k] and not after.get(k)]
    if gone:
        items.append("Classes with no row left after cleaning: " + ", ".join(md_escape(k) for k in gone) + ".")
    n_b, n_a = sum(before.values()) or 1, sum(after.values()) or 1
    moved = [f"{md_escape(k)} {100 * before.get(k, 0) / n_b:.1f}% → {100 * after.get(k, 0) / n_a:.1f}%"
             for k in dict.fromkeys([*before, *after]) if k is not None and k not in gone
             and abs(100 * after.get(k, 0) / n_a - 100 * before.get(k, 0) / n_b) >= SHARE_SHIFT]
    if moved:
        items.append(f"The cleaning moved class shares by {SHARE_SHIFT:g} points or more: " + "; ".join(moved) + ".")
    items.append("No language is recorded: dq does not detect it. Add `language:` to the front matter before "
                 "publishing, and read the texts for personal or offensive content: dq measures quality, "
                 "not what the texts say.")
    return ["## Considerations for Using the Data", "", "### Other Known Limitations", "",
            *[f"- {i}" for i in items], ""]


def _provenance(source: str, summary: dict, ds: TextDataset, today: str) -> list[str]:
    from dq_core import __version__

    rows = [("source file", source or "–"), ("source fingerprint", ds.fingerprint or "–"),
            ("cleaned by", f"dq-dashboard {__version__}"), ("date (UTC)", today),
            ("recipe", summary["recipe"]), ("recipe fingerprint", summary["recipe_fingerprint"])]
    lines = ["### Source Data", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {md_escape(v)} |" for k, v in rows]
    lines += ["", "The removal log (`*.removed.csv` or `dq filter --log`) lists every removed, relabelled or "
              "repaired row with the reasons; the recipe JSON reproduces the cleaning with "
              "`dq filter DATA --recipe RECIPE`.", ""]
    return lines


def dataset_card(ds: TextDataset, result: RecipeResult, *, signals: pd.DataFrame | None = None, source: str = "",
                 frame: pd.DataFrame | None = None, today: str | None = None) -> str:
    """The card's text for the rows ``result`` keeps of ``ds``. ``signals``: the signals frame the recipe
    was applied with, if any (its signals are named); ``source``: the source file (its name only is shown;
    default ``ds.source``); ``frame``: the :func:`cleaned_frame` already built, if any; ``today``: the date
    shown (default today, UTC)."""
    frame = cleaned_frame(ds, result) if frame is None else frame
    label_col = label_column(ds, frame)
    text_col = ds.mapping.text if ds.mapping.text in frame.columns else "text"
    names = class_label_names(frame[label_col]) if label_col else []
    summary = removal_summary(result)
    src = Path(str(source or ds.source or "")).name
    title = f"{Path(str(ds.name)).name} (cleaned)"
    today = today or _dt.datetime.now(_dt.UTC).date().isoformat()
    before, after = label_counts(ds, result)
    lines = [*_front_matter(title, frame, text_col, label_col, names), "", f"# {md_escape(title)}", "",
             "## Dataset Summary", "",
             f"{len(frame):,} texts for text classification in {len(names):,} classes: the rows of "
             f"{md_escape(src or 'the source data')} ({summary['n_rows']:,} rows) that the filter recipe "
             f"**{md_escape(summary['recipe'])}** kept ({summary['n_dropped']:,} removed, "
             f"{summary['n_relabelled']:,} relabelled, {summary['n_repaired']:,} with the text repaired), "
             f"written by dq-dashboard (`dq filter` / the Clean page).", "",
             *_structure(frame, ds, text_col, label_col), *_label_table(before, after, names),
             *_curation(result, summary), *_signals_used(result, signals), *_provenance(src, summary, ds, today),
             *_limitations(result, before, after)]
    return "\n".join(lines)


def card_files(ds: TextDataset, result: RecipeResult, *, signals: pd.DataFrame | None = None, source: str = "",
               frame: pd.DataFrame | None = None) -> dict[str, str]:
    """{README.md: the card}: the files a datasets folder export writes beside its data."""
    return {CARD_FILE: dataset_card(ds, result, signals=signals, source=source, frame=frame)}
