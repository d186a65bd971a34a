"""The dataset card (issue 23): every datasets folder an export writes holds a README.md in the Hugging Face
dataset-card layout whose figures are the export's own (removal_summary, the rows written), whose YAML front
matter reads back whatever the label names are, and which the folder's marker lists, so the folder still
loads (dq, datasets) and the next `dq filter --out NAME` replaces it."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections import Counter

import datasets
import pandas as pd
import pytest
import yaml

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.data.io import read_path, write_frame
from dq_core.data.paths import check_datasets_folder
from dq_core.data.writers import DATASETS_MARKER, class_label_names
from dq_core.errors import DataError
from dq_core.filtering import (
    apply_recipe,
    cleaned_frame,
    export_all,
    export_bytes,
    label_column,
    removal_summary,
)
from dq_core.filtering.dataset_card import CARD_FILE, SHARE_SHIFT, dataset_card, label_counts, yaml_str
from dq_core.filtering.inputs import signal_names
from dq_core.filtering.rule_counts import count_rules, recipe_in_words
from dq_core.util.markdown import md_escape
from tests.cli_helpers import dq

HOSTILE = ["yes: no", "- x", "#h", "two\nlines", "<script>alert(1)</script>", "[x](javascript:alert(1))",
           "'q\" \\ |", "null", "0", "sep\u2028line", "nel\x85x", "del\x7fx", "emoji 😀", "   "]
MAPPING = ColumnMapping("text", "label", metadata=("source",))
RECIPE = {"name": "card test", "classes": [{"label": "spam", "action": "relabel", "to": "ham"}],
          "conditions": [{"where": "source == 'forum'", "action": "drop"}]}


def _rows() -> pd.DataFrame:
    labels = ["ham", "ham", "spam", "eggs", "eggs", "ham", "spam", "eggs", "ham", "eggs"]
    sources = ["web", "forum", "web", "web", "forum", "web", "web", "web", "forum", "web"]
    return pd.DataFrame({"text": [f"text number {i}" for i in range(len(labels))], "label": labels,
                         "source": sources})


def _front(card: str) -> dict:
    m = re.match(r"---\n(.*?)\n---\n", card, re.S)
    assert m, "no YAML front matter"
    return yaml.safe_load(m.group(1))


def _table(card: str, heading: str) -> list[list[str]]:
    """The body rows of the first table at or after the line ``heading`` (cells stripped)."""
    lines = card.splitlines()
    start = next(i for i in range(lines.index(heading), len(lines)) if lines[i].startswith("|"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split(" | ")])
    return rows


def _num(cell: str) -> int:
    return int(cell.replace(",", ""))


def test_card_figures_equal_removal_summary_and_the_exported_rows_label_counts(tmp_path):
    ds = build_dataset(_rows(), MAPPING, name="mails.csv", source=str(tmp_path / "mails.csv"))
    result = apply_recipe(ds, None, RECIPE, strict=False)
    assert result.n_dropped and result.n_relabelled  # the card has something to say on both
    paths = export_all(ds, result, None, tmp_path / "out", fmt="datasets")
    folder = paths["data"]
    card = (folder / CARD_FILE).read_text(encoding="utf-8")
    summary = removal_summary(result)
    loaded = datasets.load_from_disk(str(folder))
    names = loaded.features["label"].names
    written = Counter(names[c] for c in loaded["label"])
    # front matter: the Hub's fields, the ClassLabel names in the folder's own code order
    front = _front(card)
    assert front["task_categories"] == ["text-classification"] and front["size_categories"] == ["n<1K"]
    assert "dq-dashboard" in front["tags"]
    feats = {f["name"]: f["dtype"] for f in front["dataset_info"]["features"]}
    assert feats["text"] == "string"
    assert [feats["label"]["class_label"]["names"][str(i)] for i in range(len(names))] == names
    assert front["dataset_info"]["splits"][0]["num_examples"] == len(loaded) == summary["n_kept"]
    # the numbers: removal_summary's, and the label counts of the rows written and of the source
    rows = {r[0]: _num(r[1]) for r in _table(card, "| | rows |") if len(r) == 2}
    assert rows == {"before cleaning": summary["n_rows"], "kept": summary["n_kept"], "removed": summary["n_dropped"],
                    "relabelled": summary["n_relabelled"], "text repaired": summary["n_repaired"]}
    counts = {r[1]: (_num(r[2]), _num(r[3])) for r in _table(card, "### Label counts") if r[1] != "**all**"}
    assert {k: a for k, (_, a) in counts.items() if a} == dict(written)
    assert {k: b for k, (b, _) in counts.items() if b} == dict(Counter(ds.frame["label"]))
    assert counts["spam"][1] == 0  # relabelled away: shown with its rows before, none after
    for line in recipe_in_words(result):
        assert f"- {md_escape(line)}" in card
    assert "mails.csv" in card and str(tmp_path) not in card  # the file's name, never its folders
    assert summary["recipe_fingerprint"] in card and "card test" in card
    assert json.loads((folder / DATASETS_MARKER).read_text())["entries"].count(CARD_FILE) == 1
    # configs: the Hub reads the folder's Arrow files as the train split
    glob = front["configs"][0]["data_files"][0]["path"]
    assert front["configs"][0]["data_files"][0]["split"] == "train" and list(folder.glob(glob))
    assert "language" not in front  # dq detects none: omitted, and the limitations say so


def test_card_yaml_reads_back_hostile_label_names_and_markdown_escapes_them(tmp_path):
    """Label names such as `yes: no`, `- x`, `#h`, a newline, U+2028 or an XSS string broke neither the YAML
    front matter nor the Markdown: the front matter names the ClassLabel names exactly, in code order."""
    frame = pd.DataFrame({"text": [f"t{i}" for i in range(len(HOSTILE) * 2)], "label": HOSTILE * 2})
    ds = build_dataset(frame, ColumnMapping("text", "label"), name="x: y\n#z", source="a/b/evil: name.csv")
    result = apply_recipe(ds, None, {"name": "r: [1]\n- z", "conditions": [{"where": "text == 't0'",
                                                                          "action": "drop"}]}, strict=False)
    clean = cleaned_frame(ds, result)
    card = dataset_card(ds, result, today="2026-01-01")
    front = _front(card)
    names = class_label_names(clean[label_column(ds, clean)])
    got = front["dataset_info"]["features"][1]["dtype"]["class_label"]["names"]
    assert [got[str(i)] for i in range(len(names))] == names and sorted(names) == sorted(set(ds.frame["label"].dropna()))
    assert front["pretty_name"] == "x: y\n#z (cleaned)"
    body = card.split("\n---\n", 1)[1]
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert "\\[x\\](javascript:" in body and not re.search(r"(?<!\\)\]\(javascript:", body)  # no link
    for s in ("yes: no", "a\u2028b", "\x85", "\x7f", "😀", "\ud800", "'\"\\"):
        assert yaml.safe_load(yaml_str(s)) == s
    after = dict(Counter(clean[label_column(ds, clean)].dropna()))
    assert ds.frame["label"].isna().any() and label_counts(ds, result)[1] == {**after, None: 2}
    assert "| – | *(no label)* | 2 | 2 | +0 |" in card  # a blank label: missing, counted apart from any name
    # the card's ids are the folder's codes
    write_frame(clean, tmp_path / "f", label_col=label_column(ds, clean), extra_files={CARD_FILE: card})
    assert datasets.load_from_disk(str(tmp_path / "f")).features["label"].names == names


def test_dq_filter_out_name_writes_the_card_and_a_second_run_replaces_the_folder(tmp_path):
    """The README.md card is listed in .dq-datasets: the folder still loads with dq and datasets, and a
    second `dq filter --out NAME` replaces it (an unlisted file would have been refused as the user's)."""
    data, recipe, out = tmp_path / "src" / "mails.csv", tmp_path / "r.json", tmp_path / "clean"
    data.parent.mkdir()
    _rows().to_csv(data, index=False)
    recipe.write_text(json.dumps(RECIPE))
    args = ("filter", data, "--recipe", recipe, "--out", out, "--text-col", "text", "--label-col", "label")
    r = dq(*args)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    card = (out / CARD_FILE).read_text(encoding="utf-8")
    assert CARD_FILE in json.loads((out / DATASETS_MARKER).read_text())["entries"]
    assert f"| removed | {summary['n_dropped']:,} |" in card and "| source file | mails.csv |" in card
    assert str(data.parent) not in card
    check_datasets_folder(out)
    assert len(read_path(out).frame) == summary["n_kept"] == len(datasets.load_from_disk(str(out)))
    (out / CARD_FILE).write_text("stale")
    r2 = dq(*args)
    assert r2.returncode == 0, r2.stderr
    undated = re.compile(r"\| date \(UTC\) \| [^|]* \|")  # the run may cross midnight
    assert undated.sub("", (out / CARD_FILE).read_text(encoding="utf-8")) == undated.sub("", card)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".clean.")]


