"""Arguments and helpers shared by subcommands: the DATA / --reference / column options."""

from __future__ import annotations

import argparse
import sys

from dq_core.data.dataset import TextDataset
from dq_core.data.io import load_dataset
from dq_core.errors import DataError
from dq_core.util.jsonsafe import dumps_json


def add_data_args(p: argparse.ArgumentParser, *, reference: str | None = "optional") -> None:
    p.add_argument("data", metavar="DATA", help="a csv/tsv/json/jsonl/parquet file, a datasets folder, "
                   "demo:NAME (tweets, sms_spam, tweets_airline) or hf:NAME (online only)")
    p.add_argument("--text-col", help="text column (guessed when omitted)")
    p.add_argument("--label-col", help="label column (guessed when omitted)")
    p.add_argument("--id-col", help="optional unique id column (row positions otherwise)")
    p.add_argument("--agreement-col", metavar="NAME",
                   help="a per-row annotator agreement / label confidence column, a share in [0, 1] (guessed when a "
                        "numeric column is named confidence or agreement): the signals' agreement hint and the "
                        "advisor's agreement candidate use it")
    if reference:
        p.add_argument("--reference", metavar="REF", required=reference == "required",
                       help="reference data, same forms as DATA")


def warn(msg: str) -> None:
    print(f"note: {msg}", file=sys.stderr)


def load_inputs(args, *, need_reference: bool = False) -> tuple[TextDataset, TextDataset | None]:
    """DATA and REF as the user gave them. A demo preset's bundled reference is used when no REF is given."""
    ds, bundled_ref = load_dataset(args.data, text_col=args.text_col, label_col=args.label_col,
                                   id_col=getattr(args, "id_col", None),
                                   agreement_col=getattr(args, "agreement_col", None), warn=warn)
    ref = bundled_ref
    ref_spec = getattr(args, "reference", None)
    if ref_spec:
        # The reference may be unlabelled (shift/coverage work on text alone). A demo reference comes
        # with its own mapping, so DATA's column options do not apply to it; the reference's guesses
        # are prefixed so they are not mistaken for DATA's.
        cols = {} if ref_spec.startswith("demo:") else {"text_col": args.text_col, "label_col": args.label_col}
        ref, _ = load_dataset(ref_spec, **cols, warn=lambda m: warn(f"reference: {m}"), require_labels=False)
    # The loader's notes (encoding fallback, one class only, missing labels) go to stderr like the
    # column guesses: a user must hear what was assumed about their file.
    for n in ds.notes:
        warn(n)
    for n in ref.notes if ref is not None else ():
        warn(f"reference: {n}")
    if need_reference and ref is None:
        raise DataError("this command needs --reference REF (a file, a datasets folder or demo:NAME)")
    return ds, ref


def print_json(obj) -> None:
    # Non-finite numbers (the balance of an unlabelled reference) print as null: bare NaN is not JSON.
    sys.stdout.write(dumps_json(obj) + "\n")


def add_embedding_args(p: argparse.ArgumentParser, *, reference: bool = False, test: bool = False,
                       pred_probs: bool = False) -> None:
    """--embeddings (and the reference's / test set's) and --pred-probs: the user's own vectors and predictions."""
    g = p.add_argument_group("your own vectors and predictions")
    g.add_argument("--embeddings", metavar="FILE.npy",
                   help="your vectors instead of the embedding model: a float32/float16 .npy, one row per input "
                        "row in input order (e.g. from `dq embed`)")
    if reference:
        g.add_argument("--reference-embeddings", metavar="FILE.npy",
                       help="the reference's vectors, same model and form as --embeddings")
    if test:
        g.add_argument("--test-embeddings", metavar="FILE.npy",
                       help="the --test file's vectors, same model and form as --embeddings")
    if pred_probs:
        g.add_argument("--pred-probs", metavar="FILE",
                       help="out-of-sample class probabilities from your own model (.npy or .csv; one row per "
                            "input row, one column per class in sorted class order, as cleanlab takes them): "
                            "they replace the label signal's K-fold logistic regression")


def given_embeddings(args, ds: TextDataset, ref: TextDataset | None = None):
    """(dataset EmbeddingResult or None, reference EmbeddingResult or None) from --embeddings /
    --reference-embeddings, checked against the rows and each other's width."""
    from dq_core.space.given import load_embeddings_file

    path, ref_path = getattr(args, "embeddings", None), getattr(args, "reference_embeddings", None)
    emb = load_embeddings_file(path, len(ds)) if path else None
    ref_emb = None
    if ref_path:
        if ref is None:
            raise DataError("--reference-embeddings was given without a reference; add --reference REF")
        ref_emb = load_embeddings_file(ref_path, len(ref), dim=emb.dim if emb is not None else None,
                                       what="--reference-embeddings", rows_of="the reference")
    return emb, ref_emb


def check_same_width(ds_emb, ref_emb) -> None:
    """The dataset's and the reference's vectors (given or computed by the model) must have one width."""
    if ds_emb is not None and ref_emb is not None and ds_emb.dim != ref_emb.dim:
        raise DataError(f"the dataset's vectors have {ds_emb.dim} dimensions and the reference's {ref_emb.dim}; "
                        "embed both sides with the same model (pass --embeddings and --reference-embeddings "
                        "together, or neither)")


def given_pred_probs(args, ds: TextDataset):
    path = getattr(args, "pred_probs", None)
    if not path:
        return None
    from dq_core.space.given import load_pred_probs_file

    if len(ds.classes) < 2:
        raise DataError("--pred-probs needs a labelled dataset with at least two classes")
    return load_pred_probs_file(path, len(ds), tuple(ds.classes))


def add_test_args(p: argparse.ArgumentParser, help_text: str) -> None:
    """--test TEST and the test file's own column options (its columns may be named differently)."""
    p.add_argument("--test", metavar="TEST", help=help_text)
    p.add_argument("--test-text-col", metavar="NAME", help="the test file's text column (default: DATA's "
                   "--text-col when the test file has it, else guessed)")
    p.add_argument("--test-label-col", metavar="NAME", help="the test file's label column (default: DATA's "
                   "--label-col when the test file has it, else guessed)")


def load_test_set(args) -> TextDataset | None:
    """The --test file, mapped with its own column options, else DATA's when they fit it, else guessed; its
    loader notes and guesses go to stderr prefixed 'test:', and its errors name it."""
    spec = getattr(args, "test", None)
    if not spec:
        return None

    def say(msg: str) -> None:
        warn(f"test: {msg.replace('--text-col', '--test-text-col').replace('--label-col', '--test-label-col')}")

    def load(text_col, label_col) -> TextDataset:
        return load_dataset(spec, text_col=text_col, label_col=label_col, warn=say)[0]

    try:
        if args.test_text_col or args.test_label_col:
            test = load(args.test_text_col, args.test_label_col)
        else:
            try:
                test = load(args.text_col, args.label_col)
            except DataError as exc:
                if not (args.text_col or args.label_col):
                    raise
                test = load(None, None)  # the test file names its columns its own way: guess them
                say(f"DATA's column options do not fit it ({exc}); its columns were guessed instead")
    except DataError as exc:
        raise DataError(f"test set '{spec}': {exc}") from None
    for n in test.notes:
        say(n)
    return test
