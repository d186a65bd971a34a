"""serve.py (what `dq app` runs): security headers on every response, and the app still works behind them."""

from __future__ import annotations

import contextlib
import http.server
import os
import re
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import _free_port, running_server
from tests.e2e.streamlit_browser import CHROMIUM, block_non_loopback, launch_browser, wait_for_streamlit_idle

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def serve(tmp_path_factory, **env_extra: str) -> Iterator[str]:
    """`streamlit run dq_app/serve.py` on a free loopback port with a fresh workspace; yields its URL."""
    port = _free_port()
    env = {**os.environ, "DQ_HOME": str(tmp_path_factory.mktemp("dq_home")),
           "DQ_DATA_DIR": str(tmp_path_factory.mktemp("data")), "HF_HUB_OFFLINE": "1",
           "DQ_PREFETCH_EMBEDDINGS": "0", "DQ_WARM_UMAP": "0", "DQ_DEFAULT_DEMO": "sms_spam", **env_extra}
    with running_server([sys.executable, "-m", "streamlit", "run", "dq_app/serve.py", "--server.headless", "true",
                         "--server.address", "127.0.0.1", "--server.port", str(port)], port=port, cwd=ROOT,
                        env=env) as url:
        yield url


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    with serve(tmp_path_factory) as url:
        yield url


def _headers(url: str) -> dict[str, str]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return {k.lower(): v for k, v in resp.headers.items()}


def test_every_response_carries_the_headers(secured):
    index = urllib.request.urlopen(secured + "/", timeout=10).read().decode()
    asset = re.search(r'src="\.?/?(static/js/[^"]+\.js)"', index)
    assert asset, "no script asset in the index page"
    for path in ("/", "/load", "/_stcore/health", "/_stcore/host-config", "/" + asset.group(1)):
        h = _headers(secured + path)
        assert h["content-security-policy"] == "frame-ancestors 'self'; object-src 'none'; base-uri 'self'", path
        assert h["x-frame-options"] == "SAMEORIGIN", path
        assert h["x-content-type-options"] == "nosniff", path
        assert h["referrer-policy"] == "same-origin", path


@pytest.fixture()
def browser_page():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_browser(pw)
        context = browser.new_context(viewport={"width": 1300, "height": 850})
        block_non_loopback(context, [])
        pg = context.new_page()
        pg.set_default_timeout(60_000)
        yield pg
        context.close()
        browser.close()


def test_the_app_works_behind_the_headers(secured, browser_page):
    page = browser_page
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    page.goto(secured)
    wait_for_streamlit_idle(page, timeout=90_000)
    expect(page.get_by_role("heading", name="📊 Overview")).to_be_visible()
    expect(page.get_by_test_id("stMetric").first).to_be_visible()
    expect(page.get_by_text("Shared workspace").first).to_be_visible()  # the sidebar says who sees what
    page.get_by_role("link", name="Load").click()
    wait_for_streamlit_idle(page)
    expect(page.get_by_role("heading", name="📂 Load a dataset")).to_be_visible()
    assert not [m for m in console if "Content Security Policy" in m], console


def test_another_origin_cannot_frame_it(secured, browser_page, tmp_path):
    """A page on another origin (another port) that frames the dashboard gets an empty, blocked frame."""
    (tmp_path / "evil.html").write_text(f'<html><body><iframe id="f" src="{secured}/" width=800 height=600>'
                                        "</iframe></body></html>")
    port = _free_port()
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        page = browser_page
        page.goto(f"http://127.0.0.1:{port}/evil.html")
        time.sleep(3)  # the frame's request is answered at once; give Chromium time to refuse it
        frames = [f for f in page.frames if f != page.main_frame]
        assert frames, "the iframe was not created"
        child = frames[0]
        assert not child.url.startswith(secured), child.url  # blocked: Chromium shows its error page
        assert child.locator('[data-testid="stApp"]').count() == 0
    finally:
        httpd.shutdown()
