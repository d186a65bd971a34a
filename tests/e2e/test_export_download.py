"""A CSV export with CR/LF/quotes/@/= in its texts reads back identical, through the Clean page's download
button in a real browser; the "for spreadsheets" CSV is a separate, labelled choice that says what it changes."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.streamlit_browser import pick_option, wait_for_streamlit_idle

pytestmark = pytest.mark.e2e
SLOW = 180_000  # the first Clean visit embeds the texts and computes the signals on 2 busy cores

HOSTILE = {  # row -> text; each keeps real words so no junk rule drops it
    0: "the flight was\rlate and rude @united",
    1: "=SUM(A1) the pizza was great and lovely",
    2: "@delta the crew was friendly\r\nthanks a lot",
    3: 'the "gate" was, okay and normal',
    4: "+1 the song was amazing, best album",
    5: "-the soup\twas awful and broken",
    6: "ünïcödé 😀 the concert was fast and great",
    7: "the screen\nwas terrible\nand rude",
}


@pytest.fixture(scope="module")
def hostile_set(dq_home) -> SimpleNamespace:
    from dq_core.data.dataset import ColumnMapping, build_dataset
    from dq_core.data.workspace import Workspace
    from tests.filter_data import make_frame

    frame = make_frame(48, seed=5).drop(columns=["confidence"])
    for i, text in HOSTILE.items():
        frame.loc[i, "text"] = text
    frame.insert(0, "tweet_id", [f"id-{i}" for i in range(len(frame))])
    ds = build_dataset(frame, ColumnMapping(text="text", label="label", id="tweet_id", metadata=("topic",)),
                       name="hostile texts")
    ds_id = Workspace(root=dq_home).save_dataset(ds)
    return SimpleNamespace(query=f"ds={ds_id}", texts=dict(zip(frame["tweet_id"], frame["text"], strict=True)),
                           labels=dict(zip(frame["tweet_id"], frame["label"], strict=True)))


def keyed(page: Page, key: str):
    return page.locator(f".st-key-{key}")


def download(page: Page, key: str) -> tuple[str, bytes]:
    with page.expect_download(timeout=SLOW) as info:
        keyed(page, key).get_by_role("button").click()
    dl = info.value
    with open(dl.path(), "rb") as fh:
        return dl.suggested_filename, fh.read()


def test_a_csv_download_with_cr_lf_quotes_at_and_equals_reads_back_identical(page, server, hostile_set):
    page.goto(f"{server}/clean?{hostile_set.query}")
    wait_for_streamlit_idle(page, timeout=SLOW)
    button = keyed(page, "fp_dl_data")
    expect(button).to_be_visible(timeout=SLOW)
    button.scroll_into_view_if_needed()

    name, data = download(page, "fp_dl_data")
    assert name.endswith(".cleaned.csv")
    back = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    assert 0 < len(back) <= len(hostile_set.texts) and back["tweet_id"].is_unique
    # Every row kept reads back with its exact text (and a label of the dataset's classes).
    for rid, text in zip(back["tweet_id"], back["text"], strict=True):
        assert text == hostile_set.texts[rid], rid
    kept_hostile = [rid for rid in back["tweet_id"] if int(rid.split("-")[1]) in HOSTILE]
    assert len(kept_hostile) >= 4, "the recipe dropped most of the hostile rows; nothing was tested"
    assert set(back["label"]) <= set(hostile_set.labels.values())
    assert b"'@" not in data and b"'=" not in data

    # The spreadsheet variant: a separate choice that says what it changes.
    keyed(page, "fp_fmt").scroll_into_view_if_needed()
    pick_option(page, "fp_fmt", "CSV for spreadsheets (formulas neutralised)", timeout=SLOW)
    # The choice reruns only the export's part of the page; its note says what the variant changes.
    expect(page.get_by_text("The CSV for spreadsheets prefixes an apostrophe")).to_be_visible(timeout=SLOW)
    wait_for_streamlit_idle(page, timeout=SLOW)
    name, sheet_bytes = download(page, "fp_dl_data")
    assert name.endswith(".cleaned.for-spreadsheets.csv")
    sheet = pd.read_csv(io.BytesIO(sheet_bytes), dtype=str, keep_default_na=False)
    assert sheet["tweet_id"].tolist() == back["tweet_id"].tolist()
    for plain, safe in zip(back["text"], sheet["text"], strict=True):
        assert safe == ("'" + plain if plain[:1] in ("=", "+", "-", "@") else plain)
