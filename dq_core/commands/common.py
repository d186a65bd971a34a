"""Arguments and helpers shared by subcommands: the DATA / --reference / column options."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from dq_core.data.codepages import text_encoding
from dq_core.data.dataset import TextDataset
from dq_core.data.io import load_dataset
from dq_core.data.reference import ReferenceSplit, split_by_split, split_by_values
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
    p.add_argument("--split-col", metavar="NAME",
                   help="a column naming each row's split (train, test, ...; guessed when a column is named "
                        "split, subset, partition, fold or set)")
    add_encoding_arg(p, "the data files (DATA, and --reference and --test where the command has them)")
    if reference:
        g = p.add_argument_group("the reference (one of)")
        g.add_argument("--reference", metavar="REF", required=reference == "required",
                       help="reference data, same forms as DATA")
        g.add_argument("--reference-where", metavar="COL=VALUE[,VALUE...]", action="append",
                       help="DATA's rows whose COL is one of the values become the reference, the rest the "
                            "dataset (values as text, e.g. 1.0 in a column of floats; (missing) for rows "
                            "without one; repeat the flag for more values of the same column; \\, and \\= "
                            "keep a comma or '=' inside a value)")
        g.add_argument("--dataset-split", metavar="SPLIT",
                       help="with --reference-split: DATA's rows of this split are the dataset")
        g.add_argument("--reference-split", metavar="SPLIT",
                       help="with --dataset-split: DATA's rows of this split are the reference (rows of other "
                            "splits are left out)")


def encoding_arg(text: str) -> str:
    """``--encoding`` as an argparse type: an empty name is a mistake (a script's unset variable), not a
    request to guess; ``auto`` asks for the guess. Codec names are checked where the value is used."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty name; give a codec such as utf-8, cp1252 or cp1251, or auto "
                                         "to guess")
    return text


def add_encoding_arg(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--encoding", metavar="NAME", default=None, type=encoding_arg,
                   help=f"the text encoding of {what} when csv/tsv/json/jsonl/txt, e.g. utf-8, cp1252, cp1250, cp1251, "
                        "koi8-r, cp1253, cp1255, cp1256, latin-1; default auto: UTF-8, else a guessed code page "
                        "(a note names it, and says when the guess is uncertain). One choice for every file the "
                        "command reads: give files in different encodings as UTF-8. Ignored, with a note, for "
                        "Parquet files and datasets folders (they store Unicode)")


def warn(msg: str) -> None:
    print(f"note: {msg}", file=sys.stderr)


def load_inputs(args, *, need_reference: bool = False) -> tuple[TextDataset, TextDataset | None]:
    """DATA and REF as the user gave them. A demo preset's bundled reference is used when no REF is given.

    With --reference-where or --dataset-split/--reference-split both come from DATA's rows; the cut is
    kept in ``args.reference_from_data`` so the user's per-row files (--embeddings, --pred-probs), one row
    per DATA row, are split the same way.
    """
    cut = reference_cut(args)  # flag mistakes are refused before anything is read
    encoding = text_encoding(getattr(args, "encoding", None))  # an unknown codec likewise
    ds, bundled_ref = load_dataset(args.data, text_col=args.text_col, label_col=args.label_col,
                                   id_col=getattr(args, "id_col", None),
                                   agreement_col=getattr(args, "agreement_col", None),
                                   split_col=getattr(args, "split_col", None), warn=warn, encoding=encoding)
    ref = bundled_ref
    ref_spec = getattr(args, "reference", None)
    if ref_spec:
        # The reference may be unlabelled (shift/coverage work on text alone). A demo reference comes
        # with its own mapping, so DATA's column options do not apply to it; the reference's guesses
        # are prefixed so they are not mistaken for DATA's.
        cols = {} if ref_spec.startswith("demo:") else {"text_col": args.text_col, "label_col": args.label_col}
        ref, _ = load_dataset(ref_spec, **cols, warn=lambda m: warn(f"reference: {m}"), require_labels=False,
                              encoding=encoding)
    # The loader's notes (encoding fallback, one class only, missing labels) go to stderr like the
    # column guesses: a user must hear what was assumed about their file.
    for n in ds.notes:
        warn(n)
    args.reference_from_data = None
    if cut is not None:
        args.reference_from_data = split = cut(ds)
        ds, ref = split.dataset, split.reference
    for n in ref.notes if ref is not None and cut is None else ():
        warn(f"reference: {n}")
    if need_reference and ref is None:
        raise DataError("this command needs a reference: --reference REF (a file, a datasets folder or "
                        "demo:NAME), --reference-where COL=VALUE or --dataset-split A --reference-split B")
    return ds, ref


