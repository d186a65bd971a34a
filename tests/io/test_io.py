"""Loaders: every malformed input in tests/data is a DataError with a clear message; good inputs load."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from dq_core.data import io as dqio
from dq_core.data import readers, writers
from dq_core.data.io import load_dataset
from dq_core.data.readers import read_table_bytes, resolve_in_data_dir
from dq_core.errors import DataError
from tests.bad_inputs import BAD_FILES, GOOD_FILES, NOTED_FILES

TEST_DATA = Path(__file__).resolve().parents[1] / "data"


def _msg(exc_info) -> str:
    return str(exc_info.value).lower()


# --------------------------------------------------------------------------- bad inputs

@pytest.mark.parametrize(("name", "opts", "words"), BAD_FILES,
                         ids=[f"{n}{'+' + '+'.join(o) if o else ''}" for n, o, _ in BAD_FILES])
def test_bad_file_is_a_clear_data_error(name, opts, words):
    with pytest.raises(DataError) as exc:
        load_dataset(str(TEST_DATA / name), **opts)
    msg = _msg(exc)
    for w in words:
        assert w.lower() in msg, f"{w!r} not in {msg!r}"
    assert "traceback" not in msg
    assert "\n" not in msg  # one line: the CLI prints it as `error: <msg>`


READ_ERRORS = [(n, w) for n, o, w in BAD_FILES if not o and n not in (
    "missing_text_column.csv", "all_labels_missing.csv", "nested_text.parquet")]


@pytest.mark.parametrize(("name", "words"), READ_ERRORS, ids=[n for n, _ in READ_ERRORS])
def test_upload_bytes_give_the_same_errors(name, words):
    """The Load page reads uploads with read_table_bytes: same file, same message."""
    with pytest.raises(DataError) as exc:
        read_table_bytes((TEST_DATA / name).read_bytes(), name)
    for w in words:
        assert w.lower() in _msg(exc)


@pytest.mark.parametrize(("content", "words"), [
    ("[1, 2, 3]", ("not a list of records",)),
    ('"just a string"', ("not a list of records",)),
    ("[]", ("no records",)),
    ('{"text": "a", "label": ', ("not valid json", "line 1")),
])
def test_json_that_is_not_records(content, words):
    with pytest.raises(DataError) as exc:
        read_table_bytes(content.encode(), "x.json")
    for w in words:
        assert w in _msg(exc)


def test_json_records_wrapped_in_one_key_are_accepted():
    raw = read_table_bytes(b'{"data": [{"text": "a", "label": 1}, {"text": "b", "label": 2}]}', "w.json")
    assert list(raw.frame.columns) == ["text", "label"]
    assert len(raw.frame) == 2


def test_jsonl_with_a_non_object_line():
    with pytest.raises(DataError) as exc:
        read_table_bytes(b'{"text": "a", "label": "x"}\n[1, 2]\n', "x.jsonl")
    assert "line 2" in _msg(exc) and "not a json object" in _msg(exc)


def test_jsonl_with_a_broken_line():
    with pytest.raises(DataError) as exc:
        read_table_bytes(b'{"text": "a", "label": "x"}\n{"text": oops}\n', "x.jsonl")
    assert "line 2" in _msg(exc) and "not valid json" in _msg(exc)


def test_corrupt_parquet():
    with pytest.raises(DataError) as exc:
        read_table_bytes(b"PAR1 this is not really parquet", "x.parquet")
    assert "not a readable parquet file" in _msg(exc)


def test_missing_path():
    with pytest.raises(DataError) as exc:
        load_dataset(str(TEST_DATA / "no_such_file.csv"))
    assert "does not exist" in _msg(exc)


def test_folder_that_is_not_a_datasets_folder(tmp_path):
    (tmp_path / "plain").mkdir()
    with pytest.raises(DataError) as exc:
        load_dataset(str(tmp_path / "plain"))
    assert "not a datasets.save_to_disk folder" in _msg(exc)


def test_nested_text_column_from_parquet_is_refused_even_by_name(test_data):
    with pytest.raises(DataError) as exc:
        load_dataset(str(test_data / "nested_text.parquet"), text_col="text", label_col="label")
    assert "nested values" in _msg(exc)


# --------------------------------------------------------------------------- files that load with a note

@pytest.mark.parametrize(("name", "words"), NOTED_FILES, ids=[n for n, _ in NOTED_FILES])
def test_noted_files_load_and_say_so(name, words):
    ds, _ = load_dataset(str(TEST_DATA / name))
    notes = " ".join(ds.notes).lower()
    for w in words:
        assert w.lower() in notes


def test_latin1_text_is_decoded_not_garbled():
    ds, _ = load_dataset(str(TEST_DATA / "latin1.csv"))
    texts = ds.texts.tolist()
    assert texts[0] == "Le café était très bon"
    assert "Très déçu, le crème brûlée était froid" in texts
    assert not any("\ufffd" in t for t in texts)


def test_mostly_utf8_with_a_few_bad_bytes_keeps_utf8():
    data = ("text,label\n" + "".join(f"naïve row {i},a\n" for i in range(200))).encode() + b"broken \xff,b\n"
    raw = read_table_bytes(data, "mixed.csv")
    assert raw.frame["text"].iloc[0] == "naïve row 0"
    assert "replaced" in " ".join(raw.notes)


def test_one_class_loads_with_its_class():
    ds, _ = load_dataset(str(TEST_DATA / "one_class.csv"))
    assert ds.classes == ["positive"]
    assert len(ds) == 6


# --------------------------------------------------------------------------- good inputs

@pytest.mark.parametrize("name", GOOD_FILES)
def test_good_files_load(name):
    ds, ref = load_dataset(str(TEST_DATA / name))
    assert ref is None
    assert len(ds) == 6
    assert ds.frame["row_id"].tolist() == list(range(6))
    assert ds.texts.notna().all()
    assert ds.labels.notna().all()
    assert pd.api.types.is_string_dtype(ds.labels)
    assert len(ds.classes) == 3
    assert ds.fingerprint and len(ds.fingerprint) == 32


def test_good_csv_mapping_and_metadata():
    ds, _ = load_dataset(str(TEST_DATA / "good.csv"))
    assert ds.mapping.text == "text" and ds.mapping.label == "label"
    assert ds.metadata_columns == ["source"]
    assert ds.classes == ["negative", "neutral", "positive"]
    assert ds.texts.iloc[0] == "I loved the flight, crew was great"


def test_good_tsv_guesses_sentence_and_sentiment():
    ds, _ = load_dataset(str(TEST_DATA / "good.tsv"))
    assert (ds.mapping.text, ds.mapping.label) == ("sentence", "sentiment")
    assert ds.classes == ["negative", "neutral", "positive"]


@pytest.mark.parametrize("name", ["good.json", "good.jsonl", "good.parquet"])
def test_numeric_labels_become_string_categories(name):
    ds, _ = load_dataset(str(TEST_DATA / name))
    # 0/1/2 as ints (json, parquet) and as floats 0.0/1.0/2.0 (jsonl) are the same three classes.
    assert ds.classes == ["0", "1", "2"]
    assert ds.labels.tolist() == ["2", "0", "1", "2", "0", "1"]


def test_jsonl_split_column_is_mapped():
    ds, _ = load_dataset(str(TEST_DATA / "good.jsonl"))
    assert ds.mapping.split == "split"
    assert ds.frame["split"].value_counts().to_dict() == {"train": 4, "test": 2}


def test_parquet_guesses_by_name_and_keeps_confidence_as_agreement():
    ds, _ = load_dataset(str(TEST_DATA / "good.parquet"))
    assert (ds.mapping.text, ds.mapping.label) == ("review", "stars")
    assert ds.mapping.agreement == "confidence"
    assert ds.frame["confidence"].tolist() == [0.9, 0.8, 1.0, 0.7, 0.95, 0.6]


def test_json_id_column_becomes_row_id():
    ds, _ = load_dataset(str(TEST_DATA / "good.json"), id_col="id")
    assert ds.row_ids.tolist() == [0, 1, 2, 3, 4, 5]
    assert ds.mapping.id == "id"


def test_explicit_columns_override_guesses():
    ds, _ = load_dataset(str(TEST_DATA / "good.csv"), text_col="text", label_col="source")
    assert ds.classes == ["web"]
    assert any("only one class" in n for n in ds.notes)


def test_guesses_are_reported_through_warn():
    said: list[str] = []
    load_dataset(str(TEST_DATA / "good.tsv"), warn=said.append)
    assert said == ["guessed text column 'sentence' (pass --text-col to choose)",
                    "guessed label column 'sentiment' (pass --label-col to choose)"]


def test_parquet_with_a_list_metadata_column_loads(tmp_path):
    """A list column that is not the text (HF-style tokens) is kept as metadata, not a crash."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"body": ["good one", "bad one", "fine", "meh"],
                             "tokens": [["good", "one"], ["bad", "one"], ["fine"], ["meh"]],
                             "cls": ["a", "b", "a", "b"]}), tmp_path / "tok.parquet")
    ds, _ = load_dataset(str(tmp_path / "tok.parquet"), label_col="cls")
    assert ds.mapping.text == "body"
    assert "tokens" in ds.metadata_columns
    assert ds.classes == ["a", "b"]