def test_other_exports_write_no_card_and_the_zip_holds_it(tmp_path):
    ds = build_dataset(_rows(), MAPPING, name="mails.csv")
    result = apply_recipe(ds, None, RECIPE, strict=False)
    paths = export_all(ds, result, None, tmp_path, fmt="csv")
    assert paths["data"].is_file() and not (tmp_path / CARD_FILE).exists()
    frame = cleaned_frame(ds, result)
    card = dataset_card(ds, result)
    blob = export_bytes(frame, "datasets", label_col="label", extra_files={CARD_FILE: card})
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        assert z.read(f"cleaned/{CARD_FILE}").decode("utf-8") == card


@pytest.mark.parametrize("name", ["../x.md", "sub/x.md", ".hidden", "state.json", "data.arrow", ""])
def test_extra_files_beside_datasets_data_must_be_plain_names(tmp_path, name):
    with pytest.raises(DataError, match="plain file name"):
        write_frame(_rows(), tmp_path / "f", label_col="label", extra_files={name: "x"})
    assert not (tmp_path / "f").exists() and not (tmp_path / "x.md").exists()


def test_extra_files_are_refused_for_a_one_file_export(tmp_path):
    with pytest.raises(DataError, match="only a datasets folder"):
        write_frame(_rows(), tmp_path / "f.csv", extra_files={CARD_FILE: "x"})


