"""The Load page's Encoding choice (issue 22): the same note as the command line on an uncertain guess, the
file re-read when the encoding changes, an unknown codec refused, and the choice kept across a page switch."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from dq_apptest import assert_no_exception, texts

from dq_core.data.io import load_dataset

DATA = Path(__file__).resolve().parents[1] / "data"
CORPUS = DATA / "codepages"
sys.path.insert(0, str(DATA))
import make_codepages  # noqa: E402

SHORT_ARABIC = "short_cp1256.csv"  # guessed as Shift-JIS, and called uncertain


@pytest.fixture
def load_page(new_app):
    at = new_app().run()
    at.switch_page("app_pages/load.py").run()
    assert_no_exception(at)
    return at


def _upload(at, name: str, data: bytes | None = None):
    at.radio(key="ds_source").set_value("Upload").run()
    data = (CORPUS / name).read_bytes() if data is None else data
    at.file_uploader(key="ds_upload").set_value((name, data, "application/octet-stream")).run()
    assert_no_exception(at)
    return at


def _preview_texts(at) -> list[str]:
    return at.dataframe[0].value["text"].tolist()


def test_uncertain_guess_shows_the_command_lines_note_and_the_choice_rereads_the_file(load_page):
    at = _upload(load_page, SHORT_ARABIC)
    assert at.selectbox(key="ds_encoding").value == "auto (guess)"
    ds, _ = load_dataset(str(CORPUS / SHORT_ARABIC))
    assert ds.notes[0] in texts(at.info)  # the same words as `note:` on the command line
    assert "uncertain" in ds.notes[0] and "Encoding on the Load page" in ds.notes[0]
    wanted = [t for t, _ in make_codepages.SHORT[SHORT_ARABIC][1]]
    assert _preview_texts(at) != wanted

    at.selectbox(key="ds_encoding").set_value("cp1256").run()
    assert_no_exception(at)
    assert _preview_texts(at) == wanted
    assert texts(at.info) == ["read as cp1256, as chosen"]
    at.button(key="confirm_map").click().run()
    assert texts(at.title) == ["📊 Overview"]
    from dq_core.data.workspace import Workspace

    stored = Workspace.default().load_dataset(at.session_state["ds"])
    assert stored.texts.tolist() == wanted


def test_encoding_choice_is_kept_when_the_page_is_left_and_opened_again(load_page):
    at = _upload(load_page, SHORT_ARABIC)
    at.selectbox(key="ds_encoding").set_value("cp1256").run()
    at.switch_page("app_pages/overview.py").run()
    at.switch_page("app_pages/load.py").run()
    at.radio(key="ds_source").set_value("Data folder").run()  # the source itself starts over, as before
    assert_no_exception(at)
    assert at.selectbox(key="ds_encoding").value == "cp1256"


def test_other_encoding_by_name_and_an_unknown_name_is_refused(load_page):
    data = make_codepages.text_of("x.csv", make_codepages.ENOUGH["cp1251_russian.csv"][1]).encode("cp866")
    at = _upload(load_page, "dos.csv", data)
    at.selectbox(key="ds_encoding").set_value("other…").run()
    at.text_input(key="ds_encoding_other").input("cp866").run()
    assert_no_exception(at)
    assert _preview_texts(at) == [t for t, _ in make_codepages.ENOUGH["cp1251_russian.csv"][1]]
    at.text_input(key="ds_encoding_other").input("no-such-codec").run()
    assert_no_exception(at)
    assert len(at.error) == 1 and "unknown encoding 'no-such-codec'" in at.error[0].value


def test_encoding_is_ignored_with_a_note_for_parquet(load_page, tmp_path):
    frame = pd.DataFrame({"text": ["ein schöner Tag", "kein guter Tag"], "label": ["pos", "neg"]})
    frame.to_parquet(tmp_path / "d.parquet", index=False)
    at = _upload(load_page, "d.parquet", (tmp_path / "d.parquet").read_bytes())
    at.selectbox(key="ds_encoding").set_value("cp1251").run()
    assert_no_exception(at)
    assert _preview_texts(at) == frame["text"].tolist()
    assert texts(at.info) == ["the chosen encoding cp1251 is ignored: Parquet files store text as Unicode"]


def test_reference_file_has_its_own_encoding_choice(load_page):
    at = load_page
    at.radio(key="ref_how").set_value("A second file or demo").run()
    at.radio(key="ref_source").set_value("Upload").run()
    at.file_uploader(key="ref_upload").set_value((SHORT_ARABIC, (CORPUS / SHORT_ARABIC).read_bytes(),
                                                  "application/octet-stream")).run()
    at.selectbox(key="ref_encoding").set_value("cp1256").run()
    assert_no_exception(at)
    assert texts(at.info) == ["read as cp1256, as chosen"]
