"""The CLI's outputs keep the data, `--recipe default` works wherever a recipe is taken, `dq --version`,
and progress on stderr: rows done of total, rate and ETA on a terminal or with --progress, nothing when
piped (so stdout's JSON and a redirected stderr stay clean)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from dq_core.cli import build_parser, main
from dq_core.commands.progress import CliProgress
from dq_core.commands.train import config_from_args
from tests.cli_helpers import dq, dq_subprocess

HOSTILE = ["bare\rreturn", "new\nline", "crlf\r\nend", 'q "quoted"', "a,b", "tab\there", "@user hi", "=1+2",
           "+33 6 12", "-1", "ünï 😀"]
KEEP_ALL = {"format": "dq-filter-recipe", "version": 1, "name": "keep-all"}


@pytest.fixture()
def hostile_csv(tmp_path) -> Path:
    frame = pd.DataFrame({"text": HOSTILE, "label": ["-1", "1"] * 5 + ["-1"]})
    path = tmp_path / "in.csv"
    frame.to_csv(path, index=False, quoting=csv.QUOTE_ALL)  # a bare "\r" must be quoted to be one field
    (tmp_path / "keep.json").write_text(json.dumps(KEEP_ALL))
    return path


def test_dq_filter_writes_what_it_read(hostile_csv, tmp_path):
    out = tmp_path / "clean.csv"
    r = dq("filter", str(hostile_csv), "--recipe", str(tmp_path / "keep.json"), "--out", str(out),
           "--text-col", "text", "--label-col", "label")
    assert r.returncode == 0, r.stderr
    back = pd.read_csv(out, keep_default_na=False)
    assert back["text"].tolist() == HOSTILE
    assert back["label"].tolist() == [-1, 1] * 5 + [-1]  # numbers stay numbers, no "'-1"
    assert json.loads(r.stdout)["n_kept"] == len(HOSTILE)

    sheet = tmp_path / "sheet.csv"
    r = dq("filter", str(hostile_csv), "--recipe", str(tmp_path / "keep.json"), "--out", str(sheet),
           "--text-col", "text", "--label-col", "label", "--spreadsheet-safe")
    assert r.returncode == 0, r.stderr
    assert "apostrophe" in r.stderr
    texts = pd.read_csv(sheet, keep_default_na=False)["text"].tolist()
    assert texts == [("'" + t if t[0] in "@=+" else t) for t in HOSTILE]  # "-1" is a number: unchanged

    r = dq("filter", str(hostile_csv), "--recipe", str(tmp_path / "keep.json"), "--out",
           str(tmp_path / "x.parquet"), "--spreadsheet-safe")
    assert r.returncode == 2 and r.stderr.startswith("error: --spreadsheet-safe makes a CSV")


def test_recipe_default_is_accepted_by_every_command_that_takes_a_recipe(tmp_path):
    args = build_parser(["train", "d.csv", "--out", "run", "--recipe", "default"]).parse_args(
        ["train", "d.csv", "--out", "run", "--recipe", "default"])
    assert config_from_args(args).recipe == "default"
    (tmp_path / "r.json").write_text(json.dumps(KEEP_ALL))
    argv = ["train", "d.csv", "--out", "run", "--recipe", str(tmp_path / "r.json")]
    assert config_from_args(build_parser(argv).parse_args(argv)).recipe == str((tmp_path / "r.json").resolve())
    from dq_core.filtering import load_recipe, resolve_recipe

    assert resolve_recipe("default") == "default" and load_recipe("default").name == "default"


def test_a_missing_recipe_is_one_error_line(tmp_path, capsys, dq_env):
    (tmp_path / "d.csv").write_text("text,label\nhello,a\nbye,b\n")
    for cmd in (["train", str(tmp_path / "d.csv"), "--out", str(tmp_path / "run")],
                ["filter", str(tmp_path / "d.csv"), "--out", str(tmp_path / "c.csv")]):
        assert main([*cmd, "--recipe", str(tmp_path / "nope.json")]) == 2
        err = capsys.readouterr().err
        assert "recipe file" in err and "does not exist" in err and "default" in err, err


def test_version():
    from dq_core import __version__

    r = dq_subprocess("--version", cwd=Path("/"))  # the real entry point, from another folder
    assert r.returncode == 0 and r.stdout.strip() == f"dq-dashboard {__version__}"


# --------------------------------------------------------------------------- progress

class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_silent_when_stderr_is_not_a_terminal():
    stream = io.StringIO()
    p = CliProgress(None, stream=stream)
    for done in range(0, 101, 10):
        p.rows("embedding")("embedding", done, 100)
    p.steps("signals")("label", 0.5)
    p.phases("shift")("vocabulary")
    assert stream.getvalue() == ""


def test_progress_lines_when_asked_say_rows_rate_and_eta():
    stream = io.StringIO()
    cb = CliProgress(True, stream=stream).rows("embedding")
    for done in range(0, 1001, 10):  # 100 calls: throttled to about one line per 5%
        cb("embedding", done, 1000)
    lines = stream.getvalue().splitlines()
    assert 15 <= len(lines) <= 25, lines
    assert lines[-1].startswith("embedding: 100%") and "1000/1000" in lines[-1] and "texts/s" in lines[-1]
    assert "<" in lines[len(lines) // 2]  # elapsed<remaining: the ETA
    steps = io.StringIO()
    cb2 = CliProgress(True, stream=steps).steps("signals")
    for msg, frac in (("label", 0.0), ("label", 0.3), ("junk", 0.5), ("done", 1.0), ("done", 1.0)):
        cb2(msg, frac)
    out = steps.getvalue().splitlines()
    assert [ln.split("%")[0].split()[-1] for ln in out] == ["0", "30", "50", "100"]
    assert out[2].endswith("junk") and out[-1].endswith("done")


def test_progress_on_a_terminal_is_a_bar():
    term = FakeTerminal()
    p = CliProgress(None, stream=term)
    assert p.enabled
    cb = p.rows("embedding")
    for done in (0, 50, 100):
        cb("embedding", done, 100)
    assert "100/100" in term.getvalue() and "\r" in term.getvalue()
    cb("embedding", 0, 0)  # nothing to compute
    assert "cached" in term.getvalue()


def test_dq_embed_progress_goes_to_stderr_only_when_asked(tmp_path, dq_env):
    data = tmp_path / "t.csv"
    pd.DataFrame({"text": [f"sentence number {i} about trains" for i in range(24)]}).to_csv(data, index=False)
    # a real process: its stderr is a pipe, not a terminal
    r = dq_subprocess("embed", str(data), "--out", str(tmp_path / "v.npy"), "--no-cache", "--progress", timeout=300)
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("embedding:")]
    assert lines and "24/24" in lines[-1] and "texts/s" in lines[-1], r.stderr
    assert r.stdout == ""
    r = dq_subprocess("embed", str(data), "--out", str(tmp_path / "w.npy"), "--no-cache", timeout=300)
    assert r.returncode == 0 and "embedding:" not in r.stderr  # piped: no progress unless asked
