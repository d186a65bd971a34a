"""`dq filter` as a user runs it (in-process through `dq_core.cli.main`, in the data folder): the same rows as
the Clean page for the same recipe, CSV formula neutralising, the output formats, and bad input as one `error:`
line with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dq_core.data.io import load_dataset
from dq_core.data.workspace import Workspace
from dq_core.filtering import (
    ClassRule,
    ConditionRule,
    Decision,
    FilterRecipe,
    RowSet,
    SignalRule,
    apply_recipe,
    default_recipe,
    save_recipe,
)
from tests.cli_helpers import dq
from tests.filter_data import (
    make_dataset,
    make_embeddings,
    make_frame,
    make_reference,
    make_signals,
    page_signals,
)

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "tests" / "app" / "filter_panel_page.py")


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """data.csv (the test frame) and signals.parquet (its hand-built signals) in a folder."""
    make_frame().to_csv(tmp_path / "data.csv", index=False)
    ds, _ = load_dataset(str(tmp_path / "data.csv"))
    make_signals(ds).to_parquet(tmp_path / "signals.parquet")
    # the signals the test page shows (real signals on synthetic embeddings), for page/CLI parity
    page_ds, ref = make_dataset(), make_reference()
    page_signals(page_ds, ref, make_embeddings(page_ds), make_embeddings(ref, seed=1),
                 Workspace(tmp_path / "scratch_ws")).to_parquet(tmp_path / "page_signals.parquet")
    return tmp_path


def a_recipe() -> FilterRecipe:
    return FilterRecipe(
        name="cli-parity",
        signals=(SignalRule("exact_duplicate", action="dedupe"), SignalRule("junk"),
                 SignalRule("label", action="relabel_or_drop", min_prob=0.5),
                 SignalRule("outlier", threshold=0.05, use_flag=False)),
        classes=(ClassRule("positive", "cap", max_rows=35),),
        conditions=(ConditionRule("confidence < 0.35 and topic != 'music'"),),
        row_sets=(RowSet("lasso", (30, 31)),),
        decisions=(Decision(5, "drop"), Decision(6, "keep"), Decision(40, "relabel", "neutral")))


def test_cli_gives_the_rows_the_library_gives(files):
    path = save_recipe(a_recipe(), files / "r.json")
    r = dq("filter", "data.csv", "--recipe", str(path), "--signals", "signals.parquet", "--out", "clean.csv",
           "--log", "removed.csv", cwd=files)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    clean = pd.read_csv(files / "clean.csv")
    ds = make_dataset()
    res = apply_recipe(ds, make_signals(ds), a_recipe())
    assert clean["row_id"].tolist() == res.kept_row_ids.tolist()
    assert dict(zip(clean["row_id"], clean["label"], strict=True)) == {
        rid: lab for rid, lab in zip(ds.row_ids, res.final_labels(), strict=True) if rid in set(res.kept_row_ids)}
    assert summary["n_kept"] == res.n_kept and summary["n_relabelled"] == res.n_relabelled
    log = pd.read_csv(files / "removed.csv")
    assert set(log["row_id"]) == set(ds.row_ids[~res.keep_mask]) | set(res.relabels)
    assert log.set_index("row_id").loc[5, "reasons"] == "manual decision: drop"


def test_page_and_cli_keep_the_same_rows_for_the_same_recipe(files):
    """The page's own export (working recipe with its decisions) against `dq filter` on that recipe file."""
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.checkbox(key="fp_on_outlier").check()
    at.slider(key="fp_thr_outlier").set_value(0.3)
    at.text_area(key="fp_drop_where").input("confidence < 0.35")
    at.run()
    at.text_input(key="fp_ids").input("0, 8")
    at.selectbox(key="fp_ids_action").select("drop")
    next(b for b in at.button if b.label == "Apply").click().run()
    next(b for b in at.button if b.label == "Save all to the workspace").click().run()
    assert not at.exception, [e.value for e in at.exception]
    ds = make_dataset()
    exports = Workspace.default().exports_dir(ds.fingerprint[:16])
    page_recipe = next(exports.glob("*.recipe.json"))
    page_clean = pd.read_csv(next(exports.glob("*.cleaned.csv")))
    assert {0, 8}.isdisjoint(page_clean["row_id"])

    r = dq("filter", "data.csv", "--recipe", str(page_recipe), "--signals", "page_signals.parquet", "--out",
           "cli.csv", cwd=files)
    assert r.returncode == 0, r.stderr
    cli_clean = pd.read_csv(files / "cli.csv")
    pd.testing.assert_frame_equal(cli_clean[["row_id", "text", "label"]], page_clean[["row_id", "text", "label"]])


def test_default_recipe_and_formula_neutralising(files):
    r = dq("filter", "data.csv", "--signals", "signals.parquet", "--out", "clean.csv", "--log", "removed.csv",
           cwd=files)  # --recipe defaults to the default recipe
    assert r.returncode == 0, r.stderr
    raw = (files / "clean.csv").read_text()
    assert '"=HYPERLINK' in raw and '"+1 great flight' in raw  # the data as it is, quoted
    assert "'=HYPERLINK" not in raw and "'+1" not in raw
    clean = pd.read_csv(files / "clean.csv")
    ds = make_dataset()
    assert clean["row_id"].tolist() == apply_recipe(ds, make_signals(ds), default_recipe()).kept_row_ids.tolist()
    # --spreadsheet-safe neutralises the data and the log: a removed row whose text starts with '='
    r = dq("filter", "data.csv", "--recipe", str(save_recipe(FilterRecipe(row_sets=(RowSet("x", (14,)),)),
                                                             files / "r.json")),
           "--out", "c2.csv", "--log", "removed2.csv", "--spreadsheet-safe", cwd=files)
    assert r.returncode == 0, r.stderr
    assert "'=HYPERLINK" in (files / "removed2.csv").read_text()
    assert "'+1 great flight" in (files / "c2.csv").read_text()


