"""In a real browser: the Clean page's "Signal settings" keep their values across a page switch, with no
Streamlit warning about widget defaults. The dataset is over the page's auto-compute limit, so the page asks
before embedding and the test stays light."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.streamlit_browser import commit_input, wait_for_streamlit_idle

pytestmark = pytest.mark.e2e
SLOW = 120_000


@pytest.fixture(scope="module")
def big_id(dq_home) -> str:
    from dq_core.data.workspace import Workspace
    from tests.train_helpers import tiny_dataset

    return Workspace(root=dq_home).save_dataset(tiny_dataset(3100, seed=11))


def _open_settings(page: Page) -> None:
    page.get_by_text("Signal settings", exact=True).click()
    expect(page.locator(".st-key-cl_seed input")).to_be_visible(timeout=SLOW)


def _go_to(page: Page, title: str, heading: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=SLOW)
    wait_for_streamlit_idle(page, timeout=SLOW)


def test_signal_settings_survive_a_page_switch(page: Page, server: str, big_id: str):
    page.goto(f"{server}/clean?ds={big_id}")
    wait_for_streamlit_idle(page, timeout=SLOW)
    expect(page.get_by_text("Compute the signals")).to_be_visible(timeout=SLOW)
    _open_settings(page)
    seed = page.locator(".st-key-cl_seed input")
    expect(seed).to_have_value("0")
    commit_input(page, "cl_seed", "7", timeout=SLOW)
    expect(seed).to_have_value("7")

    _go_to(page, "Overview", "📊 Overview")
    _go_to(page, "Clean", "🧽 Clean")
    _open_settings(page)
    expect(page.locator(".st-key-cl_seed input")).to_have_value("7")
    expect(page.get_by_text("default value")).to_have_count(0)
