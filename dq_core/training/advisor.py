"""Which cleaning pays? Train the chosen trainer on what each candidate recipe keeps and measure the gain.

The candidates are FilterRecipes (training/advisor_candidates.py, :func:`candidate_recipes`): no cleaning,
the default recipe, relabel only, drop only, duplicates and junk only, a conservative recipe acting on the most
certain flags, and, when the dataset maps an agreement column, a recipe dropping the rows the annotators agreed
on least.

Evaluation (:func:`advise`): either on the user's trusted test set (train on every row a candidate keeps,
score on the test rows), or on K held-out folds of the labels as given (for each fold, train on the other
folds' rows the candidate keeps, with its relabels, and predict the fold's rows unfiltered). Every
candidate is scored on the same rows, so its gain over no cleaning gets a paired bootstrap interval
(training/evaluate.py). The recommendation is the candidate with the largest gain whose interval lies
above zero, or none: "no cleaning pays measurably here".
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dq_core.data.dataset import TextDataset
from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.filtering import FilterInputs, apply_prepared
from dq_core.training.advisor_candidates import (  # noqa: F401  (re-exported: the advisor's public names)
    AGREEMENT_THRESHOLD,
    CERTAIN_SCORE,
    CONFIDENT_PROB,
    NO_CLEANING,
    Candidate,
    agreement_candidate,
    agreement_unusable,
    agreement_values,
    candidate_recipes,
    certain_threshold,
)
from dq_core.training.advisor_result import AdviceResult, CandidateOutcome
from dq_core.training.evaluate import METRICS, paired_bootstrap_runs
from dq_core.training.progress import Cancelled, NullReporter, Reporter

TRAINERS = ("baseline", "transformer")
DEFAULT_FOLDS = 5
FOLD_SIGNALS = ("label", "exact_duplicate", "conflicting_label", "junk")  # what the candidates act on
NOTHING_PAYS = "No cleaning pays measurably here"
FOLDS_NOTE = ("Evaluated on {k} held-out folds of the labels as given: each candidate trains on the other folds' "
              "rows it keeps (its signals recomputed on those rows, so no held-out label shapes a training label) "
              "and is scored on the fold's rows unfiltered. The held-out labels carry the same noise "
              "as the training labels, so a model that learned the true labels is partly marked wrong: this "
              "undercounts a real gain (with a share e of wrong labels, roughly by a factor 1 - 2e on two "
              "classes). A trusted test set (--test) measures it directly.")
TEST_NOTE = ("Evaluated on the trusted test set ({n:,} rows): each candidate trains on every row it keeps and is "
             "scored on the test rows, which no recipe touches.")
ONE_RUN_NOTE = ("One fine-tune per candidate: its training randomness (data order, the new head's initial "
                "weights) moves accuracy by about as much as a small cleaning gain and is not in the intervals; "
                "--repeats R (the page's 'fine-tunes per candidate') trains each candidate R times and puts it in.")
RUNS_NOTE = ("Each candidate fine-tuned {r} times (seeds {s} to {e}): figures are the runs' means and every "
             "interval resamples the runs as well as the rows, so training randomness is in it.")
MAX_REPEATS = 10
METRIC_NAMES = {"accuracy": "accuracy", "macro_f1": "macro-F1"}  # as the verdict names the deciding metric
MAX_SEED = 2**32 - 1 - MAX_REPEATS  # numpy and scikit-learn take seeds below 2**32; repeats add to the seed

# --------------------------------------------------------------------------- checks

def check_inputs(ds: TextDataset, test: TextDataset | None, *, trainer: str, folds: int, metric: str,
                 repeats: int = 1, seed: int = 0) -> None:
    """Bad input said before anything is computed: unknown trainer, too few rows for K folds, a test set
    with labels the dataset lacks or no text, repeats that mean nothing, a seed the trainers refuse."""
    if trainer not in TRAINERS:
        raise DataError(f"unknown trainer '{trainer}'; use one of {', '.join(TRAINERS)}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise DataError(f"--seed must be a whole number from 0 to {MAX_SEED:,}, got {seed!r}")
    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)) or not 1 <= repeats <= MAX_REPEATS:
        raise DataError(f"--repeats must be a whole number from 1 to {MAX_REPEATS}, got {repeats!r}")
    if repeats > 1 and trainer != "transformer":
        raise DataError("--repeats applies to the transformer trainer only: the baseline's logistic regression "
                        "gives the same model every time on the same rows; drop --repeats or use "
                        "--trainer transformer")
    if metric not in METRICS:
        raise DataError(f"unknown metric '{metric}'; use one of {', '.join(METRICS)}")
    counts = ds.labels.dropna().astype(str).value_counts()
    if len(counts) < 2:
        raise DataError("the advisor needs labelled rows of at least two classes")
    if test is None:
        if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) or folds < 2:
            raise DataError(f"--folds must be a whole number >= 2, got {folds!r}")
        small = counts[counts < folds]
        if len(small):
            c, n = small.index[0], int(small.iloc[0])
            raise DataError(f"class '{c}' has only {n} labelled row{'s' if n != 1 else ''}; {folds}-fold evaluation "
                            f"needs at least {folds} rows in every class. Lower --folds (minimum 2), add rows of "
                            f"'{c}', or give a trusted test set with --test")
        return
    test_labels = test.labels.dropna().astype(str)
    if test_labels.empty:
        raise DataError("the test set has no labelled rows")
    if not test.texts[test.labels.notna()].fillna("").astype(str).str.strip().astype(bool).any():
        raise DataError("every labelled row of the test set has an empty text: there is nothing to score; "
                        "check the test set's text column")
    unknown = sorted(set(test_labels) - set(counts.index))
    if unknown:
        shown = ", ".join(f"'{u}'" for u in unknown[:5])
        raise DataError(f"the test set has label{'s' if len(unknown) > 1 else ''} {shown} that the dataset lacks "
                        f"(dataset classes: {', '.join(map(repr, counts.index.tolist()))}); a model trained on "
                        "the dataset cannot predict them: fix the test labels or map the right label column")


# --------------------------------------------------------------------------- fitting

def _fit_predict_baseline(x_tr: np.ndarray, y_tr: np.ndarray, x_ev: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    if len(set(y_tr.tolist())) < 2:
        return np.full(len(x_ev), y_tr[0] if len(y_tr) else "", dtype=object)
    clf = LogisticRegression(C=1.0, max_iter=2000, random_state=seed).fit(x_tr, y_tr)
    return np.asarray(clf.predict(x_ev), dtype=object)


def _fit_predict_transformer(t_tr: np.ndarray, y_tr: np.ndarray, t_ev: np.ndarray, seed: int,
                             reporter: Reporter) -> np.ndarray:
    from dq_core.training.config import DEFAULT_MAX_TRAIN_ROWS, TrainConfig
    from dq_core.training.finetune import fine_tune, predict_proba
    from dq_core.util.sampling import stratified_sample

    pick = stratified_sample(y_tr, DEFAULT_MAX_TRAIN_ROWS["transformer"], np.random.default_rng(seed))
    train = pd.DataFrame({"row_id": pick, "text": t_tr[pick], "label": y_tr[pick]})
    labels = tuple(sorted(set(y_tr.tolist())))
    cfg = TrainConfig(trainer="transformer", seed=seed)
    with tempfile.TemporaryDirectory(prefix="dq-advise-") as work:
        res = fine_tune(train, train.iloc[:0], labels, cfg, work_dir=Path(work), reporter=_Quiet(reporter))
        proba = predict_proba(res, list(t_ev), max_length=cfg.max_length)
    return np.array(labels, dtype=object)[proba.argmax(axis=1)]


class _Quiet(NullReporter):
    """Passes cancellation through to a fine-tune but keeps its per-step progress out of the advisor's."""

    def __init__(self, reporter: Reporter):
        self.reporter = reporter

    def should_stop(self) -> bool:
        return self.reporter.should_stop()


