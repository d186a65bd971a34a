"""`dq app`: start the Streamlit dashboard, from a source checkout or from an installed wheel.

The wheel ships the scripts as top-level modules beside the ``app_pages`` and ``ui`` packages, since
Streamlit resolves page paths such as "app_pages/load.py" against the script's folder:
``dq_dashboard_app`` (app.py: navigation and sidebar) and ``dq_dashboard_serve`` (serve.py: the same app
behind security headers, what this command runs). In the checkout both names are links to those files.
The Streamlit settings (.streamlit/config.toml, shipped as ui/streamlit_config.toml) are passed as flags,
since Streamlit reads a config file only from the working directory or the script's folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dq_core.errors import DataError

APP_MODULE = "dq_dashboard_app"  # the pages' entry script
SERVE_MODULE = "dq_dashboard_serve"  # the same app behind security headers: what `dq app` serves


def add_parser(sub) -> None:
    p = sub.add_parser("app", help="start the dashboard",
                       description="Start the dashboard (a Streamlit server). Its workspace is DQ_HOME "
                       "(default ./.dq in the folder you start it from).")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="localhost")
    p.add_argument("--open", metavar="DIR", help="open a `dq compute --out` folder (rows, vectors, signals) on start")
    p.set_defaults(func=run)


def app_path(module: str = APP_MODULE) -> Path:
    """A dashboard script next to the dq_core package, in site-packages or in the checkout."""
    import dq_core

    path = Path(dq_core.__file__).resolve().parent.parent / f"{module}.py"
    if not path.exists() or not (path.parent / "app_pages").is_dir():
        raise DataError(f"the dashboard's script {path.name} (and app_pages/) is not installed next to "
                        f"dq_core in {path.parent}; reinstall dq-dashboard")
    return path


def config_flags() -> list[str]:
    """The shipped Streamlit settings as ``--section.option value`` flags."""
    import tomllib
    from importlib import resources

    try:
        text = (resources.files("ui") / "streamlit_config.toml").read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError):
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

    walk("", tomllib.loads(text))
    return flags


def command(args) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(app_path(SERVE_MODULE)), *config_flags(),
            "--server.port", str(args.port), "--server.address", args.address]


def run(args) -> int:
    if getattr(args, "open", None):
        from dq_core.signals.compute_output import check_compute_output

        check_compute_output(args.open)  # a bad folder stops here with `error: ...`, before the server starts
        os.environ["DQ_OPEN"] = str(Path(args.open).resolve())  # read by the app (ui.given_inputs.open_on_start)
    cmd = command(args)
    # exec (not a child process) so a signal to `dq app` reaches the server and frees the port. The working
    # directory stays the user's: the workspace (DQ_HOME, default ./.dq) lives where they started it.
    os.execv(sys.executable, cmd)
    return 0  # pragma: no cover - execv does not return
