"""Output-path checks shared by every `dq` command that writes: nothing a command reads is overwritten,
and no folder that is not the command's own is emptied.

Kept apart from ``writers`` (how bytes reach the disk) because these decide *whether* a path may be
written at all. The no-output-over-an-input comparisons are called for every command, before it reads or
computes anything, from one place (dq_core.commands.file_options, which knows each command's options); the
folder rules (a run folder, a datasets folder) are called by the commands that write such folders.
"""

from __future__ import annotations

import os
from pathlib import Path

from dq_core.data.writers import atomic_write_text, foreign_datasets_entries
from dq_core.errors import DataError

RUN_MARKER = ".dq-run"  # written into every folder `dq train` creates: only such folders are ever replaced


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name one file or folder (symlinks and hard links included); False when either is
    missing or cannot be inspected."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def _named_inputs(inputs) -> list[tuple[str, Path]]:
    """(what to call it, path) for each input that is a path: an item is a path or a ``(name, path)`` pair;
    ``demo:``/``hf:`` specs and None are skipped (they name no file here)."""
    out = []
    for item in inputs:
        name, spec = item if isinstance(item, tuple) else ("the input", item)
        if not spec:
            continue
        s = str(spec)
        if s.startswith(("demo:", "hf:")) or "\x00" in s:
            continue
        out.append((name, Path(s)))
    return out


def check_output_path(out: str | os.PathLike, inputs, *, option: str = "--out") -> Path:
    """Refuse an output that would overwrite one of the command's inputs, sit inside an input folder, or be
    a folder holding an input.

    ``inputs`` are the paths the command reads, each a path or a ``(name, path)`` pair (the name, e.g.
    ``--pred-probs``, is said in the refusal); ``demo:``/``hf:`` specs and None are skipped. Paths are
    compared by identity (``os.path.samefile``: symlinks and hard links to an input are caught) and, for
    folders, by containment after resolving links. Raises DataError ending in "choose another --out";
    returns the output path.
    """
    if "\x00" in str(out):
        raise DataError(f"{option} contains a NUL character; choose another {option}")
    o = Path(out)
    _check_writable_folder(o, out, option)
    for name, src in _named_inputs(inputs):
        if same_file(o, src):
            raise DataError(f"{option} '{out}' is the same file as {name} '{src}'; writing it would destroy "
                            f"that input: choose another {option}")
        try:
            if src.is_dir() and o.resolve().is_relative_to(src.resolve()):
                raise DataError(f"{option} '{out}' lies inside the folder of {name} '{src}', which this command "
                                f"reads; choose another {option}")
            if o.is_dir() and src.resolve().is_relative_to(o.resolve()):
                raise DataError(f"{option} '{out}' is a folder holding {name} '{src}'; replacing it would "
                                f"destroy that input: choose another {option}")
        except (OSError, RuntimeError):  # a symlink loop: the writer reports it
            continue
    return o


def _check_writable_folder(o: Path, out, option: str) -> None:
    """Said before any work: the output's nearest existing folder must be a folder this user can write in
    (a long run that fails only at its last write loses everything it computed)."""
    parent = o.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise DataError(f"{option} '{out}': '{parent}' is a file, not a folder; choose another {option}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DataError(f"{option} '{out}': the folder '{parent}' is not writable; choose another {option}")


def check_distinct_outputs(outputs: dict[str, str | os.PathLike | None]) -> None:
    """Two outputs of one command naming the same file would leave only the last one written, and one
    inside the other (a --log inside the --out datasets folder) would be lost when the other is replaced."""
    seen: list[tuple[str, str | os.PathLike]] = []
    for option, path in outputs.items():
        if not path or str(path) == "-":
            continue
        for other, other_path in seen:
            if os.path.abspath(str(path)) == os.path.abspath(str(other_path)) or same_file(path, other_path):
                raise DataError(f"{option} and {other} name the same file '{path}'; choose another {option}")
            for a, a_path, b, b_path in ((option, path, other, other_path), (other, other_path, option, path)):
                if _strictly_inside(a_path, b_path):
                    raise DataError(f"{a} '{a_path}' lies inside {b} '{b_path}'; choose another {a}")
        seen.append((option, path))


def _strictly_inside(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    try:
        ra, rb = Path(a).resolve(), Path(b).resolve()
    except (OSError, RuntimeError):
        return False
    return ra != rb and ra.is_relative_to(rb)


def check_folder_output(out: str | os.PathLike, *, option: str = "--out") -> Path:
    """A path a datasets folder may be written to: missing, empty, or a datasets folder dq wrote that holds
    nothing but what dq wrote there (``foreign_datasets_entries``), which is replaced. Anything else (a file,
    a link, the user's own folder, a folder holding a file the user put inside) is refused, never deleted."""
    o = Path(out)
    if o.is_symlink():
        raise DataError(f"{option} '{out}' is a symbolic link; a datasets folder is never written through one: "
                        f"choose another {option}")
    if not o.exists():
        return o
    if not o.is_dir():
        raise DataError(f"{option} '{out}' is a file; a name without extension writes a datasets folder: "
                        f"choose another {option}")
    why = foreign_datasets_entries(o)
    if why:
        raise DataError(f"{option} '{out}' {why.replace('another name', f'another {option}')}")
    return o


def check_run_folder(out: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """A folder `dq train` may write a run into: missing, empty, or an earlier run (``RUN_MARKER``) when
    ``overwrite`` is set. Anything else is refused, so files in a folder that is not a run are never
    deleted."""
    if "\x00" in str(out):
        raise DataError("--out contains a NUL character; choose another --out")
    o = Path(out)
    if o.is_symlink() and not o.exists():
        raise DataError(f"--out '{out}' is a broken symbolic link; choose another --out")
    if not o.exists():
        return o
    if not o.is_dir():
        raise DataError(f"--out '{out}' is a file; give a folder for the run")
    try:
        entries = list(o.iterdir())
    except OSError as exc:
        raise DataError(f"--out '{out}' cannot be listed ({exc.strerror}); choose another --out") from None
    if not entries:
        return o
    if not (o / RUN_MARKER).is_file():
        raise DataError(f"--out '{out}' is a folder that is not empty and is not a dq run (no {RUN_MARKER} "
                        "file); nothing in it was touched: choose another --out (a new or empty folder)")
    if not overwrite:
        raise DataError(f"--out '{out}' holds an earlier run; pass --overwrite to replace it, or choose "
                        "another --out")
    return o


def mark_run_folder(out: str | os.PathLike) -> None:
    """Say that ``out`` is a run folder, so a later ``--overwrite`` may replace it."""
    atomic_write_text(Path(out) / RUN_MARKER, "dq run folder: `dq train --overwrite` may replace its contents\n")
