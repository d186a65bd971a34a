"""Benchmark: the exact-duplicate text rule in plain Python against a vectorised Arrow pipeline, at 100k and
1M rows, in the same run (the machine is shared: read the ratio).

    .venv/bin/python bench/bench_text_rule.py [--rows 100000,1000000] [--repeats 3] [--no-write]

Rows are the tweets demo resampled (with the case changed on some rows, so there are duplicates to find).
Timed per size, best of ``--repeats``: ``normalize_for_duplicates`` (what every duplicate count uses) and
``word_counts``, each against the Arrow pipeline (utf8_lower, utf8_split_whitespace; dq_core does not use
it, see dq_core/util/text.py for why), kept here as the yardstick only. Both give the same texts on these rows (checked). Results go to docs/benchmarks.md under
"## Profile: the duplicate text rule in plain Python".
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from _common import load_avg, machine, write_section

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HEADING = "## Profile: the duplicate text rule in plain Python"


def arrow_words(texts):
    """The pre-issue-20 pipeline: utf8_lower, utf8_split_whitespace, drop empty words by a mask."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(texts.fillna("").to_numpy(dtype=object), type=pa.large_string())
    parts = pc.utf8_split_whitespace(pc.utf8_lower(arr))
    flat = pc.list_flatten(parts)
    parents = np.array(pc.list_parent_indices(parts).to_numpy(zero_copy_only=False), dtype=np.int64)
    keep = pc.greater(pc.binary_length(flat), 0)
    counts = np.bincount(parents[keep.to_numpy(zero_copy_only=False)], minlength=len(arr)).astype(np.int64)
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]), type=pa.int64())
    return pa.LargeListArray.from_arrays(offsets, flat.filter(keep)), counts


def arrow_normalize(texts):
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    words, _ = arrow_words(texts)
    joined = pc.binary_join(words, pa.scalar(" ", pa.large_string()))
    return pd.Series(joined.to_numpy(zero_copy_only=False), index=texts.index, dtype="string")


def make_texts(n: int, seed: int = 0):
    import numpy as np
    import pandas as pd

    from dq_core.data.io import load_demo

    ds, _ = load_demo("tweets")
    rng = np.random.default_rng(seed)
    texts = ds.texts.to_numpy(dtype=object)[rng.integers(0, len(ds), n)]
    upper = rng.random(n) < 0.1
    texts[upper] = [t.upper() for t in texts[upper]]
    return pd.Series(texts, dtype="string")


def best_of(fn, repeats: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default="100000,1000000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    from dq_core.util.text import normalize_for_duplicates, word_counts

    loads = [load_avg()]
    lines = []
    for n in (int(x) for x in args.rows.split(",")):
        texts = make_texts(n)
        t_py, norm_py = best_of(lambda t=texts: normalize_for_duplicates(t), args.repeats)
        t_ar, norm_ar = best_of(lambda t=texts: arrow_normalize(t), args.repeats)
        same = bool((norm_py.to_numpy(dtype=object) == norm_ar.to_numpy(dtype=object)).all())
        w_py, wc_py = best_of(lambda t=texts: word_counts(t), args.repeats)
        w_ar, wc_ar = best_of(lambda t=texts: arrow_words(t)[1], args.repeats)
        same_w = bool((wc_py == wc_ar).all())
        loads.append(load_avg())
        lines.append(f"| {n:,} | {t_py:.2f} | {t_ar:.2f} | {t_ar / t_py:.2f}x | {w_py:.2f} | {w_ar:.2f} | "
                     f"{w_ar / w_py:.2f}x | {'yes' if same and same_w else 'NO'} |")
        print(lines[-1], flush=True)
    text = (
        f"{HEADING}\n\n"
        f"- Date: {dt.date.today().isoformat()}; machine: {machine()}; load (1/5/15 min) before and after each "
        f"size: {' -> '.join(loads)}\n"
        f"- Command: `.venv/bin/python bench/bench_text_rule.py --rows {args.rows} --repeats {args.repeats}`\n"
        "- Seconds, best of the repeats; ratio > 1 means the plain-Python rule is faster than the Arrow "
        "pipeline it replaced (issue 20: its utf8_split_whitespace reads a byte past its buffer, and with a "
        "stale byte there a trailing space stayed in a word, splitting a duplicate group).\n\n"
        "| rows | normalise: Python (s) | normalise: Arrow (s) | Arrow / Python | words: Python (s) | "
        "words: Arrow (s) | Arrow / Python | same result |\n|---|---|---|---|---|---|---|---|\n"
        + "\n".join(lines) + "\n"
    )
    if not args.no_write:
        print(f"written to {write_section(HEADING, text)}")


if __name__ == "__main__":
    main()
