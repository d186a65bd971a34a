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
from dq_core.errors import DataError


def add_parser(sub) -> None:
    p = sub.add_parser("signals", help="per-row label issues, duplicates, outliers, junk, PII, leakage")
    add_data_args(p)
    p.add_argument("--out", required=True, metavar="FILE", help="output table: .csv or .parquet")
    p.add_argument("--signals", metavar="LIST",
                   help="comma-separated signals, optionally with parameters, e.g. "
                        "'label,junk,near_duplicate(threshold=0.03)' (default: all that apply)")
    p.add_argument("--model", help="sentence-transformers model folder (default: bundled all-MiniLM-L6-v2)")
    p.add_argument("--seed", type=int, default=0, help="seed for folds and approximate search (default 0)")
    p.add_argument("--no-cache", action="store_true", help="recompute even if the workspace has the result")
    add_embedding_args(p, reference=True, pred_probs=True)
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
    return [s.strip() for s in out if s.strip()]


def run(args) -> int:
    from dq_core.data.io import write_frame
    from dq_core.data.workspace import Workspace
    from dq_core.signals import compute_signals, parse_signal_spec

    out = Path(args.out)
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise DataError(f"--out '{out.name}': use a .csv or .parquet file name")
    signals = [parse_signal_spec(s) for s in split_specs(args.signals)] if args.signals else None
    ds, ref = load_inputs(args)
    emb, ref_emb = given_embeddings(args, ds, ref)
    probs = given_pred_probs(args, ds)
    report = compute_signals(ds, signals, reference=ref, model=args.model, workspace=Workspace.default(),
                             seed=args.seed, use_cache=not args.no_cache,
                             embeddings=emb.vectors if emb is not None else None,
                             reference_embeddings=ref_emb.vectors if ref_emb is not None else None,
                             pred_probs=probs)
    for key, why in report.skipped.items():
        warn(f"signal '{key}' skipped: {why}")
    for key, summary in report.summaries.items():
        if summary.get("note"):
            warn(f"{key}: {summary['note']}")
    write_frame(report.frame, out)
    print_json({"n_rows": len(report.frame), "output": str(out),
                "signals": {k: {"n_issues": s.get("n_issues"), "share": s.get("share")}
                            for k, s in report.summaries.items()},
                "estimated_noise_ratio": report.summaries.get("label", {}).get("estimated_noise_ratio"),
                "agreement_hint": report.agreement_hint, "skipped": report.skipped})
    sys.stdout.flush()
    return 0
