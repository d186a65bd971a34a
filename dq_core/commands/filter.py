"""`dq filter DATA --recipe R --out CLEAN --log REMOVED`: apply a FilterRecipe, write the cleaned rows.

R is a JSON recipe file (as the Clean page saves or downloads it) or ``default``. The signals a recipe
needs are read from ``--signals FILE`` (what `dq signals --out` writes) or else loaded from / computed
into the workspace cache through the same function the Clean page uses, and the recipe is applied by
the same code, so the page and the CLI keep exactly the same rows. CLEAN's extension picks the format
(.csv, .parquet, .jsonl; no extension = a `datasets` folder, labels as a ClassLabel); every format reads
back as the same rows and texts. ``--spreadsheet-safe`` writes a CSV for spreadsheets instead, whose cells
a spreadsheet would run as a formula get an apostrophe. A recipe that leaves no rows, or removes a whole class, is an error (exit 2):
nothing is written.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

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


def add_parser(sub) -> None:
    p = sub.add_parser("filter", help="apply a filter recipe: cleaned data + a removal log")
    add_data_args(p)
    p.add_argument("--recipe", metavar="R", default="default",
                   help="a JSON recipe file, or 'default' (drop duplicate copies, conflicting duplicates and "
                        "junk; relabel or drop label issues)")
    p.add_argument("--out", metavar="CLEAN", required=True,
                   help="cleaned data: .csv, .parquet, .jsonl, or a folder name for a datasets folder")
    p.add_argument("--log", metavar="REMOVED", help="removal log (.csv, .parquet or .jsonl): one row per dropped, "
                   "relabelled or repaired row: row_id, action, reasons, label / new_label, text / new_text, scores")
    p.add_argument("--signals", metavar="FILE", help="precomputed signals (csv/parquet from `dq signals`); "
                   "default: the workspace cache, computed when missing")
    p.add_argument("--save-recipe", metavar="FILE", help="also write the recipe as applied (JSON)")
    add_embedding_args(p, reference=True, pred_probs=True)
    add_progress_args(p)
    p.add_argument("--spreadsheet-safe", action="store_true",
                   help="CSV for opening in a spreadsheet: cells starting with = + - @ (except plain numbers) "
                        "get an apostrophe so they are not run as formulas. This changes texts such as "
                        "'@user ...': do not train on it (without the flag every export keeps the data as is)")
    p.set_defaults(func=run)


def read_signals_file(path: str) -> pd.DataFrame:
    p = Path(path)
    if not p.exists():
        raise DataError(f"signals file '{path}' does not exist")
    if not p.is_file():  # a FIFO would block the read forever
        raise DataError(f"signals file '{path}' is not a regular file; give the file `dq signals` wrote")
    ext = p.suffix.lower()
    try:
        if ext in (".parquet", ".pq"):
            frame = pd.read_parquet(p)
        elif ext == ".csv":
            frame = pd.read_csv(p, keep_default_na=True)
        elif ext in (".jsonl", ".ndjson"):
            frame = pd.read_json(p, lines=True)
        else:
            raise DataError(f"signals file '{p.name}' must be .csv, .parquet or .jsonl")
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - pandas/pyarrow raise many types for a bad file
        # The type only: a parser's message can quote the file's bytes.
        raise DataError(f"signals file '{p.name}' cannot be read ({type(exc).__name__}); write it again with "
                        "`dq signals DATA --out FILE`") from None
    if "row_id" not in frame.columns:
        raise DataError(f"signals file '{p.name}' has no row_id column; write it with `dq signals DATA --out FILE`")
    return frame


def _check_out(path: str, what: str, allowed: tuple[str, ...]) -> None:
    ext = Path(path).suffix.lower()
    if ext not in allowed:
        shown = ", ".join(a or "(no extension: datasets folder)" for a in allowed)
        raise DataError(f"{what} '{path}' has an unsupported extension '{ext}'; use {shown}")


def run(args) -> int:
    from dq_core.data.io import atomic_write_bytes, frame_to_bytes
    from dq_core.data.outputs import check_folder_output
    from dq_core.filtering import (
        FilterInputs,
        apply_prepared,
        cleaned_frame,
        label_column,
        load_or_compute_signals,
        load_recipe,
        removal_log,
        removal_summary,
        resolve_recipe,
        save_recipe,
        write_export,
    )
    from dq_core.filtering.dataset_card import card_files

    _check_out(args.out, "--out", (".csv", ".parquet", ".jsonl", ""))
    if args.log:
        _check_out(args.log, "--log", (".csv", ".parquet", ".jsonl"))
    if args.spreadsheet_safe and Path(args.out).suffix.lower() != ".csv":
        raise DataError("--spreadsheet-safe makes a CSV for spreadsheets; give --out a .csv file name")
    # No output over an input: checked for every command by dq_core.commands.file_options before this runs.
    if not Path(args.out).suffix:
        check_folder_output(args.out)
    if args.recipe and args.recipe != "default":
        from dq_core.data.paths import check_regular_file

        check_regular_file(args.recipe, "recipe file")
    recipe = load_recipe(resolve_recipe(args.recipe))  # a bad recipe fails before any data is read
    ds, ref = load_inputs(args)
    emb, ref_emb = given_embeddings(args, ds, ref)
    probs = given_pred_probs(args, ds)
    signals = None
    if args.signals:
        if emb is not None or probs is not None:
            warn("--signals FILE is used as it is; --embeddings / --pred-probs only matter when signals are computed")
        signals = read_signals_file(args.signals)
    elif recipe.needs_signals:
        from dq_core.data.workspace import Workspace

        warn("signals: reading them from the workspace cache (computing them if missing)")
        ws = Workspace.default()
        progress = CliProgress.from_args(args)
        if progress.enabled and emb is None:
            from dq_core.filtering.load_signals import signal_specs
            from dq_core.signals import load_cached_report

            specs, seed = signal_specs(recipe.signal_settings)
            if load_cached_report(ds, specs, workspace=ws, reference=ref, seed=seed) is None:
                embed_before_signals(ds, specs, progress=progress, workspace=ws)
        signals = load_or_compute_signals(ds, ref, workspace=ws, settings=recipe.signal_settings,
                                          embeddings=emb.vectors if emb is not None else None,
                                          reference_embeddings=ref_emb.vectors if ref_emb is not None else None,
                                          pred_probs=probs, progress=progress.steps("signals"))
    inputs = FilterInputs(ds, signals)
    result = apply_prepared(inputs, recipe, strict=True)
    for n in result.notes:
        warn(n)
    cleaned = cleaned_frame(ds, result)
    card = card_files(ds, result, signals=signals, frame=cleaned) if not Path(args.out).suffix else None  # its card
    write_export(cleaned, args.out, label_col=label_column(ds, cleaned), spreadsheet_safe=args.spreadsheet_safe,
                 extra_files=card)
    if args.spreadsheet_safe:
        warn(f"{args.out}: cells a spreadsheet would run as formulas start with an apostrophe; "
             "train on an export without --spreadsheet-safe")
    if args.log:
        log = removal_log(ds, result, signals)
        ext = Path(args.log).suffix.lower().lstrip(".")
        atomic_write_bytes(args.log, frame_to_bytes(log, ext, spreadsheet_safe=args.spreadsheet_safe and ext == "csv"))
    if args.save_recipe:
        save_recipe(recipe, args.save_recipe)
    print_json({**removal_summary(result), "out": str(args.out), "log": args.log})
    return 0
