"""`dq app`: start the Streamlit dashboard, from a source checkout or from an installed wheel.

The dashboard is the ``dq_app`` package, found with importlib.resources; this command runs its serve.py
(app.py behind security headers). dq_core does not import it: dq_app imports Streamlit, and the CLI, jobs and
reports run without the UI stack. The Streamlit settings are the checkout's .streamlit/config.toml (what
``streamlit run app.py`` reads), shipped in the wheel as dq_app/streamlit_config.toml by setup.py; they are
passed as flags, since Streamlit reads a config file only from the working directory or the script's folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dq_core.errors import DataError

DASHBOARD = "dq_app"
SERVE_SCRIPT = "serve.py"  # app.py behind security headers: what `dq app` serves
SHIPPED_CONFIG = "streamlit_config.toml"  # the wheel's copy of .streamlit/config.toml


def add_parser(sub) -> None:
    p = sub.add_parser("app", help="start the dashboard",
                       description="Start the dashboard (a Streamlit server). Its workspace is DQ_HOME "
                       "(default ./.dq in the folder you start it from).")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="localhost")
    p.add_argument("--open", metavar="DIR", help="open a `dq compute --out` folder (rows, vectors, signals) on start")
    p.set_defaults(func=run)


def app_path(script: str = SERVE_SCRIPT) -> Path:
    """A script of the dashboard package, in site-packages or in the checkout."""
    from importlib import resources

    try:
        path = Path(str(resources.files(DASHBOARD) / script))
    except ModuleNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise DataError(f"the dashboard (the {DASHBOARD} package, {script}) is not installed beside dq_core; "
                        "reinstall dq-dashboard (pip install dq-dashboard, or `make setup` in a checkout)")
    return path


def config_path() -> Path | None:
    """The Streamlit settings: the wheel's shipped copy, else the checkout's .streamlit/config.toml."""
    package = app_path().parent
    for path in (package / SHIPPED_CONFIG, package.parent / ".streamlit" / "config.toml"):
        if path.is_file():
            return path
    return None


def config_flags() -> list[str]:
    """The shipped Streamlit settings as ``--section.option value`` flags."""
    import tomllib

    path = config_path()
    if path is None:
        return []
    flags: list[str] = []

    def walk(prefix: str, table: dict) -> None:
        for key, value in table.items():
            name = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict):
                walk(name, value)
            elif prefix:  # top-level keys are not options
                for v in value if isinstance(value, list) else [value]:
                    flags.extend([f"--{name}", str(v).lower() if isinstance(v, bool) else str(v)])

    walk("", tomllib.loads(path.read_text(encoding="utf-8")))
    return flags


def command(args) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(app_path()), *config_flags(),
            "--server.port", str(args.port), "--server.address", args.address]


def run(args) -> int:
    if getattr(args, "open", None):
        from dq_core.signals.compute_output import check_compute_output

        check_compute_output(args.open)  # a bad folder stops here with `error: ...`, before the server starts
        os.environ["DQ_OPEN"] = str(Path(args.open).resolve())  # read by the app (dq_app.ui.given_inputs.open_on_start)
    cmd = command(args)
    # exec (not a child process) so a signal to `dq app` reaches the server and frees the port. The working
    # directory stays the user's: the workspace (DQ_HOME, default ./.dq) lives where they started it.
    os.execv(sys.executable, cmd)
    return 0  # pragma: no cover - execv does not return
