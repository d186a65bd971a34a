"""`dq compute DATA --backend local|ray [--address ADDR] --out DIR`: embeddings and signals in Parquet shards.

DATA is a Parquet file, a folder of them or a glob. DIR gets manifest.json, embeddings/, rows/ and
signals/ (one part-NNNNN.parquet per shard, keyed by row_id); a rerun resumes where a run stopped.
See dq_core.signals.batch for the stages.
"""

from __future__ import annotations

import sys

from dq_core.commands.common import encoding_arg, print_json, warn
from dq_core.data.decoding import ignored_encoding_note
from dq_core.errors import DataError
from dq_core.util.seeds import seed_arg


def add_parser(sub) -> None:
    p = sub.add_parser("compute", help="embeddings + per-row signals over large Parquet data, resumable, local or Ray",
                       description="Embed DATA (a Parquet file, folder or glob) and compute its per-row signals "
                       "into Parquet shards keyed by row_id under DIR (with manifest.json). Shards already "
                       "written are skipped, so an interrupted run resumes. --backend ray runs the embedding "
                       "shards on a Ray actor pool (GPUs when the cluster has them); the global steps (kNN "
                       "graph, duplicate groups, K-fold label scores) run once on the gathered embeddings.")
    p.add_argument("data", metavar="DATA", help="a Parquet file, a folder of Parquet files, or a glob ('d/*.parquet')")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="output folder: new, empty, or an earlier dq compute of DATA (resumed; the shards of a "
                        "changed input are computed again); never inside DATA")
    p.add_argument("--backend", choices=["local", "ray"], default="local")
    p.add_argument("--address", metavar="ADDR",
                   help="Ray cluster address (ray://HOST:10001, or HOST:6379 on a cluster node); default: "
                        "RAY_ADDRESS, else a local Ray started for this run")
    p.add_argument("--workers", type=int, default=None,
                   help="Ray actors (default: one per GPU, else half the CPUs)")
    p.add_argument("--text-col", help="text column (guessed when omitted)")
    p.add_argument("--label-col", help="label column (guessed when omitted)")
    p.add_argument("--id-col", help="unique id column (global row positions otherwise)")
    p.add_argument("--encoding", metavar="NAME", default=None, type=encoding_arg,
                   help="accepted as on the other commands, but ignored with a note: dq compute reads Parquet, "
                        "which stores text as Unicode (an unknown codec name is still refused)")
    p.add_argument("--model", help="sentence-transformers model folder (default: bundled all-MiniLM-L6-v2)")
    p.add_argument("--precision", choices=["auto", "float32", "bfloat16"], default="auto")
    p.add_argument("--batch-size", type=int, default=None, help="texts per model call")
    p.add_argument("--shard-rows", type=int, default=50_000, help="rows per shard (default 50000)")
    p.add_argument("--signals", metavar="LIST", help="comma-separated signal keys (default: all that apply)")
    p.add_argument("--seed", type=seed_arg, default=0)
    p.set_defaults(func=run)


def run(args) -> int:
    from dq_core.commands.signals import split_specs
    from dq_core.data.workspace import Workspace
    from dq_core.signals.batch import ComputeConfig
    from dq_core.signals.batch_compute import compute

    if args.workers is not None and args.workers < 1:
        raise DataError(f"--workers {args.workers} must be at least 1")
    if args.address and args.backend != "ray":
        raise DataError("--address is for --backend ray")
    if note := ignored_encoding_note(args.encoding, "Parquet files"):
        warn(note)
    config = ComputeConfig(text_col=args.text_col, label_col=args.label_col, id_col=args.id_col, model=args.model,
                           precision=None if args.precision == "auto" else args.precision,
                           shard_rows=args.shard_rows, seed=args.seed, batch_size=args.batch_size,
                           signals=tuple(split_specs(args.signals)) if args.signals is not None else None)
    import pyarrow as pa

    try:
        summary = compute(args.data, args.out, config, backend=args.backend, address=args.address,
                          workspace=Workspace.default(), workers=args.workers,
                          say=lambda m: print(m, file=sys.stderr, flush=True))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        # Files whose columns hold different types (text as strings in one, lists or bytes in another) fail
        # inside Arrow while the rows are read; the new --out is already removed again by compute().
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise DataError(f"the input files cannot be read as one table ({first}); give every file the same column "
                        "types (the text column as strings)") from None
    for key, why in summary.get("skipped", {}).items():
        warn(f"signal '{key}' skipped: {why}")
    print_json(summary)
    return 0
