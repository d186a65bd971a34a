"""The Clean page's "Signal settings" survive a page switch, are kept per dataset, and draw without
Streamlit's warning about a widget given a default and a session-state value."""

from __future__ import annotations

import pytest

from dq_core.data.workspace import Workspace
from dq_core.signals import get_signal
from tests.train_helpers import tiny_dataset

ROWS = 3100  # above the page's AUTO_COMPUTE_ROWS: it asks before embedding, so nothing heavy runs here


def _no_trouble(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    texts = [w.value for w in at.warning] + [e.value for e in at.error]
    assert not [t for t in texts if "default value" in t or "Session State" in t], texts


def test_settings_survive_a_page_switch_and_are_kept_per_dataset(page_app):
    one, two = tiny_dataset(ROWS, seed=0), tiny_dataset(ROWS, seed=1)
    ws = Workspace.default()
    two_id = ws.save_dataset(two)
    at = page_app("app_pages/clean.py", one).run()
    _no_trouble(at)
    assert at.number_input(key="cl_seed").value == 0
    assert at.slider(key="cl_near_thr").value == pytest.approx(get_signal("near_duplicate").threshold)
    at.number_input(key="cl_seed").set_value(7)
    at.slider(key="cl_out_z").set_value(4.5)
    at.selectbox(key="cl_label_method").set_value("knn")
    at.multiselect(key="cl_signals").unselect("pii")
    at.text_input(key="cl_phone_region").input("GB").run()
    _no_trouble(at)

    at.switch_page("app_pages/overview.py").run()
    _no_trouble(at)
    assert "cl_seed" not in at.session_state  # Streamlit dropped the widget state with the page
    at.switch_page("app_pages/clean.py").run()
    _no_trouble(at)
    assert at.number_input(key="cl_seed").value == 7
    assert at.slider(key="cl_out_z").value == 4.5
    assert at.selectbox(key="cl_label_method").value == "knn"
    assert "pii" not in at.multiselect(key="cl_signals").value
    assert at.text_input(key="cl_phone_region").value == "GB"

    # another dataset starts from the defaults; the first one's settings come back with it
    at.session_state["ds"] = two_id
    at.run()
    _no_trouble(at)
    assert at.number_input(key="cl_seed").value == 0 and at.selectbox(key="cl_label_method").value != "knn"
    assert "pii" in at.multiselect(key="cl_signals").value
    at.session_state["ds"] = ws.save_dataset(one)
    at.run()
    _no_trouble(at)
    assert at.number_input(key="cl_seed").value == 7 and at.selectbox(key="cl_label_method").value == "knn"
