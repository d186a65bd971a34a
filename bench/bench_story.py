"""`dq story` on the tweets demo: build_story + write_story for two baseline runs, against rendering `dq report`
of the same runs (the plain baseline), caches warm; and the story's size on disk.

No model is loaded: the two runs are `dq train --trainer baseline --embeddings V.npy`, V being TF-IDF + SVD
vectors of the demo's texts (computed here once), so the bench stays in a few minutes on 2 shared cores.

    DQ_HOME=.dq-bench .venv/bin/python bench/bench_story.py
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from _common import ROOT, load_avg, machine, write_section

sys.path.insert(0, str(ROOT))

WORK = ROOT / "bench" / "out" / "story"  # runs, vectors and outputs: ignored by git
HEADING = "## Story: dq story on the tweets demo"
REPEATS = 3


def _cli(*args) -> None:
    from dq_core.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main([str(a) for a in args])
    if code:
        raise SystemExit(f"dq {' '.join(map(str, args))} failed ({code}): {err.getvalue()[-2000:]}")


def _vectors(ds) -> Path:
    """TF-IDF + SVD vectors of the demo's texts, float32, one row per row (a stand-in for the embedding model)."""
    import numpy as np
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    path = WORK / f"tfidf_svd_{ds.fingerprint[:12]}.npy"
    if not path.exists():
        x = TfidfVectorizer(max_features=20000, sublinear_tf=True).fit_transform(ds.texts.fillna(""))
        np.save(path, TruncatedSVD(128, random_state=0).fit_transform(x).astype("float32"))
    return path


def _pair_vectors(ds, ref) -> tuple[Path, Path]:
    """TF-IDF + SVD vectors of the dataset and its reference in one space (fitted on both), for the full story."""
    import numpy as np
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    a, b = WORK / f"pair_{ds.fingerprint[:12]}.npy", WORK / f"pair_{ref.fingerprint[:12]}.npy"
    if not (a.exists() and b.exists()):
        texts = list(ds.texts.fillna("")) + list(ref.texts.fillna(""))
        z = TruncatedSVD(128, random_state=0).fit_transform(
            TfidfVectorizer(max_features=20000, sublinear_tf=True).fit_transform(texts)).astype("float32")
        np.save(a, z[:len(ds)])
        np.save(b, z[len(ds):])
    return a, b


def _full_story(ds, ref, runs):
    """The whole story: reference (coverage, map, shift), the default recipe with its signals, two runs."""
    from dq_core.data.workspace import Workspace
    from dq_core.space.given import load_embeddings_file
    from dq_core.story import build_story

    a, b = _pair_vectors(ds, ref)
    emb = (load_embeddings_file(a, len(ds)), load_embeddings_file(b, len(ref), what="--reference-embeddings",
                                                                  rows_of="the reference"))
    from dq_core.filtering import load_recipe, resolve_recipe

    ws, recipe = Workspace.default(), load_recipe(resolve_recipe("default"))
    return lambda: build_story(ds, ref, recipe=recipe, runs=runs, embeddings=emb, workspace=ws)


def _runs(vectors: Path) -> list[Path]:
    runs = []
    for name, c in (("C=0.1", "0.1"), ("C=1", "1.0")):
        out = WORK / f"run_c{c}"
        if not (out / "metrics.json").exists():
            _cli("train", "demo:tweets", "--trainer", "baseline", "--embeddings", vectors, "--c", c,
                 "--name", name, "--out", out, "--overwrite", "--quiet")
        runs.append(out)
    return runs