def reference_cut(args) -> Callable[[TextDataset], ReferenceSplit] | None:
    """How the reference is cut from DATA's own rows, or None when it is not; mixed or half-given
    reference options are refused."""
    where = getattr(args, "reference_where", None)
    a, b = getattr(args, "dataset_split", None), getattr(args, "reference_split", None)
    by_split = a is not None or b is not None
    given = [flag for flag, on in (("--reference", bool(getattr(args, "reference", None))),
                                   ("--reference-where", bool(where)),
                                   ("--dataset-split/--reference-split", by_split)) if on]
    if len(given) > 1:
        raise DataError(f"{' and '.join(given)} each pick the reference; give one of them")
    if by_split and (a is None or b is None):
        raise DataError("--dataset-split and --reference-split go together: name the dataset's split and the "
                        "reference's")
    if where:
        column, values = parse_reference_where(where)
        return lambda ds: split_by_values(ds, column, values)
    if not by_split:
        return None

    def by_splits(ds: TextDataset) -> ReferenceSplit:
        if getattr(args, "split_col", None) is None and ds.has_split and not args.data.startswith("demo:"):
            warn(f"guessed split column '{ds.mapping.split}' (pass --split-col to choose)")
        return split_by_split(ds, a, b)

    return by_splits


def parse_reference_where(items: list[str]) -> tuple[str, list[str]]:
    """(column, values) from one or more ``COL=VALUE[,VALUE...]``; every one must name the same column."""
    column, values = None, []
    for item in items:
        col, vals = _where_item(item)
        if column is not None and col != column:
            raise DataError(f"--reference-where names two columns ('{column}' and '{col}'); the reference is "
                            "the rows matching values of one column (repeat the flag only for more of its values)")
        column = col
        values += vals
    return column, list(dict.fromkeys(values))


def _where_item(item: str) -> tuple[str, list[str]]:
    """``COL=V1,V2``: the first '=' ends the column name, commas part the values, and a backslash keeps
    the ',', '=' or '\\' after it literal (other backslashes stay as typed)."""
    column, parts, current, i = None, [], [], 0
    while i < len(item):
        ch = item[i]
        if ch == "\\" and i + 1 < len(item) and item[i + 1] in ",=\\":
            current.append(item[i + 1])
            i += 2
            continue
        if ch == "=" and column is None:
            column, current = "".join(current), []
        elif ch == "," and column is not None:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    if not column:
        raise DataError(f"--reference-where takes COL=VALUE[,VALUE...] (got '{item}')")
    if "" in parts:
        raise DataError(f"--reference-where '{item}' has an empty value; name each value (rows without a value "
                        "are (missing))")
    return column, parts


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
    cut = getattr(args, "reference_from_data", None)
    if cut is not None:
        return _embeddings_of_cut(path, ref_path, cut)
    emb = load_embeddings_file(path, len(ds)) if path else None
    ref_emb = None
    if ref_path:
        if ref is None:
            raise DataError("--reference-embeddings was given without a reference; add --reference REF")
        ref_emb = load_embeddings_file(ref_path, len(ref), dim=emb.dim if emb is not None else None,
                                       what="--reference-embeddings", rows_of="the reference")
    return emb, ref_emb


def _embeddings_of_cut(path: str | None, ref_path: str | None, cut: ReferenceSplit):
    """--embeddings has a row per DATA row: each side of a reference cut from DATA takes its own rows."""
    from dataclasses import replace

    from dq_core.space.given import load_embeddings_file

    if ref_path:
        raise DataError("--reference-embeddings does not go with --reference-where or --dataset-split: the "
                        "reference is rows of DATA, so --embeddings (one row per DATA row) gives both sides' vectors")
    if not path:
        return None, None
    emb = load_embeddings_file(path, len(cut.source))
    return tuple(replace(emb, vectors=emb.vectors[m], valid=emb.valid[m])
                 for m in (cut.dataset_mask, cut.reference_mask))


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

    # With a reference cut from DATA the file still has a row per DATA row: the dataset keeps its rows.
    cut = getattr(args, "reference_from_data", None)
    full = cut.source if cut is not None else ds
    if len(full.classes) < 2:
        raise DataError("--pred-probs needs a labelled dataset with at least two classes")
    probs = load_pred_probs_file(path, len(full), tuple(full.classes), row_ids=full.row_ids)
    if cut is None:
        return probs
    if ds.classes != full.classes:
        gone = ", ".join(f"'{c}'" for c in full.classes if c not in ds.classes)
        raise DataError(f"--pred-probs has a column per class of DATA, but with the reference taken out no "
                        f"dataset row is {gone}; drop --pred-probs (the label signal then fits its own "
                        "K-fold model, as the dashboard does) or pick the reference another way")
    return probs[cut.dataset_mask]


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
        return load_dataset(spec, text_col=text_col, label_col=label_col, warn=say,
                            encoding=getattr(args, "encoding", None))[0]

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