def test_save_to_disk_folder(hf_disk_dataset):
    ds, _ = load_dataset(str(hf_disk_dataset))
    assert len(ds) == 6
    # ClassLabel ints come back as their names; DatasetDict splits are stacked with a split column.
    assert ds.classes == ["negative", "positive"]
    assert ds.mapping.split == "split"
    assert ds.frame["split"].value_counts().to_dict() == {"train": 4, "test": 2}
    assert any("stacked" in n for n in ds.notes)


def test_save_to_disk_single_dataset(tmp_path):
    import datasets

    datasets.Dataset.from_dict({"sentence": ["a b", "c d", "e f"], "label": [0, 1, 1]}).save_to_disk(
        str(tmp_path / "single"))
    ds, _ = load_dataset(str(tmp_path / "single"))
    assert ds.mapping.text == "sentence"
    assert ds.labels.tolist() == ["0", "1", "1"]
    assert not ds.has_split


# --------------------------------------------------------------------------- demos

def test_demo_sms_spam():
    ds, ref = load_demo_checked("sms_spam")
    assert ref is None
    assert len(ds) == 5574
    assert ds.classes == ["ham", "spam"]


def test_demo_tweets_keeps_confidence_and_topic():
    ds, ref = load_demo_checked("tweets")
    assert ref is None
    assert len(ds) == 38158
    assert ds.classes == ["negative", "neutral", "positive"]
    assert ds.mapping.agreement == "confidence"
    conf = ds.frame["confidence"]
    assert conf.dropna().between(0, 1).all()
    assert conf.notna().sum() == 32698  # some corpus slices ship without a crowd confidence
    assert {"airlines", "apple", "other"} <= set(ds.frame["topic"].unique())


