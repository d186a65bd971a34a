"""Nothing lost: no `dq` command writes over one of its inputs or empties a folder that is not its own,
and every write keeps the file's mode (0644 for a new file)."""

from __future__ import annotations

import json
import os
import stat

import pytest

from dq_core.cli import main
from dq_core.data.outputs import RUN_MARKER, check_output_path
from dq_core.data.writers import atomic_write_bytes
from dq_core.errors import DataError
from tests.train_helpers import tiny_frame

ROWS = "text,label\nhello there friend,pos\nthat was awful,neg\nquite fine really,pos\nnot good at all,neg\n"
SIGNALS = ["--signals", "junk,pii,exact_duplicate"]
RECIPE = {"format": "dq-filter-recipe", "version": 1, "name": "r",
          "signals": [{"signal": "junk", "action": "drop", "use_flag": True}],
          "signal_settings": {"signals": ["junk", "exact_duplicate"], "seed": 0}}


@pytest.fixture
def data(tmp_path, dq_env):
    p = tmp_path / "a.csv"
    p.write_text(ROWS)
    return p


def refused(argv, capsys, *, word="choose another") -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert word in err and err.count("error:") == 1 and "Traceback" not in err
    return err


def test_signals_out_equal_to_data_is_refused(data, capsys):
    refused(["signals", str(data), *SIGNALS, "--out", str(data)], capsys)
    assert data.read_text() == ROWS


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_links_to_the_input_are_refused(data, tmp_path, capsys, link):
    alias = tmp_path / "alias.csv"
    (os.symlink if link == "symlink" else os.link)(data, alias)
    refused(["signals", str(data), *SIGNALS, "--out", str(alias)], capsys)
    assert data.read_text() == ROWS


def test_filter_out_and_log_equal_to_data_are_refused(data, tmp_path, capsys):
    recipe = tmp_path / "r.json"
    recipe.write_text(json.dumps(RECIPE))
    refused(["filter", str(data), "--recipe", str(recipe), "--out", str(data)], capsys)
    refused(["filter", str(data), "--recipe", str(recipe), "--out", str(tmp_path / "c.csv"), "--log", str(data)], capsys)
    refused(["filter", str(data), "--recipe", str(recipe), "--out", str(tmp_path / "c.csv"),
             "--save-recipe", str(recipe)], capsys)
    refused(["filter", str(data), "--recipe", str(recipe), "--out", str(tmp_path / "c.csv"),
             "--log", str(tmp_path / "c.csv")], capsys)
    assert data.read_text() == ROWS and json.loads(recipe.read_text()) == RECIPE
    # The same command with distinct outputs works, and the source stays as it was.
    assert main(["filter", str(data), "--recipe", str(recipe), "--out", str(tmp_path / "c.csv"),
                 "--log", str(tmp_path / "log.csv")]) == 0
    assert data.read_text() == ROWS


def test_filter_never_empties_a_foreign_folder(data, tmp_path, capsys):
    recipe = tmp_path / "r.json"
    recipe.write_text(json.dumps(RECIPE))
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.txt").write_text("years of work")
    refused(["filter", str(data), "--recipe", str(recipe), "--out", str(folder)], capsys)
    assert (folder / "thesis.txt").read_text() == "years of work"


def test_embed_out_equal_to_data_is_refused(data, tmp_path, capsys):
    alias = tmp_path / "vectors.npy"
    os.symlink(data, alias)
    refused(["embed", str(data), "--out", str(alias)], capsys)
    assert data.read_text() == ROWS


def test_report_never_replaces_a_file_it_reads(tmp_path, capsys):
    from tests.train_helpers import random_predictions, write_run

    labels = ("a", "b")
    y, proba = random_predictions(40, labels, seed=0)
    run = write_run(tmp_path / "run", labels=labels, y_true=y, proba=proba)
    before = (run / "metrics.json").read_bytes()
    refused(["report", str(run), "--format", "json", "--out", str(run / "metrics.json")], capsys)
    assert (run / "metrics.json").read_bytes() == before
    assert main(["report", str(run), "--out", str(run / "report.md")]) == 0  # beside the run's files is fine


def test_train_out_refuses_a_foreign_folder_and_touches_nothing(data, tmp_path, capsys):
    folder = tmp_path / "project"
    (folder / "model").mkdir(parents=True)
    (folder / "model" / "weights.bin").write_bytes(b"precious")
    (folder / "metrics.json").write_text("{}")
    (folder / "log.txt").write_text("my notes")
    before = sorted(p.name for p in folder.rglob("*"))
    refused(["train", str(data), "--trainer", "baseline", "--out", str(folder)], capsys, word=RUN_MARKER)
    assert sorted(p.name for p in folder.rglob("*")) == before
    assert (folder / "model" / "weights.bin").read_bytes() == b"precious"
    refused(["train", str(data), "--trainer", "baseline", "--out", str(data)], capsys, word="same file as DATA")
    other = tmp_path / "other.csv"
    other.write_text(ROWS)
    refused(["train", str(data), "--trainer", "baseline", "--out", str(other)], capsys, word="is a file")
    refused(["train", str(data), "--trainer", "baseline", "--out", str(tmp_path)], capsys)  # holds DATA


def test_train_replaces_its_own_run_only_with_overwrite(tmp_path, dq_env, capsys):
    data = tmp_path / "tiny.csv"
    tiny_frame(60).to_csv(data, index=False)
    out = tmp_path / "run"
    args = ["train", str(data), "--trainer", "baseline", "--out", str(out), "--quiet", "--text-col", "text",
            "--label-col", "label"]
    assert main(args) == 0
    assert (out / RUN_MARKER).is_file() and (out / "metrics.json").is_file()
    capsys.readouterr()
    refused(args, capsys, word="--overwrite")
    assert main([*args, "--overwrite"]) == 0
    assert json.loads((out / "metrics.json").read_text())["accuracy"] > 0.5


def test_new_files_are_0644_and_replaced_files_keep_their_mode(tmp_path):
    old = os.umask(0o022)
    try:
        p = tmp_path / "new.csv"
        atomic_write_bytes(p, b"x")
        assert stat.S_IMODE(p.stat().st_mode) == 0o644
        os.chmod(p, 0o640)
        atomic_write_bytes(p, b"y")
        assert stat.S_IMODE(p.stat().st_mode) == 0o640 and p.read_bytes() == b"y"
        assert not [f for f in tmp_path.iterdir() if f.name.endswith(".tmp")]
    finally:
        os.umask(old)


def test_check_output_path_skips_demo_and_hub_specs(tmp_path):
    assert check_output_path(tmp_path / "o.csv", ["demo:tweets", "hf:imdb", None]) == tmp_path / "o.csv"
    with pytest.raises(DataError, match="NUL"):
        check_output_path("a\x00b.csv", [])
