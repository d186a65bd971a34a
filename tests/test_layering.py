"""The house rules of dq_core, checked on the source with ``ast`` (imports inside functions included).

Folders follow the pipeline: util < data < space < metrics < signals < filtering < training < viz < report.
A module may import its own folder, ``dq_core.errors`` and the folders before its own; ``cli`` and
``commands/`` sit on top and may import anything. Nothing in dq_core imports Streamlit or the
dashboard (``dq_app``); no ``_private`` name is imported across folders; no import cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "dq_core"
ORDER = ("util", "data", "space", "metrics", "signals", "filtering", "training", "viz", "report", "story")
TOP = ("cli", "commands", "__main__")  # the command line: may use every folder
SHARED = ("errors", "settings", "__init__")  # importable from every folder; they import no layer
FORBIDDEN_ROOTS = ("streamlit", "dq_app")
MAX_LINES = 450


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


MODULES = _modules()


def _folder(module: str) -> str:
    """The layer a dq_core module belongs to: its first component under dq_core (or the root file name)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> list[tuple[str, list[str], int, bool]]:
    """(imported module, names taken from it, line, at module level) for every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    top_level = {id(n) for n in tree.body}
    # imports under `if TYPE_CHECKING:` or `try:` at module level still run at import time
    for n in tree.body:
        if isinstance(n, ast.If | ast.Try):
            top_level |= {id(c) for c in ast.walk(n)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                out.append((a.name, [], node.lineno, id(node) in top_level))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            names = [a.name for a in node.names]
            # `from dq_core.space import embed` imports the module dq_core.space.embed
            subs = [f"{base}.{n}" for n in names if f"{base}.{n}" in MODULES]
            if subs and len(subs) == len(names):
                out += [(s, [], node.lineno, id(node) in top_level) for s in subs]
                # ... but it also reads the package `base` itself: from inside that package, this is an edge
                # back to a package __init__ that may still be importing the caller.
                if module.startswith(base + "."):
                    out.append((base, [], node.lineno, id(node) in top_level))
            else:
                out.append((base, names, node.lineno, id(node) in top_level))
    return out


def _allowed(src_folder: str, dst_folder: str) -> bool:
    if dst_folder in SHARED or src_folder == dst_folder or src_folder in TOP:
        return True
    if src_folder in SHARED:  # dq_core/__init__.py, errors.py and settings.py import nothing of the layers
        return False
    if dst_folder in TOP:
        return False
    return ORDER.index(dst_folder) < ORDER.index(src_folder)


def test_every_folder_is_a_known_layer():
    folders = {_folder(m) for m in MODULES if m != "dq_core"}
    unknown = folders - set(ORDER) - set(TOP) - set(SHARED)
    assert not unknown, f"dq_core has modules outside the layers {ORDER}: {sorted(unknown)}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_follow_the_pipeline_order(module):
    src = _folder(module) if module != "dq_core" else "__init__"
    bad = []
    for target, names, line, _ in _imports(MODULES[module]):
        root = target.split(".")[0]
        if root in FORBIDDEN_ROOTS:
            bad.append(f"line {line}: imports {target} (dq_core never imports the UI)")
            continue
        if root != "dq_core" or target == "dq_core":
            continue
        dst = _folder(target)
        if not _allowed(src, dst):
            bad.append(f"line {line}: {src}/ imports {target} ({dst}/ comes later in the pipeline)")
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        if private and dst != src:
            bad.append(f"line {line}: imports private {private} from another folder ({target})")
    assert not bad, f"{module}:\n" + "\n".join(bad)


def test_no_import_cycle_between_modules():
    """Every import counts, those inside functions too: a deferred import hides a cycle, it does not
    remove it. A submodule that imports its own package's __init__ closes a cycle through the
    package's re-exports, so siblings import each other directly."""
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        deps = set()
        for target, _, _, _ in _imports(path):
            if not target.startswith("dq_core"):
                continue
            # importing a package runs its __init__: that is the edge that matters
            while target not in MODULES and "." in target:
                target = target.rpartition(".")[0]
            if target not in (module, "dq_core"):
                deps.add(target)
        graph[module] = deps
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                return stack[stack.index(d):] + [d]
            if d not in state and (cycle := visit(d)):
                return cycle
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (cycle := visit(m)):
            pytest.fail("import cycle: " + " -> ".join(cycle))


def test_files_stay_small():
    """One job per module: a file past the limit is doing several (pages have a tighter limit)."""
    too_long = []
    for folder, limit in (("dq_core", MAX_LINES), ("dq_app/ui", MAX_LINES), ("dq_app/app_pages", 250)):
        for p in sorted((ROOT / folder).rglob("*.py")):
            n = sum(1 for _ in p.open(encoding="utf-8"))
            if n > limit:
                too_long.append(f"{p.relative_to(ROOT)}: {n} lines (limit {limit})")
    assert not too_long, "\n".join(too_long)


def test_the_checker_sees_a_violation(tmp_path):
    """Guards the walk itself: a late-folder import inside a function of an early folder is caught."""
    probe = PACKAGE / "util" / "_layering_probe.py"
    probe.write_text("def f():\n    from dq_core.training import jobs\n    return jobs\n", encoding="utf-8")
    try:
        found = _imports(probe)
    finally:
        probe.unlink()
    assert found == [("dq_core.training.jobs", [], 2, False)]
    assert not _allowed("util", _folder("dq_core.training.jobs"))
