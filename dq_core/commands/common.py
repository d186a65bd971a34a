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
    if reference:
        p.add_argument("--reference", metavar="REF", required=reference == "required",
                       help="reference data, same forms as DATA")


def warn(msg: str) -> None:
    print(f"note: {msg}", file=sys.stderr)


def load_inputs(args, *, need_reference: bool = False) -> tuple[TextDataset, TextDataset | None]:
    """DATA and REF as the user gave them. A demo preset's bundled reference is used when no REF is given."""
    ds, bundled_ref = load_dataset(args.data, text_col=args.text_col, label_col=args.label_col,
                                   id_col=getattr(args, "id_col", None), warn=warn)
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
