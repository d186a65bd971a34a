"""`dq story`: its numbers equal what `dq profile`, `dq shift` and `dq filter` print and the runs' metrics; the
summary says when cleaning pays, when it does not and when no run measured it; a run on another dataset is
shown apart; data text is escaped in HTML; the HTML loads nothing from any other host; bad input writes nothing."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from dq_core.data.io import load_dataset
from dq_core.filtering import apply_recipe, default_recipe
from dq_core.filtering.rule_counts import recipe_in_words
from dq_core.report import load_run
from dq_core.story import build_story, story_html, story_json, story_markdown
from tests.cli_helpers import dq, error_line
from tests.story.helpers import EVIL, fake_run, write_inputs


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return write_inputs(tmp_path)


@pytest.fixture
def ds(files):
    return load_dataset(str(files["data"]))[0]


def _story_json(files, *extra) -> dict:
    out = files["data"].parent / "story.json"
    r = dq("story", files["data"], *extra, "--out", out)
    assert r.returncode == 0, r.stderr
    return json.loads(out.read_text())


def test_data_at_a_glance_equals_dq_profile(files):
    prof = dq("profile", files["data"])
    assert prof.returncode == 0, prof.stderr
    story = _story_json(files)
    data = {k: v for k, v in story["data"].items() if k not in ("name", "fingerprint")}
    assert data == json.loads(prof.stdout)


def test_recipe_equals_dq_filter(files, ds):
    clean = files["data"].parent / "clean.csv"
    r = dq("filter", files["data"], "--recipe", "default", "--signals", files["signals"], "--out", clean)
    assert r.returncode == 0, r.stderr
    printed = json.loads(r.stdout)
    story = _story_json(files, "--recipe", "default", "--signals", files["signals"])
    rec = story["recipe"]
    assert rec["summary"] == {k: v for k, v in printed.items() if k not in ("out", "log")}
    after = pd.read_csv(clean)["label"].value_counts().to_dict()
    assert {c["class"]: c["after"] for c in rec["classes"] if c["after"]} == after
    assert {c["class"]: c["before"] for c in rec["classes"]} == ds.labels.value_counts().to_dict()
    signals = pd.read_parquet(files["signals"])
    assert rec["in_words"] == recipe_in_words(apply_recipe(ds, signals, default_recipe()))
    assert story["issues"]["signals"][0]["n_flagged"] == int(signals[f"is_{story['issues']['signals'][0]['signal']}_issue"].sum())


def test_shift_equals_dq_shift_without_embeddings(files):
    r = dq("shift", files["data"], "--reference", files["ref"], "--no-embeddings")
    assert r.returncode == 0, r.stderr
    shift = json.loads(r.stdout)
    story = _story_json(files, "--reference", files["ref"])
    for v in story["shift"]["views"]:
        if v["view"] == "embedding_clusters":
            assert v["skipped"]
            continue
        printed = shift["views"][v["view"]]
        assert (v["js"], v["js_ci"], v["p_value"], v["verdict"]) == \
            (printed["js"], printed["js_ci"], printed["p_value"], printed["verdict"])


def test_summary_when_cleaning_pays(tmp_path, ds, files):
    a, y = fake_run(tmp_path / "all", ds, skill=0.6, seed=1, name="all rows")
    b, _ = fake_run(tmp_path / "clean", ds, skill=0.9, y=y, seed=2, name="cleaned")
    story = build_story(ds, recipe=default_recipe(), runs=[a, b], signals=pd.read_parquet(files["signals"]))
    acc_a, acc_b = load_run(a).evaluation.accuracy, load_run(b).evaluation.accuracy
    assert f"scored {acc_b:.1%} accuracy against {acc_a:.1%}" in story.summary
    assert f"{(acc_b - acc_a) * 100:+.1f} points" in story.summary and "a real gain" in story.summary
    assert "rows (" in story.summary and "were removed" in story.summary
    # the runs' figures are dq report's: load_run's metrics and compare_runs' paired bootstrap
    from sklearn.metrics import accuracy_score

    y_b = pd.read_parquet(b / "predictions.parquet")
    assert story.runs["runs"][1]["headline"]["accuracy"] == acc_b == accuracy_score(y_b["label"], y_b["predicted"])
    from dq_core.report import compare_runs

    acc = next(d for d in compare_runs([load_run(a), load_run(b)]).differences if d.metric == "accuracy")
    diff = next(d for d in story.runs["differences"] if d["metric"] == "accuracy")
    assert (diff["ci_low"], diff["ci_high"], diff["delta"]) == (acc.result.ci_low, acc.result.ci_high, acc.result.delta)


def test_summary_when_cleaning_does_not_pay(tmp_path, ds):
    a, y = fake_run(tmp_path / "all", ds, skill=0.9, seed=1, name="all rows")
    b, _ = fake_run(tmp_path / "clean", ds, skill=0.6, y=y, seed=2, name="cleaned")
    assert "a real loss" in build_story(ds, runs=[a, b]).summary
    c, _ = fake_run(tmp_path / "same", ds, skill=0.9, y=y, seed=1, name="same")
    assert "interval includes 0" in build_story(ds, runs=[a, c]).summary


def test_summary_without_a_run(ds, files):
    story = build_story(ds, recipe=default_recipe(), signals=pd.read_parquet(files["signals"]))
    assert "whether the cleaning pays is not measured" in story.summary and story.runs is None


def test_run_on_another_dataset_is_shown_apart(tmp_path, ds):
    a, y = fake_run(tmp_path / "all", ds, skill=0.7, seed=1, name="mine")
    b, _ = fake_run(tmp_path / "other", ds, skill=0.9, y=y, seed=2, name="theirs", fingerprint="f" * 40)
    story = build_story(ds, runs=[a, b])
    assert [r["name"] for r in story.runs["apart"]] == ["theirs"]
    assert [r["name"] for r in story.runs["runs"]] == ["mine"] and story.runs["comparison"] is None
    assert any("trained on another dataset" in n for n in story.notes)
    assert "shown apart" in story.summary and "shown apart" in story_html(story)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self.urls += [v for k, v in attrs if k in ("src", "href", "action", "data") and v]


def test_html_escapes_data_text_and_requests_no_other_host(tmp_path, ds, files):
    a, y = fake_run(tmp_path / "all", ds, skill=0.7, seed=1, name="<b>run</b>")
    story = build_story(ds, recipe=default_recipe(), runs=[a], signals=pd.read_parquet(files["signals"]))
    html = story_html(story)
    body = html.split("</script>", 1)[1]  # after the inlined plotly.js
    assert "<script>alert(" not in body and "<img src=x" not in body and "<b>run</b>" not in body
    assert "&lt;b&gt;run&lt;/b&gt;" in body
    parser = _Tags()
    parser.feed(html)
    assert not [u for u in parser.urls if u.lower().startswith(("http:", "https:", "//"))]
    assert all("src" not in attrs for tag, attrs in parser.tags if tag == "script")
    assert html.count("plotly.js v") == 1 and "@media print" in html
    assert "<script>" not in story_markdown(story)
    json.loads(story_json(story))


def test_xss_text_escaped_in_the_examples(ds):
    """The XSS row is flagged by a hand-made signal, so it is shown among the examples, escaped."""
    sig = pd.DataFrame({"row_id": ds.row_ids, "junk_score": 1.0, "is_junk_issue": False})
    pos = int((ds.texts == EVIL).to_numpy().nonzero()[0][0])
    sig.loc[pos, ["junk_score", "is_junk_issue"]] = [0.0, True]
    story = build_story(ds, signals=sig)
    assert story.issues["signals"][0]["examples"][0]["text"] == EVIL
    html = story_html(story).split("</script>", 1)[1]
    assert EVIL not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.parametrize("ext", ["html", "md", "json"])
def test_cli_writes_each_format(tmp_path, ds, files, ext):
    a, y = fake_run(tmp_path / "all", ds, skill=0.6, seed=1, name="all rows")
    b, _ = fake_run(tmp_path / "clean", ds, skill=0.9, y=y, seed=2, name="cleaned")
    out = tmp_path / f"story.{ext}"
    r = dq("story", files["data"], "--recipe", "default", "--signals", files["signals"], "--run", a, "--run", b,
           "--out", out)
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert "real gain" in text and "cleaned" in text


def test_cli_refuses_an_unknown_extension_and_writes_nothing(files):
    out = files["data"].parent / "story.txt"
    line = error_line(dq("story", files["data"], "--out", out))
    assert "unsupported extension '.txt'" in line and ".html, .md or .json" in line
    assert not out.exists()


def test_cli_refuses_an_unreadable_run_folder_and_writes_nothing(tmp_path, files):
    (tmp_path / "notarun").mkdir()
    out = tmp_path / "story.html"
    line = error_line(dq("story", files["data"], "--run", tmp_path / "notarun", "--out", out))
    assert "no metrics.json" in line and not out.exists()
    line = error_line(dq("story", files["data"], "--run", tmp_path / "missing", "--out", out))
    assert "is not a folder" in line and not out.exists()


def test_cli_refuses_an_output_over_its_advice_file(files):
    """--advice is an input (dq_core/commands/file_options.py): the story may not be written over it."""
    advice = files["data"].parent / "ADVICE.json"
    advice.write_text("{}")
    line = error_line(dq("story", files["data"], "--advice", advice, "--out", advice))
    assert "--advice" in line and advice.read_text() == "{}"


def test_cli_refuses_an_advice_file_that_is_not_one(files):
    advice = files["data"].parent / "ADVICE.json"
    advice.write_text("{}")
    out = files["data"].parent / "story.md"
    line = error_line(dq("story", files["data"], "--advice", advice, "--out", out))
    assert "not an advice file" in line and not out.exists()
    line = error_line(dq("story", files["data"], "--advice", advice.with_name("none.json"), "--out", out))
    assert "does not exist" in line and not out.exists()


def _advice(ds, path: Path, fingerprint: str | None = None) -> Path:
    from dq_core.training.advisor_job import write_advice
    from dq_core.training.advisor_result import AdviceResult

    res = AdviceResult(dataset=ds.name, dataset_fingerprint=fingerprint or ds.fingerprint, n_rows=len(ds),
                       classes=("negative", "neutral", "positive"), trainer="baseline", evaluated_on="folds",
                       folds=3, n_eval=len(ds), seed=0, metric="accuracy", confidence=0.95,
                       evaluation_note="3 folds", candidates=(), recommended=None,
                       recommendation="No cleaning pays measurably. Keep the data as it is.")
    return write_advice(res, path)


def test_advice_verdict_and_advice_from_another_dataset(tmp_path, ds):
    story = build_story(ds, advice=_advice(ds, tmp_path / "ADVICE.json"))
    assert story.advice["verdict"][0] == "No cleaning pays measurably."
    assert "The advisor: No cleaning pays measurably." in story.summary
    assert "No cleaning pays measurably." in story_html(story)
    other = build_story(ds, advice=_advice(ds, tmp_path / "other.json", fingerprint="0" * 32))
    assert other.advice is None and any("another dataset" in n for n in other.notes)


def test_recipe_naming_signals_the_data_lacks_is_said_in_the_story(files):
    """As `dq filter` warns: each rule whose signal is missing is skipped, and the story says so."""
    few = files["data"].parent / "few.parquet"
    pd.read_parquet(files["signals"])[["row_id", "junk_score", "is_junk_issue"]].to_parquet(few)
    out = files["data"].parent / "story.md"
    r = dq("story", files["data"], "--recipe", "default", "--signals", few, "--out", out)
    assert r.returncode == 0, r.stderr
    assert "note: recipe: signal 'label' is not in the signals, so its rule is skipped" in r.stderr
    assert "signal 'label' is not in the signals, so its rule is skipped" in out.read_text()


def test_cli_with_given_embeddings_has_every_shift_view_and_computed_signals(files, ds, tmp_path):
    """--embeddings / --reference-embeddings: the embedding view and the domain classifier are computed, and
    the signals come from the workspace cache computed on the given vectors (no model is loaded)."""
    import numpy as np

    from tests.filter_data import make_embeddings

    ref = load_dataset(str(files["ref"]))[0]
    np.save(tmp_path / "e.npy", make_embeddings(ds).vectors)
    np.save(tmp_path / "r.npy", make_embeddings(ref, seed=1).vectors)
    story = _story_json(files, "--reference", files["ref"], "--embeddings", tmp_path / "e.npy",
                        "--reference-embeddings", tmp_path / "r.npy", "--recipe", "default")
    views = {v["view"]: v for v in story["shift"]["views"]}
    assert views["embedding_clusters"]["skipped"] is None and story["shift"]["domain_classifier_auc"] is not None
    assert story["issues"]["n_flagged_any"] > 0 and story["provenance"]["embeddings"] == "given (--embeddings)"


def test_same_named_runs_keep_their_comparison_when_one_is_apart(tmp_path, ds):
    """Display names are given among the compared runs, as compare_runs gives them: the summary finds the
    interval of the last compared run even when a run shown apart shares the name."""
    a, y = fake_run(tmp_path / "all", ds, skill=0.6, seed=1, name="run")
    b, _ = fake_run(tmp_path / "clean", ds, skill=0.9, y=y, seed=2, name="run")
    c, _ = fake_run(tmp_path / "other", ds, skill=0.9, y=y, seed=3, name="run", fingerprint="f" * 32)
    story = build_story(ds, runs=[a, b, c])
    assert [r["name"] for r in story.runs["runs"]] == ["run [all]", "run [clean]"]
    assert "interval [" in story.summary and "a real gain" in story.summary


def test_cli_refuses_an_output_over_a_run_file(tmp_path, ds, files):
    """--run folders are inputs (file_options FOLDERS_OF_INPUTS): a story may sit beside a run's files,
    never in place of one."""
    a, _ = fake_run(tmp_path / "all", ds, skill=0.7, seed=1)
    before = (a / "metrics.json").read_text()
    line = error_line(dq("story", files["data"], "--run", a, "--out", a / "metrics.json"))
    assert "--out" in line and (a / "metrics.json").read_text() == before
    r = dq("story", files["data"], "--run", a, "--out", a / "story.md")
    assert r.returncode == 0, r.stderr
