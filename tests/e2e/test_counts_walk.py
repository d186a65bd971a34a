"""One truth per number, in a real browser: a walk Overview -> Clean -> Train -> Report on 43 hand-built rows
with known exact duplicates, near duplicates and mixed labels, where every duplicate, mixed-label, removed and
kept figure on screen is checked against `dq profile`, `dq filter` and `dq report` run in-process on the same
file and workspace.

The rows (split ``train`` unless said): 24 unique texts; group A, one text four times (case and spacing
differ, the fourth in the test split); group B, one text twice with two labels; group C, "ok" three times
(junk); a near-duplicate pair ("...tonight" / "...tonight!!") with two labels; 8 unique test rows. So: 6
redundant exact copies in 9 rows of 3 groups, 2 mixed-label exact copies, 4 near duplicates with mixed
labels; the default recipe's dedupe removes only the 3 copies of group A (the other rules remove B and C
whole), and the Train/Report figures of the rows outside the test set leave group A's test copy out.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.streamlit_browser import (
    pick_option,
    rerun_and_wait,
    streamlit_full_screenshot,
    wait_for_streamlit_idle,
)

pytestmark = pytest.mark.e2e
SLOW = 180_000  # the Clean visit embeds the texts and computes the signals on 2 busy cores

POS = ["the crew on my flight was friendly and helpful", "great legroom and a smooth landing today",
       "the pizza downtown was delicious and hot", "loved the concert last night, amazing band",
       "the new album is beautiful from start to finish", "fast delivery and the soup was tasty",
       "the hotel staff upgraded our room for free", "my phone battery lasts all day now",
       "the museum tour was fascinating and fun", "sunny weather made the picnic perfect",
       "the bakery sells the best croissants in town", "customer service solved my problem in minutes"]
NEG = ["my luggage was lost and nobody answered", "the gate agent was rude to every passenger",
       "cold food and a dirty table at the diner", "the concert sound was awful and too loud",
       "the app crashes every time I open it", "the train was cancelled without any notice",
       "the screen cracked after one week", "waited forty minutes for a lukewarm coffee",
       "the refund never arrived after a month", "the seats were broken and the toilet smelled",
       "the printer jams on every single page", "terrible wifi in the whole airport lounge"]
PLANTED = [("The flight was delayed for three hours again", "neg"),  # group A
           ("the flight was delayed for  three hours again", "neg"),
           ("THE FLIGHT WAS DELAYED FOR THREE HOURS AGAIN ", "neg"),
           ("I guess the new phone is fine", "pos"), ("i guess the new phone is FINE", "neg"),  # group B
           ("ok", "pos"), ("ok", "pos"), ("Ok", "pos"),  # group C
           ("the pasta at gate 12 was wonderful tonight", "pos"),  # near pair
           ("the pasta at gate 12 was wonderful tonight!!", "neg")]
TEST = [("the pilot made the trip very pleasant", "pos"), ("this cake is wonderful and fresh", "pos"),
        ("the song made me smile all morning", "pos"), ("the park was clean and peaceful", "pos"),
        ("the bus driver ignored us at the stop", "neg"), ("my order arrived late and damaged", "neg"),
        ("the movie was boring and far too long", "neg"), ("the charger stopped working in a day", "neg"),
        ("the flight was delayed for three hours again", "neg")]  # group A's fourth row
N = "[\\d,]+"


def rows() -> pd.DataFrame:
    train = [(t, "pos") for t in POS] + [(t, "neg") for t in NEG] + PLANTED
    return pd.DataFrame([(t, lab, "train") for t, lab in train] + [(t, lab, "test") for t, lab in TEST],
                        columns=["text", "label", "split"])


@pytest.fixture(scope="module")
def walk_set(dq_home, tmp_path_factory) -> SimpleNamespace:
    from dq_core.data.io import load_dataset
    from dq_core.data.workspace import Workspace

    folder = tmp_path_factory.mktemp("walk")
    path = folder / "walk.csv"
    rows().to_csv(path, index=False)
    ds, _ = load_dataset(str(path))  # as `dq` reads the file: the same rows, the same fingerprint
    ds_id = Workspace(root=dq_home).save_dataset(ds)
    return SimpleNamespace(path=path, folder=folder, ds=ds, query=f"ds={ds_id}")


def num(text: str) -> int:
    return int(text.replace(",", ""))


def dq(capsys, *args: str) -> dict:
    """`dq ARGS` in this process (the server's workspace: DQ_HOME is set by the caller); its JSON."""
    from dq_core.cli import main

    capsys.readouterr()
    assert main(list(args)) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def main_text(page: Page) -> str:
    return page.get_by_test_id("stMain").inner_text()


def find(pattern: str, text: str) -> tuple[int, ...]:
    m = re.search(pattern, text)
    assert m, f"{pattern!r} not on the page:\n{text[:4000]}"
    return tuple(num(g) for g in m.groups())


def metric_value(page: Page, label: str) -> int:
    tile = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True))
    expect(tile).to_have_count(1)
    return num(tile.get_by_test_id("stMetricValue").inner_text())