def advise(ds: TextDataset, *, test: TextDataset | None = None, reference: TextDataset | None = None,
           trainer: str = "baseline",
           folds: int = DEFAULT_FOLDS, seed: int = 0, metric: str = "accuracy", workspace: Workspace | None = None,
           signals: pd.DataFrame | None = None, signal_settings: dict | None = None,
           embeddings: np.ndarray | None = None, test_embeddings: np.ndarray | None = None,
           candidates: list[Candidate] | None = None, n_resamples: int = 1000, confidence: float = 0.95,
           repeats: int = 1, reporter: Reporter | None = None) -> AdviceResult:
    """Evaluate the candidate recipes on ``ds`` and recommend one (or none); see the module docstring.

    ``signals`` (the wide frame) and ``embeddings`` are loaded from, or computed into, the workspace cache
    when not given, with the Clean page's ``signal_settings`` and ``reference`` (the signals' cache key);
    they give the rows each candidate keeps and the test-set evaluation. On folds, each fold's training rows
    get their own signals (FOLD_SIGNALS, default settings). A cancel (``reporter.should_stop()``) raises
    Cancelled between steps; nothing is written here. ``repeats`` (transformer only) fine-tunes each candidate
    that many times, seeds ``seed`` on, and the intervals resample the runs too.
    """
    rep = reporter or NullReporter()
    check_inputs(ds, test, trainer=trainer, folds=folds, metric=metric, repeats=repeats, seed=seed)
    ws = workspace or Workspace.default()

    def stop() -> None:
        if rep.should_stop():
            raise Cancelled()

    if signals is None:
        signals = _signals(ds, reference, ws, signal_settings, rep, stop)
    stop()
    x = x_test = None
    if trainer == "baseline" or test is None:  # fold signals need the embeddings too
        x, x_test = _embeddings(ds, test if trainer == "baseline" else None, ws, embeddings, test_embeddings, rep,
                                stop)
    cands = candidates if candidates is not None else candidate_recipes(ds, signals)
    if not cands or cands[0].key != NO_CLEANING:
        raise DataError("the first candidate must be no cleaning: every gain is measured against it")
    inputs = FilterInputs(ds, signals).prepare()
    applied = []
    for c in cands:
        res = apply_prepared(inputs, c.recipe, strict=False)
        applied.append((c, res, " ".join(res.problems) or None))  # a skipped candidate says why
    live = [(c, res) for c, res, skipped in applied if not skipped]
    ev = _Evaluation.of(ds, test, folds=folds, seed=seed, x_test=x_test)
    note = ev.note
    if trainer == "transformer":
        note += " " + (ONE_RUN_NOTE if repeats == 1 else
                       RUNS_NOTE.format(r=repeats, s=seed, e=seed + repeats - 1))
    preds, fold_problems = _fit_candidates(ds, x, ev, live, trainer=trainer, seed=seed, repeats=repeats, rep=rep,
                                           stop=stop)
    rep.update(phase="comparing", progress=0.96, message="paired bootstrap of each candidate against no cleaning")
    return _summarise(ds, applied, preds, ev.y_eval, trainer=trainer, test=test, folds=folds, seed=seed,
                      metric=metric, note=note, n_resamples=n_resamples, confidence=confidence, repeats=repeats,
                      notes=[n for n in (agreement_unusable(ds) if candidates is None else None,
                                         _overlap_note(ds, test)) if n],
                      fold_notes={k: _fold_problem_notes(v, len(ev.splits)) for k, v in fold_problems.items()})


