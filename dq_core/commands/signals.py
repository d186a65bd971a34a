"""`dq signals DATA --out FILE`: per-row signal scores and flags as csv/parquet, a summary as JSON."""

from __future__ import annotations

import sys
from pathlib import Path

from dq_core.commands.common import (
    add_data_args,
    add_embedding_args,
    given_embeddings,
    given_pred_probs,
    load_inputs,
    print_json,
    warn,
)
from dq_core.commands.progress import CliProgress, add_progress_args, embed_before_signals
from dq_core.errors import DataError
from dq_core.util.seeds import seed_arg


def add_parser(sub) -> None:
    p = sub.add_parser("signals", help="per-row label issues, duplicates, outliers, junk, PII, leakage")
    add_data_args(p)
    p.add_argument("--out", required=True, metavar="FILE", help="output table: .csv or .parquet")
    p.add_argument("--signals", metavar="LIST",
                   help="comma-separated signals, optionally with parameters, e.g. "
                        "'label,junk,near_duplicate(threshold=0.03)' (default: all that apply)")
    p.add_argument("--model", help="sentence-transformers model folder (default: bundled all-MiniLM-L6-v2)")
    p.add_argument("--seed", type=seed_arg, default=0, help="seed for folds and approximate search (default 0)")
    p.add_argument("--no-cache", action="store_true", help="recompute even if the workspace has the result")
    add_embedding_args(p, reference=True, pred_probs=True)
    p.add_argument("--spreadsheet-safe", action="store_true",
                   help="CSV for opening in a spreadsheet: cells starting with = + - @ (except plain numbers) "
                        "get an apostrophe; `dq filter --signals` reads the file as written without the flag")
    add_progress_args(p)
    p.set_defaults(func=run)


def split_specs(text: str) -> list[str]:
    """Split on commas outside parentheses: 'label(k=5,C=2),junk' -> ['label(k=5,C=2)', 'junk']."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += (ch == "(") - (ch == ")")
        cur += ch
    out.append(cur)
    specs = [s.strip() for s in out if s.strip()]
    if not specs:  # `--signals ''` (an unset variable in a script) is a mistake, not "every signal"
        raise DataError("--signals is empty; name the signals (e.g. junk,near_duplicate) or leave the option out "
                        "for every signal that applies")
    return specs


def run(args) -> int:
    from dq_core.data.io import write_frame
    from dq_core.data.workspace import Workspace
    from dq_core.signals import compute_signals, parse_signal_spec

    out = Path(args.out)
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise DataError(f"--out '{out.name}': use a .csv or .parquet file name")
    if args.spreadsheet_safe and out.suffix.lower() != ".csv":
        raise DataError("--spreadsheet-safe makes a CSV for spreadsheets; give --out a .csv file name")
    signals = [parse_signal_spec(s) for s in split_specs(args.signals)] if args.signals is not None else None
    ds, ref = load_inputs(args)
    emb, ref_emb = given_embeddings(args, ds, ref)
    probs = given_pred_probs(args, ds)
    ws = Workspace.default()
    progress = CliProgress.from_args(args)
    if emb is None:
        embed_before_signals(ds, signals, progress=progress, model=args.model, workspace=ws)
    report = compute_signals(ds, signals, reference=ref, model=args.model, workspace=ws,
                             seed=args.seed, use_cache=not args.no_cache, progress=progress.steps("signals"),
                             embeddings=emb.vectors if emb is not None else None,
                             reference_embeddings=ref_emb.vectors if ref_emb is not None else None,
                             pred_probs=probs)
    for key, why in report.skipped.items():
        warn(f"signal '{key}' skipped: {why}")
    for key, summary in report.summaries.items():
        if summary.get("note"):
            warn(f"{key}: {summary['note']}")
    write_frame(report.frame, out, spreadsheet_safe=args.spreadsheet_safe)
    print_json({"n_rows": len(report.frame), "output": str(out),
                "signals": {k: {"n_issues": s.get("n_issues"), "share": s.get("share")}
                            for k, s in report.summaries.items()},
                "estimated_noise_ratio": report.summaries.get("label", {}).get("estimated_noise_ratio"),
                "agreement_hint": report.agreement_hint, "skipped": report.skipped})
    sys.stdout.flush()
    return 0
