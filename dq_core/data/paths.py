"""Server paths: the data folder, confinement to it, and one clear message per unusable path."""

from __future__ import annotations

import json
import os
from pathlib import Path

from dq_core import settings
from dq_core.data.limits import check_size
from dq_core.errors import DataError

TABLE_EXTENSIONS = (".csv", ".tsv", ".txt", ".json", ".jsonl", ".ndjson", ".parquet", ".pq")


def data_dir() -> Path:
    return settings.get("DQ_DATA_DIR")


def path_error(path, exc: BaseException) -> DataError:
    """One message per way a path can be unusable (never the OS's own text, which may name other files)."""
    import errno

    shown = repr(str(path))[1:-1][:200]
    if isinstance(exc, ValueError):  # "embedded null byte"
        return DataError(f"'{shown}' contains a NUL character; type the path again")
    if isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP:
        return DataError(f"'{shown}' is a symbolic link loop; point it at a real file")
    if getattr(exc, "errno", None) == errno.ENAMETOOLONG:
        return DataError(f"'{shown[:80]}...' is too long a path name; use a shorter one")
    if getattr(exc, "errno", None) in (errno.EACCES, errno.EPERM):
        return DataError(f"'{shown}' cannot be read (permission denied); fix its permissions")
    if getattr(exc, "errno", None) == errno.ENOENT:
        return DataError(f"'{shown}' does not exist; check the path")
    return DataError(f"'{shown}' cannot be opened ({type(exc).__name__}); check the path")


def resolve_in_data_dir(path: str | os.PathLike, root: Path | None = None) -> Path:
    """Resolve a user-typed server path, refusing anything outside the data folder (no ../ escapes, no
    symlinks out, no datasets folder naming files outside itself)."""
    root = (root or data_dir()).resolve()
    p = Path(path)
    try:
        candidate = (p if p.is_absolute() else root / p).resolve(strict=False)
        exists = candidate.exists()
        if os.path.islink(candidate):  # resolve() stopped at a loop
            os.stat(candidate)
    except (OSError, RuntimeError, ValueError) as exc:
        raise path_error(path, exc) from None
    if candidate != root and root not in candidate.parents:
        raise DataError(f"'{path}' is outside the data folder {root}; copy the file there or set DQ_DATA_DIR")
    if not exists:
        raise DataError(f"'{path}' does not exist in the data folder {root}")
    if candidate.is_dir():
        check_datasets_folder(candidate, root)
    return candidate


def check_datasets_folder(path: Path, root: Path | None = None) -> None:
    """Refuse a datasets folder that names or links to a file outside ``root`` (default: the folder).

    ``datasets.load_from_disk`` opens whatever ``state.json`` lists and follows symlinked arrow files,
    so a folder inside the data folder could otherwise show rows of any file on the server.
    """
    root = (root or path).resolve()

    def inside(p: Path) -> bool:
        try:
            r = p.resolve(strict=False)
        except (OSError, RuntimeError):
            return False
        return r == root or root in r.parents

    def refuse(what: str) -> DataError:
        return DataError(f"'{path.name}' is not a self-contained datasets folder: {what} points outside "
                         f"{'it' if root == path.resolve() else 'the data folder'}; save it again with save_to_disk")

    folders = [path]
    splits = _json_file(path / "dataset_dict.json")
    if isinstance(splits, dict):
        for name in splits.get("splits") or []:
            sub = path / str(name)
            if not inside(sub) or sub.resolve() == path.resolve():
                raise refuse(f"split '{str(name)[:40]}'")
            folders.append(sub)
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(folder):
            for name in [*dirnames, *filenames]:
                if not inside(Path(dirpath) / name):
                    raise refuse(f"'{name[:60]}'")
        state = _json_file(folder / "state.json")
        for entry in (state.get("_data_files") or []) if isinstance(state, dict) else []:
            fname = entry.get("filename") if isinstance(entry, dict) else None
            target = folder / str(fname)
            if not isinstance(fname, str) or not inside(target) or not target.is_file():
                raise refuse("a data file named in state.json")
    total = sum(f.stat().st_size for folder in folders for f in folder.rglob("*.arrow") if f.is_file())
    check_size(path.name, nbytes=total)


def _json_file(p: Path):
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError):
        raise DataError(f"'{p.parent.name}/{p.name}' is damaged (not readable JSON); save the datasets folder "
                        "again") from None


def list_data_files(root: Path | None = None, limit: int = 500) -> list[str]:
    """Tables and ``save_to_disk`` folders (with a trailing ``/``) under the data folder, sorted."""
    # A datasets folder is offered as one entry: its internals (dataset_info.json, state.json, split
    # subfolders) are not loadable tables.
    root = (root or data_dir())
    if not root.is_dir():
        return []
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if here != root and ((here / "dataset_info.json").exists() or (here / "dataset_dict.json").exists()):
            out.append(str(here.relative_to(root)) + "/")
            dirnames[:] = []  # its files are the folder's own bookkeeping, not tables
            continue
        out.extend(str((here / f).relative_to(root)) for f in filenames
                   if Path(f).suffix.lower() in TABLE_EXTENSIONS)
        if len(out) >= limit:
            break
    return sorted(out)[:limit]


def check_regular_file(path: str | os.PathLike, what: str) -> None:
    """Refuse a pipe, socket or device given where a file is read (opening a FIFO blocks forever); a missing
    path is left to the caller's own message."""
    import stat

    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    except (OSError, ValueError) as exc:
        raise path_error(path, exc) from None
    if stat.S_ISDIR(st.st_mode):
        raise DataError(f"{what} '{path}' is a folder; give a file")
    if not stat.S_ISREG(st.st_mode):
        raise DataError(f"{what} '{path}' is not a regular file (a pipe, socket or device); give a file")
