"""Confinement: a path typed into the app resolves inside the data folder, and a datasets folder there may
not name or link to a file outside it; every refusal is one clear message that never quotes a file."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from dq_core.data.io import read_path, resolve_in_data_dir
from dq_core.errors import DataError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
import make_hostile  # noqa: E402


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("root")
    data = root / "data"
    data.mkdir()
    make_hostile.build_datasets_folders(data)
    (root / "secret.txt").write_text("SECRET-CONTENT of another user")
    os.symlink(root / "secret.txt", data / "link_out.csv")
    os.symlink("loop2.csv", data / "loop1.csv")
    os.symlink("loop1.csv", data / "loop2.csv")
    return data


def refusal(path, root) -> str:
    with pytest.raises(DataError) as exc:
        p = resolve_in_data_dir(path, root)
        read_path(p)
    msg = str(exc.value)
    assert "SECRET-CONTENT" not in msg and "\n" not in msg
    return msg


@pytest.mark.parametrize("name", ["hf_symlink_out", "hf_state_escape", "hf_split_escape"])
def test_datasets_folders_pointing_outside_are_refused(data_dir, name):
    assert "points outside" in refusal(name, data_dir)


def test_damaged_datasets_folders_are_refused_without_quoting_them(data_dir):
    assert "damaged" in refusal("hf_damaged_arrow", data_dir)
    assert "damaged" in refusal("hf_bad_state", data_dir)


def test_the_sound_datasets_folder_loads(data_dir):
    raw = read_path(resolve_in_data_dir("hf_good", data_dir))
    assert raw.frame["text"].tolist() == ["hello there", "bad day", "fine"]


@pytest.mark.parametrize(("path", "word"), [("../secret.txt", "outside the data folder"),
                                            ("link_out.csv", "outside the data folder"),
                                            ("/etc/passwd", "outside the data folder"),
                                            ("loop1.csv", "loop"), ("bad\x00name.csv", "NUL"),
                                            ("x" * 5000 + ".csv", "too long"), ("nothere.csv", "does not exist")])
def test_bad_paths_get_one_clear_message(data_dir, path, word):
    assert word in refusal(path, data_dir)