def _signals(ds: TextDataset, reference: TextDataset | None, ws: Workspace, settings: dict | None, rep: Reporter,
             stop) -> pd.DataFrame:
    """The Clean page's signals of ``ds``, from the workspace cache or computed (the first 30% of progress)."""
    from dq_core.filtering import load_or_compute_signals

    rep.update(phase="signals", progress=0.01, message="computing the signals (or reading them from the cache)")
    return load_or_compute_signals(ds, reference, workspace=ws, settings=settings,
                                   progress=lambda m, f: (stop(), rep.update(progress=0.01 + 0.29 * f,
                                                                             message=f"signals: {m}")))


@dataclass(frozen=True)
class _Evaluation:
    """Where the candidates are scored: on K folds of ``ds``'s labelled rows or on the trusted test set."""

    splits: list  # (training positions in ds, evaluated positions in ds or None: the test set)
    y_eval: np.ndarray  # the labels scored against, as str
    note: str
    pos: np.ndarray | None  # folds: the labelled positions, in the order of y_eval
    x_test: np.ndarray | None  # test set: its labelled rows' vectors (the baseline's input)
    t_test: np.ndarray | None  # test set: its labelled rows' texts (the transformer's input)

    @classmethod
    def of(cls, ds: TextDataset, test: TextDataset | None, *, folds: int, seed: int,
           x_test: np.ndarray | None) -> _Evaluation:
        labelled = ds.labels.notna().to_numpy()
        if test is None:
            from sklearn.model_selection import StratifiedKFold

            given = ds.labels.astype(object).where(ds.labels.notna(), None).to_numpy(dtype=object)
            pos = np.flatnonzero(labelled)
            y_eval = given[pos].astype(str)
            splits = [(pos[a], pos[b]) for a, b in StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
                      .split(pos, y_eval)]
            return cls(splits, y_eval, FOLDS_NOTE.format(k=folds), pos, None, None)
        test_lab = test.labels.notna().to_numpy()
        y_eval = test.labels[test_lab].astype(str).to_numpy(dtype=object)
        t_test = test.texts.fillna("").astype(str).to_numpy(dtype=object)[test_lab]
        return cls([(np.flatnonzero(labelled), None)], y_eval, TEST_NOTE.format(n=len(y_eval)), None,
                   None if x_test is None else x_test[test_lab], t_test)


