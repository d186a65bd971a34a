"""The filter panel alone in a real AppTest: decisions saved at once and back in a new session, undo,
controls that change the figures, and a recipe that removes a class refused for export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dq_core.data.workspace import Workspace
from dq_core.filtering import DecisionStore, FilterInputs, apply_prepared, load_recipe
from dq_core.filtering import whatif as wi
from tests.filter_data import make_dataset, make_embeddings, make_reference, page_signals

PAGE = str(Path(__file__).with_name("filter_panel_page.py"))


def open_page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, [m.label for m in at.metric]
    return found[0]


def button(at, label: str):
    return next(b for b in at.button if b.label == label)


def decide(at, ids: str, action: str, label: str | None = None) -> AppTest:
    at.text_input(key="fp_ids").input(ids)
    at.selectbox(key="fp_ids_action").select(action)
    if label:
        at.selectbox(key="fp_ids_label").select(label)
    button(at, "Apply").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def saved_caption(at) -> str:
    return next(c.value for c in at.caption if "manual decisions saved" in c.value)


def recipes_dir() -> Path:
    ds = make_dataset()
    return Workspace.default().recipes_dir(ds.fingerprint[:16])


def library_figures(recipe):
    """The panel's inputs rebuilt here (same data, same signals): the library's result and figures."""
    from dq_core.space.clusters import cluster_joint

    ws = Workspace.default()
    ds, ref = make_dataset(), make_reference()
    e, er = make_embeddings(ds), make_embeddings(ref, seed=1)
    sig = page_signals(ds, ref, e, er, ws)
    from dq_core.signals import parse_signal_spec
    from dq_core.signals.context import SignalContext

    res = apply_prepared(FilterInputs(ds, sig), recipe)
    probs = parse_signal_spec("label").probabilities(SignalContext(ds, embeddings=e.vectors, workspace=ws))
    ctx = wi.prepare_what_if(ds, ref, sig, ds_embeddings=e, ref_embeddings=er, workspace=ws, label_probs=probs,
                             clusters=cluster_joint(e.vectors[e.valid], er.vectors[er.valid], workspace=ws))
    return res, wi.figures_for(ctx, res)


def test_decisions_are_saved_at_once_and_come_back_in_a_new_session():
    at = open_page()
    decide(at, "0, 2", "drop")
    decide(at, "4", "relabel", "negative")
    assert saved_caption(at).startswith("**3** manual decisions saved")
    # on disk at once, before any further interaction
    store = DecisionStore(recipes_dir())
    assert {str(d.row_id): (d.action, d.label) for d in store.decisions()} == {
        "0": ("drop", None), "2": ("drop", None), "4": ("relabel", "negative")}
    working = load_recipe(recipes_dir() / "working.json")
    assert len(working.decisions) == 3
    res, after = library_figures(working)
    assert {0, 2}.isdisjoint(res.kept_row_ids.tolist()) and res.relabels[4] == "negative"
    assert int(metric(at, "Rows").replace(",", "")) == res.n_kept

    # a browser reload is a new session: the decisions and the figures are back
    again = open_page()
    assert saved_caption(again).startswith("**3** manual decisions saved")
    assert int(metric(again, "Rows").replace(",", "")) == res.n_kept
    # the panel's figures are the library's for the saved working recipe
    assert metric(again, "Class-balance index") == f"{after.class_balance_index:.3f}"
    assert metric(again, "Estimated noise ratio") == f"{after.noise_ratio:.1%}"
    assert metric(again, "Reference coverage") == f"{after.reference_coverage:.1%}"
    assert metric(again, "Scene coverage") == f"{after.scene_coverage:.1%}"

    # undo reverts the last change (the relabel), also for the next session
    button(again, "↶ Undo").click().run()
    assert saved_caption(again).startswith("**2** manual decisions saved")
    third = open_page()
    assert saved_caption(third).startswith("**2** manual decisions saved")
    assert {str(d.row_id) for d in DecisionStore(recipes_dir()).decisions()} == {"0", "2"}


def test_bulk_select_and_drop_then_undo():
    at = open_page()
    at.radio(key="fp_show").set_value("most suspicious").run()
    button(at, "Select all shown").click().run()
    n_sel = int(button(at, next(b.label for b in at.button if b.label.startswith("Drop selected")))
                .label.split("(")[1].rstrip(")"))
    assert n_sel > 0
    button(at, f"Drop selected ({n_sel})").click().run()
    assert not at.exception
    assert len(DecisionStore(recipes_dir()).decisions()) == n_sel
    button(at, "↶ Undo").click().run()
    assert len(DecisionStore(recipes_dir()).decisions()) == 0


def test_controls_change_the_figures_and_are_remembered():
    at = open_page()
    rows_default = int(metric(at, "Rows").replace(",", ""))
    at.checkbox(key="fp_on_label").uncheck().run()
    rows_no_label = int(metric(at, "Rows").replace(",", ""))
    assert rows_no_label > rows_default  # label issues are no longer dropped
    assert not any(r.signal == "label" and r.enabled for r in load_recipe(recipes_dir() / "working.json").signals)
    again = open_page()  # the working recipe (controls) comes back too
    assert again.checkbox(key="fp_on_label").value is False
    assert int(metric(again, "Rows").replace(",", "")) == rows_no_label


def test_each_rule_says_what_it_counts_and_the_dedupe_rule_says_after_what():
    """Beside each rule that is on, the figures count_rules gives, named; the dedupe rule's "copies in all" is
    the Overview's redundant exact copies, and what it removes is said to come after the other rules."""
    from dq_core.filtering import count_rules, default_recipe
    from dq_core.metrics.profile import compute_profile

    at = open_page()
    res, _ = library_figures(default_recipe())
    counts = {c.signal: c for c in count_rules(res) if c.signal}
    captions = [c.value for c in at.caption]
    dedupe = counts["exact_duplicate"]
    copies = compute_profile(make_dataset()).n_exact_duplicates
    assert dedupe.copies == copies
    assert (f"selects {dedupe.selects:,} rows in duplicate groups · removes **{dedupe.removes:,} "
            f"{'copy' if dedupe.removes == 1 else 'copies'}** left after the other rules · {copies:,} copies in all "
            "(as on the Overview)") in captions
    junk = counts["junk"]
    assert junk.removes > 0 and f"selects {junk.selects:,} · removes **{junk.removes:,}**" in " ".join(captions)
    label = counts["label"]
    assert label.relabels > 0 and f"relabels **{label.relabels:,}**" in " ".join(captions)
    # the table's caption: the same totals as the Before -> after card
    assert (f"The recipe removes **{res.n_dropped:,}** of the {res.n_rows:,} rows and keeps **{res.n_kept:,}**."
            in " ".join(captions))
    assert int(metric(at, "Rows").replace(",", "")) == res.n_kept
    table = next(d.value for d in at.dataframe if "removes_new" in getattr(d.value, "columns", []))
    assert table["removes_new"].sum() == res.n_dropped
    assert table["rule"].tolist() == [c.rule for c in count_rules(res)]