def _timed(fn) -> list[float]:
    fn()  # warm: imports, plotly.js read, templates compiled
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def main() -> None:
    from dq_core.data.io import load_dataset
    from dq_core.report import write_report
    from dq_core.story import build_story, write_story

    WORK.mkdir(parents=True, exist_ok=True)
    load_before = load_avg()
    t0 = time.perf_counter()
    ds = load_dataset("demo:tweets")[0]
    ref = load_dataset("demo:tweets_airline")[0]  # another tweet corpus as the reference
    runs = _runs(_vectors(ds))
    setup_s = time.perf_counter() - t0
    story_out, report_out = WORK / "story.html", WORK / "report.html"
    story_t = _timed(lambda: write_story(build_story(ds, runs=runs), story_out))
    report_t = _timed(lambda: write_report(runs, "html", report_out))
    full_out = WORK / "story_full.html"
    build_full = _full_story(ds, ref, runs)
    t1 = time.perf_counter()
    write_story(build_full(), full_out)  # cold: computes the signals once (the pages' cache afterwards)
    full_cold = time.perf_counter() - t1
    full_t = _timed(lambda: write_story(build_full(), full_out))
    res = {"n_rows": len(ds), "n_ref_rows": len(ref), "runs": [r.name for r in runs], "story_s": story_t,
           "report_s": report_t, "full_story_cold_s": full_cold, "full_story_s": full_t,
           "full_story_bytes": full_out.stat().st_size,
           "story_bytes": story_out.stat().st_size, "report_bytes": report_out.stat().st_size,
           "setup_s": setup_s, "load_before": load_before, "load_after": load_avg(), "machine": machine(),
           "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
    (ROOT / "bench" / "results" / "issue23_story.json").write_text(json.dumps(res, indent=1))
    write_section(HEADING, _doc(res))
    print(json.dumps(res, indent=1))


def _doc(r: dict) -> str:
    s, p = statistics.median(r["story_s"]), statistics.median(r["report_s"])
    fmt = ", ".join
    return f"""{HEADING}

Measured {r['date']} on {r['machine']} (a 2-core CPU shared with other work); load average (1, 5, 15 min)
{r['load_before']} before → {r['load_after']} after.

Command: `DQ_HOME=.dq-bench .venv/bin/python bench/bench_story.py` (raw results in bench/results/issue23_story.json)

Data: `demo:tweets`, all {r['n_rows']:,} rows. Two runs, `dq train demo:tweets --trainer baseline --c 0.1` and
`--c 1`, each on `--embeddings` TF-IDF + SVD vectors (128 dims, computed by the script: no embedding model is
loaded, so the bench fits in a few minutes; the story's work does not depend on where the vectors came from).
First without reference, recipe or signals: the story has its summary, data at a glance, the two runs (metrics, paired
bootstrap, confusion and reliability figures) and provenance. Setup (load, vectors, two runs) took
{r['setup_s']:.0f} s, not counted below. Caches warm: one untimed run first, then {REPEATS} timed repeats.

| what | times (s) | median (s) | file on disk |
|---|---|---|---|
| `build_story` + `write_story` (.html) | {fmt(f'{t:.2f}' for t in r['story_s'])} | {s:.2f} | {r['story_bytes'] / 1e6:.2f} MB |
| baseline: `write_report` of the same runs (`dq report A B --out report.html`) | {fmt(f'{t:.2f}' for t in r['report_s'])} | {p:.2f} | {r['report_bytes'] / 1e6:.2f} MB |
| ratio story / report | | {s / p:.1f}× | {r['story_bytes'] / r['report_bytes']:.1f}× |

The story does more than the report (the data profile over all {r['n_rows']:,} rows, the class balance figure,
the summary paragraph); both inline plotly.js once (about 4.8 MB), which is nearly all of either file.

The whole story: the same data with `demo:tweets_airline` as the reference ({r['n_ref_rows']:,} rows: coverage, the map of at most
5,000 points, shift with its intervals), the default recipe with the signals it needs (computed from the same
stand-in vectors, `embeddings=` given) and the two runs. The first build computes the signals and fills the
workspace cache the pages share; the timed ones read it warm.

| what | times (s) | median (s) | file on disk |
|---|---|---|---|
| whole story, cold (signals computed) | {r['full_story_cold_s']:.1f} | | |
| whole story, warm (`build_story` + `write_story`) | {fmt(f'{t:.2f}' for t in r['full_story_s'])} | {statistics.median(r['full_story_s']):.2f} | {r['full_story_bytes'] / 1e6:.2f} MB |
"""


if __name__ == "__main__":
    os.environ.setdefault("DQ_HOME", str(ROOT / ".dq-bench"))
    main()
