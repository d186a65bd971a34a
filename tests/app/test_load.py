"""The Load page in a real Streamlit AppTest: demos, uploads, the data folder, the Hub, references."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dq_apptest import as_number, assert_no_exception, metric, texts

from dq_core.data.io import load_dataset, load_demo

TEST_DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def load_page(new_app):
    at = new_app().run()  # opens on the default demo
    at.switch_page("app_pages/load.py").run()
    assert_no_exception(at)
    assert texts(at.title) == ["📂 Load a dataset"]
    return at


def upload(at, name: str, content: bytes | None = None):
    at.radio(key="ds_source").set_value("Upload").run()
    data = (TEST_DATA / name).read_bytes() if content is None else content
    at.file_uploader(key="ds_upload").set_value((name, data, "application/octet-stream")).run()
    return at


def test_shows_the_active_dataset(load_page):
    ds, ref = load_demo("tweets_airline")
    assert texts(load_page.success) == [f"Active: **{ds.name}** ({len(ds):,} rows) · reference "
                                        f"**{ref.name}** ({len(ref):,} rows)"]
    assert [t.label for t in load_page.tabs] == ["New dataset", "Reference set", "Your vectors", "Recent"]


def test_loads_the_sms_spam_demo(load_page):
    at = load_page
    at.selectbox(key="ds_demo").set_value("sms_spam")
    at.button(key="load_demo").click().run()
    assert_no_exception(at)
    sms, _ = load_demo("sms_spam")
    assert texts(at.title) == ["📊 Overview"]
    assert as_number(metric(at, "Rows")) == 5574
    assert as_number(metric(at, "Classes")) == 2
    # the URL names the new dataset (and no reference), so a reload comes back to it
    assert dict(at.query_params) == {"ds": sms.fingerprint[:16]}


def test_upload_a_good_file_maps_and_stores_it(load_page):
    at = upload(load_page, "good.jsonl")
    assert_no_exception(at)
    assert "6 rows × 3 columns — first rows:" in texts(at.caption)
    # the guesses are pre-filled and explained before confirming
    assert at.selectbox(key="map_text").value == "text"
    assert at.selectbox(key="map_label").value == "label"
    assert at.selectbox(key="map_split").value == "split"
    assert "• split column guessed as 'split'" in texts(at.caption)
    at.button(key="confirm_map").click().run()
    assert_no_exception(at)
    assert texts(at.title) == ["📊 Overview"]
    assert as_number(metric(at, "Rows")) == 6
    assert as_number(metric(at, "Balance index")) == 1.0
    assert "Splits" in texts(at.subheader)
    ds, _ = load_dataset(str(TEST_DATA / "good.jsonl"))
    assert dict(at.query_params) == {"ds": ds.fingerprint[:16]}


UPLOAD_ERRORS = [
    ("binary.csv", ("binary", "not text")),
    ("empty.csv", ("is empty",)),
    ("header_only.csv", ("header", "no data rows")),
    ("ragged_rows.csv", ("line 3", "4 fields")),
    ("duplicate_columns.csv", ("duplicate column names",)),
    ("not_records.json", ("not a list of records",)),
]


@pytest.mark.parametrize(("name", "words"), UPLOAD_ERRORS, ids=[n for n, _ in UPLOAD_ERRORS])
def test_bad_upload_shows_an_error_and_the_app_keeps_running(load_page, name, words):
    at = upload(load_page, name)
    assert_no_exception(at)
    errors = texts(at.error)
    assert len(errors) == 1
    for w in words:
        assert w in errors[0]
    # still the Load page, still usable, and the active dataset is untouched
    assert texts(at.title) == ["📂 Load a dataset"]
    assert at.success[0].value.startswith("Active: **demo:tweets (airlines)**")
    at.radio(key="ds_source").set_value("Demo").run()
    assert_no_exception(at)
    assert not at.error


@pytest.mark.parametrize(("name", "words"), [
    ("all_labels_missing.csv", ("every value in label column 'label' is missing",)),
    ("nested_text.parquet", ("nested values",)),
])
def test_bad_mapping_is_an_error_on_confirm(load_page, name, words):
    at = upload(load_page, name)
    assert not at.error  # the file itself reads fine
    at.button(key="confirm_map").click().run()
    assert_no_exception(at)
    assert texts(at.title) == ["📂 Load a dataset"]
    assert len(at.error) == 1 and all(w in at.error[0].value for w in words)


def test_one_column_file_says_what_is_missing(load_page):
    at = upload(load_page, "missing_text_column.csv")
    assert "• no column holds text; map the text column by hand" in texts(at.caption)


def test_latin1_upload_says_how_it_was_read(load_page):
    at = upload(load_page, "latin1.csv")
    assert_no_exception(at)
    assert any("not valid UTF-8" in i for i in texts(at.info))
    at.button(key="confirm_map").click().run()
    assert texts(at.title) == ["📊 Overview"]
    assert any("read it as" in c for c in texts(at.caption))


def test_data_folder_path_outside_is_refused(load_page, dq_env):
    at = load_page
    (dq_env.data.parent / "secret.csv").write_text("text,label\nx,y\n")
    at.radio(key="ds_source").set_value("Data folder").run()
    at.text_input(key="ds_path").input("../secret.csv").run()
    assert_no_exception(at)
    assert len(at.error) == 1
    assert "outside the data folder" in at.error[0].value
    at.text_input(key="ds_path").input("/etc/passwd").run()
    assert "outside the data folder" in at.error[0].value


def test_data_folder_unknown_extension(load_page, dq_env):
    shutil.copy(TEST_DATA / "unknown_extension.xlsx", dq_env.data / "sheet.xlsx")
    at = load_page
    at.radio(key="ds_source").set_value("Data folder").run()
    at.text_input(key="ds_path").input("sheet.xlsx").run()
    assert_no_exception(at)
    assert "unsupported extension '.xlsx'" in at.error[0].value


def test_data_folder_lists_and_loads_files_and_datasets_folders(load_page, dq_env, hf_disk_dataset):
    shutil.copy(TEST_DATA / "good.csv", dq_env.data / "good.csv")
    shutil.copytree(hf_disk_dataset, dq_env.data / "reviews")
    at = load_page
    at.radio(key="ds_source").set_value("Data folder").run()
    assert at.selectbox(key="ds_pick").options == ["(none)", "good.csv", "reviews/"]
    at.selectbox(key="ds_pick").set_value("reviews/").run()
    assert_no_exception(at)
    assert at.selectbox(key="map_split").value == "split"
    at.button(key="confirm_map").click().run()
    assert_no_exception(at)
    assert as_number(metric(at, "Rows")) == 6
    assert texts(at.title) == ["📊 Overview"]


def test_hub_offline_says_so(load_page):
    at = load_page
    at.radio(key="ds_source").set_value("Hugging Face Hub").run()
    at.text_input(key="ds_hub").input("imdb").run()
    at.button(key="ds_hub_go").click().run()
    assert_no_exception(at)
    assert len(at.error) == 1
    assert "offline" in at.error[0].value and "save_to_disk" in at.error[0].value


def test_reference_from_another_split(load_page):
    at = upload(load_page, "good.jsonl")
    at.button(key="confirm_map").click().run()
    at.switch_page("app_pages/load.py").run()
    at.radio(key="ref_how").set_value("Another split of this dataset").run()
    at.selectbox(key="ref_ds_split").set_value("train").run()
    at.selectbox(key="ref_ref_split").set_value("test").run()
    at.button(key="ref_splits_go").click().run()
    assert_no_exception(at)
    assert set(at.query_params) == {"ds", "ref"}
    assert "(4 rows) · reference **good.jsonl [test]** (2 rows)" in at.success[0].value


def test_reference_split_that_leaves_one_side_empty_is_an_error(load_page):
    at = upload(load_page, "good.csv")
    at.button(key="confirm_map").click().run()
    at.switch_page("app_pages/load.py").run()
    at.radio(key="ref_how").set_value("Rows matching a column value").run()
    at.selectbox(key="ref_col").set_value("source").run()
    at.multiselect(key="ref_vals").set_value(["web"]).run()
    at.button(key="ref_split_go").click().run()
    assert_no_exception(at)
    assert "leaves one side empty" in at.error[0].value
    assert "ref" not in at.query_params


def test_unguessable_label_is_mapped_by_hand(load_page):
    at = upload(load_page, "misspelled_label_column.csv")
    assert "• no column looks like a label; map the label column by hand" in texts(at.caption)
    assert at.selectbox(key="map_text").value == "text"  # the text guess is kept
    at.selectbox(key="map_label").set_value("lable").run()
    at.button(key="confirm_map").click().run()
    assert_no_exception(at)
    assert texts(at.title) == ["📊 Overview"]
    assert as_number(metric(at, "Classes")) == 3


def test_reloading_the_same_file_keeps_its_reference_and_the_reference_is_named_by_its_file(load_page):
    at = upload(load_page, "good.csv")
    at.button(key="confirm_map").click().run()
    at.switch_page("app_pages/load.py").run()
    at.radio(key="ref_source").set_value("Upload").run()
    at.file_uploader(key="ref_upload").set_value(("good.jsonl", (TEST_DATA / "good.jsonl").read_bytes(),
                                                  "application/octet-stream")).run()
    at.button(key="ref_file_go").click().run()
    assert_no_exception(at)
    assert "· reference **good.jsonl** (6 rows)" in at.success[0].value  # not "reference: good.jsonl"
    ref_id = at.query_params["ref"]
    # the same file again: the reference stays
    upload(at, "good.csv")
    at.button(key="confirm_map").click().run()
    assert_no_exception(at)
    assert texts(at.title) == ["📊 Overview"]
    assert at.query_params["ref"] == ref_id
