"""Who sees what: one shared workspace per server, or a private scratch space per browser session."""

from __future__ import annotations

from pathlib import Path

import pytest
from dq_apptest import assert_no_exception, texts

from dq_core.data.workspace import Workspace
from dq_core.filtering import FilterRecipe
from dq_core.filtering.recipe import save_recipe

TEST_DATA = Path(__file__).resolve().parents[1] / "data"


def _session(new_app, query_params: dict | None = None):
    """A browser session that skips the default demo (speed) and lands on Load."""
    at = new_app(query_params)
    at.session_state["_dq_default_tried"] = True
    at.run()
    assert_no_exception(at)
    return at


def _upload(at, name: str):
    at.switch_page("app_pages/load.py").run()
    at.radio(key="ds_source").set_value("Upload").run()
    at.file_uploader(key="ds_upload").set_value((name, (TEST_DATA / name).read_bytes(),
                                                 "application/octet-stream")).run()
    at.button(key="confirm_map").click().run()
    assert_no_exception(at)
    assert texts(at.title) == ["📊 Overview"]
    return at.session_state["ds"]


def _recent(at) -> list[str]:
    at.switch_page("app_pages/load.py").run()
    assert_no_exception(at)
    return [m for m in texts(at.markdown) if m.endswith("`") and " rows · `" in m]


def _recipes_offered(at) -> list[str]:
    at.switch_page("app_pages/train.py").run()
    assert_no_exception(at)
    return [o for o in at.selectbox(key="tr_recipe").options if o.startswith("saved:")]


def _captions(at) -> str:
    return " ".join(c.value for c in at.sidebar.caption)


def test_scratch_sessions_never_see_each_other(new_app, dq_env, monkeypatch):
    monkeypatch.setenv("DQ_SESSION_SCRATCH", "1")
    a, b = _session(new_app), _session(new_app)
    key_a, key_b = a.query_params["scratch"], b.query_params["scratch"]
    assert key_a != key_b and len(key_a) == 32
    assert "Private scratch space" in _captions(a) and a.sidebar.toggle[0].disabled  # forced by the server

    a_id = _upload(a, "good.jsonl")
    b_id = _upload(b, "good.csv")
    a_ws, b_ws = (Workspace(dq_env.home / "sessions" / k) for k in (key_a, key_b))
    assert [d["id"] for d in a_ws.list_datasets()] == [a_id]
    assert [d["id"] for d in b_ws.list_datasets()] == [b_id]
    assert Workspace(dq_env.home).list_datasets() == []  # nothing reached the shared workspace
    assert len(_recent(a)) == 1 and a_id in _recent(a)[0]
    assert len(_recent(b)) == 1 and b_id in _recent(b)[0]

    # A recipe saved in A's space (as the Clean page saves it) is offered to A only, even when B holds
    # the very same dataset.
    save_recipe(FilterRecipe(name="mine"), a_ws.recipes_dir(a_id) / "mine.json")
    assert _recipes_offered(a) == ["saved: mine.json"]
    b_same = _upload(b, "good.jsonl")
    assert b_same == a_id
    assert _recipes_offered(b) == []
    assert sorted(d["id"] for d in b_ws.list_datasets()) == sorted([a_id, b_id])

    # Caches are one folder shared by every space (entries are keyed by content).
    assert (a_ws.root / "cache").resolve() == (b_ws.root / "cache").resolve() == (dq_env.home / "cache").resolve()


def test_a_reload_keeps_the_scratch_space_and_a_forged_key_is_ignored(new_app, dq_env, monkeypatch):
    monkeypatch.setenv("DQ_SESSION_SCRATCH", "1")
    a = _session(new_app)
    key = a.query_params["scratch"]
    ds_id = _upload(a, "good.jsonl")
    again = new_app({"ds": ds_id, "scratch": key}).run()  # a browser reload: a new session, the same link
    assert_no_exception(again)
    assert texts(again.title) == ["📊 Overview"] and not again.warning
    assert again.query_params["scratch"] == key

    forged = _session(new_app, {"scratch": "../../etc"})
    new_key = forged.query_params["scratch"]
    assert new_key != "../../etc" and len(new_key) == 32
    assert not (dq_env.home / "etc").exists()
    assert sorted(p.name for p in (dq_env.home / "sessions").iterdir()) == sorted([key, new_key])


def test_shared_by_default_and_the_toggle_makes_a_private_space(new_app, dq_env):
    a, b = _session(new_app), _session(new_app)
    assert "Shared workspace" in _captions(a) and "DQ_HOME" in _captions(a)
    assert "scratch" not in a.query_params
    a_id = _upload(a, "good.jsonl")
    b_id = _upload(b, "good.csv")
    assert a_id != b_id
    assert len(_recent(b)) == 2  # shared: B sees A's upload, as the note says
    # ... but recipes belong to a dataset: B, on another dataset, is never offered A's.
    shared = Workspace(dq_env.home)
    save_recipe(FilterRecipe(name="mine"), shared.recipes_dir(a_id) / "mine.json")
    assert _recipes_offered(a) == ["saved: mine.json"] and _recipes_offered(b) == []

    b.sidebar.toggle[0].set_value(True).run()  # B goes private, taking its active dataset along
    assert_no_exception(b)
    assert "Private scratch space" in _captions(b)
    key = b.query_params["scratch"]
    assert b.session_state["ds"] == b_id and [m for m in _recent(b) if b_id in m]
    private_id = _upload(b, "good.tsv")
    assert private_id not in (a_id, b_id)
    assert sorted(d["id"] for d in Workspace(dq_env.home / "sessions" / key).list_datasets()) == sorted(
        [b_id, private_id])
    assert all(private_id not in m for m in _recent(a))  # A never sees B's private upload

    b.sidebar.toggle[0].set_value(False).run()
    assert_no_exception(b)
    assert "scratch" not in b.query_params and "Shared workspace" in _captions(b)
    assert b.session_state["ds"] is None  # the private dataset is not published on the way out
    assert private_id not in [d["id"] for d in shared.list_datasets()]


@pytest.mark.parametrize("value", ["0", ""])
def test_scratch_env_off_values(new_app, dq_env, monkeypatch, value):
    monkeypatch.setenv("DQ_SESSION_SCRATCH", value)
    at = _session(new_app)
    assert "Shared workspace" in _captions(at) and not at.sidebar.toggle[0].disabled