def _fit_candidates(ds: TextDataset, x: np.ndarray | None, ev: _Evaluation, live: list, *, trainer: str, seed: int,
                    repeats: int, rep: Reporter, stop) -> tuple[dict, dict]:
    """Train each live candidate ``repeats`` times per split and predict the evaluated rows. Returns
    ({candidate: one prediction array per repeat, in the order of ``ev.y_eval``}, {candidate: {problem:
    the folds it arose in}})."""
    texts = ds.texts.fillna("").astype(str).to_numpy(dtype=object)
    n_fits = len(ev.splits) * len(live) * repeats
    done = 0
    preds = {c.key: [np.empty(len(ev.y_eval), dtype=object) for _ in range(repeats)] for c, _ in live}
    fold_problems: dict[str, dict[str, list[int]]] = {}
    for f, (train_pos, eval_pos) in enumerate(ev.splits):
        stop()
        if eval_pos is None:  # the whole dataset's masks, on the labelled rows it trains on
            fold_results = [(c, res.keep_mask[train_pos], res.final_labels()[train_pos]) for c, res in live]
        else:
            rep.update(phase="training", progress=0.3 + 0.65 * done / n_fits,
                       message=f"fold {f + 1} of {len(ev.splits)}: signals on its training rows")
            fold_results = []
            for c, keep, final, problems in _fold_results(ds, x, train_pos, live, seed):
                fold_results.append((c, keep, final))
                for pr in problems:
                    fold_problems.setdefault(c.key, {}).setdefault(pr, []).append(f + 1)
        for (c, keep, final), r in ((fr, r) for fr in fold_results for r in range(repeats)):
            stop()
            rep.update(phase="training", progress=0.3 + 0.65 * done / n_fits,
                       message=f"{c.title}: fit {done + 1} of {n_fits}", step=done + 1, total_steps=n_fits)
            ok = keep & np.array([v is not None for v in final])
            tr, y_tr = train_pos[ok], final[ok].astype(str)
            if trainer == "baseline":
                pred = _fit_predict_baseline(x[tr], y_tr, ev.x_test if eval_pos is None else x[eval_pos], seed)
            else:
                pred = _fit_predict_transformer(texts[tr], y_tr, ev.t_test if eval_pos is None else texts[eval_pos],
                                                seed + r, rep)
            if eval_pos is None:
                preds[c.key][r][:] = pred
            else:
                preds[c.key][r][np.searchsorted(ev.pos, eval_pos)] = pred
            done += 1
    return preds, fold_problems


def _fold_results(ds: TextDataset, x: np.ndarray, train_pos: np.ndarray, live: list, seed: int) -> list:
    """Each candidate applied to one fold's training rows, with the signals recomputed on those rows alone:
    signals of the whole dataset would let the held-out rows' labels shape the training labels (a relabel
    toward the neighbours' labels would then be scored against those very labels). With each: the problems
    applying it raised there (a class it removes entirely, which that fold's model can then never predict)."""
    from dq_core.signals import compute_signals, get_signal

    mask = np.zeros(len(ds), dtype=bool)
    mask[train_pos] = True
    sub = ds.subset(mask)
    frame = compute_signals(sub, [get_signal(s) for s in FOLD_SIGNALS], embeddings=x[train_pos], seed=seed).frame
    inputs = FilterInputs(sub, frame).prepare()
    out = []
    for c, _ in live:
        res = apply_prepared(inputs, c.recipe, strict=False)
        out.append((c, res.keep_mask, res.final_labels(), res.problems))
    return out


def _embeddings(ds, test, ws, embeddings, test_embeddings, rep: Reporter, stop) -> tuple:
    from dq_core.space.embed import embed_dataset

    def on_progress(message: str, done: float | None = None, total: float = 1.0) -> None:
        stop()
        if done is None:
            return  # embedding always counts: a report without counts has nothing to show
        rep.update(phase="embedding", progress=0.3 * done / max(total, 1),
                   message=f"embedding: {done:,}/{total:,} texts")

    x = embeddings if embeddings is not None else embed_dataset(ds, workspace=ws, progress=on_progress).vectors
    x_test = None
    if test is not None:
        x_test = test_embeddings if test_embeddings is not None else \
            embed_dataset(test, workspace=ws, progress=on_progress).vectors
    return np.asarray(x, dtype=np.float32), None if x_test is None else np.asarray(x_test, dtype=np.float32)


