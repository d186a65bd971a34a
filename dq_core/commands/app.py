"""`dq app`: start the Streamlit dashboard (app.py next to the package)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dq_core.errors import DataError


def add_parser(sub) -> None:
    p = sub.add_parser("app", help="start the dashboard")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="localhost")
    p.set_defaults(func=run)


def app_path() -> Path:
    root = Path(__file__).resolve().parents[2]
    path = root / "app.py"
    if not path.exists():
        raise DataError(f"app.py not found next to dq_core ({root}); run from a source checkout")
    return path


def run(args) -> int:
    path = app_path()
    cmd = [sys.executable, "-m", "streamlit", "run", str(path), "--server.port", str(args.port),
           "--server.address", args.address]
    # Streamlit reads .streamlit/config.toml from the working directory: run from the project root.
    # exec (not a child process) so a signal to `dq app` reaches the server and frees the port.
    os.chdir(path.parent)
    os.execv(sys.executable, cmd)
    return 0  # pragma: no cover - execv does not return
