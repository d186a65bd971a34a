"""The settings module (dq_core/settings.py): every ``DQ_*`` variable declared once, read when used, one error
style for a bad value, the only reader of ``DQ_*`` in the environment, and the source of the README's tables."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dq_core import settings
from dq_core.cli import main
from dq_core.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([p for d in ("dq_core", "dq_app") for p in (ROOT / d).rglob("*.py")] + [ROOT / "app.py"])
NAME = re.compile(r"\bDQ_[A-Z0-9_]*[A-Z0-9]")
BAD = {"int": "lots", "flag": "maybe", "choice": "nonesuch", "pause": "fit"}


def _env_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, name) of every read of a ``DQ_*`` variable from the environment: ``os.environ.get("DQ_X")``,
    ``os.getenv("DQ_X")``, ``os.environ["DQ_X"]`` (not an assignment) and ``"DQ_X" in os.environ``."""

    def is_environ(node: ast.AST) -> bool:
        return (isinstance(node, ast.Attribute) and node.attr == "environ") or \
            (isinstance(node, ast.Name) and node.id == "environ")

    def dq(node: ast.AST | None) -> str | None:
        ok = isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("DQ_")
        return node.value if ok else None

    found = []
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Call) and node.args:
            f = node.func
            if (isinstance(f, ast.Attribute) and f.attr in ("get", "pop", "setdefault") and is_environ(f.value)) \
                    or (isinstance(f, ast.Attribute | ast.Name) and getattr(f, "attr", getattr(f, "id", "")) == "getenv"):
                key = dq(node.args[0])
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and is_environ(node.value):
            key = dq(node.slice)
        elif isinstance(node, ast.Compare) and any(is_environ(c) for c in node.comparators):
            key = dq(node.left)
        if key:
            found.append((node.lineno, key))
    return found


def test_every_dq_name_in_the_code_is_declared():
    unknown = {}
    for path in SOURCES:
        for name in set(NAME.findall(path.read_text(encoding="utf-8"))) - set(settings.SETTINGS):
            unknown.setdefault(name, []).append(str(path.relative_to(ROOT)))
    assert not unknown, f"DQ_* names used but not declared in dq_core/settings.py: {unknown}"


def test_only_the_settings_module_reads_dq_variables():
    reads = [f"{path.relative_to(ROOT)}:{line}: {name}"
             for path in SOURCES if path.name != "settings.py" or path.parent.name != "dq_core"
             for line, name in _env_reads(ast.parse(path.read_text(encoding="utf-8")))]
    assert not reads, "read DQ_* through dq_core.settings.get instead:\n" + "\n".join(reads)


def test_the_reader_check_sees_each_form():
    src = ("import os\nfrom os import environ\na = os.environ.get('DQ_A', '')\nb = os.getenv('DQ_B')\n"
           "c = os.environ['DQ_C']\nd = 'DQ_D' in os.environ\ne = environ.get('DQ_E')\n"
           "os.environ['DQ_F'] = '1'\nenv = {}\nenv['DQ_G'] = '1'\nh = os.environ.get('HF_HUB_OFFLINE')\n")
    assert sorted(n for _, n in _env_reads(ast.parse(src))) == ["DQ_A", "DQ_B", "DQ_C", "DQ_D", "DQ_E"]


def test_the_readme_tables_are_rendered_from_the_module():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert settings.render_readme(readme) == readme, \
        "README.md's settings tables differ from dq_core/settings.py: run `python -m dq_core.settings README.md`"
    groups = settings.readme_groups(readme)
    public = {s.group for s in settings.SETTINGS.values() if not s.internal}
    assert sorted(groups) == sorted(public), "each group of public settings has exactly one table"
    for s in settings.SETTINGS.values():
        assert (f"| `{s.name}` |" in readme) is (not s.internal), s.name


