"""One job per function in dq_core, checked on the source with ``ast``: a function (methods and nested
functions included) longer than MAX_FUNCTION_LINES is doing several jobs and should be split by purpose."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "dq_core"
MAX_FUNCTION_LINES = 80  # from the ``def`` line to the last line of the body, docstring included


def long_functions(source: str, limit: int = MAX_FUNCTION_LINES) -> list[tuple[int, str, int]]:
    """(line, name, length) for every function in ``source`` longer than ``limit`` lines."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            n = node.end_lineno - node.lineno + 1
            if n > limit:
                found.append((node.lineno, node.name, n))
    return sorted(found)


def test_no_function_in_dq_core_is_too_long():
    too_long = [f"{p.relative_to(ROOT).as_posix()}:{line} {name}() is {n} lines"
                for p in sorted(PACKAGE.rglob("*.py"))
                for line, name, n in long_functions(p.read_text(encoding="utf-8"))]
    assert not too_long, (f"{len(too_long)} function(s) in dq_core run over {MAX_FUNCTION_LINES} lines; "
                          "split each into helpers with one job each:\n" + "\n".join(too_long))


def test_the_checker_sees_a_long_nested_function():
    """Guards the walk itself: a nested function over the limit is reported (and so is its parent), a
    function at the limit is not."""
    body = "\n".join(f"        x{i} = {i}" for i in range(MAX_FUNCTION_LINES - 2))
    source = f"def outer():\n    def inner():\n{body}\n        return 0\n    return inner\n"
    assert long_functions(source) == [(1, "outer", MAX_FUNCTION_LINES + 2)]
    source = f"def outer():\n    def inner():\n{body}\n        return 0\n        return 1\n    return inner\n"
    assert long_functions(source) == [(1, "outer", MAX_FUNCTION_LINES + 3), (2, "inner", MAX_FUNCTION_LINES + 1)]
