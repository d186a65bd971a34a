"""`dq advise DATA [--test TEST] [--trainer baseline|transformer] [--folds K] [--seed S] [--repeats R]
--out ADVICE.json`:
which cleaning pays on this data?

Trains the chosen trainer on what each candidate recipe keeps (no cleaning, the default, relabel only,
drop only, duplicates and junk only, conservative, the agreement column's when one is mapped) and scores
it on K held-out folds of the labels as given, or on the trusted test set TEST. Writes the advice (every
candidate's gain over no cleaning with a paired bootstrap interval, and the recommendation) to ADVICE.json
in one atomic write at the end, and prints a short summary as JSON; progress goes to stderr. The signals are
read from (or computed into) the workspace cache with the same reference as `dq filter`, so the recipes act on the same flags.
"""

from __future__ import annotations

from pathlib import Path

from dq_core.commands.common import add_data_args, add_test_args, load_inputs, load_test_set, print_json, warn
from dq_core.commands.progress import CliProgress, add_progress_args
from dq_core.errors import DataError
from dq_core.training.progress import NullReporter


def add_parser(sub) -> None:
    from dq_core.training.advisor import DEFAULT_FOLDS, MAX_REPEATS, TRAINERS
    from dq_core.training.evaluate import METRICS

    p = sub.add_parser("advise", help="which cleaning recipe pays: candidates trained and compared")
    add_data_args(p)
    add_test_args(p, "a trusted test set (same forms as DATA), kept apart from DATA; default: K held-out folds of "
                     "DATA's labels as given")
    p.add_argument("--trainer", choices=TRAINERS, default="baseline",
                   help="baseline (logistic regression on embeddings: seconds) or transformer (fine-tune: slow)")
    p.add_argument("--folds", type=int, default=DEFAULT_FOLDS, metavar="K", help=f"folds without --test "
                   f"(default {DEFAULT_FOLDS})")
    p.add_argument("--seed", type=int, default=0, metavar="S")
    p.add_argument("--repeats", type=int, default=1, metavar="R",
                   help=f"transformer only: fine-tune each candidate R times (seeds S to S+R-1, at most "
                        f"{MAX_REPEATS}) so the intervals hold the training randomness too (default 1: R times "
                        "faster, but a lucky run can pass for a gain)")
    p.add_argument("--metric", choices=METRICS, default="accuracy", help="the gain that decides the recommendation")
    p.add_argument("--out", metavar="ADVICE.json", required=True, help="where to write the advice (JSON)")
    add_progress_args(p)
    p.set_defaults(func=run)


class _CliReporter(NullReporter):
    """The advisor's progress through the CLI's one progress helper (a bar on a terminal, lines with --progress)."""

    def __init__(self, progress: CliProgress):
        self._step = progress.steps("advise")

    def update(self, **fields) -> None:
        if "message" in fields:
            self._step(fields["message"], fields.get("progress") or 0.0)


def run(args) -> int:
    from dq_core.data.workspace import Workspace
    from dq_core.training.advisor import DEFAULT_FOLDS, advise
    from dq_core.training.advisor_job import write_advice

    if Path(args.out).suffix.lower() != ".json":
        raise DataError(f"--out '{args.out}' must be a .json file")
    if Path(args.out).is_dir():
        raise DataError(f"--out '{args.out}' is a folder; give a .json file name")
    progress = CliProgress.from_args(args)
    ds, ref = load_inputs(args)
    test = load_test_set(args)
    if test is not None and args.folds != DEFAULT_FOLDS:
        warn(f"--folds {args.folds} is ignored: with --test every candidate is scored on the test set")
    result = advise(ds, test=test, reference=ref, trainer=args.trainer, folds=args.folds, seed=args.seed,
                    metric=args.metric, repeats=args.repeats, workspace=Workspace.default(),
                    reporter=_CliReporter(progress))
    for n in result.notes:
        warn(n)
    for c in result.candidates:
        for n in (*c.notes, *([c.skipped] if c.skipped else [])):
            warn(f"{c.title}: {n}")
    warn(result.evaluation_note)
    progress.close()
    write_advice(result, args.out)
    print_json({"recommended": result.recommended, "recommendation": " ".join(result.verdict),
                "evaluated_on": result.evaluated_on, "n_eval": result.n_eval, "out": str(args.out),
                "candidates": [{"key": c.key, "n_kept": c.n_kept, "n_relabelled": c.n_relabelled,
                                "accuracy": c.accuracy, "macro_f1": c.macro_f1,
                                "gain_accuracy": None if c.gain is None else c.gain["accuracy"].delta,
                                "interval_accuracy": None if c.gain is None else
                                [c.gain["accuracy"].ci_low, c.gain["accuracy"].ci_high], "skipped": c.skipped}
                               for c in result.candidates]})
    return 0
