"""No `dq` command writes over a file it reads (issue 22): every (command, input option, output option) pair,
directly, through a symbolic link, a hard link or a linked parent folder, an output inside an input folder and
an output folder holding an input, is refused with exit 2 and one `error:` line before the command starts.

The cases are built from the tables in dq_core/commands/file_options.py and the parsers themselves, so a new
option is covered by adding it to one table; ``test_every_option_of_every_command_is_classified`` fails on an
option nobody classified. The command's own ``run`` is replaced by one that fails, so a case passes only when
the one check in dq_core.cli.main refused it before any work (no data read, no model loaded).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import os
from pathlib import Path

import pytest

from dq_core.cli import COMMANDS, build_parser
from dq_core.commands.file_options import (
    FOLDERS_OF_INPUTS,
    INPUT_OPTIONS,
    NOT_A_PATH,
    OUTPUT_OPTIONS,
    check_command_files,
)
from dq_core.errors import DataError
from tests.cli_helpers import ROOT, dq, error_line

# Options that name no file: columns, numbers, switches, choices, addresses. Every option of every command is
# here or in file_options' tables (an option that names a file belongs there, not here).
NOT_FILES = frozenset({
    "help", "text_col", "label_col", "id_col", "agreement_col", "split_col", "reference_where", "dataset_split",
    "reference_split", "encoding", "port", "address", "batch_size", "precision", "long_texts", "no_cache",
    "progress", "radius", "percentile", "min_ratio", "min_rows", "clusters", "seed", "terms", "examples",
    "metadata_col", "vocab_size", "bootstrap", "permutations", "threshold", "no_embeddings", "top_bins",
    "spreadsheet_safe", "backend", "workers", "shard_rows", "trainer", "overwrite", "test_text_col",
    "test_label_col", "test_source", "name", "epochs", "max_steps", "lr", "max_length", "weight_decay", "warmup",
    "early_stopping", "no_mixed_precision", "class_weights", "max_train_rows", "val_fraction", "test_fraction",
    "max_test_rows", "balance", "c", "quiet", "folds", "repeats", "metric", "format",
})
# Commands that write nothing but stdout: their inputs have no output to collide with.
READ_ONLY = {"app", "profile", "coverage", "shift"}
HOWS = ("same", "symlink", "hardlink", "linked_parent", "inside", "holding")
VICTIM = b"the user's only copy\n"


def _parsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


PARSERS = _parsers()


def _actions(command: str) -> dict[str, argparse.Action]:
    return {a.dest: a for a in PARSERS[command]._actions}


def _path_options(command: str, table: dict[str, str]) -> list[str]:
    return [d for d in _actions(command) if d in table and d not in NOT_A_PATH.get(command, ())]


PAIRS = [(c, i, o) for c in COMMANDS for i in _path_options(c, INPUT_OPTIONS) for o in _path_options(c, OUTPUT_OPTIONS)]
CASES = [pytest.param(c, i, o, how, id=f"{c}-{i}-{o}-{how}") for c, i, o in PAIRS for how in HOWS]


def test_every_option_of_every_command_is_classified():
    """A new option must be named in file_options (an input or an output) or here (names no file)."""
    unknown = {(c, d) for c in COMMANDS for d in _actions(c)
               if d not in NOT_FILES and d not in INPUT_OPTIONS and d not in OUTPUT_OPTIONS}
    assert unknown == set(), "classify these options: INPUT_OPTIONS / OUTPUT_OPTIONS in dq_core/commands/" \
                             "file_options.py, or NOT_FILES in this test"
    for c in COMMANDS:  # the names said in refusals are the options' own
        for d in _path_options(c, {**INPUT_OPTIONS, **OUTPUT_OPTIONS}):
            a = _actions(c)[d]
            assert {**INPUT_OPTIONS, **OUTPUT_OPTIONS}[d] in (a.option_strings or [a.metavar]), (c, d)


def test_every_input_option_meets_every_output_option():
    """Each command that writes has each of its inputs paired with each of its outputs below; the others
    write only to stdout."""
    writing = {c for c, _, _ in PAIRS}
    assert writing == set(COMMANDS) - READ_ONLY
    assert all(not _path_options(c, OUTPUT_OPTIONS) for c in READ_ONLY)
    for c in writing:
        assert {i for cc, i, _ in PAIRS if cc == c} == set(_path_options(c, INPUT_OPTIONS))
    # the options of the issue, each in the commands that take it
    taken = {(c, i) for c, i, _ in PAIRS}
    for option in ("embeddings", "reference_embeddings", "pred_probs", "test", "model", "signals", "recipe"):
        assert any(i == option for _, i in taken), option
    assert ("train", "test_embeddings") in taken and ("report", "runs") in taken and ("compute", "data") in taken


def _layout(tmp: Path, how: str, folder_of_inputs: bool) -> tuple[Path, Path, Path]:
    """(what the input option is given, the output path, the file that must survive byte for byte)."""
    base = tmp / "in"
    base.mkdir()
    if how == "inside":
        victim = base / "f" / "keep.bin"
        given, out = victim.parent, victim.parent / "new.out"
    elif how == "holding":
        victim = base / "w" / "victim.bin"
        given, out = victim, victim.parent
    else:
        victim = base / "victim.bin"
        given, out = victim, victim
    victim.parent.mkdir(exist_ok=True)
    victim.write_bytes(VICTIM)
    if how == "symlink":
        out = tmp / "alias.bin"
        os.symlink(victim, out)
    elif how == "hardlink":
        out = tmp / "hard.bin"
        os.link(victim, out)
    elif how == "linked_parent":
        os.symlink(base, tmp / "ln")
        out = tmp / "ln" / victim.name
    if folder_of_inputs:  # a run folder: its entries are the inputs
        given = given.parent
    return given, out, victim


def _argv(command: str, values: dict[str, Path | str]) -> list[str]:
    """The command line giving ``values`` (dest -> value), the required positional first."""
    actions = _actions(command)
    argv = [command]
    for dest, value in values.items():
        a = actions[dest]
        argv += [str(value)] if not a.option_strings else [a.option_strings[0], str(value)]
    return argv


def _required(command: str, tmp: Path, taken: set[str]) -> dict[str, Path]:
    """Harmless values for the options the parser requires and the case does not set."""
    other = tmp / "other"
    other.mkdir(exist_ok=True)
    data = other / "data.csv"
    data.write_text("text,label\nhello,a\nbye,b\n")
    need = {}
    for dest, a in _actions(command).items():
        if dest not in taken and (a.required or (not a.option_strings and dest != "help")):
            need[dest] = data if dest in INPUT_OPTIONS else other / "result.out"
    return need


@pytest.fixture
def no_command_runs(monkeypatch):
    """Every command's ``run`` fails the test: a refusal must come from the check in cli.main, before it."""
    for name in COMMANDS:
        module = importlib.import_module(f"dq_core.commands.{name}")

        def never(args, name=name):
            raise AssertionError(f"dq {name} started: its output was not refused before any work")

        monkeypatch.setattr(module, "run", never)


