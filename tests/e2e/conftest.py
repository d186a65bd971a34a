"""A real Streamlit server + Debian's Chromium driven by Playwright (recipe: ../shared/e2e)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.e2e.streamlit_browser import CHROMIUM, block_non_loopback, launch_browser

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def dq_home(tmp_path_factory) -> Path:
    """The server's workspace (DQ_HOME): tests put small datasets in it and read what the app saved."""
    return tmp_path_factory.mktemp("dq_home")


@pytest.fixture(scope="session")
def server(tmp_path_factory, dq_home):
    yield from serve_app(dq_home, tmp_path_factory.mktemp("data"))


def serve_app(dq_home: Path, data_dir: Path) -> Iterator[str]:
    """For a fixture: `streamlit run app.py` over the workspace ``dq_home`` on a free loopback port; yields
    its URL, stops it when the fixture ends."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it with apt-get when run as root)")
    port = _free_port()
    env = {**os.environ, "DQ_HOME": str(dq_home),
           "DQ_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1",
           "DQ_PREFETCH_EMBEDDINGS": "0",  # the browser tests do not wait for 38k demo embeddings
           "DQ_MAP_METHOD": "pca", "DQ_WARM_UMAP": "0"}  # no numba compile: the map's selection is the same
    with running_server([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                         "--server.address", "127.0.0.1", "--server.port", str(port),
                         "--server.fileWatcherType", "none"], port=port, cwd=ROOT, env=env) as url:
        yield url


@contextlib.contextmanager
def running_server(cmd: list[str], *, port: int, cwd: Path, env: dict[str, str]) -> Iterator[str]:
    """Start a Streamlit server process (``cmd`` listening on ``port``), yield its URL once /_stcore/health
    answers ok (90 s at most), and stop it (its whole process group's leader) at the end."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"the Streamlit server ({' '.join(cmd[-8:])}) did not become healthy in 90 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture()
def page(server):
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []
    with sync_playwright() as pw:
        browser = launch_browser(pw)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        block_non_loopback(context, blocked)
        pg = context.new_page()
        pg.set_default_timeout(60_000)
        yield pg
        context.close()
        browser.close()


@pytest.fixture(scope="session")
def small_pair(dq_home) -> SimpleNamespace:
    """A 120-row labelled dataset and an 80-row reference stored in the server's workspace; ``query`` opens
    them (``?ds=<id>&ref=<id>``), ``recipes`` is where the app keeps the dataset's recipes."""
    from dq_core.data.workspace import Workspace
    from tests.filter_data import make_dataset, make_reference

    ws = Workspace(root=dq_home)
    ds_id, ref_id = ws.save_dataset(make_dataset()), ws.save_dataset(make_reference())
    return SimpleNamespace(ds_id=ds_id, ref_id=ref_id, query=f"ds={ds_id}&ref={ref_id}",
                           recipes=ws.recipes_dir(ds_id))
