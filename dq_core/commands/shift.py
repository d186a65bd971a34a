"""`dq shift DATA --reference REF`: KL/JS shift per view, intervals, p-values, verdicts, domain AUC (JSON)."""

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
from dq_core.metrics.shift import DIVERGENCES, ShiftConfig, compute_shift
from dq_core.util.seeds import seed_arg


def add_parser(sub) -> None:
    p = sub.add_parser("shift", help="distribution shift (KL, JS, PSI) of DATA against a reference, as JSON",
                       description="Label, length, vocabulary, embedding-cluster and metadata views of DATA "
                       "(P) against REF (Q): KL both ways, JS with a bootstrap interval, a permutation "
                       "p-value and a verdict per view, plus a domain classifier's ROC-AUC.")
    add_data_args(p)
    p.add_argument("--metadata-col", action="append", default=[], metavar="COL",
                   help="also compare this metadata column (repeatable)")
    p.add_argument("--vocab-size", type=int, default=500, help="shared top-V vocabulary (default 500)")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the JS interval")
    p.add_argument("--permutations", type=int, default=1000, help="permutations for the p-value")
    p.add_argument("--seed", type=seed_arg, default=0)
    p.add_argument("--test", choices=list(DIVERGENCES), default="js_divergence",
                   help="statistic for the p-value and the verdict (default js_divergence)")
    p.add_argument("--threshold", type=float, default=None, help="drift threshold (default: the test's own)")
    p.add_argument("--clusters", type=int, default=None, metavar="K",
                   help="clusters for the embedding view (default: chosen automatically, as on coverage)")
    p.add_argument("--model", default=None, help="sentence-transformers folder (default: bundled MiniLM)")
    p.add_argument("--no-embeddings", action="store_true",
                   help="skip the embedding-cluster view and the domain classifier (no model needed)")
    p.add_argument("--top-bins", type=int, default=20,
                   help="bins listed per view, most divergent first (ordered views list all; default 20)")
    add_embedding_args(p, reference=True)
    add_progress_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    if args.top_bins is not None and args.top_bins < 1:
        raise DataError(f"--top-bins {args.top_bins} must be at least 1")
    config = ShiftConfig(n_bootstrap=args.bootstrap, n_permutations=args.permutations, seed=args.seed,
                         test=args.test, threshold=args.threshold, vocab_size=args.vocab_size,
                         n_clusters=args.clusters)
    ds, ref = load_inputs(args, need_reference=True)
    progress = CliProgress.from_args(args)
    ds_emb = ref_emb = None
    ws = None
    if not args.no_embeddings:
        from dq_core.data.workspace import Workspace
        from dq_core.space.embed import embed_dataset

        ws = Workspace.default()
        ds_emb, ref_emb = given_embeddings(args, ds, ref)
        if ds_emb is None:
            ds_emb = embed_dataset(ds, model=args.model, workspace=ws, progress=progress.rows("embedding dataset"))
        if ref_emb is None:
            ref_emb = embed_dataset(ref, model=args.model, workspace=ws,
                                    progress=progress.rows("embedding reference"))
        check_same_width(ds_emb, ref_emb)
    elif args.embeddings or args.reference_embeddings:
        raise DataError("--no-embeddings and --embeddings/--reference-embeddings contradict each other; drop one")
    result = compute_shift(ds, ref, config=config, ds_embeddings=ds_emb, ref_embeddings=ref_emb,
                           metadata=args.metadata_col, workspace=ws, progress=progress.phases("shift"))
    for name, view in result.views.items():
        if view.skipped and not (args.no_embeddings and name == "embedding_clusters"):  # asked for
            warn(f"{name}: {view.skipped}")
    if result.domain_classifier.skipped and not args.no_embeddings:
        warn(result.domain_classifier.skipped)
    print_json(result.to_dict(top_bins=args.top_bins))
    return 0
