"""Exports keep the data: every dataset export reads back as the same rows, texts and labels.

Texts with a bare CR, LF, CRLF, quotes, commas, tabs, a leading "@", "=", "+" or "-", unicode line
separators, emoji and empty text; labels that look like numbers ("-1"). A CSV once wrote a bare "\\r"
unquoted (13,000 rows read back as 13,090) and prefixed an apostrophe to every "@user" tweet and to the
label -1; only the separate "for spreadsheets" CSV may change cells, and only by that guard.
"""

from __future__ import annotations

import io
import zipfile

import datasets
import pandas as pd
import pytest

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.data.io import load_dataset, neutralize_formula
from dq_core.filtering import (
    EXPORT_FORMATS,
    FilterRecipe,
    apply_recipe,
    cleaned_frame,
    export_all,
    export_bytes,
    label_column,
    write_export,
)

TEXTS = ["bare\rcarriage return", "new\nline", "windows\r\nline end", 'she said "hi"', "a, b, and c",
         "tab\tinside", "@united thanks for nothing", "=SUM(A1:A3)", "+1 great flight", "-1",
         "-bad start", "ünïcödé 😀 中文 Ελληνικά", "line\u2028separator\u2029para\x85nel", "  leading spaces",
         "'already quoted", "trailing \r", "", "\"\"", "semi;colon|pipe"]
LABELS = ["-1", "1", "0", "pos", "-1", "1", "neg", "0", "1", "-1", "pos", "neg", "0", "1", "-1", "pos",
          "neg", "1", "0"]


@pytest.fixture(scope="module")
def hostile():
    frame = pd.DataFrame({"tweet": TEXTS, "sentiment": LABELS, "score": [i / 7 for i in range(len(TEXTS))],
                          "user": [f"@u{i}" for i in range(len(TEXTS))]})
    ds = build_dataset(frame, ColumnMapping(text="tweet", label="sentiment", metadata=("score", "user")), name="hostile",
                       require_labels=True)
    result = apply_recipe(ds, None, FilterRecipe(name="keep-all"))
    out = cleaned_frame(ds, result)
    assert len(out) == len(TEXTS)
    return ds, result, out


def _texts(values) -> list[str]:
    return ["" if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA else str(v) for v in values]


def _expected(out: pd.DataFrame) -> tuple[list[str], list[str]]:
    return _texts(out["tweet"].tolist()), _texts(out["sentiment"].tolist())


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_file_exports_read_back_identical_with_pandas(hostile, fmt, tmp_path):
    _, _, out = hostile
    path = write_export(out, tmp_path / f"x.{fmt}")
    if fmt == "csv":
        back = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert pd.read_csv(path)["sentiment"].tolist().count("-1") == LABELS.count("-1")  # no "'-1"
    elif fmt == "jsonl":
        back = pd.read_json(path, lines=True, dtype=False, precise_float=True)
    else:
        back = pd.read_parquet(path)
    assert len(back) == len(TEXTS)
    assert list(back.columns) == list(out.columns)
    assert (_texts(back["tweet"]), _texts(back["sentiment"])) == _expected(out)
    assert _texts(back["user"]) == [f"@u{i}" for i in range(len(TEXTS))]  # no apostrophe
    assert [float(v) for v in back["score"]] == [i / 7 for i in range(len(TEXTS))]  # full precision
    assert "'" not in "".join(_texts(back["sentiment"]))


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet", "datasets"])
def test_exports_load_back_as_the_same_dataset(hostile, fmt, tmp_path):
    ds, result, _ = hostile
    paths = export_all(ds, result, None, tmp_path, fmt=fmt, stem="x")
    back, _ = load_dataset(str(paths["data"]), text_col="tweet", label_col="sentiment")
    assert len(back) == len(ds)
    # A row without text holds '' in every format (a CSV cannot tell it from missing): exact, not via _texts.
    assert back.texts.tolist() == ds.texts.tolist()
    assert back.labels.astype(str).tolist() == ds.labels.astype(str).tolist()


