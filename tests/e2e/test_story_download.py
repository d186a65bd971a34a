"""The Overview page's *Download the data story*, in a real browser: the build button, then the download button
(AppTest does not render widgets), and the file read back: the story of this dataset with its row count."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from tests.e2e.streamlit_browser import wait_for_streamlit_idle
from tests.e2e.test_export_download import download, keyed

pytestmark = pytest.mark.e2e
SLOW = 180_000
XSS = "<script>alert('story')</script> the flight was late"


@pytest.fixture(scope="module")
def story_set(dq_home) -> SimpleNamespace:
    from dq_core.data.dataset import ColumnMapping, build_dataset
    from dq_core.data.workspace import Workspace
    from tests.filter_data import make_frame

    frame = make_frame(40, seed=3).drop(columns=["confidence"])
    frame.loc[0, "text"] = XSS
    ds = build_dataset(frame, ColumnMapping(text="text", label="label", metadata=("topic",)), name="story set")
    ds_id = Workspace(root=dq_home).save_dataset(ds)
    return SimpleNamespace(query=f"ds={ds_id}", n=len(frame))


def test_the_data_story_downloads_from_overview_and_reads_back(page, server, story_set):
    alerts = []
    page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
    page.goto(f"{server}/?{story_set.query}")
    wait_for_streamlit_idle(page, timeout=SLOW)
    build = keyed(page, "ov_story_build").get_by_role("button")
    build.scroll_into_view_if_needed()
    build.click()
    expect(keyed(page, "ov_story_dl")).to_be_visible(timeout=SLOW)
    keyed(page, "ov_story_dl").scroll_into_view_if_needed()

    name, data = download(page, "ov_story_dl")
    html = data.decode("utf-8")
    assert name.startswith("story-") and name.endswith(".html"), name
    assert html.lstrip().lower().startswith("<!doctype html")
    assert f"<td>{story_set.n:,}</td>" in html  # the rows, as the story's data-at-a-glance table says them
    assert "alert('story')" not in html  # the data story quotes no rows; escaping is tests/e2e/test_story_offline.py's
    assert alerts == []
