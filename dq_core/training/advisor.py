"""Which cleaning pays? Train the chosen trainer on what each candidate recipe keeps and measure the gain.

The candidates are FilterRecipes built here (:func:`candidate_recipes`): no cleaning, the default recipe,
relabel only, drop only, duplicates and junk only, a conservative recipe acting on the most certain flags,
and, when the dataset maps an agreement column, a recipe dropping the rows the annotators agreed on least.

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
from dq_core.filtering import (
    DEFAULT_RELABEL_PROB,
    ConditionRule,
    FilterInputs,
    FilterRecipe,
    SignalRule,
    apply_prepared,
    default_recipe,
)
from dq_core.training.advisor_result import AdviceResult, CandidateOutcome
from dq_core.training.evaluate import METRICS, paired_bootstrap_runs
from dq_core.training.progress import Cancelled, NullReporter, Reporter

TRAINERS = ("baseline", "transformer")
DEFAULT_FOLDS = 5
AGREEMENT_THRESHOLD = 0.7  # rows whose annotators agreed less than this are dropped by the agreement candidate
CONFIDENT_PROB = 0.8  # conservative: relabel only when the suggestion is at least this likely
CERTAIN_SCORE = 0.1  # conservative: acts below this label score when no row is flagged
NO_CLEANING = "none"
FOLD_SIGNALS = ("label", "exact_duplicate", "conflicting_label", "junk")  # what the candidates act on
NOTHING_PAYS = "no cleaning pays measurably here"
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

@dataclass(frozen=True)
class Candidate:
    key: str
    title: str
    recipe: FilterRecipe
    note: str = ""


def certain_threshold(signals: pd.DataFrame | None) -> float:
    """The label score below which the conservative recipe acts: the median score of the flagged rows (the
    more certain half of the flags), or CERTAIN_SCORE when nothing is flagged."""
    if signals is None or "label_score" not in signals or "is_label_issue" not in signals:
        return CERTAIN_SCORE
    flagged = pd.to_numeric(signals.loc[signals["is_label_issue"].astype(bool), "label_score"], errors="coerce")
    flagged = flagged.dropna()
    if flagged.empty:
        return CERTAIN_SCORE
    return float(np.clip(np.ceil(float(flagged.median()) * 100) / 100, 0.01, 1.0))


def candidate_recipes(ds: TextDataset, signals: pd.DataFrame | None = None, *,
                      agreement_threshold: float = AGREEMENT_THRESHOLD) -> list[Candidate]:
    """The recipes the advisor compares, no cleaning first (``signals`` sets the conservative threshold)."""
    certain = certain_threshold(signals)
    dupes_junk = (SignalRule("exact_duplicate", action="dedupe", required=False),
                  SignalRule("conflicting_label", action="drop", threshold=0.2, use_flag=False, required=False),
                  SignalRule("junk", action="drop", required=False))
    out = [
        Candidate(NO_CLEANING, "no cleaning", FilterRecipe(name="no cleaning", description="keep every row")),
        Candidate("default", "the default recipe", default_recipe()),
        Candidate("relabel_only", "relabel only", FilterRecipe(
            name="relabel only", description=f"relabel flagged label issues whose suggested label has p >= "
                                             f"{DEFAULT_RELABEL_PROB:g}; drop nothing",
            signals=(SignalRule("label", action="relabel", min_prob=DEFAULT_RELABEL_PROB, required=False),))),
        Candidate("drop_only", "drop only", FilterRecipe(
            name="drop only", description="drop every flagged label issue, duplicate copy, conflicting "
                                          "duplicate and junk row; relabel nothing",
            signals=(*dupes_junk, SignalRule("label", action="drop", required=False)))),
        Candidate("duplicates_junk", "duplicates and junk only", FilterRecipe(
            name="duplicates and junk only", description="drop exact-duplicate copies, conflicting duplicates "
                                                         "outside their group's majority and junk",
            signals=dupes_junk)),
        Candidate("conservative", "conservative", FilterRecipe(
            name="conservative", description=f"duplicates and junk; of the label issues only the more certain half "
                                             f"(P(given label) < {certain:.2f}, the flagged rows' median): relabel "
                                             f"those whose suggestion has p >= {CONFIDENT_PROB:g}, drop the rest; "
                                             "leave the other flags alone",
            # one rule per signal, so the page's controls can show it
            signals=(*dupes_junk, SignalRule("label", action="relabel_or_drop", threshold=certain, use_flag=False,
                                             min_prob=CONFIDENT_PROB, required=False)))),
    ]
    agreement = agreement_candidate(ds, agreement_threshold)
    if agreement is not None:
        out.append(agreement)
    return out


def agreement_values(ds: TextDataset) -> pd.Series | None:
    col = ds.mapping.agreement
    if not col:
        return None
    for name in (col, f"meta_{col}"):
        if name in ds.frame.columns:
            return pd.to_numeric(ds.frame[name], errors="coerce")
    return None


def agreement_unusable(ds: TextDataset) -> str | None:
    """Why a mapped agreement column gives no candidate (said in the advice), or None."""
    col = ds.mapping.agreement
    values = agreement_values(ds)
    if not col or values is None:
        return None
    present = values.dropna()
    if present.empty:
        return f"the agreement column '{col}' has no numeric values: no agreement candidate"
    if present.min() < 0 or present.max() > 1:
        # a fixed threshold means nothing on an unknown scale (votes, a 1-5 score)
        return (f"the agreement column '{col}' is not a share in [0, 1] (values {present.min():g} to "
                f"{present.max():g}): no agreement candidate; rescale it to the share of annotators who agree")
    return None


def agreement_candidate(ds: TextDataset, threshold: float) -> Candidate | None:
    """Drop rows whose agreement is below ``threshold``; rows without a value are kept (and counted)."""
    values = agreement_values(ds)
    if values is None or agreement_unusable(ds):
        return None
    col = ds.mapping.agreement
    n_missing = int(values.isna().sum())
    note = (f"{n_missing:,} rows have no '{col}' value and are kept" if n_missing else "")
    return Candidate("agreement", f"agreement ({col} >= {threshold:g})", FilterRecipe(
        name=f"agreement {col}", description=f"drop rows whose '{col}' is below {threshold:g}",
        conditions=(ConditionRule(f"{col} < {threshold:g}", action="drop"),)), note=note)


# --------------------------------------------------------------------------- checks

def check_inputs(ds: TextDataset, test: TextDataset | None, *, trainer: str, folds: int, metric: str,
                 repeats: int = 1) -> None:
    """Bad input said before anything is computed: unknown trainer, too few rows for K folds, a test set
    with labels the dataset lacks, repeats that mean nothing."""
    if trainer not in TRAINERS:
        raise DataError(f"unknown trainer '{trainer}'; use one of {', '.join(TRAINERS)}")
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
    from dq_core.training.splits import stratified_sample

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
    check_inputs(ds, test, trainer=trainer, folds=folds, metric=metric, repeats=repeats)
    ws = workspace or Workspace.default()

    def stop() -> None:
        if rep.should_stop():
            raise Cancelled()

    if signals is None:
        from dq_core.filtering import load_or_compute_signals

        rep.update(phase="signals", progress=0.01, message="computing the signals (or reading them from the cache)")
        signals = load_or_compute_signals(ds, reference, workspace=ws, settings=signal_settings,
                                          progress=lambda m, f: (stop(), rep.update(progress=0.01 + 0.29 * f,
                                                                                    message=f"signals: {m}")))
    stop()
    x = x_test = None
    if trainer == "baseline" or test is None:  # fold signals need the embeddings too
        x, x_test = _embeddings(ds, test if trainer == "baseline" else None, ws, embeddings, test_embeddings, rep,
                                stop)
    cands = candidates if candidates is not None else candidate_recipes(ds, signals)
    if not cands or cands[0].key != NO_CLEANING:
        raise DataError("the first candidate must be no cleaning: every gain is measured against it")
    inputs = FilterInputs(ds, signals).prepare()
    labelled = ds.labels.notna().to_numpy()
    texts = ds.texts.fillna("").astype(str).to_numpy(dtype=object)
    given = ds.labels.astype(object).where(ds.labels.notna(), None).to_numpy(dtype=object)

    applied = []
    for c in cands:
        res = apply_prepared(inputs, c.recipe, strict=False)
        skipped = " ".join(res.problems) or None
        applied.append((c, res, skipped))
    live = [(c, res) for c, res, skipped in applied if not skipped]

    if test is None:
        from sklearn.model_selection import StratifiedKFold

        pos = np.flatnonzero(labelled)
        y_eval = given[pos].astype(str)
        splits = [(pos[a], pos[b]) for a, b in StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
                  .split(pos, y_eval)]
        note = FOLDS_NOTE.format(k=folds)
    else:
        test_lab = test.labels.notna().to_numpy()
        y_eval = test.labels[test_lab].astype(str).to_numpy(dtype=object)
        splits = [(np.flatnonzero(labelled), None)]
        note = TEST_NOTE.format(n=len(y_eval))
        t_test = test.texts.fillna("").astype(str).to_numpy(dtype=object)[test_lab]
        if x_test is not None:
            x_test = x_test[test_lab]
    if trainer == "transformer":
        note += " " + (ONE_RUN_NOTE if repeats == 1 else
                       RUNS_NOTE.format(r=repeats, s=seed, e=seed + repeats - 1))
    n_fits = len(splits) * len(live) * repeats
    done = 0
    preds = {c.key: [np.empty(len(y_eval), dtype=object) for _ in range(repeats)] for c, _ in live}
    for f, (train_pos, eval_pos) in enumerate(splits):
        stop()
        if eval_pos is None:
            fold_results = [(c, res.keep_mask, res.final_labels()) for c, res in live]
        else:
            rep.update(phase="training", progress=0.3 + 0.65 * done / n_fits,
                       message=f"fold {f + 1} of {len(splits)}: signals on its training rows")
            fold_results = _fold_results(ds, x, train_pos, live, seed)
        for (c, keep, final), r in ((fr, r) for fr in fold_results for r in range(repeats)):
            stop()
            rep.update(phase="training", progress=0.3 + 0.65 * done / n_fits,
                       message=f"{c.title}: fit {done + 1} of {n_fits}", step=done + 1, total_steps=n_fits)
            ok = keep & np.array([v is not None for v in final])
            tr, y_tr = train_pos[ok], final[ok].astype(str)
            if trainer == "baseline":
                pred = _fit_predict_baseline(x[tr], y_tr, x_test if eval_pos is None else x[eval_pos], seed)
            else:
                pred = _fit_predict_transformer(texts[tr], y_tr, t_test if eval_pos is None else texts[eval_pos],
                                                seed + r, rep)
            if eval_pos is None:
                preds[c.key][r][:] = pred
            else:
                preds[c.key][r][np.searchsorted(pos, eval_pos)] = pred
            done += 1
    rep.update(phase="comparing", progress=0.96, message="paired bootstrap of each candidate against no cleaning")
    return _summarise(ds, applied, preds, y_eval, trainer=trainer, test=test, folds=folds, seed=seed,
                      metric=metric, note=note, n_resamples=n_resamples, confidence=confidence, repeats=repeats,
                      notes=[n for n in (agreement_unusable(ds),) if n and candidates is None])


def _fold_results(ds: TextDataset, x: np.ndarray, train_pos: np.ndarray, live: list, seed: int) -> list:
    """Each candidate applied to one fold's training rows, with the signals recomputed on those rows alone:
    signals of the whole dataset would let the held-out rows' labels shape the training labels (a relabel
    toward the neighbours' labels would then be scored against those very labels)."""
    from dq_core.signals import compute_signals, get_signal

    mask = np.zeros(len(ds), dtype=bool)
    mask[train_pos] = True
    sub = ds.subset(mask)
    frame = compute_signals(sub, [get_signal(s) for s in FOLD_SIGNALS], embeddings=x[train_pos], seed=seed).frame
    inputs = FilterInputs(sub, frame).prepare()
    out = []
    for c, _ in live:
        res = apply_prepared(inputs, c.recipe, strict=False)
        out.append((c, res.keep_mask, res.final_labels()))
    return out


