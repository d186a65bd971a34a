"""The dashboard in a real browser: opens on the demo, overview filled in, a reload keeps the data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.streamlit_browser import streamlit_full_screenshot, wait_for_streamlit_idle

pytestmark = pytest.mark.e2e
SHOTS = Path(os.environ.get("DQ_SCREENSHOTS", "/tmp/dq-screenshots"))


def test_opens_on_demo_overview_and_survives_reload(page, server):
    page.goto(server)
    wait_for_streamlit_idle(page, timeout=90_000)
    expect(page.get_by_role("heading", name="📊 Overview")).to_be_visible()
    expect(page.get_by_test_id("stMetric").first).to_be_visible()
    expect(page.get_by_text("demo:tweets (airlines)").first).to_be_visible()
    # The active dataset lives in the URL: a reload lands on the same data.
    assert "ds=" in page.url
    url = page.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    streamlit_full_screenshot(page, str(SHOTS / "overview.png"))
    page.goto(url)
    wait_for_streamlit_idle(page, timeout=60_000)
    expect(page.get_by_text("demo:tweets (airlines)").first).to_be_visible()


def test_load_page_switch_and_demo(page, server):
    page.goto(server)
    wait_for_streamlit_idle(page, timeout=90_000)
    page.get_by_role("link", name="Load").click()
    expect(page.get_by_role("heading", name="📂 Load a dataset")).to_be_visible()
    wait_for_streamlit_idle(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    streamlit_full_screenshot(page, str(SHOTS / "load.png"))


def test_reloading_a_sub_page_url_keeps_navigation_and_data(page, server):
    """A reload of /shift?ds=... must run inside app.py's navigation with the same dataset."""
    page.goto(server)
    wait_for_streamlit_idle(page, timeout=90_000)
    query = page.url.split("?", 1)[1]
    page.goto(f"{server}/load?{query}")
    wait_for_streamlit_idle(page, timeout=60_000)
    expect(page.get_by_role("heading", name="📂 Load a dataset")).to_be_visible()
    nav = page.get_by_test_id("stSidebarNav").inner_text()
    assert "Overview" in nav and "app" not in nav.split()
    expect(page.get_by_text("demo:tweets (airlines)").first).to_be_visible()
