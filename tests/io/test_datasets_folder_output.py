"""A datasets folder dq writes (`dq filter --out NAME`, the Clean page's datasets export) is replaced only while
it holds nothing but what dq wrote there, and the `datasets` library's own progress bars never reach a piped
stderr (issue 22: an earlier datasets folder was replaced together with a file the user had put inside it;
"Casting the dataset" / "Saving the dataset" bars filled piped output)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from dq_core.data.io import read_path, write_frame
from dq_core.data.writers import DATASETS_MARKER, quiet_datasets
from dq_core.errors import DataError
from tests.cli_helpers import dq, dq_subprocess, error_line

ROWS = "text,label\nhello there friend,pos\nthat was awful,neg\nquite fine really,pos\nnot good at all,neg\n"
RECIPE = {"format": "dq-filter-recipe", "version": 1, "name": "r",
          "signals": [{"signal": "junk", "action": "drop", "use_flag": True}],
          "signal_settings": {"signals": ["junk", "exact_duplicate"], "seed": 0}}
BAR_WORDS = ("Casting the dataset", "Saving the dataset", "Loading dataset", "examples/s", "%|")


@pytest.fixture
def inputs(tmp_path):
    data, recipe = tmp_path / "a.csv", tmp_path / "r.json"
    data.write_text(ROWS)
    recipe.write_text(json.dumps(RECIPE))
    return data, recipe


def _filter(inputs, out):
    data, recipe = inputs
    return dq("filter", data, "--recipe", recipe, "--out", out, "--text-col", "text", "--label-col", "label")


def _tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_filter_replaces_a_datasets_folder_it_wrote(inputs, tmp_path):
    out = tmp_path / "clean"
    assert _filter(inputs, out).returncode == 0
    written = json.loads((out / DATASETS_MARKER).read_text())["entries"]
    assert "state.json" in written and DATASETS_MARKER not in written
    assert _filter(inputs, out).returncode == 0  # only what dq wrote: replaced
    assert len(read_path(out).frame) == 4
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".clean.")]  # no temporary sibling left


def test_filter_out_dsfolder_keeps_a_file_the_user_put_inside(inputs, tmp_path):
    out = tmp_path / "clean"
    assert _filter(inputs, out).returncode == 0
    (out / "my_notes.txt").write_text("precious")
    before = _tree(out)
    line = error_line(_filter(inputs, out))
    assert "my_notes.txt" in line and "choose another --out" in line
    assert _tree(out) == before


def test_filter_refuses_a_datasets_folder_dq_did_not_write(inputs, hf_disk_dataset):
    """A folder saved by the user's own save_to_disk (or by a dq before the marker) is theirs: never replaced."""
    before = _tree(hf_disk_dataset)
    line = error_line(_filter(inputs, hf_disk_dataset))
    assert DATASETS_MARKER in line and "delete it yourself" in line
    assert _tree(hf_disk_dataset) == before


def test_filter_refuses_a_symlink_as_datasets_folder(inputs, tmp_path):
    target = tmp_path / "target"
    assert _filter(inputs, target).returncode == 0
    link = tmp_path / "link"
    link.symlink_to(target)
    before = _tree(target)
    assert "symbolic link" in error_line(_filter(inputs, link))
    assert _tree(target) == before and link.is_symlink()


def test_write_frame_itself_refuses_a_folder_holding_foreign_entries(tmp_path):
    """The writer checks again at the moment it would replace (the page's exports call it directly)."""
    frame = pd.DataFrame({"text": ["a", "b"], "label": ["x", "y"]})
    out = tmp_path / "exports" / "ds"
    write_frame(frame, out, label_col="label")
    (out / "extra").mkdir()
    with pytest.raises(DataError, match="extra"):
        write_frame(frame, out, label_col="label")
    assert (out / "extra").is_dir()
    assert sorted(p.name for p in out.parent.iterdir()) == ["ds"]  # no temporary sibling left


def test_datasets_progress_bars_stay_off_a_piped_stderr(inputs, tmp_path):
    """The real process, stderr piped: neither writing (`dq filter --out NAME`) nor reading (`dq profile`) a
    datasets folder prints the library's bars."""
    data, recipe = inputs
    out = tmp_path / "clean"
    r = dq_subprocess("filter", data, "--recipe", recipe, "--out", out, "--text-col", "text", "--label-col", "label")
    assert r.returncode == 0, r.stderr
    assert not [w for w in BAR_WORDS if w in r.stderr], r.stderr
    r = dq_subprocess("profile", out)
    assert r.returncode == 0, r.stderr
    assert not [w for w in BAR_WORDS if w in r.stderr], r.stderr


def test_quiet_datasets_puts_the_library_setting_back():
    from datasets.utils import logging as ds_logging

    ds_logging.enable_progress_bar()
    with quiet_datasets():
        assert not ds_logging.is_progress_bar_enabled()
    assert ds_logging.is_progress_bar_enabled()
    ds_logging.disable_progress_bar()
    with quiet_datasets():
        pass
    assert not ds_logging.is_progress_bar_enabled()
    ds_logging.enable_progress_bar()
