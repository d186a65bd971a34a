"""Shared by the issue-5 benches: write one ``### sub-section`` of "## Issue 5: noisy rows" in docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import re
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Issue 5: noisy rows"
INTRO = ("Label issues, duplicates, outliers, junk, PII, leakage (dq_core/signals). Scripts: "
         "`bench/bench_noise.py` (label-issue quality vs cleanlab, Datalab and 10-NN) and "
         "`bench/bench_signals.py` (all signals on 100k rows).\n")


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs (nproc {os.cpu_count()}), {cpu or platform.processor()}, Python {platform.python_version()}"


def load() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "n/a"


def header(command: str, extra: str = "") -> str:
    return (f"- Date: {date.today().isoformat()}\n- Machine: {machine()}\n- Command: `{command}`\n"
            + (f"{extra}\n" if extra else ""))


def write_subsection(title: str, body: str) -> Path:
    """Replace (or add) ``### title`` inside the issue-5 section, leaving everything else alone."""
    path = ROOT / "docs" / "benchmarks.md"
    old = path.read_text() if path.exists() else "# Benchmarks\n\nFigures from the scripts in bench/.\n"
    sec_re = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.S | re.M)
    m = sec_re.search(old)
    section = m.group(0) if m else f"{HEADING}\n\n{INTRO}\n"
    sub = f"### {title}\n\n{body.rstrip()}\n\n"
    sub_re = re.compile(rf"^### {re.escape(title)}\n.*?(?=^### |^## |\Z)", re.S | re.M)
    section = sub_re.sub(lambda _: sub, section) if sub_re.search(section) else section.rstrip("\n") + "\n\n" + sub
    new = (old[:m.start()] + section + old[m.end():]) if m else old.rstrip("\n") + "\n\n" + section
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(new)
    os.replace(tmp, path)
    return path


def library_versions() -> str:
    """Library versions that matter for the comparison."""
    out = []
    for mod in ("cleanlab", "sklearn", "pynndescent"):
        try:
            m = __import__(mod)
            out.append(f"{mod} {m.__version__}")
        except Exception:  # noqa: BLE001
            pass
    return ", ".join(out)


__all__ = ["header", "library_versions", "load", "machine", "write_subsection"]
