"""Which options of a `dq` command name files it reads and which name files it writes, and the one check that
no output is an input: called by ``dq_core.cli.main`` for every command, before the command starts.

The rule lives here, once, instead of in each command's own hand-picked list of inputs (each list missed some:
`dq signals --out p.csv --pred-probs p.csv` replaced the user's probabilities). An option is covered
by being named below, whichever command has it; tests/cli/test_no_output_over_input.py builds its cases from
these tables and fails on an option of any command that they do not classify.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

# Options naming a file or folder a command reads (argparse dest -> the name said in a refusal).
INPUT_OPTIONS: dict[str, str] = {
    "data": "DATA",
    "reference": "--reference",
    "recipe": "--recipe",
    "signals": "--signals",
    "embeddings": "--embeddings",
    "reference_embeddings": "--reference-embeddings",
    "test_embeddings": "--test-embeddings",
    "pred_probs": "--pred-probs",
    "test": "--test",
    "model": "--model",
    "runs": "RUN_DIR",
    "open": "--open",
    "advice": "--advice",
    "run_dirs": "--run",
}

# Options naming a file or folder a command writes ('-' is stdout).
OUTPUT_OPTIONS: dict[str, str] = {
    "out": "--out",
    "log": "--log",
    "save_recipe": "--save-recipe",
}

# Where a dest above names no file in one command: `dq signals --signals` and `dq compute --signals` take
# signal names, `dq shift --test` a statistic.
NOT_A_PATH: dict[str, frozenset[str]] = {
    "signals": frozenset({"signals"}),
    "compute": frozenset({"signals"}),
    "shift": frozenset({"test"}),
}

# Values that name something built in, not a file (`--recipe default`, the bundled model).
BUILT_IN: dict[str, frozenset[str]] = {
    "recipe": frozenset({"default"}),
    "model": frozenset({"", "default", "all-MiniLM-L6-v2"}),
}

# Inputs that are folders of inputs: every entry inside is read (or must stay as it is), but a new file may
# sit beside them (`dq report RUN --out RUN/report.md`).
FOLDERS_OF_INPUTS: frozenset[str] = frozenset({"runs", "run_dirs"})


def command_inputs(command: str, args) -> list[tuple[str, str]]:
    """(name, path) for every file or folder ``command`` reads with these ``args``; paths that do not exist
    (a hub model name, a file the command will report missing) hold nothing to protect and are left out,
    and a glob (`dq compute 'd/*.parquet'`) stands for the files it matches."""
    skip = NOT_A_PATH.get(command, frozenset())
    out: list[tuple[str, str]] = []
    for dest, name in INPUT_OPTIONS.items():
        value = getattr(args, dest, None)
        if dest in skip or value is None:
            continue
        for spec in value if isinstance(value, list) else [value]:
            spec = str(spec)
            if spec in BUILT_IN.get(dest, ()) or spec.startswith(("demo:", "hf:")) or "\x00" in spec:
                continue
            paths = [spec] if os.path.lexists(spec) else sorted(glob.glob(spec)) if glob.has_magic(spec) else []
            for path in paths:
                if dest in FOLDERS_OF_INPUTS and os.path.isdir(path):
                    out += [(f"{name} entry", str(entry)) for entry in sorted(Path(path).iterdir())]
                else:
                    out.append((name, path))
    return out


def command_outputs(args) -> dict[str, str]:
    """{option: path} for every output given ('-', stdout, is not a file)."""
    return {name: str(getattr(args, dest)) for dest, name in OUTPUT_OPTIONS.items()
            if getattr(args, dest, None) not in (None, "", "-")}


def check_command_files(command: str, args) -> None:
    """Refuse, before any work, an output that is one of the command's inputs (by path, symbolic or hard link),
    lies inside an input folder or is a folder holding an input, and two outputs that collide. DataError says
    which option to change."""
    from dq_core.data.outputs import check_distinct_outputs, check_output_path

    outputs = command_outputs(args)
    if not outputs:
        return
    inputs = command_inputs(command, args)
    for option, path in outputs.items():
        check_output_path(path, inputs, option=option)
    check_distinct_outputs(outputs)


def check_option_pairs(args) -> None:
    """Options that mean nothing without another are refused rather than silently ignored: a test file's
    column names without --test, and a --model folder that does not exist (even where given vectors mean the
    model is not loaded: the user named a folder that is not there)."""
    from dq_core.errors import DataError

    if getattr(args, "test", None) is None:
        for dest, flag in (("test_text_col", "--test-text-col"), ("test_label_col", "--test-label-col")):
            if getattr(args, dest, None):
                raise DataError(f"{flag} names a column of the --test file, but no --test was given; add --test "
                                "TEST or drop the option")
    model = getattr(args, "model", None)
    text = str(model or "")
    # a path, not an org/name hub id (the rule dq_core.space.embed_model.resolve_model applies)
    if text and text not in BUILT_IN["model"] and not os.path.exists(os.path.expanduser(text)) and (
            text.startswith((".", "/", "~")) or text.count("/") > 1 or "\\" in text):
        raise DataError(f"--model folder '{model}' does not exist; give the folder of a model, or leave --model out")
