"""`dq story DATA [--reference REF] [--recipe R|default] [--advice ADVICE.json] [--run RUN_DIR ...]
[--signals FILE] [--embeddings FILE] --out story.html|story.md|story.json`: one document from data to model.

Every section comes from the function the matching command uses (profile, shift, signals, filter, report),
so the story's numbers are the ones those commands print. The story is built whole before anything is
written, and written atomically: a bad input leaves no file.
"""

from __future__ import annotations

import sys
from pathlib import Path

from dq_core.commands.common import add_data_args, add_embedding_args, given_embeddings, load_inputs, warn
from dq_core.commands.progress import CliProgress, add_progress_args
from dq_core.errors import DataError
from dq_core.util.seeds import seed_arg


def add_parser(sub) -> None:
    p = sub.add_parser("story", help="one shareable report from data to model (html, md or json)",
                       description="Data at a glance, shift against the reference, issues per signal, the "
                       "recipe and what it did, the advisor's verdict and the runs with their paired "
                       "comparison, each section present when its inputs are given.")
    add_data_args(p)
    p.add_argument("--recipe", metavar="R", default=None,
                   help="a JSON recipe file, or 'default': applied as `dq filter` applies it")
    p.add_argument("--advice", metavar="ADVICE.json", default=None, help="advice file `dq advise` wrote")
    p.add_argument("--run", dest="run_dirs", metavar="RUN_DIR", action="append", default=[],
                   help="a finished run folder (repeatable; the first is the baseline)")
    p.add_argument("--signals", metavar="FILE", help="precomputed signals (csv/parquet/jsonl from `dq signals`); "
                   "default: the workspace cache when a recipe or --embeddings is given")
    p.add_argument("--seed", type=seed_arg, default=0, help="seed of the shift resampling and the comparison")
    p.add_argument("--out", metavar="FILE", required=True, help="story.html, story.md or story.json")
    add_embedding_args(p, reference=True)
    add_progress_args(p)
    p.set_defaults(func=run)


def _check_inputs(args) -> None:
    """Everything that can be refused without reading DATA, refused first."""
    from dq_core.data.paths import check_regular_file
    from dq_core.story.render import story_format

    story_format(args.out)
    if Path(args.out).is_dir():
        raise DataError(f"--out '{args.out}' is a folder; give a file name such as story.html")
    if args.recipe and args.recipe != "default":
        check_regular_file(args.recipe, "recipe file")
    if args.advice:
        if not Path(args.advice).exists():
            raise DataError(f"--advice '{args.advice}' does not exist; give the file `dq advise --out` wrote")
        check_regular_file(args.advice, "advice file")
    for d in args.run_dirs:
        if not Path(d).is_dir():
            raise DataError(f"--run '{d}' is not a folder; give a run directory written by dq train")


def run(args) -> int:
    from dq_core.story import build_story, write_story

    _check_inputs(args)
    recipe = None
    if args.recipe:
        from dq_core.filtering import load_recipe, resolve_recipe

        recipe = load_recipe(resolve_recipe(args.recipe))
    ds, ref = load_inputs(args)
    emb, ref_emb = given_embeddings(args, ds, ref)
    signals = None
    if args.signals:
        from dq_core.commands.filter import read_signals_file

        signals = read_signals_file(args.signals)
    from dq_core.data.workspace import Workspace

    # dq's own cache folder, as `dq shift` / `dq coverage` use it: warm embeddings, clusters, the map's UMAP
    workspace = Workspace.default()
    if signals is None and (recipe is not None or emb is not None):
        warn("signals: reading them from the workspace cache (computing them if missing)")
    progress = CliProgress.from_args(args)
    story = build_story(ds, ref, recipe=recipe, runs=args.run_dirs, advice=args.advice, signals=signals,
                        embeddings=(emb, ref_emb), workspace=workspace, progress=progress.steps("signals"),
                        seed=args.seed)
    for n in story.notes:
        warn(n)
    fmt = write_story(story, args.out)
    print(f"wrote {args.out} ({fmt})", file=sys.stderr)
    return 0
