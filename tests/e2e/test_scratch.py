"""Scratch mode in a real browser: the space's key rides along page switches and a reload keeps it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.streamlit_browser import wait_for_streamlit_idle
from tests.e2e.test_headers import browser_page, serve  # noqa: F401 - browser_page is a fixture

pytestmark = pytest.mark.e2e
KEY = re.compile(r"[?&]scratch=([0-9a-f]{32})")


@pytest.fixture(scope="module")
def scratch_server(tmp_path_factory):
    with serve(tmp_path_factory, DQ_SESSION_SCRATCH="1") as url:
        yield url


def _key(url: str) -> str:
    m = KEY.search(url)
    assert m, f"no scratch key in {url}"
    return m.group(1)


def test_the_scratch_key_survives_page_switches_and_a_reload(scratch_server, browser_page):  # noqa: F811
    page = browser_page
    page.goto(scratch_server)
    wait_for_streamlit_idle(page, timeout=120_000)
    expect(page.get_by_role("heading", name="📊 Overview")).to_be_visible()
    expect(page.get_by_text("Private scratch space:").first).to_be_visible()
    key = _key(page.url)

    page.get_by_role("link", name="Load").click()
    wait_for_streamlit_idle(page)
    expect(page.get_by_role("heading", name="📂 Load a dataset")).to_be_visible()
    assert _key(page.url) == key and "ds=" in page.url

    page.reload()
    wait_for_streamlit_idle(page, timeout=60_000)
    expect(page.get_by_role("heading", name="📂 Load a dataset")).to_be_visible()
    expect(page.get_by_text("5,574 rows").first).to_be_visible()  # the same dataset, read from the space
    assert _key(page.url) == key
    expect(page.get_by_text("could not be opened")).to_have_count(0)

    other = page.context.browser.new_context().new_page()  # another person: a space of their own
    other.goto(scratch_server)
    wait_for_streamlit_idle(other, timeout=120_000)
    assert _key(other.url) != key
    other.context.close()
