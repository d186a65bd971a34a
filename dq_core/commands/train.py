"""`dq train DATA [--recipe R] [--test TEST] --trainer baseline|transformer --out RUN_DIR`.

Runs in this process through the same code as a dashboard job (dq_core.training.worker.execute), so RUN_DIR gets
the same files: config.json, status.json, log.txt, history.jsonl, metrics.json (accuracy, macro_f1,
weighted_f1, per_class, confusion_matrix, labels, ...), predictions.parquet and, for the transformer,
model/ (loadable with transformers.pipeline("text-classification", model=RUN_DIR/model)).
"""

from __future__ import annotations

from pathlib import Path

from dq_core.commands.common import (
    add_data_args,
    add_embedding_args,
    add_test_args,
    given_embeddings,
    load_inputs,
    load_test_set,
    print_json,
)
from dq_core.commands.progress import CliProgress, add_progress_args
from dq_core.errors import DataError
from dq_core.training.config import BALANCING, TEST_SOURCES, TRAINERS, TrainConfig
from dq_core.util.seeds import seed_arg


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a baseline or fine-tune a transformer; writes RUN_DIR/metrics.json")
    add_data_args(p)
    p.add_argument("--trainer", choices=TRAINERS, default="transformer",
                   help="baseline: logistic regression on embeddings; transformer: fine-tune (default)")
    p.add_argument("--out", required=True, metavar="RUN_DIR",
                   help="run directory to write: a new or empty folder, or an earlier run with --overwrite")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the earlier run in --out (only folders `dq train` created are replaced)")
    p.add_argument("--recipe", metavar="R", help="train on the rows a recipe keeps: a JSON recipe file (as the "
                   "Clean page saves it) or 'default'")
    add_test_args(p, "a labelled test file (same forms as DATA)")
    p.add_argument("--test-source", choices=TEST_SOURCES, default=None,
                   help="auto (default): --test, else the data's test split, else a stored stratified holdout")
    p.add_argument("--name", default="", help="a name for the run in reports")
    g = p.add_argument_group("transformer")
    g.add_argument("--model", help="local Hugging Face model folder (default: bundled all-MiniLM-L6-v2)")
    g.add_argument("--epochs", type=float, default=TrainConfig.epochs)
    g.add_argument("--max-steps", type=int, default=0, help="stop after N optimiser steps (overrides epochs)")
    g.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    g.add_argument("--lr", type=float, default=TrainConfig.learning_rate, help="learning rate")
    g.add_argument("--max-length", type=int, default=TrainConfig.max_length, help="max tokens per text")
    g.add_argument("--weight-decay", type=float, default=TrainConfig.weight_decay)
    g.add_argument("--warmup", type=float, default=TrainConfig.warmup_ratio, help="warm-up share of the steps")
    g.add_argument("--early-stopping", type=int, default=0, metavar="PATIENCE",
                   help="stop after PATIENCE evaluations without a lower validation loss (0 = off)")
    g.add_argument("--no-mixed-precision", action="store_true", help="full precision even on a GPU")
    d = p.add_argument_group("data and both trainers")
    d.add_argument("--seed", type=seed_arg, default=0)
    d.add_argument("--class-weights", action="store_true", help="weight the loss by inverse class frequency")
    d.add_argument("--max-train-rows", type=int, default=None,
                   help="stratified cap on training rows (default 3000 for transformer, none for baseline; 0 = none)")
    d.add_argument("--val-fraction", type=float, default=TrainConfig.val_fraction)
    d.add_argument("--test-fraction", type=float, default=TrainConfig.test_fraction,
                   help="share of rows held out as the test set when there is no test split")
    d.add_argument("--max-test-rows", type=int, default=TrainConfig.max_test_rows)
    d.add_argument("--balance", choices=BALANCING, default="none", help="balance the train split")
    d.add_argument("--c", type=float, default=1.0, help="baseline: inverse regularisation strength")
    d.add_argument("--quiet", action="store_true", help="no progress on stderr (same as --no-progress)")
    add_progress_args(p)
    add_embedding_args(p, reference=True, test=True)
    p.set_defaults(func=run)


