"""`dq coverage DATA --reference REF`: reference, scene and sample coverage plus the cluster table (JSON)."""

from __future__ import annotations

from dq_core.commands.common import (
    add_data_args,
    add_embedding_args,
    check_same_width,
    given_embeddings,
    load_inputs,
    print_json,
    warn,
)
from dq_core.commands.progress import CliProgress, add_progress_args
from dq_core.errors import DataError
from dq_core.metrics.coverage import DEFAULT_MIN_RATIO, DEFAULT_MIN_ROWS, DEFAULT_PERCENTILE
from dq_core.util.seeds import seed_arg


def add_parser(sub) -> None:
    p = sub.add_parser("coverage", help="how well DATA's embeddings cover a reference set, as JSON",
                       description="Reference coverage (share of REF rows whose nearest DATA row lies within a "
                       "cosine radius), scene coverage (share of REF rows in covered scenes: a scene, a cluster "
                       "holding REF rows, is covered when DATA holds at least --min-ratio of the rows it would "
                       "hold if it followed REF's mix, else under-covered) and sample coverage "
                       "(sum_c w_c min(1, n_c/n_c*)), with a table of clusters. The JSON's scene_rule says the "
                       "rule in words.")
    add_data_args(p)  # optional: a demo preset (demo:tweets_airline) brings its own reference
    p.add_argument("--model", default=None, metavar="DIR", help="sentence-transformers folder (default: bundled)")
    p.add_argument("--radius", type=float, default=None,
                   help="cosine-distance radius (default: a percentile of DATA's own nearest-neighbour distances)")
    p.add_argument("--percentile", type=float, default=DEFAULT_PERCENTILE,
                   help=f"percentile for the default radius (default {DEFAULT_PERCENTILE:g})")
    p.add_argument("--min-ratio", type=float, default=DEFAULT_MIN_RATIO,
                   help="coverage ratio n_c/n_c* a scene needs to count as covered: DATA's rows in it over the "
                        f"rows it would hold if DATA followed REF's mix (default {DEFAULT_MIN_RATIO:g})")
    p.add_argument("--min-rows", "-m", type=int, default=DEFAULT_MIN_ROWS,
                   help=f"and at least this many DATA rows (default {DEFAULT_MIN_ROWS}: the ratio alone decides)")
    p.add_argument("--clusters", "-k", type=int, default=None, metavar="K",
                   help="number of clusters (default: chosen by silhouette)")
    p.add_argument("--seed", type=seed_arg, default=0)
    p.add_argument("--terms", type=int, default=8, help="top terms per cluster (default 8)")
    p.add_argument("--examples", type=int, default=3, help="example texts per cluster and side (default 3)")
    p.add_argument("--precision", choices=["auto", "float32", "bfloat16"], default="auto",
                   help="embedding model precision (default auto)")
    add_embedding_args(p, reference=True)
    add_progress_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from dq_core.data.workspace import Workspace
    from dq_core.metrics.coverage import coverage_for_datasets
    from dq_core.space.embed import embed_dataset

    for name, val, lo in (("--terms", args.terms, 0), ("--examples", args.examples, 0), ("--min-rows", args.min_rows, 1)):
        if val < lo:
            raise DataError(f"{name} {val} must be at least {lo}")
    ds, ref = load_inputs(args, need_reference=True)
    if len(ref) == 0:
        raise DataError("the reference has no rows; give a reference with text rows")
    ws = Workspace.default()
    progress = CliProgress.from_args(args)
    ds_emb, ref_emb = given_embeddings(args, ds, ref)
    if ds_emb is None:
        ds_emb = embed_dataset(ds, model=args.model, workspace=ws, progress=progress.rows("embedding dataset"),
                               precision=args.precision)
    if ref_emb is None:
        ref_emb = embed_dataset(ref, model=args.model, workspace=ws, progress=progress.rows("embedding reference"),
                                precision=args.precision)
    check_same_width(ds_emb, ref_emb)
    progress.phases("coverage")("clustering and measuring coverage")
    for side, emb in (("dataset", ds_emb), ("reference", ref_emb)):
        if emb.n_empty:
            warn(f"{side}: {emb.n_empty:,} rows have empty or missing text and were left out")
        if emb.n_truncated:
            warn(f"{side}: {emb.n_truncated:,} texts were truncated at {emb.max_seq_length} tokens")
    res = coverage_for_datasets(ds, ref, ds_emb, ref_emb, radius=args.radius, percentile=args.percentile,
                                min_ratio=args.min_ratio, min_rows=args.min_rows, k=args.clusters, seed=args.seed, workspace=ws,
                                n_terms=args.terms, n_examples=args.examples)
    print_json(res.to_dict())
    return 0
