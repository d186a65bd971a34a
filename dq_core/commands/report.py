"""`dq report RUN_DIR [RUN_DIR ...] --format html|md|json --out FILE`: one run's report, or several compared."""

from __future__ import annotations

import sys
from pathlib import Path

from dq_core.errors import DataError


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="report on finished runs (several are compared side by side)")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run directories; the first is the baseline")
    p.add_argument("--format", choices=("html", "md", "json"), default=None,
                   help="report format (default: from the --out extension, else html)")
    p.add_argument("--out", required=True, metavar="FILE", help="file to write ('-' for stdout)")
    p.set_defaults(func=run)


def _format_for(args) -> str:
    if args.format:
        return args.format
    ext = Path(args.out).suffix.lower().lstrip(".")
    return {"htm": "html", "html": "html", "md": "md", "markdown": "md", "json": "json"}.get(ext, "html")


def run(args) -> int:
    from dq_core.report import build_report, write_report

    fmt = _format_for(args)
    if args.out == "-":
        sys.stdout.write(build_report(args.runs, fmt))
        return 0
    out = Path(args.out)
    if out.is_dir():
        raise DataError(f"--out '{args.out}' is a folder; give a file name such as report.{fmt}")
    # A report may live beside a run's files, never in place of one (checked in dq_core.commands.file_options).
    write_report(args.runs, fmt, out)
    print(f"wrote {out} ({fmt}, {len(args.runs)} run{'s' if len(args.runs) > 1 else ''})", file=sys.stderr)
    return 0
