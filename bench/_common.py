"""What every benchmark script shares: the machine it ran on, the load, and writing its docs section.

The scripts run as ``python bench/<name>.py``, so this folder is first on ``sys.path`` and
``from _common import ...`` finds this module.
"""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
EMPTY_DOC = "# Benchmarks\n\nFigures from the scripts in bench/.\n"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    return (f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu_name()}, "
            f"Python {platform.python_version()}")


def load_avg() -> str:
    """The 1-, 5- and 15-minute load averages: the machine is shared, so every figure notes them."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _section_re(heading: str) -> re.Pattern:
    return re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)


def _write_doc(text: str) -> Path:
    DOC.parent.mkdir(parents=True, exist_ok=True)
    tmp = DOC.with_suffix(f".md.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, DOC)
    return DOC


def write_section(heading: str, text: str) -> Path:
    """Replace (or append) the ``heading`` section of docs/benchmarks.md, leaving the others alone.

    The file is read just before writing, so sections other benchmarks wrote meanwhile are kept.
    """
    old = DOC.read_text() if DOC.exists() else EMPTY_DOC
    pattern = _section_re(heading)
    new = pattern.sub(lambda _: text, old) if pattern.search(old) else old.rstrip("\n") + "\n\n" + text
    return _write_doc(new)


def write_subsection(heading: str, intro: str, title: str, body: str) -> Path:
    """Replace (or add) ``### title`` inside the ``heading`` section (created with ``intro`` if missing)."""
    old = DOC.read_text() if DOC.exists() else EMPTY_DOC
    m = _section_re(heading).search(old)
    section = m.group(0) if m else f"{heading}\n\n{intro}\n"
    sub = f"### {title}\n\n{body.rstrip()}\n\n"
    sub_re = re.compile(rf"^### {re.escape(title)}\n.*?(?=^### |^## |\Z)", re.S | re.M)
    section = sub_re.sub(lambda _: sub, section) if sub_re.search(section) else section.rstrip("\n") + "\n\n" + sub
    new = (old[:m.start()] + section + old[m.end():]) if m else old.rstrip("\n") + "\n\n" + section
    return _write_doc(new)
