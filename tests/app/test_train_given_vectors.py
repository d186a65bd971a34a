"""The Train page on a dataset opened with the user's own vectors: it says which trainer uses them, refuses a
reference test set without them before a run starts, and a finished run says which vectors it used."""

from __future__ import annotations

from dq_core.data.workspace import Workspace
from dq_core.training import jobs
from tests.train_helpers import tiny_dataset
from tests.training.test_given_vectors_run import with_vectors


def _captions(at) -> list[str]:
    return [c.value for c in at.caption]


def test_the_page_says_the_transformer_ignores_the_vectors_and_the_baseline_uses_them(page_app):
    ws = Workspace.default()
    ds, _ = with_vectors(tiny_dataset(60), ws)
    at = page_app("app_pages/train.py", ds).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="tr_trainer").value == "transformer"
    assert any("carries your own vectors (v16.npy): the transformer fine-tunes on the texts and does not use them"
               in c for c in _captions(at)), _captions(at)

    at.radio(key="tr_trainer").set_value("baseline").run()
    assert any("the baseline trains and scores on them" in c for c in _captions(at)), _captions(at)
    at.button(key="tr_start").click().run()
    (run,) = jobs.list_runs(ws.runs_dir())
    assert jobs.wait(run.path, timeout=300)["state"] == "succeeded", jobs.log_tail(run.path)
    done = page_app("app_pages/train.py", ds).run()
    assert not done.exception, [e.value for e in done.exception]
    assert "Vectors: your own vectors (v16.npy)" in _captions(done), _captions(done)


def test_no_caption_without_own_vectors_and_a_reference_without_them_is_refused_up_front(page_app):
    ws = Workspace.default()
    plain = page_app("app_pages/train.py", tiny_dataset(60)).run()
    assert not any("carries" in c for c in _captions(plain))

    ds, _ = with_vectors(tiny_dataset(60), ws)
    at = page_app("app_pages/train.py", ds, tiny_dataset(30, seed=1)).run()
    at.radio(key="tr_trainer").set_value("baseline").run()
    at.selectbox(key="tr_test_source").set_value("reference").run()
    assert any("which has no vectors of your own" in e.value and "Use the embedding model again" in e.value
               for e in at.error), [e.value for e in at.error]
    assert at.button(key="tr_start").disabled