def test_card_names_the_signals_used_with_count_rules_figures_and_the_limitations_from_the_label_counts():
    """The card's *Signals used* rows are count_rules' (the Clean page's *Rules in effect*) for each rule that
    reads a signal, it names the signals the frame holds, and *Other Known Limitations* names the relabels,
    a class left with no row and a class share moved by the cleaning, from the label-count figures."""
    ds = build_dataset(_rows(), MAPPING, name="mails.csv")
    sig = pd.DataFrame({"row_id": ds.frame["row_id"], "is_junk_issue": [i in (3, 7) for i in range(10)],
                        "junk_score": 0.5})
    recipe = {**RECIPE, "name": "with | signals", "signals": [{"signal": "junk", "action": "drop"}],
              "signal_settings": {"signals": ["junk"], "seed": 3}}
    result = apply_recipe(ds, sig, recipe, strict=False)
    card = dataset_card(ds, result, signals=sig, today="2026-01-01")
    rows = _table(card, "#### Signals used")
    want = [c for c in count_rules(result) if c.signal]
    assert [(int(r[0]), r[2], _num(r[3]), _num(r[4]), _num(r[5])) for r in rows] == \
        [(c.step, c.signal, c.selects, c.removes, c.relabels) for c in want] and want[0].removes == 2
    assert f"Signals computed for the data: {', '.join(signal_names(sig))}." in card
    assert "The recipe computes its signals as: junk, seed 3." in card
    assert "with \\| signals" in card  # a recipe name with a pipe does not split the table
    limits = card.split("### Other Known Limitations", 1)[1]
    assert f"{result.n_relabelled:,} labels were changed" in limits and "no row left after cleaning: spam" in limits
    before, after = label_counts(ds, result)
    n_b, n_a = sum(before.values()), sum(after.values())
    for k in ("ham", "eggs"):
        moved = abs(100 * after[k] / n_a - 100 * before[k] / n_b) >= SHARE_SHIFT
        assert (f"{k} {100 * before[k] / n_b:.1f}% → {100 * after[k] / n_a:.1f}%" in limits) == moved
    assert "No language is recorded" in limits
    plain = dataset_card(ds, apply_recipe(ds, None, RECIPE, strict=False))
    assert "No rule of the recipe reads a quality signal." in plain and "Signals computed" not in plain