def test_demo_tweets_airline_preset_splits_by_topic():
    ds, ref = load_demo_checked("tweets_airline")
    assert ref is not None
    assert len(ds) + len(ref) == 38158
    assert set(ds.frame["topic"]) == {"airlines"}
    assert "airlines" not in set(ref.frame["topic"])
    # row_ids are the positions in the full corpus, so the two sides never share one.
    assert not set(ds.row_ids) & set(ref.row_ids)


def load_demo_checked(name):
    ds, ref = dqio.load_demo(name)
    assert ds.name.startswith("demo:")
    return ds, ref


def test_unknown_demo():
    with pytest.raises(DataError) as exc:
        load_dataset("demo:nope")
    assert "unknown demo 'nope'" in _msg(exc) and "demo:tweets" in _msg(exc)


def test_demo_refuses_column_options():
    with pytest.raises(DataError) as exc:
        load_dataset("demo:sms_spam", text_col="text")
    assert "come with their column mapping" in _msg(exc)


# --------------------------------------------------------------------------- data folder confinement

def test_resolve_inside_the_data_folder(dq_env):
    (dq_env.data / "sub").mkdir()
    (dq_env.data / "sub" / "a.csv").write_text("text,label\nx,y\n")
    assert resolve_in_data_dir("sub/a.csv") == (dq_env.data / "sub" / "a.csv").resolve()
    assert resolve_in_data_dir(str(dq_env.data / "sub" / "a.csv")) == (dq_env.data / "sub" / "a.csv").resolve()
    assert resolve_in_data_dir("sub/../sub/a.csv") == (dq_env.data / "sub" / "a.csv").resolve()


@pytest.mark.parametrize("path", ["../secret.csv", "../../etc/passwd", "sub/../../secret.csv", "/etc/passwd"])
def test_resolve_refuses_escapes(dq_env, path):
    (dq_env.data / "sub").mkdir()
    (dq_env.data.parent / "secret.csv").write_text("text,label\nx,y\n")
    with pytest.raises(DataError) as exc:
        resolve_in_data_dir(path)
    assert "outside the data folder" in _msg(exc)


def test_resolve_refuses_absolute_path_outside(dq_env, tmp_path):
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("text,label\nx,y\n")
    with pytest.raises(DataError) as exc:
        resolve_in_data_dir(str(outside))
    assert "outside the data folder" in _msg(exc)


def test_resolve_refuses_symlink_escape(dq_env, tmp_path):
    target = tmp_path / "outside.csv"
    target.write_text("text,label\nx,y\n")
    os.symlink(target, dq_env.data / "link.csv")
    with pytest.raises(DataError) as exc:
        resolve_in_data_dir("link.csv")
    assert "outside the data folder" in _msg(exc)


def test_resolve_missing_file_inside(dq_env):
    with pytest.raises(DataError) as exc:
        resolve_in_data_dir("nope.csv")
    assert "does not exist in the data folder" in _msg(exc)


def test_data_dir_follows_env(dq_env):
    assert readers.data_dir() == dq_env.data.resolve()


