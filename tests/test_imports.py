"""dq_core never imports streamlit: the CLI, jobs and reports must run without the UI stack."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(code: str) -> dict:
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_import_dq_core_does_not_import_streamlit():
    out = _run("import json, sys, dq_core; "
               "print(json.dumps({'st': [m for m in sys.modules if m.split('.')[0] == 'streamlit']}))")
    assert out == {"st": []}


def test_no_dq_core_module_imports_streamlit():
    # Every module, found by walking the package, imported in one fresh interpreter.
    code = """
import importlib, json, pkgutil, sys, traceback
import dq_core
names, failed = [], {}
for info in pkgutil.walk_packages(dq_core.__path__, prefix="dq_core."):
    names.append(info.name)
    try:
        importlib.import_module(info.name)
    except Exception:
        failed[info.name] = traceback.format_exc(limit=3)
st = sorted(m for m in sys.modules if m.split(".")[0] == "streamlit")
print(json.dumps({"names": names, "failed": failed, "st": st}))
"""
    out = _run(code)
    assert out["st"] == [], f"streamlit was imported by dq_core: {out['st'][:5]}"
    assert out["failed"] == {}, out["failed"]
    # the walk really covered the package (guards against an empty walk passing vacuously)
    for name in ("dq_core.data.io", "dq_core.data.dataset", "dq_core.data.workspace", "dq_core.viz.overview", "dq_core.cli",
                 "dq_core.metrics.balance", "dq_core.metrics.profile", "dq_core.commands.profile"):
        assert name in out["names"]


def test_dashboard_is_outside_dq_core():
    """The reverse direction: nothing in dq_core imports the dashboard package (dq_app)."""
    offenders = []
    for path in (ROOT / "dq_core").rglob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            s = line.strip()
            if s.startswith(("import streamlit", "from streamlit", "from dq_app", "import dq_app")):
                offenders.append(f"{path.relative_to(ROOT)}: {s}")
    assert offenders == []
