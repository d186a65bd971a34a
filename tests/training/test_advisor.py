"""The recipe advisor on real SMS spam rows and real MiniLM embeddings: planted label noise makes cleaning
pay, clean labels do not; bad input; `dq advise` end to end; the background job and its cancel."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.filtering import FilterInputs, apply_prepared
from dq_core.signals import compute_signals, get_signal
from dq_core.training import jobs
from dq_core.training.advisor import NOTHING_PAYS, advise, candidate_recipes, check_inputs
from dq_core.training.advisor_job import ADVICE_FILE, read_advice, submit_advice
from tests.cli_helpers import dq

N_ROWS, N_TRAIN = 600, 400
RECIPE_SIGNALS = ("label", "exact_duplicate", "conflicting_label", "junk")


@pytest.fixture(scope="session")
def sms(tmp_path_factory) -> SimpleNamespace:
    """600 seeded SMS spam rows (400 to train on, 200 as a trusted test set) and their MiniLM embeddings,
    embedded once into a session workspace whose cache the CLI and job tests copy."""
    from dq_core.data.io import load_demo
    from dq_core.space.embed import embed_dataset

    home = tmp_path_factory.mktemp("advisor_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        full, _ = load_demo("sms_spam")
        pick = np.random.default_rng(0).choice(len(full), N_ROWS, replace=False)
        mask = np.zeros(len(full), bool)
        mask[pick] = True
        ds = full.subset(mask)
        x = embed_dataset(ds, workspace=Workspace(home)).vectors
    train, test = ds.subset(np.arange(N_ROWS) < N_TRAIN), ds.subset(np.arange(N_ROWS) >= N_TRAIN)
    return SimpleNamespace(train=train, test=test, x=x[:N_TRAIN], x_test=x[N_TRAIN:], home=home)


def _planted(train, share: float = 0.3):
    """``share`` of the rows, all ham, relabelled spam: noise a linear model does not shrug off."""
    y = train.labels.to_numpy(dtype=object).astype(str)
    ham = np.flatnonzero(y == "ham")
    flip = np.random.default_rng(1).choice(ham, int(share * len(y)), replace=False)
    y = y.copy()
    y[flip] = "spam"
    return train.with_labels(y), flip


def _signals(ds, x, ws):
    return compute_signals(ds, [get_signal(s) for s in RECIPE_SIGNALS], embeddings=x, workspace=ws).frame


def _use_cached_embeddings(sms, home: Path) -> None:
    shutil.copytree(sms.home / "cache" / "embeddings", home / "cache" / "embeddings", dirs_exist_ok=True)


def test_planted_noise_recommends_cleaning_and_clean_labels_do_not(sms, dq_env):
    ws = Workspace.default()
    noisy, flipped = _planted(sms.train)
    adv = advise(noisy, test=sms.test, signals=_signals(noisy, sms.x, ws), embeddings=sms.x,
                 test_embeddings=sms.x_test, workspace=ws)
    assert adv.evaluated_on == "test" and adv.n_eval == len(sms.test)
    assert adv.recommended not in (None, "none")
    best = adv.candidate(adv.recommended)
    assert best.gain["accuracy"].ci_low > 0 and best.gain["accuracy"].delta >= 0.05
    assert best.n_kept < len(noisy)  # it acts on the planted rows
    assert NOTHING_PAYS not in adv.recommendation and best.title in adv.recommendation
    # the verdict in sentences that start capitalised ("...: accuracy" read as "Recommended: X: accuracy ...")
    assert adv.verdict[0] == f"Recommended: {best.title}."
    assert adv.verdict[1].startswith(f"Accuracy {best.gain['accuracy'].delta:+.3f} over no cleaning (95% interval")
    assert adv.verdict[1].endswith(f"keeping {best.n_kept:,} of {len(noisy):,} rows and relabelling "
                                   f"{best.n_relabelled:,}.")
    assert adv.candidate("none").gain is None
    assert adv.recommended_recipe().to_dict()["signals"] == best.recipe["signals"]
    assert "trusted test set" in adv.evaluation_note

    clean = advise(sms.train, test=sms.test, signals=_signals(sms.train, sms.x, ws), embeddings=sms.x,
                   test_embeddings=sms.x_test, workspace=ws)
    assert clean.recommended is None
    assert clean.recommendation.startswith(NOTHING_PAYS)
    assert clean.verdict == ("No cleaning pays measurably here.",
                             "No candidate's accuracy gain over no cleaning has a 95% interval above zero.")
    assert all(c.gain["accuracy"].ci_low <= 0 for c in clean.candidates if c.gain)


def test_folds_evaluate_on_the_labels_as_given_and_say_why_that_undercounts(sms, dq_env):
    ws = Workspace.default()
    noisy, _ = _planted(sms.train)
    adv = advise(noisy, folds=4, signals=_signals(noisy, sms.x, ws), embeddings=sms.x, workspace=ws)
    assert adv.evaluated_on == "folds" and adv.folds == 4 and adv.n_eval == len(noisy)
    assert "undercounts" in adv.evaluation_note and "same noise" in adv.evaluation_note
    assert {c.key for c in adv.candidates} >= {"none", "default", "relabel_only", "drop_only", "duplicates_junk",
                                                "conservative"}
    # every candidate scored on the same rows, each with a paired interval around its own delta
    for c in adv.candidates:
        if c.gain:
            g = c.gain["accuracy"]
            assert g.n == len(noisy) and g.ci_low <= g.delta <= g.ci_high
    d = adv.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert type(adv).from_dict(d).to_dict() == d


def test_a_class_too_small_for_the_folds_is_named(sms):
    y = sms.train.labels.astype(str).to_numpy(dtype=object)
    y[:3] = "maybe"
    ds = sms.train.with_labels(y)
    with pytest.raises(DataError, match=r"class 'maybe' has only 3 labelled rows.*at least 5 rows"):
        check_inputs(ds, None, trainer="baseline", folds=5, metric="accuracy")
    check_inputs(ds, None, trainer="baseline", folds=3, metric="accuracy")  # 3 folds fit


def test_test_labels_the_dataset_lacks_are_named(sms):
    y = sms.test.labels.astype(str).to_numpy(dtype=object)
    y[:2] = "promo"
    with pytest.raises(DataError, match=r"label 'promo' that the dataset lacks"):
        advise(sms.train, test=sms.test.with_labels(y), embeddings=sms.x)


def test_agreement_candidate_keeps_and_counts_rows_without_a_value():
    frame = pd.DataFrame({"text": [f"text number {i}" for i in range(8)], "label": ["a", "b"] * 4,
                          "confidence": [1.0, 0.5, None, 0.9, 0.3, None, 1.0, 0.8]})
    ds = build_dataset(frame, ColumnMapping(text="text", label="label", metadata=("confidence",),
                                            agreement="confidence"))
    cands = {c.key: c for c in candidate_recipes(ds)}
    agree = cands["agreement"]
    assert "2 rows have no 'confidence' value and are kept" in agree.note
    res = apply_prepared(FilterInputs(ds, None), agree.recipe, strict=False)
    assert res.keep_mask.tolist() == [True, False, True, True, False, True, True, True]
    worded = frame.assign(confidence=["1.0", "high", None, "0.9", "0.3", "low", "1", "0.8"])
    ds_w = build_dataset(worded, ColumnMapping(text="text", label="label", metadata=("confidence",),
                                               agreement="confidence"))
    note = {c.key: c for c in candidate_recipes(ds_w)}["agreement"].note
    assert note == "3 rows have no 'confidence' value and are kept (2 of them hold a non-number, e.g. 'high', read as missing)"
    no_agreement = build_dataset(frame.drop(columns="confidence"), ColumnMapping(text="text", label="label"))
    assert "agreement" not in {c.key for c in candidate_recipes(no_agreement)}


def test_an_agreement_column_on_another_scale_is_said_not_silently_skipped(sms, dq_env):
    from dq_core.training.advisor import agreement_unusable

    frame = sms.train.frame.assign(votes=np.arange(len(sms.train)) % 5 + 1)  # 1-5 votes, not a share
    ds = build_dataset(frame, ColumnMapping(text="text", label="label", id="row_id", metadata=("votes",),
                                            agreement="votes"))
    assert "not a share in [0, 1] (values 1 to 5)" in agreement_unusable(ds)
    assert "agreement" not in {c.key for c in candidate_recipes(ds)}
    res = advise(ds, test=sms.test, embeddings=sms.x, test_embeddings=sms.x_test, workspace=Workspace(dq_env.home))
    assert any("'votes' is not a share in [0, 1]" in n for n in res.notes)
    share = build_dataset(frame.assign(votes=frame["votes"] / 5), ds.mapping)
    assert agreement_unusable(share) is None and "agreement" in {c.key for c in candidate_recipes(share)}


def test_repeats_fine_tune_each_candidate_with_its_own_seeds_and_resample_the_runs(sms, dq_env, monkeypatch):
    """The wiring of --repeats, with the fine-tune stood in for by a seeded guesser (the real fine-tune runs in
    the job test below): every candidate gets seeds 0..R-1 and its figures are the runs' means."""
    import dq_core.training.advisor as advisor

    seen = []

    def fake_fit(t_tr, y_tr, t_ev, seed, reporter):
        seen.append(seed)
        r = np.random.default_rng(seed)
        return np.where(r.random(len(t_ev)) < 0.5, "ham", "spam").astype(object)

    monkeypatch.setattr(advisor, "_fit_predict_transformer", fake_fit)
    res = advise(sms.train, test=sms.test, trainer="transformer", repeats=3, embeddings=sms.x,
                 test_embeddings=sms.x_test, workspace=Workspace(dq_env.home), seed=0)
    n_live = sum(1 for c in res.candidates if not c.skipped)
    assert sorted(seen) == sorted([0, 1, 2] * n_live) and res.repeats == 3
    y = sms.test.labels.astype(str).to_numpy()
    mean_acc = np.mean([(fake_fit(None, None, y, s, None) == y).mean() for s in (0, 1, 2)])
    assert res.candidate("none").accuracy == pytest.approx(mean_acc)
    assert "fine-tuned 3 times (seeds 0 to 2)" in res.evaluation_note
    assert res.recommended is None  # the same guesser for every candidate: nothing pays
    assert type(res).from_dict(res.to_dict()).repeats == 3
    with pytest.raises(DataError, match="transformer trainer only"):
        check_inputs(sms.train, sms.test, trainer="baseline", folds=5, metric="accuracy", repeats=2)
    for bad in (0, 11, 2.5, True):
        with pytest.raises(DataError, match="--repeats must be a whole number from 1 to 10"):
            check_inputs(sms.train, sms.test, trainer="transformer", folds=5, metric="accuracy", repeats=bad)


