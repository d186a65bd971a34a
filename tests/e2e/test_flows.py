"""Flows across widgets and pages, in a real browser, on a small stored dataset (120 rows + 80 reference):
the working recipe survives a page switch, a saved recipe loads back into the controls, and a box selection
on the Coverage map becomes a row set in Clean."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.streamlit_browser import rerun_and_wait, streamlit_full_screenshot, wait_for_streamlit_idle

pytestmark = pytest.mark.e2e
SHOTS = Path(os.environ.get("DQ_SCREENSHOTS", "/tmp/dq-screenshots"))
SLOW = 180_000  # the first Clean visit embeds the texts and computes the signals on 2 busy cores


def open_page(page: Page, server: str, path: str, query: str) -> None:
    page.goto(f"{server}/{path}?{query}")
    wait_for_streamlit_idle(page, timeout=SLOW)


def go_to(page: Page, title: str, heading: str) -> None:
    """A page switch through the sidebar's navigation, as a user does it."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=SLOW)
    wait_for_streamlit_idle(page, timeout=SLOW)


def keyed(page: Page, key: str):
    """The element of the widget with this key (Streamlit adds the class st-key-<key>)."""
    return page.locator(f".st-key-{key}")


def pick(page: Page, key: str, option: str) -> None:
    box = keyed(page, key).get_by_role("combobox")
    box.click()
    rerun_and_wait(page, lambda: page.get_by_role("option", name=option, exact=True).click(), timeout=SLOW)


def slider_value(page: Page, key: str) -> float:
    return float(keyed(page, key).locator("input[type=range]").input_value())


def nudge_slider(page: Page, key: str, steps: int) -> None:
    thumb = keyed(page, key).get_by_role("slider")
    thumb.focus()
    for _ in range(steps):
        thumb.press("ArrowRight")
    # the slider commits its value a moment after the last key press, which reruns the page
    rerun_and_wait(page, lambda: page.wait_for_timeout(10), timeout=SLOW)


def working_recipe(recipes: Path) -> dict:
    return json.loads((recipes / "working.json").read_text(encoding="utf-8"))


def test_working_recipe_survives_a_page_switch_and_a_reload(page, server, small_pair):
    open_page(page, server, "clean", small_pair.query)
    expect(keyed(page, "fp_act_junk")).to_be_visible(timeout=SLOW)
    assert not (small_pair.recipes / "working.json").exists()  # the untouched default is not saved

    pick(page, "fp_act_junk", "relabel_or_drop")
    nudge_slider(page, "fp_thr_outlier", 5)
    assert slider_value(page, "fp_thr_outlier") == pytest.approx(0.05)
    rules = {r["signal"]: r for r in working_recipe(small_pair.recipes)["signals"]}
    assert rules["junk"]["action"] == "relabel_or_drop" and rules["outlier"]["threshold"] == pytest.approx(0.05)

    go_to(page, "Overview", "📊 Overview")
    go_to(page, "Clean", "🧽 Clean")
    expect(keyed(page, "fp_act_junk").get_by_role("combobox")).to_have_value("relabel_or_drop")
    assert slider_value(page, "fp_thr_outlier") == pytest.approx(0.05)
    rules = {r["signal"]: r for r in working_recipe(small_pair.recipes)["signals"]}
    assert rules["junk"]["action"] == "relabel_or_drop" and rules["outlier"]["threshold"] == pytest.approx(0.05)

    SHOTS.mkdir(parents=True, exist_ok=True)
    streamlit_full_screenshot(page, str(SHOTS / "clean.png"))
    page.reload()  # a new session: the controls come back from working.json
    wait_for_streamlit_idle(page, timeout=SLOW)
    expect(keyed(page, "fp_act_junk").get_by_role("combobox")).to_have_value("relabel_or_drop", timeout=SLOW)
    assert slider_value(page, "fp_thr_outlier") == pytest.approx(0.05)
