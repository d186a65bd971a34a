"""Issue 22, exports dq can read back and label changes said out loud.

Every export format (.csv, .parquet, .jsonl, a datasets folder) goes through the real commands: `dq filter
--out X` with a recipe that keeps every row, then `dq profile X` and the loader on X. Defects pinned here:
- a kept text holding NUL (\\x00) was written raw to CSV and dq could not read its own export back;
- an empty text came back missing after a CSV round trip;
- labels were changed on load without a note (' spaced ' -> 'spaced', '2.50' -> '2.5');
- a JSONL export wrote an integer metadata column with a missing value as floats (3 -> 3.0).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.data.io import load_dataset
from dq_core.filtering import FilterRecipe, save_recipe
from tests.cli_helpers import dq

FORMATS = {"csv": "x.csv", "parquet": "x.parquet", "jsonl": "x.jsonl", "datasets": "xfolder"}
NUL_NOTE = "NUL characters (\\x00) replaced by U+FFFD"

ROWS = [
    {"text": "nul\x00inside", "label": " spaced ", "src": "web\x00x", "n": 3, "score": 0.5},
    {"text": "", "label": "2.50", "src": "app", "n": None, "score": 1.25},
    {"text": None, "label": "a", "src": None, "n": 5, "score": None},
    {"text": "plain words", "label": "a", "src": "web", "n": 2**53 + 1, "score": 2.0},
]


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A JSONL input (types and NUL escapes survive in it) and a recipe that keeps every row."""
    save_recipe(FilterRecipe(name="keep-all"), tmp_path / "keep.json")
    return _jsonl(tmp_path / "in.jsonl", ROWS)


def _filter(source: Path, out: Path):
    r = dq("filter", source, "--recipe", source.parent / "keep.json", "--out", out, "--text-col", "text",
           "--label-col", "label")
    assert r.returncode == 0, r.stderr
    return r


@pytest.mark.parametrize("fmt", FORMATS)
def test_nul_empty_text_and_labels_read_back_from_every_export(source, fmt):
    """`dq filter --out X` then `dq profile X`: the NUL (replaced on load, said with its row), the empty and
    the missing text (both '') and the labels as given come back the same from every format."""
    first, _ = load_dataset(str(source), text_col="text", label_col="label")
    assert first.texts.tolist() == ["nul\ufffdinside", "", "", "plain words"]
    assert first.labels.tolist() == ["spaced", "2.50", "a", "a"]
    assert first.frame["src"].tolist()[:2] == ["web\ufffdx", "app"]
    out = source.parent / FORMATS[fmt]
    r = _filter(source, out)
    assert (f"note: {NUL_NOTE} so every export reads back: 'text' in 1 rows (row_id 0); 'src' in 1 rows "
            "(row_id 0)") in r.stderr
    assert "note: label column 'label': 1 labels had whitespace around them, removed (' spaced ' -> 'spaced')" \
        in r.stderr
    r = dq("profile", out, "--text-col", "text", "--label-col", "label")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["class_counts"] == {"a": 2, "2.50": 1, "spaced": 1}
    assert NUL_NOTE not in r.stderr and "whitespace" not in r.stderr  # nothing left to change
    back, _ = load_dataset(str(out), text_col="text", label_col="label")
    assert back.texts.tolist() == first.texts.tolist()
    assert back.labels.tolist() == first.labels.tolist()
    assert back.frame["src"].fillna("-").tolist() == first.frame["src"].fillna("-").tolist()


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_pandas_reads_the_export_with_empty_texts_and_no_nul(source, fmt):
    out = source.parent / FORMATS[fmt]
    _filter(source, out)
    back = {"csv": lambda p: pd.read_csv(p, dtype=str, keep_default_na=False), "parquet": pd.read_parquet,
            "jsonl": lambda p: pd.read_json(p, lines=True, dtype=False)}[fmt](out)
    assert back["text"].tolist() == ["nul\ufffdinside", "", "", "plain words"]
    assert back["label"].astype(str).tolist() == ["spaced", "2.50", "a", "a"]
    assert "\x00" not in "".join(back["text"]) + "".join(back["src"].fillna(""))
    if fmt != "parquet":
        assert b"\x00" not in out.read_bytes()


def test_empty_text_stays_empty_through_a_csv_round_trip(tmp_path):
    """The CSV cannot tell '' from missing: both load as '' (with a note), so the round trip is exact."""
    frame = pd.DataFrame({"text": ["", None, "words"], "label": ["a", "b", "a"]})
    ds = build_dataset(frame, ColumnMapping(text="text", label="label"))
    assert ds.texts.tolist() == ["", "", "words"]
    assert "1 rows have no text (an empty or missing value): read as the empty text ''" in ds.notes
    save_recipe(FilterRecipe(name="keep-all"), tmp_path / "keep.json")
    _jsonl(tmp_path / "in.jsonl", frame.astype(object).where(frame.notna(), None).to_dict("records"))
    _filter(tmp_path / "in.jsonl", tmp_path / "x.csv")
    again, _ = load_dataset(str(tmp_path / "x.csv"), text_col="text", label_col="label")
    assert again.texts.tolist() == ["", "", "words"]


# --------------------------------------------------------------------------- labels


def test_spaced_labels_are_stripped_with_a_note_naming_the_change_and_rows(tmp_path):
    path = tmp_path / "l.csv"
    path.write_text("text,label\none,  spaced \ntwo, spaced\nthree,\"   \"\nfour,b\n", encoding="utf-8")
    ds, _ = load_dataset(str(path))
    assert ds.labels.tolist()[:2] == ["spaced", "spaced"] and pd.isna(ds.labels.iloc[2])
    assert ("label column 'label': 2 labels had whitespace around them, removed ('  spaced ' -> 'spaced'); "
            "1 held only whitespace and count as missing") in ds.notes