def test_unlabelled_rows_a_shared_test_set_and_bad_seeds(sms, dq_env):
    """Rows without a label train nothing (also on a trusted test set); a test set sharing the dataset's texts is
    said; a seed the trainers refuse, and a test set of empty texts, are refused up front."""
    y = sms.train.labels.astype(object).to_numpy().copy()
    y[:5] = None
    partly = sms.train.with_labels(y)
    ws = Workspace(dq_env.home)
    res = advise(partly, test=sms.test, embeddings=sms.x, test_embeddings=sms.x_test, workspace=ws)
    assert res.n_eval == len(sms.test) and res.candidate("none").accuracy > 0.8
    # SMS spam repeats its spam templates: 4 test texts are also training texts, and that is said
    assert any(n.startswith("4 of the 200 test rows (2%) have the same text as a dataset row") for n in res.notes)
    shared = sms.train.subset(np.arange(len(sms.train)) < 100)
    res = advise(sms.train, test=shared, embeddings=sms.x, test_embeddings=sms.x[:100], workspace=ws)
    assert any(n.startswith("100 of the 100 test rows (100%) have the same text as a dataset row") for n in res.notes)
    for bad in (-1, 2**32, 1.5):
        with pytest.raises(DataError, match="--seed must be a whole number from 0 to"):
            check_inputs(sms.train, sms.test, trainer="baseline", folds=5, metric="accuracy", seed=bad)
    blank = build_dataset(sms.test.frame.assign(text=""), sms.test.mapping)
    with pytest.raises(DataError, match="every labelled row of the test set has an empty text"):
        check_inputs(sms.train, blank, trainer="baseline", folds=5, metric="accuracy")


