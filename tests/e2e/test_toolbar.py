"""`dq app` hides Streamlit's Deploy button (a cloud service) in this offline tool, keeping the app menu.

The server is started exactly as `dq app` starts it (its command line, the shipped settings passed as
flags), from a folder without a .streamlit/ of its own, so only those flags can hide the button.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from dq_core.commands.app import command, config_flags
from tests.e2e.conftest import _free_port, running_server
from tests.e2e.streamlit_browser import (
    CHROMIUM,
    block_non_loopback,
    launch_browser,
    streamlit_full_screenshot,
    wait_for_streamlit_idle,
)

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def test_dq_app_passes_the_viewer_toolbar_mode():
    flags = config_flags()
    at = flags.index("--client.toolbarMode")
    assert flags[at + 1] == "viewer"  # "viewer" hides deploy, rerun and clear cache; the menu stays


def test_the_deploy_button_is_hidden_and_the_menu_stays(tmp_path, tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    port = _free_port()
    cmd = command(argparse.Namespace(port=port, address="127.0.0.1"))
    elsewhere = tmp_path / "elsewhere"  # no .streamlit/config.toml here: only `dq app`'s flags apply
    elsewhere.mkdir()
    env = {**os.environ, "DQ_HOME": str(tmp_path / "dq_home"), "DQ_DATA_DIR": str(tmp_path_factory.mktemp("data")),
           "HF_HUB_OFFLINE": "1", "DQ_PREFETCH_EMBEDDINGS": "0", "DQ_WARM_UMAP": "0",
           "DQ_DEFAULT_DEMO": "sms_spam", "PYTHONPATH": str(ROOT)}
    with running_server(cmd, port=port, cwd=elsewhere, env=env) as url:
        with sync_playwright() as pw:
            browser = launch_browser(pw)
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            block_non_loopback(context, [])
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(url)
            wait_for_streamlit_idle(page, timeout=90_000)
            expect(page.get_by_role("heading", name="📊 Overview")).to_be_visible()
            shot = Path(os.environ.get("DQ_E2E_SHOTS") or tmp_path) / "toolbar.png"  # DQ_E2E_SHOTS: keep it
            shot.parent.mkdir(parents=True, exist_ok=True)
            streamlit_full_screenshot(page, str(shot))
            expect(page.get_by_test_id("stMainMenu")).to_be_visible()  # print, theme... stay
            expect(page.get_by_test_id("stAppDeployButton")).to_have_count(0)
            expect(page.get_by_role("button", name="Deploy")).to_have_count(0)
            context.close()
            browser.close()