@pytest.mark.parametrize("out, reader", [
    ("clean.parquet", pd.read_parquet),
    ("clean.jsonl", lambda p: pd.read_json(p, lines=True)),
    ("clean_folder", lambda p: __import__("datasets").load_from_disk(str(p)).to_pandas()),
])
def test_output_formats(files, out, reader):
    r = dq("filter", "data.csv", "--signals", "signals.parquet", "--out", out, cwd=files)
    assert r.returncode == 0, r.stderr
    got = reader(files / out)
    ds = make_dataset()
    assert got["row_id"].tolist() == apply_recipe(ds, make_signals(ds), default_recipe()).kept_row_ids.tolist()
    assert got.set_index("row_id").loc[14, "text"].startswith("=HYPERLINK")  # only CSV is neutralised


@pytest.mark.parametrize("recipe_text, args, words", [
    ("{\"signals\": [", (), ("error: recipe file 'r.json' is not valid JSON",)),
    ("{\"signals\": [{\"signal\": \"lable\"}]}", (), ("signal 'lable'", "did you mean 'label'")),
    ("{\"signals\": [{\"signal\": \"label\", \"threshold\": 3}]}", (), ("between 0 and 1",)),
    ("{\"conditions\": [{\"where\": \"confidence > 0\"}]}", (), ("removes every one of the 120 rows",)),
    ("{\"conditions\": [{\"where\": \"label == 'neutral'\"}]}", (), ("removes every row of class 'neutral'",)),
    ("{\"conditions\": [{\"where\": \"colour == 'red'\"}]}", (), ("column 'colour'",)),
    ("{}", ("--signals", "missing.parquet"), ("signals file 'missing.parquet' does not exist",)),
])
def test_bad_input_is_one_error_line_and_writes_nothing(files, recipe_text, args, words):
    (files / "r.json").write_text(recipe_text)
    r = dq("filter", "data.csv", "--recipe", "r.json", "--signals", "signals.parquet", *args, "--out", "clean.csv",
           cwd=files)
    assert r.returncode == 2, r.stderr
    err = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert len(err) == 1 and "Traceback" not in r.stderr
    for w in words:
        assert w in err[0], err[0]
    assert not (files / "clean.csv").exists()


def test_bad_output_names(files):
    r = dq("filter", "data.csv", "--signals", "signals.parquet", "--out", "clean.xlsx", cwd=files)
    assert r.returncode == 2 and "unsupported extension '.xlsx'" in r.stderr
    r = dq("filter", "data.csv", "--recipe", "nope.json", "--out", "clean.csv", cwd=files)
    assert r.returncode == 2 and "recipe file 'nope.json' does not exist" in r.stderr


def test_a_recipe_without_signal_rules_needs_no_signals(files):
    path = save_recipe(FilterRecipe(conditions=(ConditionRule("topic == 'music'"),)), files / "r.json")
    r = dq("filter", "data.csv", "--recipe", str(path), "--out", "clean.csv", cwd=files)
    assert r.returncode == 0, r.stderr
    clean = pd.read_csv(files / "clean.csv")
    assert "music" not in set(clean["topic"]) and len(clean) > 0


def test_without_signals_file_the_cli_reads_the_workspace_signals_the_page_computed(files):
    """Real signals (bundled MiniLM): computed once in-process as the page does, then read by `dq filter`."""
    from dq_core.filtering import load_or_compute_signals

    ds, _ = load_dataset(str(files / "data.csv"))
    ws = Workspace.default()
    sig = load_or_compute_signals(ds, workspace=ws)  # what the Clean page shows, now cached
    expected = apply_recipe(ds, sig, default_recipe())
    r = dq("filter", "data.csv", "--out", "clean.csv", "--log", "removed.csv", cwd=files)
    assert r.returncode == 0, r.stderr
    assert pd.read_csv(files / "clean.csv")["row_id"].tolist() == expected.kept_row_ids.tolist()
    log = pd.read_csv(files / "removed.csv")
    assert set(log["row_id"]) == set(ds.row_ids[~expected.keep_mask]) | set(expected.relabels)
    assert "label_score" in log.columns


def test_the_recipe_carries_the_signal_settings_the_page_used(files):
    """signal_settings in the recipe: `dq filter` computes exactly those signals (text-only ones here)."""
    from dq_core.filtering import load_or_compute_signals

    settings = {"signals": ["exact_duplicate", "junk(min_chars=12)"], "seed": 0}
    rec = FilterRecipe(name="text-only", signals=(SignalRule("exact_duplicate", action="dedupe"),
                                                  SignalRule("junk_min_chars_12")),
                       signal_settings=settings)
    path = save_recipe(rec, files / "r.json")
    r = dq("filter", "data.csv", "--recipe", str(path), "--out", "clean.csv", cwd=files)
    assert r.returncode == 0, r.stderr
    ds, _ = load_dataset(str(files / "data.csv"))
    sig = load_or_compute_signals(ds, workspace=Workspace.default(), settings=settings)  # now a cache hit
    expected = apply_recipe(ds, sig, rec)
    assert pd.read_csv(files / "clean.csv")["row_id"].tolist() == expected.kept_row_ids.tolist()
    assert expected.n_dropped > 2  # the stricter junk setting removes more than the planted junk
