"""Do the Overview and Clean pages stay usable at 1M rows? And all signals given embeddings at 1M.

Each step runs in a fresh process (peak RSS from ``os.wait4``, as bench_scale.py), on bench_scale.py's
synthetic data (float16 vectors on disk), in a workspace of its own under the data folder:

- ``signals``: the rows stored with their vectors as the user's own (``space.given.attach_given``, what the
  Load page and ``dq app --open`` do), then every default signal computed with ``compute_signals`` and cached
  under the key the Clean page asks for (no reference: leakage is skipped, as on a compute output);
- ``overview``: a Streamlit AppTest session opening that dataset by its link (``?ds=``), first render timed;
- ``clean``: the same session switched to Clean, which finds the cached signals and draws its sections.

    .venv/bin/python bench/bench_pages_scale.py --rows 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _common import load_avg, machine, write_section  # noqa: E402
from bench_scale import ensure_data, measure  # noqa: E402

HEADING = "## Load: the pages at 1M rows"
STEPS = ("signals", "overview", "clean")


def _workspace(d: Path):
    from dq_core.data.workspace import Workspace

    return Workspace(root=d / "pages_ws")


def _stored(d: Path):
    """The dataset with its vectors attached (stored once), and its workspace id."""
    from dq_core.data.io import load_dataset
    from dq_core.space.embed_cache import EmbeddingResult
    from dq_core.space.given import attach_given

    ws = _workspace(d)
    plain, _ = load_dataset(str(d / "data.parquet"), text_col="text", label_col="label")
    vec = np.load(d / "emb.npy", mmap_mode="r")
    emb = EmbeddingResult(vectors=vec, valid=np.ones(len(plain), bool), n_truncated=0, n_cached=len(plain),
                          n_computed=0, model_name="given:emb.npy", max_seq_length=0)
    ds = attach_given(plain, workspace=ws, embeddings=emb, source="emb.npy")
    return ws, ds, ws.save_dataset(ds)


def run_child(step: str, d: Path) -> dict:
    os.environ["DQ_HOME"] = str(_workspace(d).root)
    os.environ.setdefault("DQ_WARM_UMAP", "0")
    os.environ.setdefault("DQ_PREFETCH_EMBEDDINGS", "0")
    out: dict = {}
    t = time.perf_counter()
    if step == "signals":
        from dq_core.signals import compute_signals, default_signals

        ws, ds, ds_id = _stored(d)
        out["store_s"] = time.perf_counter() - t
        t = time.perf_counter()
        rep = compute_signals(ds, default_signals(), workspace=ws, seed=0)
        out["detail"] = ", ".join(f"{k} {v:.0f}s" for k, v in rep.timings.items())
        out["skipped"] = sorted(rep.skipped)
        out["ds_id"] = ds_id
    else:
        from streamlit.testing.v1 import AppTest

        ds_id = (d / "pages_ws" / "ds_id").read_text().strip()
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=1800)
        at.query_params["ds"] = ds_id
        at.run()
        out["overview_s"] = time.perf_counter() - t
        out["overview_errors"] = [str(e.value)[:200] for e in at.exception] + [e.value[:200] for e in at.error]
        out["overview_title"] = [t.value for t in at.title]
        out["overview_metrics"] = {m.label: m.value for m in at.metric}
        if step == "clean":
            t = time.perf_counter()
            at.switch_page("app_pages/clean.py").run()
            out["clean_s"] = time.perf_counter() - t
            out["clean_errors"] = [str(e.value)[:200] for e in at.exception] + [e.value[:200] for e in at.error]
            out["clean_tables"] = len(at.dataframe)
            out["clean_info"] = [i.value[:120] for i in at.info][:3]
    out["step_s"] = time.perf_counter() - t
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--steps", nargs="+", default=list(STEPS), choices=STEPS)
    ap.add_argument("--data-dir", default="/tmp/dq_bench_scale")  # bench_scale.py's, to share its data
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--child", choices=STEPS, help=argparse.SUPPRESS)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, Path(args.data_dir)), default=str), flush=True)
        return
    rows = []
    for n in args.rows:
        d = ensure_data(Path(args.data_dir), n)
        if "signals" in args.steps:  # a cold workspace: the signals, graph and report caches start empty
            import shutil

            shutil.rmtree(d / "pages_ws", ignore_errors=True)
        for step in args.steps:
            load0 = load_avg()
            r = measure(step, d, args.timeout, script=Path(__file__))
            if step == "signals" and r.get("ds_id"):
                (d / "pages_ws" / "ds_id").write_text(r["ds_id"])
            r |= {"rows": n, "load": f"{load0} → {load_avg()}"}
            print(json.dumps(r, default=str), flush=True)
            rows.append(r)
    out = ROOT / "bench" / "results" / "issue14_pages_scale.json"
    out.write_text(json.dumps(rows, indent=1, default=str))
    if not args.no_write:
        write_section(HEADING, render(rows, "bench/bench_pages_scale.py " + " ".join(sys.argv[1:])))


def render(rows: list[dict], command: str) -> str:
    lines = [HEADING, "", f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine()}; command "
             f"`.venv/bin/python {command}`. Each step a fresh process (start-up and imports in `wall s`).", "",
             "| rows | step | wall s | peak RSS GB | what | load (1/5/15 min) |", "|---:|---|---:|---:|---|---|"]
    for r in rows:
        if r["step"] == "signals":
            what = f"store with vectors {r.get('store_s', 0):.0f} s; all default signals {r.get('step_s', 0):.0f} s " \
                   f"({r.get('detail', '')}); skipped: {', '.join(r.get('skipped', [])) or 'none'}"
        else:
            shown = r.get("overview_metrics", {})
            what = f"Overview first render {r.get('overview_s', 0):.1f} s (Rows {shown.get('Rows', '?')})" + (
                f"; Clean {r.get('clean_s', 0):.1f} s, {r.get('clean_tables', 0)} tables" if r["step"] == "clean"
                else "")
            errs = (r.get("overview_errors") or []) + (r.get("clean_errors") or [])
            what += f"; errors: {errs}" if errs else "; no error"
        if r.get("timed_out") or r.get("rc"):
            what += f" (rc {r.get('rc')}, timed out {r.get('timed_out')})"
        lines.append(f"| {r['rows']:,} | {r['step']} | {r['wall_s']:.0f} | {r['peak_gb']:.2f} | {what} | {r['load']} |")
    return "\n".join(lines) + "\n\n"


if __name__ == "__main__":
    main()
