"""Your own vectors in a real browser: upload .npy files on Load, then Coverage works on them (their width,
their name), not on the embedding model's 384-d vectors."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.streamlit_browser import rerun_and_wait, streamlit_full_screenshot, wait_for_streamlit_idle

pytestmark = pytest.mark.e2e
SHOTS = Path(os.environ.get("DQ_SCREENSHOTS", "/tmp/dq-screenshots"))
SLOW = 180_000


def keyed(page: Page, key: str):
    return page.locator(f".st-key-{key}")


def upload(page: Page, key: str, path: Path) -> None:
    rerun_and_wait(page, lambda: keyed(page, key).locator("input[type=file]").set_input_files(str(path)), timeout=SLOW)
    expect(keyed(page, key).get_by_text(path.name)).to_be_visible(timeout=SLOW)


def test_uploaded_vectors_reach_coverage(page, server, small_pair, tmp_path):
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(4, 16))
    ds_vec = (centers[rng.integers(0, 4, 120)] + 0.3 * rng.normal(size=(120, 16))).astype(np.float32)
    ref_vec = (centers[rng.integers(0, 4, 80)] + 0.3 * rng.normal(size=(80, 16))).astype(np.float32)
    np.save(tmp_path / "mine16.npy", ds_vec)
    np.save(tmp_path / "ref16.npy", ref_vec)
    bad = tmp_path / "short.npy"
    np.save(bad, ds_vec[:100])

    page.goto(f"{server}/load?{small_pair.query}")
    wait_for_streamlit_idle(page, timeout=SLOW)
    page.get_by_role("tab", name="Your vectors").click()
    expect(keyed(page, "gv_emb")).to_be_visible(timeout=SLOW)

    # a wrong file: one clear message, the page keeps running
    upload(page, "gv_emb", bad)
    rerun_and_wait(page, keyed(page, "gv_apply").get_by_role("button").click, timeout=SLOW)
    expect(page.get_by_text("Vectors file 'short.npy' has 100 rows but the dataset has 120")).to_be_visible(
        timeout=SLOW)

    # the right ones, for both sides
    upload(page, "gv_emb", tmp_path / "mine16.npy")
    upload(page, "gv_ref_emb", tmp_path / "ref16.npy")
    rerun_and_wait(page, keyed(page, "gv_apply").get_by_role("button").click, timeout=SLOW)
    expect(page.get_by_text("The dataset uses your own vectors mine16.npy (16-d): not the embedding model's.")
           ).to_be_visible(timeout=SLOW)
    page.get_by_role("tab", name="Your vectors").click()
    wait_for_streamlit_idle(page, timeout=SLOW)
    SHOTS.mkdir(parents=True, exist_ok=True)
    streamlit_full_screenshot(page, str(SHOTS / "load_your_vectors.png"))

    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Coverage").click()
    expect(page.get_by_text("Embeddings: 16-d, model your own vectors (mine16.npy)")).to_be_visible(timeout=SLOW)
    expect(page.get_by_test_id("stSidebar").get_by_text("Reference: your own vectors ref16.npy (16-d)",
                                                        exact=False)).to_be_visible(timeout=SLOW)
    assert not page.get_by_test_id("stException").count()