def _fold_problem_notes(problems: dict[str, list[int]], k: int) -> list[str]:
    return [f"in fold{'s' if len(f) > 1 else ''} {', '.join(map(str, f))} of {k}: {p.rstrip('.')}; those folds' "
            "models can never predict it, which lowers this candidate's score" for p, f in problems.items()]


def _overlap_note(ds: TextDataset, test: TextDataset | None) -> str | None:
    """A test set sharing texts with the dataset measures the models on rows they trained on."""
    if test is None:
        return None
    from dq_core.util.text import first_exact_match

    lab = test.labels.notna().to_numpy()
    n = int((first_exact_match(test.texts[lab], ds.texts) >= 0).sum())
    if not n:
        return None
    return (f"{n:,} of the {int(lab.sum()):,} test rows ({n / lab.sum():.0%}) have the same text as a dataset row: "
            "the models trained on those texts (with the dataset's labels), which flatters every candidate and "
            "blurs the gains; keep a trusted test set apart from the data")


def _summarise(ds, applied, preds, y_eval, *, trainer, test, folds, seed, metric, note, n_resamples,
               confidence, notes: list[str], repeats: int, fold_notes: dict[str, list[str]]) -> AdviceResult:
    from sklearn.metrics import f1_score

    base = preds[NO_CLEANING]
    outcomes = []
    for c, res, skipped in applied:
        gain = acc = f1 = None
        if not skipped:
            runs = preds[c.key]
            acc = float(np.mean([(p == y_eval).mean() for p in runs]))
            f1 = float(np.mean([f1_score(y_eval, p.astype(str), average="macro", zero_division=0,
                                         labels=sorted(set(y_eval.tolist()))) for p in runs]))
            if c.key != NO_CLEANING:
                # the same seed for every candidate: each is resampled on the same rows
                gain = {m: paired_bootstrap_runs(y_eval, base, runs, metric=m, n_resamples=n_resamples,
                                                 confidence=confidence, rng=np.random.default_rng(seed))
                        for m in METRICS}
        outcomes.append(CandidateOutcome(
            key=c.key, title=c.title, description=c.recipe.description or c.recipe.summary(),
            recipe=c.recipe.to_dict(), n_rows=res.n_rows, n_kept=res.n_kept, n_relabelled=res.n_relabelled,
            n_repaired=res.n_repaired, accuracy=acc, macro_f1=f1, gain=gain,
            notes=tuple(x for x in (c.note, *res.notes, *fold_notes.get(c.key, ())) if x), skipped=skipped))
    other = next(m for m in METRICS if m != metric)
    eligible = [o for o in outcomes if o.gain and o.gain[metric].ci_low > 0 and o.gain[other].ci_high >= 0]
    best = max(eligible, key=lambda o: (o.gain[metric].delta, o.n_kept), default=None)
    name = METRIC_NAMES.get(metric, metric)
    # Written as whole sentences, each starting capitalised: the page, the CLI and the job's status line
    # show it as it is (AdviceResult.verdict splits it for the page's bold headline).
    if best is None:
        rec = (f"{NOTHING_PAYS}. No candidate's {name} gain over no cleaning has a {confidence:.0%} interval "
               "above zero.")
    else:
        g = best.gain[metric]
        rec = (f"Recommended: {best.title}. {name[0].upper() + name[1:]} {g.delta:+.3f} over no cleaning "
               f"({confidence:.0%} interval [{g.ci_low:+.3f}, {g.ci_high:+.3f}]), keeping {best.n_kept:,} of "
               f"{best.n_rows:,} rows and relabelling {best.n_relabelled:,}.")
    if len(eligible) > 1:
        notes.append(f"{len(eligible)} candidates have an interval above zero; the largest gain is recommended")
    return AdviceResult(dataset=ds.name, dataset_fingerprint=ds.fingerprint, n_rows=len(ds),
                        classes=tuple(ds.classes), trainer=trainer,
                        evaluated_on="test" if test is not None else "folds",
                        folds=None if test is not None else folds, n_eval=len(y_eval), seed=seed, metric=metric,
                        confidence=confidence, evaluation_note=note, candidates=tuple(outcomes),
                        recommended=None if best is None else best.key, recommendation=rec, notes=tuple(notes),
                        repeats=repeats)