@pytest.mark.parametrize(("command", "input_dest", "output_dest", "how"), CASES)
def test_an_output_over_an_input_is_refused_before_any_work(tmp_path, no_command_runs, command, input_dest,
                                                            output_dest, how):
    given, out, victim = _layout(tmp_path, how, input_dest in FOLDERS_OF_INPUTS)
    values = {input_dest: given, output_dest: out}
    values = {**_required(command, tmp_path, set(values)), **values}
    positional = [d for d in values if not _actions(command)[d].option_strings]
    values = {d: values[d] for d in [*positional, *(d for d in values if d not in positional)]}
    listing = sorted(p.relative_to(tmp_path) for p in (tmp_path / "in").rglob("*"))
    line = error_line(dq(*_argv(command, values)))
    assert OUTPUT_OPTIONS[output_dest] in line and INPUT_OPTIONS[input_dest] in line, line
    assert victim.read_bytes() == VICTIM
    assert sorted(p.relative_to(tmp_path) for p in (tmp_path / "in").rglob("*")) == listing


@pytest.mark.parametrize(("command", "input_dest", "output_dest"), PAIRS, ids=["-".join(p) for p in PAIRS])
def test_distinct_paths_pass_the_check(tmp_path, command, input_dest, output_dest):
    """The rule refuses collisions only: the same options with the output elsewhere pass."""
    given = tmp_path / "in" / "victim.bin"
    given.parent.mkdir()
    given.write_bytes(VICTIM)
    if input_dest in FOLDERS_OF_INPUTS:
        given = given.parent
    values = {input_dest: given, output_dest: tmp_path / "elsewhere" / "o.out"}
    argv = _argv(command, {**_required(command, tmp_path, set(values)), **values})
    args = build_parser(argv).parse_args(argv)
    check_command_files(command, args)