def test_list_data_files(dq_env, hf_disk_dataset):
    import shutil

    shutil.copy(TEST_DATA / "good.csv", dq_env.data / "good.csv")
    (dq_env.data / "notes.md").write_text("not a table")
    shutil.copytree(hf_disk_dataset, dq_env.data / "hf_folder")
    files = readers.list_data_files()
    assert "good.csv" in files
    assert "hf_folder/" in files
    assert "notes.md" not in files
    # the folder's split subfolders and its json bookkeeping are not separate datasets
    assert not any(f.startswith("hf_folder/") and f != "hf_folder/" and f.endswith(".json") for f in files)


# --------------------------------------------------------------------------- Hugging Face Hub offline

def test_hub_offline_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DataError) as exc:
        load_dataset("hf:imdb")
    msg = _msg(exc)
    assert "'imdb'" in msg and "offline" in msg and "save_to_disk" in msg


@pytest.mark.parametrize("value", ["1", "true", "ON", "yes"])
def test_hub_offline_values(monkeypatch, value):
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", value)
    with pytest.raises(DataError) as exc:
        readers.read_hf_hub("user/some_dataset")
    assert "offline" in _msg(exc)


# --------------------------------------------------------------------------- writers

def test_write_and_read_back(tmp_path):
    ds, _ = load_dataset(str(TEST_DATA / "good.csv"))
    for ext in ("csv", "tsv", "parquet", "jsonl", "json"):
        out = tmp_path / f"out.{ext}"
        writers.write_frame(ds.frame, out)
        back, _ = load_dataset(str(out), text_col="text", label_col="label")
        assert back.texts.tolist() == ds.texts.tolist(), ext
        assert back.labels.tolist() == ds.labels.tolist(), ext
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temp files


def test_spreadsheet_csv_neutralises_formulas():
    frame = pd.DataFrame({"text": ["=HYPERLINK(\"http://x\")", "plain", "-1+2", "@cmd"], "label": ["a", "b", "-1", "c"]})
    out = writers.frame_to_bytes(frame, "csv", spreadsheet_safe=True).decode()
    assert "'=HYPERLINK" in out and "'-1+2" in out and "'@cmd" in out
    assert '\n"plain",' in out and '"-1"' in out  # a plain number is not a formula
    assert "'" not in writers.frame_to_bytes(frame, "csv").decode()  # the data export keeps every text


def test_unknown_output_format():
    with pytest.raises(DataError) as exc:
        writers.write_frame(pd.DataFrame({"a": [1]}), "out.xlsx")
    assert "cannot write 'out.xlsx'" in _msg(exc)


# --------------------------------------------------------------------------- references may be unlabelled

def test_unlabelled_reference_without_a_label_column(tmp_path):
    (tmp_path / "ref.csv").write_text("message\nhello there\nbook a flight\n")
    said: list[str] = []
    ref, _ = load_dataset(str(tmp_path / "ref.csv"), require_labels=False, warn=said.append)
    assert ref.mapping.text == "message" and ref.mapping.label == ""
    assert ref.labels.isna().all()
    assert "no label column found: read as unlabelled (text-only views still work)" in said
    # the same file as a dataset (labels required) is an error that names the missing role
    with pytest.raises(DataError) as exc:
        load_dataset(str(tmp_path / "ref.csv"))
    assert "could not guess the label column" in _msg(exc)


def test_reference_without_the_named_label_column_is_unlabelled(tmp_path):
    (tmp_path / "ref.csv").write_text("text,source\nhello there,a\nbook a flight,b\nfly,a\nmore,b\nx y,a\n")
    ref, _ = load_dataset(str(tmp_path / "ref.csv"), label_col="label", require_labels=False)
    assert ref.mapping.label == "" and ref.labels.isna().all()
    assert "source" in ref.metadata_columns


def test_json_lone_surrogate_is_replaced_not_a_crash():
    # half an emoji ("\ud83d" without its pair) is valid JSON but not encodable text
    data = b'{"text": "broken \\ud83d emoji", "label": "a"}\n{"text": "pair \\ud83d\\ude00 ok", "label": "b"}\n'
    raw = read_table_bytes(data, "tweets.jsonl")
    assert raw.frame["text"].tolist() == ["broken \ufffd emoji", "pair \U0001F600 ok"]


def test_io_reexports_readers_and_writers():
    # Callers import these from dq_core.data.io; they live in readers/writers.
    for name in ("RawTable", "TABLE_EXTENSIONS", "read_table_bytes", "read_path", "read_hf_hub", "data_dir",
                 "list_data_files", "resolve_in_data_dir", "atomic_write_bytes", "atomic_write_text",
                 "frame_to_bytes", "write_frame"):
        assert getattr(dqio, name) is getattr(readers, name, None) or getattr(dqio, name) is getattr(writers, name)
