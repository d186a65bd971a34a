"""The Train page: a run started in one AppTest session is seen (and finished) in a new session."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from dq_core.data.workspace import Workspace
from dq_core.training import jobs
from tests.train_helpers import random_predictions, tiny_dataset, write_run

APP = str(Path(__file__).resolve().parents[2] / "dq_app" / "app.py")


def _open_train(ds_id: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["ds"] = ds_id
    at.run()
    at.switch_page("app_pages/train.py").run()
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


def test_run_details_show_the_run_that_finished_then_the_one_picked(dq_env):
    """Run details kept showing an older run (of another dataset) after new runs finished."""
    import time

    ws = Workspace.default()
    ds_id = ws.save_dataset(tiny_dataset(60))
    ds = ws.load_dataset(ds_id)
    mine = {"dataset_name": ds.name, "dataset_fingerprint": ds.fingerprint}

    def finish(run_id: str, n: int, name: str, data: dict) -> str:
        y, p = random_predictions(n, ("negative", "positive"), seed=n)
        write_run(ws.runs_dir() / run_id, labels=("negative", "positive"), y_true=y, proba=p, name=name, data=data)
        time.sleep(0.01)  # runs are listed by creation time
        return run_id

    def shown(at: AppTest) -> tuple[str, str]:
        (text,) = [s.value for s in at.success if s.value.startswith("Accuracy")]
        return at.selectbox(key="tr_detail").value, text.rsplit("· ", 1)[-1]

    mine_old = finish("20250101-000000-aaaaaa", 21, "mine, first", mine)
    other = finish("20250102-000000-bbbbbb", 22, "their run", {"dataset_name": "sms", "dataset_fingerprint": "f" * 64})
    at = _open_train(ds_id)
    assert shown(at) == (mine_old, "21 test rows")  # the active dataset's newest, not another dataset's
    label = next(o for o in at.selectbox(key="tr_detail").options if other in o)
    assert label == f"their run · on sms · {other} · succeeded"

    new = finish("20250103-000000-cccccc", 23, "mine, second", mine)  # finishes while the page is open
    at.run()
    assert shown(at) == (new, "23 test rows")

    at.selectbox(key="tr_detail").set_value(other).run()  # the user's pick stays ...
    assert shown(at) == (other, "22 test rows")
    at.run()
    assert shown(at) == (other, "22 test rows")
    at.switch_page("app_pages/overview.py").run()  # ... across a page switch (the widget's key is dropped)
    at.switch_page("app_pages/train.py").run()
    assert shown(at) == (other, "22 test rows")

    at.session_state["tr_last_run"] = str(ws.runs_dir() / "20250104-000000-eeeeee")
    finish("20250104-000000-dddddd", 24, "elsewhere", {"dataset_name": "sms", "dataset_fingerprint": "f" * 64})
    started = finish("20250104-000000-eeeeee", 25, "started here", mine)
    finish("20250104-000000-ffffff", 26, "elsewhere, later", {"dataset_name": "sms", "dataset_fingerprint": "f" * 64})
    at.run()
    assert shown(at) == (started, "25 test rows")  # of the runs that finished together, the one started here

    jobs.delete_run(ws.runs_dir() / started)
    at.run()
    assert shown(at) == (new, "23 test rows")  # a deleted pick falls back to the dataset's newest run


def test_bad_settings_show_a_message_and_no_run(dq_env):
    ws = Workspace.default()
    one_class = tiny_dataset(30, classes=("positive",))
    ds_id = ws.save_dataset(one_class)
    at = _open_train(ds_id)
    assert any("at least two classes" in e.value for e in at.error)
    assert at.button(key="tr_start").disabled
    assert jobs.list_runs(ws.runs_dir()) == []


def test_an_active_run_shows_progress_and_can_be_cancelled(dq_env):
    """A run whose worker is alive: progress bar, step/epoch/ETA, live loss; Cancel stops the worker."""
    import json
    import subprocess
    import time

    ws = Workspace.default()
    ds_id = ws.save_dataset(tiny_dataset(60))
    run = jobs.create_run({"name": "busy", "train": {"trainer": "transformer"}, "data": {}},
                          ws.runs_dir() / jobs.new_run_id())
    worker = subprocess.Popen(["sleep", "120"])  # stands in for a worker process (this test is about the page)
    try:
        jobs.update_status(run, state="running", pid=worker.pid, launched_at=time.time(), progress=0.4, step=40,
                           total_steps=100, epoch=0.4, eta_seconds=75, message="training: step 40/100")
        with open(run / jobs.HISTORY, "w") as fh:
            for s in range(1, 41):
                fh.write(json.dumps({"step": s, "loss": 1 / s}) + "\n")
        at = _open_train(ds_id)
        assert at.get("progress")[0].proto.value == 40
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["Step of 100"] == "40" and metrics["ETA"] == "1m 15s"
        assert len(at.get("plotly_chart")) >= 1
        at.button(key=f"tr_cancel_{run.name}").click().run()
        assert not at.exception
        worker.wait(timeout=30)
        assert jobs.refresh(run)["state"] == "cancelled"
    finally:
        worker.kill()
        worker.wait()


def test_a_recipe_saved_on_clean_is_offered_and_the_run_trains_on_what_it_keeps(dq_env):
    """The recipe picker lists 'default' and the dataset's saved recipes; the run applies the picked one."""
    from dq_core.filtering import ConditionRule, FilterRecipe, save_recipe

    ws = Workspace.default()
    ds = tiny_dataset(90)
    ds_id = ws.save_dataset(ds)
    saved = save_recipe(FilterRecipe(name="no apple", conditions=(ConditionRule("topic == 'apple'"),)),
                        ws.recipes_dir(ds_id) / "no_apple.json")
    at = _open_train(ds_id)
    picker = at.selectbox(key="tr_recipe")
    assert picker.options[:2] == ["(none: all rows)", "default recipe (duplicates, junk, label issues)"]
    assert "saved: no_apple.json" in picker.options
    at.radio(key="tr_trainer").set_value("baseline").run()
    at.selectbox(key="tr_recipe").set_value(str(saved)).run()
    at.button(key="tr_start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    (run,) = jobs.list_runs(ws.runs_dir())
    assert jobs.wait(run.path, timeout=300)["state"] == "succeeded", jobs.log_tail(run.path)
    metrics = jobs.read_metrics(run.path)
    assert any("recipe 'no_apple': keeps" in n for n in metrics["notes"])
    n_apple = int((ds.frame["topic"] == "apple").sum())
    assert metrics["split"]["n_train"] + metrics["split"]["n_val"] < len(ds) - n_apple  # the test set is apart


def _trains_on(at: AppTest) -> int:
    info = next(i.value for i in at.info if i.value.startswith("Trains on"))
    return int(info.split("**")[1].replace(",", ""))


def test_the_picker_starts_on_the_working_recipe_and_the_count_follows_the_recipe(dq_env):
    from dq_core.filtering import ConditionRule, FilterRecipe, save_recipe

    ws = Workspace.default()
    ds = tiny_dataset(90)
    ds_id = ws.save_dataset(ds)
    at = _open_train(ds_id)
    assert at.selectbox(key="tr_recipe").value == "(none: all rows)"  # no working recipe yet
    n_all = _trains_on(at)

    working = save_recipe(FilterRecipe(name="working", conditions=(ConditionRule("topic == 'apple'"),)),
                          ws.recipes_dir(ds_id) / "working.json")
    at = _open_train(ds_id)
    assert at.selectbox(key="tr_recipe").value == str(working)
    n_working = _trains_on(at)
    assert n_working < n_all
    # the recipe's figure on the whole dataset is the one Clean and `dq filter` give; the test rows stay in
    from dq_core.filtering import apply_recipe

    kept = apply_recipe(ds, None, str(working)).n_kept
    assert kept < len(ds)
    caption = next(c.value for c in at.caption if c.value.startswith("The recipe keeps"))
    assert caption.startswith(f"The recipe keeps {kept:,} of the {len(ds):,} rows (as Clean and `dq filter` count "
                              "them). The test set is never filtered: of the ")
    at.selectbox(key="tr_recipe").set_value("(none: all rows)").run()
    assert _trains_on(at) == n_all
