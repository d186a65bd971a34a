"""`dq filter DATA --recipe R --out CLEAN --log REMOVED`: apply a FilterRecipe, write the cleaned rows.

R is a JSON recipe file (as the Clean page saves or downloads it) or ``default``. The signals a recipe
needs are read from ``--signals FILE`` (what `dq signals --out` writes) or else loaded from / computed
into the workspace cache through the same function the Clean page uses, and the recipe is applied by
the same code, so the page and the CLI keep exactly the same rows. CLEAN's extension picks the format
(.csv, .parquet, .jsonl; no extension = a `datasets` folder); CSV cells a spreadsheet would run as a
formula are neutralised. A recipe that leaves no rows, or removes a whole class, is an error (exit 2):
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
from dq_core.errors import DataError


def add_parser(sub) -> None:
    p = sub.add_parser("filter", help="apply a filter recipe: cleaned data + a removal log")
    add_data_args(p)
    p.add_argument("--recipe", metavar="R", default="default",
                   help="a JSON recipe file, or 'default' (drop duplicate copies, conflicting duplicates and "
                        "junk; relabel or drop label issues)")
    p.add_argument("--out", metavar="CLEAN", required=True,
                   help="cleaned data: .csv, .parquet, .jsonl, or a folder name for a datasets folder")
    p.add_argument("--log", metavar="REMOVED", help="removal log (.csv, .parquet or .jsonl): row_id, action, "
                   "reasons, labels, scores")
    p.add_argument("--signals", metavar="FILE", help="precomputed signals (csv/parquet from `dq signals`); "
                   "default: the workspace cache, computed when missing")
    p.add_argument("--save-recipe", metavar="FILE", help="also write the recipe as applied (JSON)")
    add_embedding_args(p, reference=True, pred_probs=True)
    p.set_defaults(func=run)


def read_signals_file(path: str) -> pd.DataFrame:
    p = Path(path)
    if not p.exists():
        raise DataError(f"signals file '{path}' does not exist")
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
        raise DataError(f"signals file '{p.name}' cannot be read ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0][:160] if str(exc) else ''})") from None
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
    from dq_core.filtering import (
        FilterInputs,
        apply_prepared,
        cleaned_frame,
        load_or_compute_signals,
        load_recipe,
        removal_log,
        removal_summary,
        save_recipe,
        write_export,
    )

    _check_out(args.out, "--out", (".csv", ".parquet", ".jsonl", ""))
    if args.log:
        _check_out(args.log, "--log", (".csv", ".parquet", ".jsonl"))
    recipe = load_recipe(args.recipe)  # a bad recipe fails before any data is read
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
        signals = load_or_compute_signals(ds, ref, workspace=Workspace.default(), settings=recipe.signal_settings,
                                          embeddings=emb.vectors if emb is not None else None,
                                          reference_embeddings=ref_emb.vectors if ref_emb is not None else None,
                                          pred_probs=probs)
    inputs = FilterInputs(ds, signals)
    result = apply_prepared(inputs, recipe, strict=True)
    for n in result.notes:
        warn(n)
    write_export(cleaned_frame(ds, result), args.out)
    if args.log:
        log = removal_log(ds, result, signals)
        ext = Path(args.log).suffix.lower().lstrip(".")
        atomic_write_bytes(args.log, frame_to_bytes(log, ext))
    if args.save_recipe:
        save_recipe(recipe, args.save_recipe)
    print_json({**removal_summary(result), "out": str(args.out), "log": args.log})
    return 0