def test_a_recipe_that_removes_a_class_is_shown_and_not_exported():
    at = open_page()
    at.checkbox(key="fp_on_label").uncheck()  # no relabelling into 'neutral'
    at.text_area(key="fp_drop_where").input("label == 'neutral'").run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("removes every row of class 'neutral'" in e for e in errors), errors
    assert any("Nothing can be exported" in e for e in errors)
    assert not [b for b in at.get("download_button") if "Cleaned data" in str(b.proto.label)]


def test_a_condition_with_code_is_refused_and_ignored():
    at = open_page()
    rows = metric(at, "Rows")
    at.text_area(key="fp_drop_where").input("__import__('os').system('echo hi')").run()
    assert not at.exception
    assert any("condition" in w.value for w in at.warning)
    assert metric(at, "Rows") == rows


def test_export_to_the_workspace_writes_data_log_and_recipe():
    at = open_page()
    button(at, "Save all to the workspace").click().run()
    assert not at.exception
    ds = make_dataset()
    folder = Workspace.default().exports_dir(ds.fingerprint[:16])
    files = sorted(p.name for p in folder.iterdir())
    assert any(f.endswith(".cleaned.csv") for f in files)
    assert any(f.endswith(".removed.csv") for f in files)
    assert any(f.endswith(".recipe.json") for f in files)
    data = next(folder.glob("*.cleaned.csv")).read_text()
    assert "'=" not in data and "'@" not in data  # the data export keeps every text as it is
    rec = json.loads(next(folder.glob("*.recipe.json")).read_text())
    assert rec["format"] == "dq-filter-recipe"
    import pandas as pd

    assert len(pd.read_csv(next(folder.glob("*.cleaned.csv")))) == int(metric(at, "Rows").replace(",", ""))


def test_export_of_a_datasets_folder_to_the_workspace_writes_its_dataset_card():
    """The page's "Save all to the workspace" in the datasets format writes README.md (the dataset card) into
    the folder, listed in its marker; dq and datasets still read the folder, with the page's row count."""
    import datasets

    from dq_core.data.io import read_path
    from dq_core.data.paths import check_datasets_folder
    from dq_core.data.writers import DATASETS_MARKER

    at = open_page()
    at.selectbox(key="fp_fmt").select("datasets").run()
    button(at, "Save all to the workspace").click().run()
    assert not at.exception, [e.value for e in at.exception]
    folder = next(Workspace.default().exports_dir(make_dataset().fingerprint[:16]).glob("*.cleaned"))
    card = (folder / "README.md").read_text(encoding="utf-8")
    rows = int(metric(at, "Rows").replace(",", ""))
    assert card.startswith("---\n") and f"| kept | {rows:,} |" in card and "#### Signals used" in card
    assert "README.md" in json.loads((folder / DATASETS_MARKER).read_text())["entries"]
    check_datasets_folder(folder)
    assert len(read_path(folder).frame) == rows == len(datasets.load_from_disk(str(folder)))


@pytest.fixture(autouse=True)
def _fresh_caches():
    """st.cache_resource lives in the process: clear it so each test reads its own workspace."""
    import streamlit as st

    st.cache_resource.clear()
    yield
