"""One way for tests to run the `dq` command line.

``dq(*args)`` runs ``dq_core.cli.main(args)`` in this process: the same parser, the same error handling and
exit codes as the console script, without starting a new Python that imports torch again (about 49 CLI
tests each paid that). It captures what the command writes to stdout and stderr and returns a
``CompletedProcess``-like result, so a test reads ``r.returncode``, ``r.stdout`` and ``r.stderr`` as before.

``dq_subprocess(*args)`` is the real console script (``python -m dq_core``) for the few tests that must prove
the process itself: its exit status and stderr as a shell sees them, a job worker in its own process, a
terminal's progress bar. Keep those few; everything else goes in-process.

What the real process would show and a test run would otherwise swallow is routed to the captured stderr:
an uncaught exception prints its traceback and gives exit status 1 (as the interpreter does), warnings are
shown under a fresh interpreter's default filters (not pytest's recording ones), and ``logging`` records at
WARNING and above print their message (what ``logging.lastResort`` does when nothing is configured).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
import traceback
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A fresh interpreter's warning filters (python -W not given, not a debug build).
_DEFAULT_FILTERS = (("default", DeprecationWarning, "__main__"), ("ignore", DeprecationWarning, None),
                    ("ignore", PendingDeprecationWarning, None), ("ignore", ImportWarning, None),
                    ("ignore", ResourceWarning, None))


@dataclass(frozen=True)
class CliResult:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def _env(overrides: Mapping[str, str | None] | None) -> Iterator[None]:
    """``os.environ`` updated by ``overrides`` (None deletes) for the call, then put back exactly."""
    if not overrides:
        yield
        return
    saved = {k: os.environ.get(k) for k in overrides}
    try:
        for k, v in overrides.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _cwd(path: Path | str | None) -> Iterator[None]:
    if path is None:
        yield
        return
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


@contextlib.contextmanager
def _as_a_process_shows(stderr: io.StringIO) -> Iterator[None]:
    """Warnings and unconfigured log records go to ``stderr`` as a fresh `dq` process would print them."""
    handler = logging.StreamHandler(stderr)
    handler.setLevel(logging.WARNING)
    root = logging.getLogger()
    root.addHandler(handler)
    with warnings.catch_warnings():
        warnings.resetwarnings()  # also invalidates every module's "already shown" registry
        for action, category, module in reversed(_DEFAULT_FILTERS):
            if module is None:
                warnings.simplefilter(action, category)
            else:
                warnings.filterwarnings(action, category=category, module=module)

        def show(message, category, filename, lineno, file=None, line=None):
            stderr.write(warnings.formatwarning(message, category, filename, lineno, line))

        warnings.showwarning = show
        try:
            yield
        finally:
            root.removeHandler(handler)


@contextlib.contextmanager
def _no_exec() -> Iterator[None]:
    """`dq app` ends in ``os.execv``, which would replace the test run itself: refuse it in-process."""
    def refuse(*_args, **_kw):
        raise AssertionError("dq would exec a new program in the test process: use dq_subprocess for this")

    saved = os.execv
    os.execv = refuse
    try:
        yield
    finally:
        os.execv = saved


def dq(*args: str | os.PathLike, cwd: Path | str | None = ROOT,
       env: Mapping[str, str | None] | None = None) -> CliResult:
    """`dq ARGS` in this process: exit status, stdout and stderr as the console script gives them.

    ``env`` holds variables to set (None: unset) on top of the test's environment (the autouse ``dq_env``
    fixture's DQ_HOME etc.) for this call only; ``cwd`` is the working folder for this call only (the
    repository root unless given).
    """
    from dq_core.cli import main

    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    with _env(env), _cwd(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            _as_a_process_shows(err), _no_exec():
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse (--help, --version, usage errors) exits
            code = exc.code
            if code is not None and not isinstance(code, int):
                print(code, file=sys.stderr)
                code = 1
        except Exception:  # what the interpreter does with an uncaught exception
            traceback.print_exc(file=sys.stderr)
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
    return CliResult(argv, int(code or 0), out.getvalue(), err.getvalue())


def dq_subprocess(*args: str | os.PathLike, cwd: Path | str = ROOT, env: Mapping[str, str] | None = None,
                  timeout: float = 600) -> subprocess.CompletedProcess:
    """`python -m dq_core ARGS` in a new process (the environment is this test's, or ``env``)."""
    return subprocess.run([sys.executable, "-m", "dq_core", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=None if env is None else dict(env), timeout=timeout)


def error_line(r: CliResult) -> str:
    """The one ``error: ...`` line of a command that refused its input (exit 2, no traceback)."""
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    return lines[0]
