"""The Train page: a run started in one AppTest session is seen (and finished) in a new session."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from dq_core import jobs
from dq_core.workspace import Workspace
from tests.train_helpers import tiny_dataset

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _open_train(ds_id: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["ds"] = ds_id
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _runs_table(at: AppTest):
    return next(d.value for d in at.dataframe if "run" in d.value.columns and "state" in d.value.columns)


def test_run_started_in_one_session_is_seen_in_another(dq_env):
    ws = Workspace.default()
    ds_id = ws.save_dataset(tiny_dataset(60))
    at = _open_train(ds_id)
    assert any("Trains on **42** rows" in i.value and "cap 3,000" in i.value for i in at.info)  # the cap is shown
    at.radio(key="tr_trainer").set_value("baseline").run()
    at.text_input(key="tr_name").set_value("from session one").run()
    at.button(key="tr_start").click().run()
    assert not at.exception and any("queued" in s.value for s in at.success)
    (run,) = jobs.list_runs(ws.runs_dir())
    assert run.name == "from session one"

    fresh = _open_train(ds_id)  # a new browser session: nothing in its session state
    table = _runs_table(fresh)
    assert table["run"].tolist() == [run.run_id] and table["name"].tolist() == ["from session one"]

    assert jobs.wait(run.path, timeout=300)["state"] == "succeeded", jobs.log_tail(run.path)
    done = _open_train(ds_id)
    table = _runs_table(done)
    assert table["state"].tolist() == ["succeeded"] and table["accuracy"].iloc[0] > 0.5
    assert any("Accuracy" in s.value for s in done.success)


def test_bad_settings_show_a_message_and_no_run(dq_env):
    ws = Workspace.default()
    one_class = tiny_dataset(30, classes=("positive",))
    ds_id = ws.save_dataset(one_class)
    at = _open_train(ds_id)
    assert any("at least two classes" in e.value for e in at.error)
    assert at.button(key="tr_start").disabled
    assert jobs.list_runs(ws.runs_dir()) == []
