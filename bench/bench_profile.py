"""Benchmark: `dq profile` on 100k rows, and the Overview page render after the first load.

    .venv/bin/python bench/bench_profile.py [--rows 100000] [--no-write]

1. `dq profile` on 100k rows: the tweets demo resampled to 100k rows with small text noise (so the
   duplicate search has real work), written to a temporary Parquet file. The command runs as a user
   runs it (a fresh `dq` process each time); the first run warms the OS file cache, the second is the
   figure reported (target < 3 s).
2. The Overview page of the demo in a Streamlit AppTest: the first run loads the demo and profiles it;
   the figure reported is the second run of the same session (a rerun, target < 2 s). A fresh session
   opened on the same URL (a browser reload) is timed as well.

Results go to docs/benchmarks.md under "## Profile: dq profile and the Overview page" (that section only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import machine, write_section

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HEADING = "## Profile: dq profile and the Overview page"
PROFILE_TARGET_S = 3.0
OVERVIEW_TARGET_S = 2.0



def make_noisy_tweets(path: Path, n_rows: int, seed: int = 0) -> None:
    """The tweets resampled to ``n_rows`` with small text noise: some rows stay exact copies."""
    import numpy as np
    import pandas as pd

    from dq_core.data.io import load_demo

    ds, _ = load_demo("tweets")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(ds), n_rows)
    texts = ds.texts.to_numpy(dtype=object)[idx]
    noise = rng.random(n_rows)
    suffixes = np.array([" !", " #travel", " :)", " lol", " ..."])
    out = []
    for t, r, s in zip(texts, noise, rng.integers(0, len(suffixes), n_rows), strict=True):
        if r < 0.35:
            t = f"{t}{suffixes[s]}"
        elif r < 0.5:
            t = f"RT {t}"
        elif r < 0.6:
            t = t.upper()  # a case-only change: still an exact duplicate after normalisation
        out.append(t)
    frame = pd.DataFrame({"text": out, "sentiment": ds.labels.to_numpy()[idx],
                          "confidence": ds.frame["confidence"].to_numpy()[idx]})
    frame.to_parquet(path, index=False)


def time_profile(path: Path, runs: int = 3) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (user+sys of the child) seconds of each `dq profile` run."""
    import resource

    cmd = [str(ROOT / ".venv" / "bin" / "dq"), "profile", str(path)]
    if not Path(cmd[0]).exists():
        cmd = [sys.executable, "-m", "dq_core.cli", "profile", str(path)]
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if r.returncode != 0:
            raise SystemExit(f"dq profile failed: {r.stderr}")
    return walls, cpus


def time_overview() -> dict[str, float]:
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as home:
        os.environ["DQ_HOME"] = home
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        t0 = time.perf_counter()
        at.run()
        first = time.perf_counter() - t0
        assert not at.exception, at.exception
        assert [t.value for t in at.title] == ["📊 Overview"], "the app did not open on the overview"
        t0 = time.perf_counter()
        at.run()
        second = time.perf_counter() - t0
        t0 = time.perf_counter()
        at.run()
        third = time.perf_counter() - t0
        reload = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        reload.query_params.update(at.query_params)
        t0 = time.perf_counter()
        reload.run()
        fresh = time.perf_counter() - t0
        assert [t.value for t in reload.title] == ["📊 Overview"]
    return {"first": first, "second": second, "third": third, "reload": fresh}



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--no-write", action="store_true", help="print only, do not update docs/benchmarks.md")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / f"tweets_{args.rows}.parquet"
        make_noisy_tweets(data, args.rows)
        load_before = os.getloadavg()[0]
        prof, prof_cpu = time_profile(data)
    ov = time_overview()
    load_after = os.getloadavg()[0]

    warm = prof[1]
    ok = lambda v, target: "met" if v < target else "MISSED"  # noqa: E731
    text = f"""{HEADING}

- Date: {dt.date.today().isoformat()}
- Machine: {machine()}
- Command: `.venv/bin/python bench/bench_profile.py` (rows={args.rows:,})
- 1-min load average before / after: {load_before:.1f} / {load_after:.1f} (the machine is shared; wall
  times stretch with load, CPU times do not)

| measurement | seconds | target |
|---|---|---|
| `dq profile` on {args.rows:,} rows (Parquet), warm (2nd run) | {warm:.2f} | < {PROFILE_TARGET_S:.0f} s ({ok(warm, PROFILE_TARGET_S)}) |
| `dq profile` runs 1 / 2 / 3 | {' / '.join(f'{t:.2f}' for t in prof)} | |
| `dq profile` CPU time (user+sys) runs 1 / 2 / 3 | {' / '.join(f'{t:.2f}' for t in prof_cpu)} | |
| Overview page (tweets demo), first load (loads + stores the demo, profiles it) | {ov['first']:.2f} | |
| Overview page, after first load (2nd run of the session) | {ov['second']:.2f} | < {OVERVIEW_TARGET_S:.0f} s ({ok(ov['second'], OVERVIEW_TARGET_S)}) |
| Overview page, 3rd run | {ov['third']:.2f} | |
| Overview page, new session on the same URL (browser reload) | {ov['reload']:.2f} | |

`dq profile` is a fresh process each run (Python start-up and imports included). Overview timings
are Streamlit AppTest script runs in one process (no browser rendering); the dataset text is the
tweets demo resampled with small noise (suffixes, "RT " prefixes, upper-casing) by the script.

History: the first run of this benchmark missed the profile target (4.72 s warm, about 1.6 s CPU, at a
similar load): per-row Python `str.split` for the duplicate normalisation and again for the word counts
was two thirds of the work. `dq_core/util/text.py` now splits in Arrow (`utf8_split_whitespace`, same
whitespace as `str.split`) and `find_exact_duplicates` groups the normalised texts with `pd.factorize`
instead of hashing them first, which cut the CPU time to about 1 s, most of it Python start-up and the
pandas/pyarrow imports. Issue 20 replaced that Arrow split with plain Python: see
[Profile: the duplicate text rule in plain Python](#profile-the-duplicate-text-rule-in-plain-python).
"""
    print(text)
    if not args.no_write:
        print(f"written to {write_section(HEADING, text)}")


if __name__ == "__main__":
    main()