@pytest.mark.parametrize("fmt", FORMATS)
def test_numeric_looking_labels_keep_the_text_given(tmp_path, fmt):
    """A CSV's '2.50' stays '2.50' (no note: nothing changed), through every export and back."""
    path = tmp_path / "n.csv"
    path.write_text("text,label\none,2.50\ntwo,007\nthree,2.50\nfour,-1\n", encoding="utf-8")
    ds, _ = load_dataset(str(path))
    assert ds.labels.tolist() == ["2.50", "007", "2.50", "-1"]
    assert not [n for n in ds.notes if "label" in n]
    save_recipe(FilterRecipe(name="keep-all"), tmp_path / "keep.json")
    out = tmp_path / FORMATS[fmt]
    _filter(path, out)
    back, _ = load_dataset(str(out), text_col="text", label_col="label")
    assert back.labels.tolist() == ["2.50", "007", "2.50", "-1"]


def test_one_number_written_two_ways_is_one_class_with_a_note(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("text,label\na,1\nb,1.0\nc,2.00\nd,2\ne,1.0\nf,2.5\n", encoding="utf-8")
    ds, _ = load_dataset(str(path))
    assert ds.labels.tolist() == ["1", "1", "2", "2", "1", "2.5"]
    assert ("label column 'label': labels that are the same number are one class: '1.0' read as '1' (2 rows), "
            "'2.00' read as '2' (1 rows)") in ds.notes


def test_annotator_columns_and_the_label_merge_spellings_together():
    frame = pd.DataFrame({"text": ["a", "b", "c"], "label": ["1", "0", "1"], "a1": ["1.0", "0", "1.0"],
                          "a2": [1.0, 0.0, np.nan]})
    ds = build_dataset(frame, ColumnMapping(text="text", label="label", annotators=("a1", "a2")))
    assert ds.frame["a1"].tolist() == ["1", "0", "1"] and ds.frame["a2"].tolist()[:2] == ["1", "0"]
    assert any(n.startswith("annotator column 'a1': labels that are the same number") for n in ds.notes)


def test_a_float_label_column_is_shown_as_numbers_without_a_note(tmp_path):
    """Parquet floats have no written form: whole ones lose the fraction (1.0 -> '1'), others keep the
    shortest form (2.5 -> '2.5'); that is a display choice, not a change, so no note."""
    path = tmp_path / "f.parquet"
    pd.DataFrame({"text": ["a", "b", "c", "d"], "label": [1.0, 2.5, np.nan, 1.0]}).to_parquet(path)
    ds, _ = load_dataset(str(path))
    assert ds.labels.tolist()[:2] == ["1", "2.5"] and pd.isna(ds.labels.iloc[2])
    assert not [n for n in ds.notes if "label column" in n]


# --------------------------------------------------------------------------- metadata types


@pytest.mark.parametrize("src", ["in.jsonl", "in.parquet", "folder"])
def test_jsonl_export_keeps_metadata_types(tmp_path, src):
    """Numbers stay JSON numbers; an integer column with a missing value stays integers (3, not 3.0),
    and a big integer keeps its last digit. Read back, the types are the same."""
    import datasets

    frame = pd.DataFrame({"text": ["a b", "c d", "e f"], "label": ["x", "y", "x"], "i": [1, 2, 3],
                          "f": [0.5, 1.0, 2.25], "im": pd.array([1, None, 2**53 + 1], dtype="Int64"),
                          "b": [True, False, True], "s": ["u", None, "w"]})
    path = tmp_path / src
    if src == "in.jsonl":
        _jsonl(path, [{k: (None if v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v)
                       for k, v in r.items()} for r in frame.astype(object).to_dict("records")])
    elif src == "in.parquet":
        frame.to_parquet(path)
    else:
        datasets.Dataset.from_pandas(frame, preserve_index=False).save_to_disk(str(path))
    save_recipe(FilterRecipe(name="keep-all"), tmp_path / "keep.json")
    first, _ = load_dataset(str(path), text_col="text", label_col="label")
    assert str(first.frame["im"].dtype) == "Int64"
    _filter(path, tmp_path / "x.jsonl")
    records = [json.loads(line) for line in (tmp_path / "x.jsonl").read_text().splitlines()]
    assert [r["im"] for r in records] == [1, None, 2**53 + 1]
    assert [r["i"] for r in records] == [1, 2, 3] and [r["f"] for r in records] == [0.5, 1.0, 2.25]
    assert [r["b"] for r in records] == [True, False, True] and [r["s"] for r in records] == ["u", None, "w"]
    back, _ = load_dataset(str(tmp_path / "x.jsonl"), text_col="text", label_col="label")
    for c in ("i", "f", "im", "b"):
        assert back.frame[c].dtype == first.frame[c].dtype, c
        assert back.frame[c].astype(object).tolist() == first.frame[c].astype(object).tolist(), c


def test_a_csv_source_keeps_its_columns_as_text_in_a_jsonl_export(tmp_path):
    """A CSV has no types: its metadata are text and stay text ("007" is not 7), as the README says."""
    path = tmp_path / "c.csv"
    path.write_text("text,label,zip,n\na b,x,007,1.0\nc d,y,010,2\n", encoding="utf-8")
    save_recipe(FilterRecipe(name="keep-all"), tmp_path / "keep.json")
    _filter(path, tmp_path / "x.jsonl")
    records = [json.loads(line) for line in (tmp_path / "x.jsonl").read_text().splitlines()]
    assert [(r["zip"], r["n"]) for r in records] == [("007", "1.0"), ("010", "2")]
