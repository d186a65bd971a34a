"""Flows across widgets and pages, in a real browser, on a small stored dataset (120 rows + 80 reference):
the working recipe survives a page switch, a saved recipe loads back into the controls, and a box selection
on the Coverage map becomes a row set in Clean."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.streamlit_browser import (
    commit_input,
    pick_option,
    rerun_and_wait,
    streamlit_full_screenshot,
    wait_for_streamlit_idle,
)

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


def slider_value(page: Page, key: str) -> float:
    return float(keyed(page, key).locator("input[type=range]").input_value())


def nudge_slider(page: Page, key: str, steps: int) -> None:
    """Move the slider ``steps`` to the right with the keyboard and wait for the reruns. Under load the keys
    can land before the slider has focus and move nothing: then it is tried again (up to three times)."""
    thumb = keyed(page, key).get_by_role("slider")
    before = thumb.get_attribute("aria-valuenow")

    def press() -> None:
        thumb.focus()
        for _ in range(steps):
            thumb.press("ArrowRight")

    for attempt in range(3):
        try:
            rerun_and_wait(page, press, timeout=20_000)  # each committed value reruns the page
            break
        except PlaywrightTimeoutError:
            if attempt == 2 or thumb.get_attribute("aria-valuenow") != before:
                raise
    page.wait_for_timeout(500)
    wait_for_streamlit_idle(page, timeout=SLOW)


def working_recipe(recipes: Path) -> dict:
    return json.loads((recipes / "working.json").read_text(encoding="utf-8"))


def test_working_recipe_survives_a_page_switch_and_a_reload(page, server, small_pair):
    open_page(page, server, "clean", small_pair.query)
    expect(keyed(page, "fp_act_junk")).to_be_visible(timeout=SLOW)
    assert not (small_pair.recipes / "working.json").exists()  # the untouched default is not saved

    pick_option(page, "fp_act_junk", "relabel_or_drop")
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


def click(page: Page, key: str) -> None:
    rerun_and_wait(page, keyed(page, key).get_by_role("button").click, timeout=SLOW)


def test_a_saved_recipe_loads_back_into_the_controls(page, server, small_pair):
    open_page(page, server, "clean", small_pair.query)
    expect(keyed(page, "fp_thr_outlier")).to_be_visible(timeout=SLOW)
    nudge_slider(page, "fp_thr_outlier", 3)
    value = slider_value(page, "fp_thr_outlier")
    assert value > 0
    commit_input(page, "fp_save_name", "mine", timeout=SLOW)
    click(page, "fp_save_btn")
    assert (small_pair.recipes / "mine.json").exists()
    saved = {r["signal"]: r for r in json.loads((small_pair.recipes / "mine.json").read_text())["signals"]}
    assert saved["outlier"]["threshold"] == pytest.approx(value)

    # reset: the default recipe (the picker's first choice) into the controls
    expect(keyed(page, "fp_load_sel").get_by_role("combobox")).to_have_value("default")
    click(page, "fp_load_btn")
    expect(page.get_by_text("loaded into the controls", exact=False)).to_be_visible(timeout=SLOW)
    assert slider_value(page, "fp_thr_outlier") == 0.0

    pick_option(page, "fp_load_sel", "mine")
    click(page, "fp_load_btn")
    expect(page.get_by_text("Recipe 'mine' loaded into the controls", exact=False)).to_be_visible(timeout=SLOW)
    assert slider_value(page, "fp_thr_outlier") == pytest.approx(value)
    expect(page.get_by_text("StreamlitAPIException", exact=False)).to_have_count(0)
    expect(page.get_by_text("cannot be modified after the widget", exact=False)).to_have_count(0)


def box_select(page: Page) -> None:
    """Drag a box over the middle of the Coverage map in box-select mode."""
    chart = keyed(page, "cov_map_0") if keyed(page, "cov_map_0").count() else page.locator("[class*=st-key-cov_map_]")
    plot = chart.locator(".nsewdrag").first
    plot.hover()
    chart.locator('[data-title="Box Select"]').first.click()
    box = plot.bounding_box()
    x0, y0 = box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.1
    x1, y1 = box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.9

    def drag() -> None:
        page.mouse.move(x0, y0)
        page.mouse.down()
        page.mouse.move(x1, y1, steps=12)
        page.mouse.up()

    rerun_and_wait(page, drag, timeout=SLOW)


def test_a_box_selection_on_the_map_becomes_a_row_set_in_clean(page, server, small_pair):
    sent: list[int] = []  # sizes of the messages the browser sends (each rerun carries every widget's state)
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(len(payload))))
    open_page(page, server, "coverage", small_pair.query)
    expect(page.locator("[class*=st-key-cov_map_] .nsewdrag").first).to_be_visible(timeout=SLOW)
    box_select(page)
    selected = page.get_by_text("Selected:", exact=False).first
    expect(selected).to_be_visible(timeout=SLOW)
    n_dataset = int(selected.inner_text().split("Selected:")[1].split("dataset rows")[0].strip().replace(",", ""))
    assert n_dataset > 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    streamlit_full_screenshot(page, str(SHOTS / "coverage.png"))
    # the selection went into the session once: a later rerun (a poll, a toggle) does not send it again
    sent.clear()
    rerun_and_wait(page, keyed(page, "cov_highlight").get_by_text("Ring the under-covered clusters").click, timeout=SLOW)
    assert sent and max(sent) < 5_000, sent
    expect(page.get_by_text(f"Selected: {n_dataset:,} dataset rows", exact=False)).to_be_visible()

    go_to(page, "Clean", "🧽 Clean")
    page.get_by_text("Row sets (", exact=False).first.click()
    expect(page.get_by_text(f"map selection ({n_dataset:,} rows)")).to_be_visible(timeout=SLOW)


def test_the_reference_tab_keeps_its_choice_across_a_page_switch(page, server, small_pair):
    open_page(page, server, "load", small_pair.query)
    page.get_by_role("tab", name="Reference set").click()
    choice = keyed(page, "ref_how").get_by_text("Rows matching a column value")
    rerun_and_wait(page, choice.click, timeout=SLOW)
    expect(keyed(page, "ref_col")).to_be_visible(timeout=SLOW)
    go_to(page, "Overview", "📊 Overview")
    go_to(page, "Load", "📂 Load a dataset")
    page.get_by_role("tab", name="Reference set").click()
    expect(keyed(page, "ref_how").get_by_role("radio", name="Rows matching a column value")).to_be_checked()
    expect(keyed(page, "ref_col")).to_be_visible(timeout=SLOW)