@pytest.mark.parametrize("name", sorted(settings.SETTINGS))
def test_each_declaration_is_complete(name):
    s = settings.SETTINGS[name]
    assert s.name == name and s.kind in settings.KINDS and s.help and s.group in settings.GROUPS + ("internal",)
    assert s.internal is (s.group == "internal")
    if s.kind == "choice":
        assert s.choices and s.default in s.choices
    if s.kind == "int":
        assert s.minimum is not None and (s.default is None or s.default >= s.minimum)
    if s.default is None:
        assert s.shown_default or s.internal, "an unset default says in words what happens"


@pytest.mark.parametrize("name", sorted(n for n, s in settings.SETTINGS.items() if s.kind in BAD))
def test_a_bad_value_is_one_clear_error(name, monkeypatch):
    s = settings.SETTINGS[name]
    monkeypatch.setenv(name, BAD[s.kind])
    with pytest.raises(DataError) as err:
        settings.get(name)
    assert str(err.value) == f"{name}={BAD[s.kind]!r} must be {s.expected()}"


def test_values_are_read_when_used(monkeypatch):
    monkeypatch.delenv("DQ_MAX_ROWS", raising=False)
    assert settings.get("DQ_MAX_ROWS") == 2_000_000
    monkeypatch.setenv("DQ_MAX_ROWS", " 1_000 ")
    assert settings.get("DQ_MAX_ROWS") == 1000
    monkeypatch.setenv("DQ_MAX_ROWS", "")  # empty counts as unset
    assert settings.get("DQ_MAX_ROWS") == 2_000_000
    monkeypatch.setenv("DQ_MAX_ROWS", "0")
    with pytest.raises(DataError, match=r"DQ_MAX_ROWS='0' must be a positive whole number"):
        settings.get("DQ_MAX_ROWS")


def test_each_kind_parses(monkeypatch, tmp_path):
    for raw, want in (("1", True), ("ON", True), ("yes", True), ("0", False), ("false", False), ("Off", False)):
        monkeypatch.setenv("DQ_SESSION_SCRATCH", raw)
        assert settings.get("DQ_SESSION_SCRATCH") is want
    monkeypatch.delenv("DQ_SESSION_SCRATCH")
    assert settings.get("DQ_SESSION_SCRATCH") is False and settings.get("DQ_WARM_UMAP") is False  # conftest: 0
    monkeypatch.delenv("DQ_WARM_UMAP")
    assert settings.get("DQ_WARM_UMAP") is True
    monkeypatch.setenv("DQ_EMBED_PRECISION", " BFloat16 ")
    assert settings.get("DQ_EMBED_PRECISION") == "bfloat16"
    monkeypatch.setenv("DQ_HOME", str(tmp_path / "ws"))
    assert settings.get("DQ_HOME") == tmp_path / "ws"
    monkeypatch.delenv("DQ_HOME")
    monkeypatch.chdir(tmp_path)
    assert settings.get("DQ_HOME") == tmp_path / ".dq"  # a relative default resolves against the working dir
    assert settings.get("DQ_MODELS_DIR") is None and settings.get("DQ_EMBED_THREADS") is None
    monkeypatch.setenv("DQ_WORKER_PAUSE", "fit:5000")
    assert settings.get("DQ_WORKER_PAUSE") == ("fit", 600.0)
    monkeypatch.setenv("DQ_FRAME_ANCESTORS", " 'self' https://intranet.example ")
    assert settings.get("DQ_FRAME_ANCESTORS") == "'self' https://intranet.example"


def test_the_cli_prints_a_bad_value_as_one_error_line(monkeypatch, capsys, tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("text,label\na,x\nb,y\n", encoding="utf-8")
    monkeypatch.setenv("DQ_MAX_ROWS", "lots")
    assert main(["profile", str(data)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: DQ_MAX_ROWS='lots' must be a positive whole number"


def test_a_child_process_reads_the_inherited_value(monkeypatch):
    """Job workers inherit the environment: the value they read is the one the parent set."""
    monkeypatch.setenv("DQ_MAX_TRAINING_RUNS", "3")
    out = subprocess.run([sys.executable, "-c", "from dq_core import settings; print(settings.get('DQ_MAX_TRAINING_RUNS'))"],
                         capture_output=True, text=True, check=True, cwd=ROOT, timeout=60)
    assert out.stdout.strip() == "3"
