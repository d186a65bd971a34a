"""The Clean page's "Which cleaning pays?" section offers a trusted test set: the labelled reference, a stored
labelled dataset or an uploaded file, with held-out folds as the default; a test set with labels the dataset
lacks is one st.error; the background job carries the chosen set as a stored workspace dataset."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from dq_app.ui.clean.advisor import FOLDS, REFERENCE, STORED, TRUSTED_WHY, UPLOAD
from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.data.workspace import Workspace
from dq_core.training import jobs
from dq_core.training.advisor_job import latest_advice_run, read_advice
from tests.train_helpers import tiny_dataset, tiny_frame


def _page():
    import streamlit as st

    from dq_app.ui.clean.advisor import advisor_section
    from dq_core.data.workspace import Workspace

    ws = Workspace.default()
    ref_id = st.session_state.get("ref")
    advisor_section(ws.load_dataset(st.session_state["ds"]), ws.load_dataset(ref_id) if ref_id else None)


def _app(ds, ref=None) -> AppTest:
    ws = Workspace.default()
    at = AppTest.from_function(_page, default_timeout=120)
    at.session_state["ds"] = ws.save_dataset(ds)
    at.session_state["ref"] = ws.save_dataset(ref) if ref is not None else None
    return at.run()


def _errors(at) -> list[str]:
    assert not at.exception, [e.value for e in at.exception]
    return [e.value for e in at.error]


def test_folds_by_default_and_the_reference_and_stored_sets_offered(dq_env):
    ds, ref = tiny_dataset(60), tiny_dataset(30, seed=1)
    other = build_dataset(tiny_frame(24, seed=3), ColumnMapping(text="text", label="label"), name="checked rows")
    unlabelled = build_dataset(tiny_frame(20, seed=4).drop(columns="label"), ColumnMapping(text="text", label=""),
                               name="no labels", require_labels=False)
    ws = Workspace.default()
    other_id = ws.save_dataset(other)
    ws.save_dataset(unlabelled)
    at = _app(ds, ref)
    assert not _errors(at)
    radio = at.radio(key="adv_eval")
    assert radio.value == FOLDS and radio.options == [
        "held-out folds of this dataset's labels", "the reference set (its labels)",
        "a labelled dataset stored in the workspace", "a labelled file I upload"]
    assert any(c.value == TRUSTED_WHY for c in at.caption)
    assert not at.number_input(key="adv_folds").disabled and not at.button(key="adv_start").disabled

    radio.set_value(REFERENCE).run()
    assert not _errors(at)
    assert at.number_input(key="adv_folds").disabled  # folds play no part with a test set
    assert not at.button(key="adv_start").disabled

    at.radio(key="adv_eval").set_value(STORED).run()
    assert not _errors(at)
    stored = at.selectbox(key="adv_stored")
    assert stored.options == ["checked rows — 24 rows"] and stored.value == other_id  # not ds, ref, unlabelled

    at.radio(key="adv_eval").set_value(UPLOAD).run()
    assert not _errors(at)
    assert at.button(key="adv_start").disabled  # nothing uploaded yet
    assert any("Upload a file with a text and a label column" in i.value for i in at.info)


def test_an_unlabelled_or_foreign_reference_is_not_offered(dq_env):
    ds = tiny_dataset(60)
    foreign = build_dataset(tiny_frame(30, seed=1, classes=("spam", "ham")), ColumnMapping(text="text", label="label"),
                            name="spam")
    at = _app(ds, foreign)
    assert not _errors(at)
    assert REFERENCE not in at.radio(key="adv_eval").options


def test_a_test_set_with_labels_the_dataset_lacks_is_one_error(dq_env):
    ds = tiny_dataset(60)
    ref = build_dataset(tiny_frame(30, seed=2, classes=("negative", "positive", "promo")),
                        ColumnMapping(text="text", label="label"), name="mixed")
    at = _app(ds, ref)
    at.radio(key="adv_eval").set_value(REFERENCE).run()
    errors = _errors(at)
    assert len(errors) == 1 and "label 'promo' that the dataset lacks" in errors[0]
    assert at.button(key="adv_start").disabled
    at.radio(key="adv_eval").set_value(FOLDS).run()  # back to folds: the error goes, nothing is lost
    assert not _errors(at) and not at.button(key="adv_start").disabled


def test_the_job_carries_the_stored_test_set_and_scores_on_it(dq_env):
    ds = tiny_dataset(60)
    test = build_dataset(tiny_frame(30, seed=5), ColumnMapping(text="text", label="label"), name="checked rows")
    ws = Workspace.default()
    test_id = ws.save_dataset(test)
    at = _app(ds)
    at.radio(key="adv_eval").set_value(STORED).run()
    at.selectbox(key="adv_stored").set_value(test_id).run()
    at.button(key="adv_start").click().run()
    assert not _errors(at)
    run = latest_advice_run(ws, ds)
    assert run is not None
    data = run.config["data"]
    assert data["test_id"] == test_id and data["test_name"] == "checked rows"
    assert ws.load_dataset(data["test_id"]).fingerprint == test.fingerprint
    raw = (run.path / jobs.CONFIG).read_text()
    assert len(raw) < 4000 and "great" not in raw and json.loads(raw)["kind"] == "advise"  # ids, not rows
    assert not [p for p in run.path.iterdir() if p.suffix in (".pkl", ".pickle", ".parquet")]
    st = jobs.wait(run.path, timeout=600)
    assert st["state"] == "succeeded", st
    advice = read_advice(run.path)
    assert advice.evaluated_on == "test" and advice.n_eval == len(test) and advice.folds is None
    at.run()
    assert not _errors(at)
    assert any("Last run evaluated on the test set **checked rows**" in c.value for c in at.caption)
    assert any("trusted test set (30 rows)" in c.value for c in at.caption)


def test_an_uploaded_file_is_a_test_set_and_a_foreign_label_in_it_is_one_error(dq_env):
    ds = tiny_dataset(60)
    at = _app(ds)
    at.radio(key="adv_eval").set_value(UPLOAD).run()
    good = tiny_frame(20, seed=6).rename(columns={"text": "sentence", "label": "gold"})
    at.file_uploader(key="adv_upload").upload("checked.csv", good.to_csv(index=False).encode(), "text/csv").run()
    assert not _errors(at)
    assert at.selectbox(key="adv_up_text").value == "sentence" and at.selectbox(key="adv_up_label").value == "gold"
    assert not at.button(key="adv_start").disabled

    bad = good.copy()
    bad.loc[:2, "gold"] = "promo"
    at.file_uploader(key="adv_upload").set_value(("checked.csv", bad.to_csv(index=False).encode(), "text/csv")).run()
    errors = _errors(at)
    assert len(errors) == 1 and "label 'promo' that the dataset lacks" in errors[0]
    assert at.button(key="adv_start").disabled

    at.file_uploader(key="adv_upload").set_value(("notes.txt", b"hello", "text/plain")).run()
    errors = _errors(at)
    assert len(errors) == 1 and errors[0].startswith("The test file cannot be used")
