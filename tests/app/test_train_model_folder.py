"""The Train page's "Model folder": only folders inside the models folder, one message for every refusal."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dq_core.data.workspace import Workspace
from dq_core.training import jobs
from dq_core.training.model_folders import confine_model_folder
from tests.train_helpers import tiny_dataset

APP = str(Path(__file__).resolve().parents[2] / "dq_app" / "app.py")


@pytest.fixture
def models(dq_env, tmp_path, monkeypatch) -> Path:
    """DQ_MODELS_DIR with a folder holding pickled weights; an outside folder and a file beside it."""
    folder = tmp_path / "models"
    pickled = folder / "pickled"
    pickled.mkdir(parents=True)
    (pickled / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (pickled / "pytorch_model.bin").write_bytes(b"\x80\x04 not really a pickle")
    (folder / "notes.txt").write_text("a file, not a folder")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "config.json").write_text("{}")
    (folder / "link_out").symlink_to(outside, target_is_directory=True)
    monkeypatch.setenv("DQ_MODELS_DIR", str(folder))
    return folder


def _train_page() -> AppTest:
    ws = Workspace.default()
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["ds"] = ws.save_dataset(tiny_dataset(60))
    at.run()
    at.switch_page("app_pages/train.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


REFUSED = [
    "../elsewhere",  # outside, exists
    "{tmp}/elsewhere",  # outside, absolute
    "/etc",  # a system folder
    "/etc/passwd",  # a system file
    "missing",  # no such folder inside
    "notes.txt",  # a file inside
    "link_out",  # a symlink inside that leads out
    ".",  # the models folder itself
    "x" * 300,  # a name the OS rejects
    "pick\x00led",  # NUL
]


def test_every_refusal_is_the_same_message_and_starts_nothing(models, tmp_path):
    at = _train_page()
    messages = set()
    for raw in REFUSED:
        value = raw.replace("{tmp}", str(tmp_path))
        at.text_input(key="tr_model").set_value(value).run()
        assert not at.exception, (raw, [e.value for e in at.exception])
        assert len(at.error) == 1, (raw, [e.value for e in at.error])
        text = at.error[0].value
        assert "is not a model folder in the models folder" in text and str(models) in text, text
        messages.add(text.rsplit("' is not a model folder", 1)[1])  # all but the echoed input
        assert at.button(key="tr_start").disabled
        assert "root:" not in text  # nothing of a file's content is echoed
    assert len(messages) == 1, messages  # missing / file / folder / outside cannot be told apart
    assert jobs.list_runs(Workspace.default().runs_dir()) == []


def test_a_folder_inside_is_taken_and_pickled_weights_are_refused_by_the_run(models):
    at = _train_page()
    at.text_input(key="tr_model").set_value("pickled").run()
    assert not at.exception and not at.error
    at.text_input(key="tr_name").set_value("pickled backbone").run()
    at.button(key="tr_start").click().run()
    assert not at.exception and any("queued" in s.value for s in at.success)
    (run,) = jobs.list_runs(Workspace.default().runs_dir())
    assert run.config["train"]["model"] == str((models / "pickled").resolve())
    st = jobs.wait(run.path, timeout=300)
    assert st["state"] == "failed" and "no .safetensors weights" in st["error"], st


def test_confinement_rules(models, tmp_path):
    assert confine_model_folder(None) is None and confine_model_folder("  ") is None
    assert confine_model_folder("default") is None  # the bundled backbone
    assert confine_model_folder("pickled") == str((models / "pickled").resolve())
    assert confine_model_folder(str(models / "pickled")) == str((models / "pickled").resolve())
    assert confine_model_folder("pickled/") == str((models / "pickled").resolve())
    os.symlink(models / "pickled", models / "alias")  # a link that stays inside is fine
    assert confine_model_folder("alias") == str((models / "pickled").resolve())
    with pytest.raises(Exception, match="not a model folder in the models folder"):
        confine_model_folder("pickled/../../elsewhere")


def test_the_cli_takes_any_local_folder(models, tmp_path, capsys):
    """`dq train --model` is not confined (its user owns the machine): an outside folder gets the
    backbone checks themselves, not the page's refusal."""
    from dq_core.cli import main

    data = tmp_path / "tiny.csv"
    tiny_dataset(30).frame[["text", "label"]].to_csv(data, index=False)
    code = main(["train", str(data), "--trainer", "transformer", "--model", str(tmp_path / "elsewhere"),
                 "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "not a model folder in the models folder" not in err
    assert "no .safetensors weights" in err or "not a Hugging Face model folder" in err, err
