"""The working recipe lives in session state and the workspace, not only in the widgets' keys:
it survives a page switch (a run that does not draw the controls), the default is never autosaved in
place of a recipe the user made, and a saved recipe loads back into the controls."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from dq_core.data.workspace import Workspace
from dq_core.filtering import load_recipe
from tests.filter_data import make_dataset

PAGE = str(Path(__file__).with_name("filter_panel_page.py"))


def open_page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def working_json() -> Path:
    return Workspace.default().recipes_dir(make_dataset().fingerprint[:16]) / "working.json"


def switch_away_and_back(at: AppTest) -> AppTest:
    at.session_state["away"] = True
    run(at)
    assert not [c for c in at.checkbox if c.key == "fp_on_label"]  # the controls were not drawn
    at.session_state["away"] = False
    return run(at)


def test_first_draw_saves_nothing_and_a_change_survives_a_page_switch():
    at = open_page()
    assert not working_json().exists()  # the default the controls start from is not the user's recipe
    assert any("saved as `working.json` once you change a control" in c.value for c in at.caption)

    at.selectbox(key="fp_act_junk").select("relabel_or_drop")
    at.slider(key="fp_thr_outlier").set_value(0.42)
    at.text_area(key="fp_drop_where").input("confidence < 0.3")
    run(at)
    saved = load_recipe(working_json())
    rules = {r.signal: r for r in saved.signals}
    assert rules["junk"].action == "relabel_or_drop" and rules["outlier"].threshold == 0.42
    assert [c.where for c in saved.conditions] == ["confidence < 0.3"]

    switch_away_and_back(at)
    assert at.selectbox(key="fp_act_junk").value == "relabel_or_drop"
    assert at.slider(key="fp_thr_outlier").value == 0.42
    assert at.text_area(key="fp_drop_where").value == "confidence < 0.3"
    # and the file still holds the change (not overwritten by the default on the way back)
    assert {r.signal: r for r in load_recipe(working_json()).signals}["outlier"].threshold == 0.42


def test_save_reset_and_load_a_recipe_sets_the_controls():
    at = open_page()
    at.checkbox(key="fp_on_label").uncheck()
    at.slider(key="fp_thr_outlier").set_value(0.25)
    run(at)
    at.text_input(key="fp_save_name").input("strict")
    run(at)
    next(b for b in at.button if b.key == "fp_save_btn").click()
    run(at)
    saved = load_recipe(working_json().with_name("strict.json"))
    assert {r.signal: r for r in saved.signals}["outlier"].threshold == 0.25

    # back to the default
    at.selectbox(key="fp_load_sel").select("default")
    next(b for b in at.button if b.key == "fp_load_btn").click()
    run(at)
    assert at.checkbox(key="fp_on_label").value is True
    assert at.slider(key="fp_thr_outlier").value == 0.0
    assert any("loaded into the controls" in s.value for s in at.success)

    # and the saved one again
    at.selectbox(key="fp_load_sel").select("strict")
    next(b for b in at.button if b.key == "fp_load_btn").click()
    run(at)
    assert at.checkbox(key="fp_on_label").value is False
    assert at.slider(key="fp_thr_outlier").value == 0.25
    working = load_recipe(working_json())
    assert {r.signal: r for r in working.signals}["outlier"].threshold == 0.25
    assert not any(r.signal == "label" and r.enabled for r in working.signals)
