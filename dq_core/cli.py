"""The `dq` command line. Each subcommand lives in dq_core/commands/<name>.py with two functions,
``add_parser(subparsers)`` and ``run(args) -> int``, so commands stay small and independent.

Contract (README, "Command line"): exit 0 on success; exit 2 with one line ``error: ...`` on stderr for bad input,
no traceback unless ``--debug``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import signal
import sys
import threading

from dq_core.errors import DataError

COMMANDS = ("app", "profile", "embed", "coverage", "shift", "signals", "compute", "filter", "train", "advise",
            "report", "story")


def _available_commands(only: str | None = None):
    for name in COMMANDS:
        if only is not None and name != only:
            continue
        try:
            yield name, importlib.import_module(f"dq_core.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"dq_core.commands.{name}":
                raise


class _Parser(argparse.ArgumentParser):
    """argparse with the command line's error contract: a mistake in the arguments (a missing one, a value of
    the wrong type or out of range) is one ``error: ...`` line and exit 2, like every other refusal, not the
    usage block followed by ``prog: error:``. Subparsers take this class from their parent."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see `{self.prog} --help`)\n")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; when ``argv`` names a command, only that command's module is imported.

    Importing every command module would cost `dq profile` the import time of the heaviest sibling (and
    break it whenever any sibling fails to import); `dq --help` and unknown commands still load them all.
    """
    from dq_core import __version__

    parser = _Parser(prog="dq", description="Data quality for text-classification datasets.")
    parser.add_argument("--version", action="version", version=f"dq-dashboard {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    wanted = next((a for a in (argv or []) if a in COMMANDS), None)
    if wanted is None and "--version" in (argv or []):
        return parser  # answered before any subcommand is needed: import none of them
    modules = list(_available_commands(only=wanted)) if wanted else []
    for _name, module in modules or _available_commands():
        module.add_parser(sub)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so every ``with`` and ``finally`` on the way out runs (temporary
    folders and files are removed, as on Ctrl-C). A KeyboardInterrupt: no ``except Exception`` swallows it, and
    what handles Ctrl-C handles it too (`dq train` marks its run interrupted)."""


@contextlib.contextmanager
def _sigterm_unwinds():
    """While a command runs, SIGTERM raises :class:`Terminated` (the default action would end the process
    without any cleanup); a second SIGTERM ends it at once. The previous handler is put back afterwards."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return

    def terminate(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        with _sigterm_unwinds():
            from dq_core.commands.file_options import check_command_files, check_option_pairs

            check_option_pairs(args)
            check_command_files(args.command, args)  # no output over an input, for every command, before any work
            return int(args.func(args) or 0)
    except Terminated:
        print("error: terminated (SIGTERM)", file=sys.stderr)
        return 128 + signal.SIGTERM
    except DataError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except (RecursionError, OverflowError) as exc:
        # Hostile input (JSON nested 100k deep, a 309-digit number) reached a parser without its own
        # check: still one line, never a traceback.
        if args.debug:
            raise
        what = "nests values too deeply" if isinstance(exc, RecursionError) else "holds a number too large"
        print(f"error: an input file {what} to be read; check the data, recipe and signal files", file=sys.stderr)
        return 2
    except MemoryError:
        if args.debug:
            raise
        print("error: out of memory; try a smaller dataset or a sample", file=sys.stderr)
        return 2
    except OSError as exc:
        if args.debug:
            raise
        print(f"error: {exc.strerror or exc} ({getattr(exc, 'filename', '') or ''})", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