def test_issue_22_signals_out_over_its_pred_probs_is_refused(tmp_path):
    """`dq signals d.csv --embeddings e.npy --pred-probs p.csv --out p.csv` replaced p.csv with the signals."""
    import numpy as np

    data = tmp_path / "d.csv"
    data.write_text((ROOT / "tests" / "data" / "good.csv").read_text())
    emb, probs = tmp_path / "e.npy", tmp_path / "p.csv"
    np.save(emb, np.eye(6, 4, dtype=np.float32))
    probs.write_text("negative,positive\n" + "0.5,0.5\n" * 6)
    before = probs.read_bytes(), emb.read_bytes()
    line = error_line(dq("signals", data, "--embeddings", emb, "--pred-probs", probs, "--out", probs))
    assert "--pred-probs" in line and "choose another --out" in line
    line = error_line(dq("filter", data, "--embeddings", emb, "--out", tmp_path / "c.csv", "--save-recipe", emb))
    assert "--save-recipe" in line and "--embeddings" in line
    line = error_line(dq("filter", data, "--pred-probs", probs, "--out", tmp_path / "c.csv", "--log", probs))
    assert "--log" in line and "--pred-probs" in line
    assert (probs.read_bytes(), emb.read_bytes()) == before


def test_an_output_inside_another_output_is_refused(tmp_path):
    """`--log DS/log.csv` inside the `--out DS` datasets folder would be lost when DS is replaced."""
    data = tmp_path / "d.csv"
    data.write_text("text,label\nhello,a\nbye,b\n")
    line = error_line(dq("filter", data, "--out", tmp_path / "DS", "--log", tmp_path / "DS" / "log.csv"))
    assert "--log" in line and "inside --out" in line


def test_a_report_may_sit_beside_the_run_files_it_reads(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.json").write_text("{}")
    args = build_parser(["report"]).parse_args(["report", str(run), "--out", str(run / "report.md")])
    check_command_files("report", args)
    args = build_parser(["report"]).parse_args(["report", str(run), "--out", "-"])
    check_command_files("report", args)


def test_the_rule_has_one_home():
    """No command checks its own outputs against a hand-picked list of inputs any more: cli.main calls the
    one check, and only file_options calls the comparisons."""
    callers = set()
    for path in sorted((ROOT / "dq_core").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
                if name in ("check_output_path", "check_distinct_outputs", "check_command_files"):
                    callers.add((path.relative_to(ROOT).as_posix(), name))
    assert callers == {("dq_core/commands/file_options.py", "check_output_path"),
                       ("dq_core/commands/file_options.py", "check_distinct_outputs"),
                       ("dq_core/cli.py", "check_command_files")}


def test_the_check_refuses_with_a_data_error_naming_both_options(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("x")
    args = build_parser(["embed"]).parse_args(["embed", str(data), "--out", str(data)])
    with pytest.raises(DataError, match=r"--out .* is the same file as DATA"):
        check_command_files("embed", args)