def _embeddings(ds, test, ws, embeddings, test_embeddings, rep: Reporter, stop) -> tuple:
    from dq_core.space.embed import embed_dataset

    def on_progress(done: int, total: int) -> None:
        stop()
        rep.update(phase="embedding", progress=0.3 * done / max(total, 1),
                   message=f"embedding: {done:,}/{total:,} texts")

    x = embeddings if embeddings is not None else embed_dataset(ds, workspace=ws, progress=on_progress).vectors
    x_test = None
    if test is not None:
        x_test = test_embeddings if test_embeddings is not None else \
            embed_dataset(test, workspace=ws, progress=on_progress).vectors
    return np.asarray(x, dtype=np.float32), None if x_test is None else np.asarray(x_test, dtype=np.float32)


def _summarise(ds, applied, preds, y_eval, *, trainer, test, folds, seed, metric, note, n_resamples,
               confidence, notes: list[str], repeats: int) -> AdviceResult:
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
            notes=tuple(x for x in (c.note, *res.notes) if x), skipped=skipped))
    other = next(m for m in METRICS if m != metric)
    eligible = [o for o in outcomes if o.gain and o.gain[metric].ci_low > 0 and o.gain[other].ci_high >= 0]
    best = max(eligible, key=lambda o: (o.gain[metric].delta, o.n_kept), default=None)
    if best is None:
        rec = (f"{NOTHING_PAYS}: no candidate's {metric.replace('_', '-')} gain over no cleaning has a "
               f"{confidence:.0%} interval above zero")
    else:
        g = best.gain[metric]
        rec = (f"{best.title}: {metric.replace('_', '-')} {g.delta:+.3f} over no cleaning "
               f"({confidence:.0%} interval [{g.ci_low:+.3f}, {g.ci_high:+.3f}]), keeping {best.n_kept:,} of "
               f"{best.n_rows:,} rows and relabelling {best.n_relabelled:,}")
    if len(eligible) > 1:
        notes.append(f"{len(eligible)} candidates have an interval above zero; the largest gain is recommended")
    return AdviceResult(dataset=ds.name, dataset_fingerprint=ds.fingerprint, n_rows=len(ds),
                        classes=tuple(ds.classes), trainer=trainer,
                        evaluated_on="test" if test is not None else "folds",
                        folds=None if test is not None else folds, n_eval=len(y_eval), seed=seed, metric=metric,
                        confidence=confidence, evaluation_note=note, candidates=tuple(outcomes),
                        recommended=None if best is None else best.key, recommendation=rec, notes=tuple(notes),
                        repeats=repeats)