def test_a_class_a_fold_loses_is_said_on_the_candidate(sms, dq_env, monkeypatch):
    import dq_core.training.advisor as advisor

    real = advisor._fold_results
    calls = []

    def with_a_problem(ds, x, train_pos, live, seed):
        out = real(ds, x, train_pos, live, seed)
        calls.append(1)
        if len(calls) == 2:  # the second fold: pretend the default recipe removed every spam row there
            out = [(c, k, f, (*p, "the recipe removes every row of class 'spam'") if c.key == "default" else p)
                   for c, k, f, p in out]
        return out

    monkeypatch.setattr(advisor, "_fold_results", with_a_problem)
    res = advise(sms.train, folds=3, embeddings=sms.x, workspace=Workspace(dq_env.home))
    note = "in fold 2 of 3: the recipe removes every row of class 'spam'; those folds' models can never predict it"
    assert any(n.startswith(note) for n in res.candidate("default").notes)
    assert not any("fold 2 of 3" in n for n in res.candidate("relabel_only").notes)


def test_cli_end_to_end(sms, dq_env, tmp_path):
    _use_cached_embeddings(sms, dq_env.home)
    noisy, _ = _planted(sms.train)
    data, test, bad = tmp_path / "noisy.csv", tmp_path / "test.csv", tmp_path / "bad_test.csv"
    noisy.frame[["row_id", "text", "label"]].to_csv(data, index=False)
    sms.test.frame[["row_id", "text", "label"]].to_csv(test, index=False)
    bad_frame = sms.test.frame[["row_id", "text", "label"]].copy()
    bad_frame.loc[bad_frame.index[:2], "label"] = "promo"
    bad_frame.to_csv(bad, index=False)
    out = tmp_path / "advice.json"
    cols = ["--text-col", "text", "--label-col", "label", "--id-col", "row_id"]

    r = dq("advise", str(data), *cols, "--test", str(test), "--out", str(out))
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["recommended"] not in (None, "none") and summary["evaluated_on"] == "test"
    advice = json.loads(out.read_text())
    assert {"recommended", "recommendation", "recommended_recipe", "candidates", "evaluation_note",
            "evaluated_on", "n_eval", "trainer"} <= set(advice)
    assert advice["recommended_recipe"]["format"] == "dq-filter-recipe"
    assert {"key", "n_kept", "n_relabelled", "n_repaired", "gain", "accuracy", "macro_f1"} <= set(
        advice["candidates"][1])

    bad_out = tmp_path / "never.json"
    r = dq("advise", str(data), *cols, "--test", str(bad), "--out", str(bad_out))
    assert r.returncode == 2 and r.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "'promo'" in r.stderr and "Traceback" not in r.stderr
    assert not bad_out.exists()
    r = dq("advise", str(data), *cols, "--folds", "1", "--out", str(bad_out))
    assert r.returncode == 2 and "--folds must be a whole number >= 2" in r.stderr and not bad_out.exists()
    r = dq("advise", str(data), *cols, "--repeats", "3", "--out", str(bad_out))
    assert r.returncode == 2 and "transformer trainer only" in r.stderr and not bad_out.exists()


