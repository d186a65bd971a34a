"""Shared fixtures: every test gets its own workspace and data folder, and the Hub is offline."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = ROOT / "tests" / "data"
APP = ROOT / "dq_app" / "app.py"  # the entry script; page paths such as "app_pages/load.py" resolve beside it


# Every test in these folders carries the folder's marker, so `make test-fast` (-m "not e2e and not scale ...")
# leaves out a new file there without it having to say so.
FOLDER_MARKERS = {"e2e": "e2e", "scale": "scale"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests = ROOT / "tests"
    for item in items:
        try:
            folder = item.path.relative_to(tests).parts[0]
        except ValueError:
            continue
        if folder in FOLDER_MARKERS:
            item.add_marker(FOLDER_MARKERS[folder])


@pytest.fixture(autouse=True)
def dq_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """DQ_HOME and DQ_DATA_DIR in a fresh tmp dir; HF_HUB_OFFLINE=1 so nothing reaches the network."""
    home = tmp_path / "dq_home"
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("DQ_HOME", str(home))
    monkeypatch.setenv("DQ_DATA_DIR", str(data))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("DQ_WARM_UMAP", "0")  # no numba warm-up thread in AppTests (see app.py)
    monkeypatch.setenv("DQ_PREFETCH_EMBEDDINGS", "0")  # no background embedding of the default demo
    return SimpleNamespace(home=home, data=data)


@pytest.fixture
def test_data() -> Path:
    return TEST_DATA


@pytest.fixture
def hf_disk_dataset(tmp_path: Path) -> Path:
    """A ``datasets.save_to_disk`` DatasetDict (train/test) with a ClassLabel label, built per test."""
    import datasets

    features = datasets.Features({"text": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=["negative", "positive"])})
    dd = datasets.DatasetDict({
        "train": datasets.Dataset.from_dict(
            {"text": ["great service", "awful delay", "loved it", "never again"], "label": [1, 0, 1, 0]},
            features=features),
        "test": datasets.Dataset.from_dict({"text": ["fine flight", "lost bag"], "label": [1, 0]},
                                           features=features),
    })
    path = tmp_path / "hf_folder"
    dd.save_to_disk(str(path))
    return path


@pytest.fixture
def new_app():
    """A factory of fresh Streamlit AppTest sessions on app.py (optionally with URL query params)."""
    from streamlit.testing.v1 import AppTest

    def make(query_params: dict[str, str] | None = None):
        at = AppTest.from_file(str(APP), default_timeout=120)
        if query_params:
            at.query_params.update(query_params)
        return at

    return make


@pytest.fixture
def page_app(new_app):
    """A fresh AppTest session opened on one page with ``ds`` (and ``ref``) active and extra session state."""
    from dq_core.data.workspace import Workspace

    def make(page: str, ds, ref=None, **state):
        ws = Workspace.default()
        at = new_app()
        at.session_state["ds"] = ws.save_dataset(ds)
        at.session_state["ref"] = ws.save_dataset(ref) if ref is not None else None
        for k, v in state.items():
            at.session_state[k] = v
        at.switch_page(page)
        at.default_timeout = 300
        return at

    return make