def rule_row(page: Page, signal: str) -> str:
    """The text of a signal's row in the filter controls (its checkbox, action, sliders and figures)."""
    row = page.get_by_test_id("stHorizontalBlock").filter(has=page.locator(f".st-key-fp_on_{signal}")).last
    return row.inner_text().replace("\n", " ")


def go_to(page: Page, title: str, heading: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=SLOW)
    wait_for_streamlit_idle(page, timeout=SLOW)


def wait_for_run(runs: Path, before: set, timeout: float = SLOW / 1000) -> Path:
    """The run the click started, once it has finished (the Train page polls and starts it)."""
    from dq_core.training import jobs

    deadline = time.time() + timeout
    while time.time() < deadline:
        new = [d for d in runs.iterdir() if d not in before] if runs.is_dir() else []
        if new and jobs.read_status(new[0]).get("state") in jobs.FINAL:
            status = jobs.read_status(new[0])
            assert status["state"] == jobs.SUCCEEDED, status
            return new[0]
        time.sleep(1)
    raise AssertionError(f"no finished run in {timeout:.0f} s")


def test_every_count_on_every_page_is_the_cli_count(page: Page, server: str, walk_set, dq_home, capsys,
                                                     monkeypatch):
    monkeypatch.setenv("DQ_HOME", str(dq_home))
    path = str(walk_set.path)
    prof = dq(capsys, "profile", path)
    assert (prof["n_exact_duplicates"], prof["n_rows_in_duplicate_groups"], prof["n_duplicate_groups"],
            prof["n_conflicting_duplicates"]) == (6, 9, 3, 2)  # as planted

    # ---- Overview: the profile's figures, mixed-label exact copies named as such
    page.goto(f"{server}/?{walk_set.query}")  # a dataset opens on the Overview
    expect(page.get_by_role("heading", name="📊 Overview")).to_be_visible(timeout=SLOW)
    wait_for_streamlit_idle(page, timeout=SLOW)
    assert metric_value(page, "Redundant exact copies") == prof["n_exact_duplicates"]
    assert metric_value(page, "Mixed-label exact copies") == prof["n_conflicting_duplicates"]
    assert metric_value(page, "Empty texts") == prof["n_empty"]
    assert metric_value(page, "Missing labels") == prof["n_missing_labels"]
    page.get_by_test_id("stExpander").filter(has_text="Redundant exact copies (").locator("summary").click()
    assert find(f"({N}) rows in ({N}) groups of identical texts: ({N}) are redundant copies", main_text(page)) == (
        prof["n_rows_in_duplicate_groups"], prof["n_duplicate_groups"], prof["n_exact_duplicates"])
    assert "conflict" not in main_text(page).lower()
    streamlit_full_screenshot(page, str(walk_set.folder / "overview.png"))  # to look at (pytest's tmp folder)

    # ---- Clean: the signals, each rule's figures and the totals; then `dq filter` on the same cache
    go_to(page, "Clean", "🧽 Clean")
    expect(page.locator(".st-key-fp_on_exact_duplicate")).to_be_visible(timeout=SLOW)
    wait_for_streamlit_idle(page, timeout=SLOW)
    flt = dq(capsys, "filter", path, "--out", str(walk_set.folder / "clean.csv"),
             "--log", str(walk_set.folder / "removed.csv"))
    sig = dq(capsys, "signals", path, "--out", str(walk_set.folder / "signals.csv"))
    rules = {r["signal"]: r for r in flt["rules"] if r["signal"]}
    text = main_text(page)
    assert find(f"Exact duplicates: ({N}) rows flagged", text) == (prof["n_rows_in_duplicate_groups"],)
    n_near_mixed = find(f"Near duplicates with mixed labels: ({N}) rows flagged", text)[0]
    assert n_near_mixed == sig["signals"]["conflicting_label"]["n_issues"] == 4  # the exact pair + the near pair
    # "conflict" is left only in the signal's own name (its rule's checkbox and the recipe), as recipes spell it
    assert {ln for ln in text.splitlines() if "conflict" in ln.lower() and "conflicting_label" not in ln} == {
        "conflicting label"}

    dedupe = rules["exact_duplicate"]
    assert (dedupe["selects"], dedupe["removes"], dedupe["copies"]) == (9, 3, 6)
    assert find(f"selects ({N}) rows in duplicate groups · removes ({N}) copies left after the other rules · "
                f"({N}) copies in all \\(as on the Overview\\)", rule_row(page, "exact_duplicate")) == (
        dedupe["selects"], dedupe["removes"], prof["n_exact_duplicates"])
    for name in ("conflicting_label", "junk", "label"):
        r = rules[name]
        shown = find(f"selects ({N}) · removes ({N})", rule_row(page, name))
        assert shown == (r["selects"], r["removes"]), name
        assert r["removes"] == r["removes_new"]  # no rule above removes the same rows here
    assert (rules["conflicting_label"]["removes"], rules["junk"]["removes"]) == (4, 3)

    page.get_by_test_id("stExpander").filter(has_text="Rules in effect").locator("summary").click()
    expect(page.get_by_text(re.compile("^The rules apply in this order"))).to_be_visible(timeout=SLOW)
    assert find(f"The recipe removes ({N}) of the ({N}) rows and keeps ({N})\\.", main_text(page)) == (
        flt["n_dropped"], flt["n_rows"], flt["n_kept"])
    assert sum(r["removes_new"] for r in flt["rules"]) == flt["n_dropped"] == 10
    assert metric_value(page, "Rows") == flt["n_kept"]
    streamlit_full_screenshot(page, str(walk_set.folder / "clean.png"))

    # what the recipe does to the rows outside the test split: the only rows a run filters
    log = pd.read_csv(walk_set.folder / "removed.csv")
    split = dict(zip(walk_set.ds.row_ids.tolist(), walk_set.ds.frame["split"], strict=True))
    pool = sum(s != "test" for s in split.values())
    out_pool = sum(split[r] != "test" for r in log.loc[log["action"] == "drop", "row_id"])
    relabelled_pool = sum(split[r] != "test" for r in log.loc[log["action"] == "relabel", "row_id"])
    assert out_pool == flt["n_dropped"] - 1  # group A's test copy is removed by dq filter, never by a run

    # ---- Train: the whole-dataset figure beside the pool's
    go_to(page, "Train", "🏋️ Train")
    rerun_and_wait(page, page.get_by_text("Baseline (logistic regression on embeddings)").click, timeout=SLOW)
    pick_option(page, "tr_recipe", "default recipe (duplicates, junk, label issues)")
    text = main_text(page)
    assert find(f"The recipe keeps ({N}) of the ({N}) rows \\(as Clean and dq filter count them\\)\\. The test set is "
                f"never filtered: of the ({N}) labelled rows outside it, the recipe leaves out ({N}) and relabels "
                f"({N})\\.", text) == (flt["n_kept"], flt["n_rows"], pool, out_pool, relabelled_pool)
    n_train = find(f"Trains on ({N}) rows", text)[0]
    runs = Path(dq_home) / "runs"
    before = set(runs.iterdir()) if runs.is_dir() else set()
    page.locator(".st-key-tr_start").get_by_role("button").click()
    run_dir = wait_for_run(runs, before)
    run_id = run_dir.name
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["split"]["n_train"] == n_train and metrics["split"]["n_filtered_out"] == out_pool

    # ---- Report, and the exported report (`dq report`): the same figures, named the same way
    go_to(page, "Report", "📝 Report")
    expect(page.get_by_text(run_id)).to_have_count(1)
    text = main_text(page)
    training = (f"training rows: ({N}) \\(cap none; the recipe left out ({N}) of the ({N}) labelled rows outside "
                f"the test set and relabelled ({N})\\)")
    assert find(training, text) == (n_train, out_pool, pool, relabelled_pool)
    streamlit_full_screenshot(page, str(walk_set.folder / "report.png"))
    note = f"recipe 'default': keeps ({N}) of ({N}) rows, relabels ({N})"
    assert find(note, text) == (flt["n_kept"], flt["n_rows"], flt["n_relabelled"])
    md_path = walk_set.folder / "report.md"
    from dq_core.cli import main

    assert main(["report", str(run_dir), "--format", "md", "--out", str(md_path)]) == 0
    md = md_path.read_text(encoding="utf-8").replace("\\", "")
    assert find(training.replace("training rows: ", ""), md) == (n_train, out_pool, pool, relabelled_pool)
    assert find(note, md) == (flt["n_kept"], flt["n_rows"], flt["n_relabelled"])
