"""*Download the story* (issue 23) on Report and Overview: built on request with dq_core.story.build_story,
downloaded as HTML holding the dataset's figures; a DataError from the build is a clear st.error."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

import dq_core.story
from dq_app.ui.story import file_stem
from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.filtering import FilterRecipe
from tests.train_helpers import random_predictions, tiny_dataset, write_run

APP = str(Path(__file__).resolve().parents[2] / "dq_app" / "app.py")
LABELS = ("neg", "neu", "pos")
N_ROWS = 1234  # over a thousand: the story writes it "1,234"


@pytest.fixture
def media(monkeypatch):
    """Every media store the AppTest runs make (the download button's bytes live there)."""
    stores: list[MemoryMediaFileStorage] = []
    init = MemoryMediaFileStorage.__init__

    def keep(self, *a, **k):
        init(self, *a, **k)
        stores.append(self)

    monkeypatch.setattr(MemoryMediaFileStorage, "__init__", keep)
    return stores


def downloaded(at, media, key: str):
    """(file name, text) of the download button ``key``."""
    button = next(b for b in at.get("download_button") if b.proto.id.endswith(key))
    name = button.proto.url.rsplit("/", 1)[-1]
    for store in reversed(media):
        try:
            f = store.get_file(name)
        except Exception:  # noqa: BLE001 - another run's store
            continue
        return f.filename, f.content.decode("utf-8")
    raise AssertionError(f"no media file {name}")


def _two_runs(ws: Workspace) -> list[str]:
    y, p = random_predictions(60, LABELS, seed=1, skill=0.5)
    a = write_run(ws.runs_dir() / "20250101-000000-aaaaaa", labels=LABELS, y_true=y, proba=p, name="all rows")
    b = write_run(ws.runs_dir() / "20250102-000000-bbbbbb", labels=LABELS, y_true=y, proba=p, name="filtered")
    return [a.name, b.name]


def _open_report(ws: Workspace, ds) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["ds"] = ws.save_dataset(ds)
    at.run()
    at.switch_page("app_pages/report.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_report_builds_the_story_on_request_and_downloads_it_as_html(dq_env, media):
    ws = Workspace.default()
    ds = tiny_dataset(N_ROWS)
    runs = _two_runs(ws)
    at = _open_report(ws, ds)
    at.multiselect(key="rp_runs").set_value(runs).run()
    assert not at.get("download_button") or not any(b.proto.id.endswith("rp_story_dl")
                                                    for b in at.get("download_button"))  # only once asked
    at.button(key="rp_story_build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    name, html = downloaded(at, media, "rp_story_dl")
    assert name == "story-tiny.html"
    assert html.lstrip().lower().startswith("<!doctype html")
    assert f"<th>rows</th><td>{N_ROWS:,}</td>" in html
    assert "filtered" in html  # the runs picked above are in it

    at.radio(key="rp_story_fmt").set_value("Markdown").run()
    name, md = downloaded(at, media, "rp_story_dl")
    assert name == "story-tiny.md" and f"{N_ROWS:,}" in md

    at.multiselect(key="rp_runs").set_value(runs[:1]).run()  # other runs: that story no longer describes them
    assert not any(b.proto.id.endswith("rp_story_dl") for b in at.get("download_button"))


def test_story_file_name_is_safe_for_any_dataset_name():
    assert file_stem("tweets") == "tweets"
    assert file_stem("my data/../v2 (final)") == "my_data_.._v2_final"
    assert file_stem("///") == "dataset"


def test_report_story_gets_the_clean_recipe_and_runs_and_a_data_error_is_an_st_error(dq_env, media, monkeypatch):
    ws = Workspace.default()
    ds = tiny_dataset(40)
    runs = _two_runs(ws)
    seen = {}

    def refuse(ds_, ref=None, **kw):
        seen.update(kw)
        raise DataError("the run 'x' was trained on another dataset; give runs of DATA")

    monkeypatch.setattr(dq_core.story, "build_story", refuse)
    at = AppTest.from_file(APP, default_timeout=120)
    ds_id = ws.save_dataset(ds)
    at.session_state["ds"] = ds_id
    at.session_state["fp_working"] = {ds_id: FilterRecipe(name="mine").to_dict()}
    at.run()
    at.switch_page("app_pages/report.py").run()
    at.multiselect(key="rp_runs").set_value(runs).run()
    at.button(key="rp_story_build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("trained on another dataset" in e.value for e in at.error)
    assert not any("Details" in x.label for x in at.expander)  # no traceback shown
    assert not any(b.proto.id.endswith("rp_story_dl") for b in at.get("download_button"))
    assert seen["recipe"].name == "mine"
    assert [Path(r).name for r in seen["runs"]] == runs


def test_overview_downloads_the_data_story(dq_env, media):
    ws = Workspace.default()
    ds = tiny_dataset(N_ROWS)
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["ds"] = ws.save_dataset(ds)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.button(key="ov_story_build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    name, html = downloaded(at, media, "ov_story_dl")
    assert name == "story-tiny.html"
    assert f"<th>rows</th><td>{N_ROWS:,}</td>" in html