def test_cli_test_file_columns_notes_and_early_refusals(sms, dq_env, tmp_path):
    _use_cached_embeddings(sms, dq_env.home)
    data, test, out = tmp_path / "custom.csv", tmp_path / "test.csv", tmp_path / "advice.json"
    sms.train.frame[["text", "label"]].rename(columns={"text": "body", "label": "cat"}).to_csv(data, index=False)
    t = sms.test.frame[["text", "label"]].copy()
    t.loc[t.index[0], "label"] = None  # one unlabelled test row: said, not silently dropped
    t.to_csv(test, index=False)
    cols = ["--text-col", "body", "--label-col", "cat"]
    r = dq("advise", str(data), *cols, "--test", str(test), "--folds", "3", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "note: test: DATA's column options do not fit it" in r.stderr
    assert "--folds 3 is ignored" in r.stderr
    assert any(ln.startswith("note: test: ") and "no label" in ln for ln in r.stderr.splitlines()), r.stderr
    assert json.loads(out.read_text())["n_eval"] == len(sms.test) - 1
    r2 = dq("advise", str(data), *cols, "--test", str(test), "--test-text-col", "nope", "--out",
             str(tmp_path / "never.json"))
    assert r2.returncode == 2 and f"test set '{test}'" in r2.stderr and "'nope'" in r2.stderr
    for args, says in ((["--seed", "-5"], "--seed must be a whole number"),
                       (["--out", str(out / "x.json")], "is a file, not a folder")):
        r3 = dq("advise", str(data), *cols, *(["--out", str(tmp_path / "n.json")] if args[0] != "--out" else []),
                 *args)
        assert r3.returncode == 2 and says in r3.stderr and "Traceback" not in r3.stderr, r3.stderr
    assert not (tmp_path / "n.json").exists()


def _wait_for(pred, timeout: float = 300, what: str = "condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_job_runs_in_a_worker_process_and_can_be_cancelled(sms, dq_env):
    _use_cached_embeddings(sms, dq_env.home)
    ws = Workspace.default()
    small = sms.train.subset(np.arange(len(sms.train)) < 150)
    run = submit_advice(small, ws=ws, folds=3, signal_settings={"signals": list(RECIPE_SIGNALS), "seed": 0})
    st = jobs.wait(run, timeout=600)
    assert st["state"] == "succeeded", st
    assert st["pid"] != os.getpid()  # a separate worker process did it
    advice = read_advice(run)
    assert advice is not None and advice.evaluated_on == "folds" and advice.folds == 3
    assert st["message"] == advice.recommendation

    # a fine-tune per fit is slow enough to be caught midway
    run2 = submit_advice(small, ws=ws, trainer="transformer", folds=2,
                         signal_settings={"signals": list(RECIPE_SIGNALS), "seed": 0})
    _wait_for(lambda: jobs.read_status(run2).get("phase") == "training", what="the advisor to start training")
    jobs.cancel(run2)
    st2 = jobs.wait(run2, timeout=300)
    assert st2["state"] == "cancelled"
    assert not (run2 / ADVICE_FILE).exists()  # nothing half-written
    assert not list(run2.glob("*.tmp*"))
    _wait_for(lambda: not jobs.pid_alive(st2.get("pid")), timeout=60, what="the cancelled worker to exit")


def _finished_advice_run(ws: Workspace, ds, *, recommended: str | None = "conservative",
                         recommendation: str = "Recommended: conservative. Accuracy +0.050 over no cleaning.",
                         notes: tuple[str, ...] = ()) -> Path:
    """A finished advisor run on ``ds`` recommending the conservative recipe, as the worker leaves one."""
    from dq_core.training.advisor_job import KIND, advice_dir, write_advice
    from dq_core.training.advisor_result import AdviceResult, CandidateOutcome
    from dq_core.training.evaluate import BootstrapResult

    def gain(delta: float, lo: float, hi: float) -> dict:
        return {m: BootstrapResult(metric=m, a=0.8, b=0.8 + delta, delta=delta, ci_low=lo, ci_high=hi,
                                   confidence=0.95, n=60, n_resamples=1000, p_value=0.01)
                for m in ("accuracy", "macro_f1")}

    cands = {c.key: c for c in candidate_recipes(ds)}
    outcomes = tuple(CandidateOutcome(key=k, title=cands[k].title, description=cands[k].recipe.description,
                                      recipe=cands[k].recipe.to_dict(), n_rows=60, n_kept=kept, n_relabelled=0,
                                      n_repaired=None, accuracy=0.8 + d, macro_f1=0.8 + d,
                                      gain=None if k == "none" else gain(d, lo, d + 0.02))
                     for k, kept, d, lo in (("none", 60, 0.0, 0.0), ("default", 40, -0.01, -0.05),
                                            ("conservative", 55, 0.05, 0.01)))
    result = AdviceResult(dataset=ds.name, dataset_fingerprint=ds.fingerprint, n_rows=60, classes=tuple(ds.classes),
                          trainer="baseline", evaluated_on="folds", folds=5, n_eval=60, seed=0, metric="accuracy",
                          confidence=0.95, evaluation_note="Evaluated on 5 held-out folds; this undercounts a real gain.",
                          candidates=outcomes, recommended=recommended, recommendation=recommendation, notes=notes)
    run = jobs.create_run({"kind": KIND, "name": "advise", "data": {"dataset_fingerprint": ds.fingerprint}},
                          advice_dir(ws) / "run1")
    write_advice(result, run / ADVICE_FILE)
    jobs.update_status(run, state="succeeded", progress=1.0, message=result.recommendation)
    return run


def _advisor_page():
    import streamlit as st

    from dq_app.ui.clean.advisor import advisor_section
    from dq_core.data.workspace import Workspace

    advisor_section(Workspace.default().load_dataset(st.session_state["ds"]))


def test_page_section_shows_the_advice_and_loads_the_recommended_recipe(dq_env):
    from streamlit.testing.v1 import AppTest

    from dq_core.filtering import load_recipe, recipe_path
    from tests.train_helpers import tiny_dataset

    ws = Workspace.default()
    ds = tiny_dataset(60)
    ds_id = ws.save_dataset(ds)
    ds = ws.load_dataset(ds_id)
    _finished_advice_run(ws, ds)
    at = AppTest.from_function(_advisor_page, default_timeout=60)
    at.session_state["ds"] = ds_id
    at.run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["**Recommended: conservative.** Accuracy +0.050 over no cleaning."]
    table = next(d.value for d in at.dataframe if "candidate" in d.value.columns)
    assert table["candidate"].tolist()[:3] == ["no cleaning", "the default recipe", "conservative"]
    at.button(key="adv_load").click().run()
    assert not at.exception, at.exception
    working = load_recipe(recipe_path(ws.recipes_dir(ds_id), "working"))
    conservative = {c.key: c for c in candidate_recipes(ds)}["conservative"].recipe
    assert working.signals == conservative.signals and working.name == "working"
    assert "fp_init" not in at.session_state  # the filter panel reloads its controls from the working recipe


@pytest.mark.parametrize("saved", [
    "No cleaning pays measurably here. No candidate's accuracy gain over no cleaning has a 95% interval above zero.",
    # advice.json written before the verdict was sentences: one lowercase clause, still shown capitalised
    "no cleaning pays measurably here: no candidate's accuracy gain over no cleaning has a 95% interval above zero"])
def test_page_shows_the_verdict_and_notes_as_capitalised_sentences(dq_env, saved):
    """It read "**No cleaning pays measurably here.** no candidate's accuracy gain ..." and "... directly. 2
    candidates have ...; the largest gain is recommended" (no stop), notes lowercase mid-paragraph."""
    import re

    from streamlit.testing.v1 import AppTest

    from tests.train_helpers import tiny_dataset

    ws = Workspace.default()
    ds_id = ws.save_dataset(tiny_dataset(60))
    _finished_advice_run(ws, ws.load_dataset(ds_id), recommended=None, recommendation=saved,
                         notes=("the agreement column 'confidence' has no numeric values: no agreement candidate",))
    at = AppTest.from_function(_advisor_page, default_timeout=60)
    at.session_state["ds"] = ds_id
    at.run()
    assert not at.exception, at.exception
    (info,) = [i.value for i in at.info if "No cleaning" in i.value]
    assert info.startswith("**No cleaning pays measurably here") and info.endswith("above zero.**" if ":" in info
                                                                                   else "above zero.")
    caption = next(c.value for c in at.caption if c.value.startswith("Evaluated on"))
    assert caption == ("Evaluated on 5 held-out folds; this undercounts a real gain. The agreement column "
                       "'confidence' has no numeric values: no agreement candidate.")
    for text in (info, caption):
        assert not re.search(r"[.!?]\** +[a-z]", text), text  # no sentence starts lowercase


def test_clean_page_starts_the_advisor_job_and_shows_its_table(page_app, dq_env):
    """The real Clean page on 150 tweets: the section sits above the filter controls, its button starts a
    background job in a worker process, and the page then shows that job's table and recommendation."""
    from dq_core.data.io import load_demo
    from dq_core.training.advisor_job import latest_advice_run

    full, _ = load_demo("tweets")
    keep = np.zeros(len(full), dtype=bool)
    keep[np.random.default_rng(0).choice(len(full), 150, replace=False)] = True
    ds = full.subset(keep, name="tweets slice")
    at = page_app("app_pages/clean.py", ds).run()
    assert not at.exception, at.exception
    heads = [s.value for s in at.subheader]
    assert heads.index("Which cleaning pays?") < heads.index("What if: filter the rows")
    assert any("Not run on this dataset yet" in c.value for c in at.caption)

    assert at.number_input(key="adv_repeats").disabled  # fine-tunes per candidate: transformer only
    at.number_input(key="adv_folds").set_value(3).run()
    n_cands = len(candidate_recipes(ds))
    assert any(f"trains {3 * n_cands} models ({n_cands} candidates × 3 folds)" in c.value for c in at.caption)
    at.button(key="adv_start").click().run()
    assert not at.exception, at.exception
    ws = Workspace.default()
    run = latest_advice_run(ws, ds)
    assert run is not None and run.config["advise"]["folds"] == 3 and run.config["advise"]["repeats"] == 1
    st = jobs.wait(run.path, timeout=600)
    assert st["state"] == "succeeded", st
    at.run()
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "candidate" in d.value.columns)
    keys = table["candidate"].tolist()
    assert keys[0] == "no cleaning" and any(k.startswith("agreement (confidence") for k in keys)
    agree_note = table.loc[[k.startswith("agreement") for k in keys], "note"].iloc[0]
    assert "have no 'confidence' value and are kept" in agree_note  # the tweets' confidence has gaps
    advice = read_advice(run.path)
    shown = [s.value for s in (*at.success, *at.info)]
    assert any(s.startswith(f"**{advice.verdict[0]}**") for s in shown)

    # the transformer with 2 fine-tunes per candidate: the job carries it (cancelled: a CPU fine-tune is slow)
    at.selectbox(key="adv_trainer").set_value("transformer").run()
    assert not at.number_input(key="adv_repeats").disabled
    at.number_input(key="adv_repeats").set_value(2).run()
    assert any(f"trains {6 * n_cands} models ({n_cands} candidates × 3 folds × 2 runs), 1-epoch fine-tunes" in c.value
               for c in at.caption)
    at.button(key="adv_start").click().run()
    assert not at.exception, at.exception
    run2 = latest_advice_run(ws, ds)
    assert run2.path != run.path
    assert run2.config["advise"]["trainer"] == "transformer" and run2.config["advise"]["repeats"] == 2
    jobs.cancel(run2.path)
    assert jobs.wait(run2.path, timeout=300)["state"] == "cancelled"