def config_from_args(args) -> TrainConfig:
    from dq_core.filtering.recipe import resolve_recipe

    test_source = args.test_source or ("external" if args.test else "auto")
    return TrainConfig(
        trainer=args.trainer, name=args.name or f"{args.trainer} · {args.data}", model=args.model,
        learning_rate=args.lr, batch_size=args.batch_size, epochs=args.epochs, max_steps=args.max_steps,
        max_length=args.max_length, weight_decay=args.weight_decay, warmup_ratio=args.warmup, seed=args.seed,
        early_stopping_patience=args.early_stopping, class_weights=args.class_weights,
        mixed_precision="no" if args.no_mixed_precision else "auto", c=args.c,
        max_train_rows=args.max_train_rows, val_fraction=args.val_fraction, test_source=test_source,
        test_fraction=args.test_fraction, max_test_rows=args.max_test_rows, balancing=args.balance,
        recipe=resolve_recipe(args.recipe) if args.recipe else None,
    ).validate()


def run(args) -> int:
    from dq_core.data.outputs import check_run_folder, mark_run_folder
    from dq_core.data.workspace import Workspace
    from dq_core.training import jobs, worker

    out = check_run_folder(args.out, overwrite=args.overwrite)
    if args.recipe and args.recipe != "default":
        from dq_core.data.paths import check_regular_file

        check_regular_file(args.recipe, "recipe file")
    cfg = config_from_args(args)  # a missing or broken recipe fails here, before any data is read
    ds, ref = load_inputs(args)
    test = load_test_set(args)
    given = _given_vectors(args, cfg, ds, ref, test)
    ws = Workspace.default()
    out = Path(args.out)
    # A reference cut from DATA has no file of its own: its name says which rows it is.
    ref_source = getattr(args, "reference", None) or (ref.name if args.reference_from_data is not None else None)
    data = {"workspace": str(ws.root), "source": args.data, "text_col": args.text_col,
            "label_col": args.label_col, "dataset_name": ds.name, "dataset_fingerprint": ds.fingerprint,
            "n_rows": len(ds), "test_source_file": args.test, "reference_source": ref_source}
    jobs.create_run({"name": cfg.name, "train": cfg.to_dict(), "data": data}, out)
    mark_run_folder(out)
    progress = CliProgress(False if args.quiet else args.progress)
    step = progress.steps("train")

    def echo(message: str) -> None:
        # The worker wrote status.json just before: its overall progress drives the bar's ETA.
        step(message, float(jobs.read_status(out).get("progress") or 0.0))

    with open(out / jobs.LOG, "a") as log:
        st = worker.execute(out, raise_errors=True, echo=echo if progress.enabled else None, log_stream=log,
                            datasets=(ds, ref, test, ws), given=given)
    progress.close()
    if st.get("state") != jobs.SUCCEEDED:
        raise DataError(st.get("error") or f"the run ended {st.get('state')}")
    m = jobs.read_metrics(out) or {}
    print_json({"run_dir": str(out), "trainer": cfg.trainer, "accuracy": m.get("accuracy"),
                "macro_f1": m.get("macro_f1"), "weighted_f1": m.get("weighted_f1"), "labels": m.get("labels"),
                "n_train": m.get("split", {}).get("n_train"), "n_test": m.get("n_test"),
                "model": str(out / "model") if cfg.trainer == "transformer" else None})
    return 0


def _given_vectors(args, cfg: TrainConfig, ds, ref, test):
    """The user's vectors for the baseline (runner.GivenVectors), or None without --embeddings."""
    from dq_core.space.given import load_embeddings_file
    from dq_core.training.runner import GivenVectors

    if args.embeddings is None:
        for flag in ("reference_embeddings", "test_embeddings"):
            if getattr(args, flag):
                raise DataError(f"--{flag.replace('_', '-')} needs --embeddings for the dataset too")
        return None
    if cfg.trainer != "baseline":
        raise DataError("--embeddings feeds the baseline only (logistic regression on vectors); the transformer "
                        "fine-tunes on the texts: drop --embeddings or use --trainer baseline")
    emb, ref_emb = given_embeddings(args, ds, ref)
    test_emb = None
    if args.test_embeddings:
        if test is None:
            raise DataError("--test-embeddings was given without --test TEST")
        test_emb = load_embeddings_file(args.test_embeddings, len(test), dim=emb.dim, what="--test-embeddings",
                                        rows_of="the test file")
    return GivenVectors(dataset=emb, ds_row_ids=tuple(ds.row_ids), reference=ref_emb,
                        ref_row_ids=tuple(ref.row_ids) if ref is not None else (), test=test_emb,
                        test_row_ids=tuple(test.row_ids) if test is not None else ())