def test_datasets_folder_stores_the_labels_as_a_class_label(hostile, tmp_path):
    ds, result, out = hostile
    folder = export_all(ds, result, None, tmp_path, fmt="datasets", stem="x")["data"]
    assert folder.is_dir() and folder.name == "x.cleaned"
    loaded = datasets.load_from_disk(str(folder))
    feat = loaded.features["sentiment"]
    assert isinstance(feat, datasets.ClassLabel)
    assert feat.names == ["-1", "0", "1", "neg", "pos"]  # integers in numeric order, then words
    assert [feat.int2str(i) for i in loaded["sentiment"]] == LABELS
    assert _texts(loaded["tweet"]) == _expected(out)[0]
    assert label_column(ds, out) == "sentiment"

    # The download is a zip of the same folder.
    z = zipfile.ZipFile(io.BytesIO(export_bytes(out, "datasets", label_col="sentiment")))
    unpacked = tmp_path / "unzipped"
    z.extractall(unpacked)
    again = datasets.load_from_disk(str(unpacked / "cleaned"))
    assert isinstance(again.features["sentiment"], datasets.ClassLabel)
    assert again["tweet"] == loaded["tweet"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_numeric_labels_stay_numbers(fmt, tmp_path):
    frame = pd.DataFrame({"text": ["@a", "=b", "-1"], "label": ["-1", "1", "-1"]})
    ds = build_dataset(frame, ColumnMapping(text="text", label="label"), name="n")
    out = cleaned_frame(ds, apply_recipe(ds, None, FilterRecipe(name="keep-all")))
    path = write_export(out, tmp_path / f"n.{fmt}")
    back = {"csv": pd.read_csv, "parquet": pd.read_parquet,
            "jsonl": lambda p: pd.read_json(p, lines=True)}[fmt](path)
    assert [int(v) for v in back["label"]] == [-1, 1, -1]
    assert back["text"].tolist() == ["@a", "=b", "-1"]


def test_downloads_match_the_files(hostile, tmp_path):
    _, _, out = hostile
    for fmt in ("csv", "jsonl", "parquet"):
        path = write_export(out, tmp_path / f"y.{fmt}")
        assert export_bytes(out, fmt) == path.read_bytes(), fmt


def test_the_spreadsheet_csv_differs_only_by_the_formula_guard(hostile, tmp_path):
    ds, result, out = hostile
    plain = pd.read_csv(io.BytesIO(export_bytes(out, "csv")), dtype=str, keep_default_na=False)
    sheet = pd.read_csv(io.BytesIO(export_bytes(out, "csv_spreadsheet")), dtype=str, keep_default_na=False)
    assert plain.shape == sheet.shape == (len(TEXTS), len(out.columns))
    for col in out.columns:
        assert sheet[col].tolist() == [neutralize_formula(v) for v in plain[col]], col
    changed = [t for t, s in zip(plain["tweet"], sheet["tweet"], strict=True) if t != s]
    assert changed == ["@united thanks for nothing", "=SUM(A1:A3)", "+1 great flight", "-bad start"]
    assert (sheet["sentiment"] == plain["sentiment"]).all()  # "-1" is a number, not a formula
    assert sheet["user"].str.startswith("'@").all()
    path = export_all(ds, result, None, tmp_path, fmt="csv_spreadsheet", stem="x")["data"]
    assert path.name.endswith(EXPORT_FORMATS["csv_spreadsheet"]) and path.read_bytes() == export_bytes(
        out, "csv_spreadsheet")


def test_a_reloaded_export_keeps_the_users_column_names(tmp_path):
    """A dq export read back holds ``row_id`` as metadata (``meta_row_id``) beside the new row ids; exporting
    it again once fell back to dq's own names for every column (the user's ``tweet`` came back as ``text``)
    because that one rename clashed."""
    src = tmp_path / "first.csv"
    pd.DataFrame({"tweet": ["good day", "bad day", "fine day"], "mood": ["pos", "neg", "pos"]}).to_csv(src, index=False)
    ds, _ = load_dataset(str(src), text_col="tweet", label_col="mood")
    first = cleaned_frame(ds, apply_recipe(ds, None, FilterRecipe(name="keep-all")))
    again = tmp_path / "again.csv"
    first.to_csv(again, index=False)
    ds2, _ = load_dataset(str(again), text_col="tweet", label_col="mood")
    second = cleaned_frame(ds2, apply_recipe(ds2, None, FilterRecipe(name="keep-all")))
    assert {"tweet", "mood", "row_id"} <= set(second.columns)
    assert second["tweet"].tolist() == ["good day", "bad day", "fine day"]
