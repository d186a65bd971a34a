"""AppTest of the Clean page: Review → *Keep selected* on a copy the dedupe rule drops keeps it beside the
copy the rule keeps (the kept count goes up by one), says so, and the review table opens with the decision
columns. Hand-built rows; only the exact-duplicate signal, so no model is needed."""

from __future__ import annotations

import pandas as pd
from dq_apptest import as_number, assert_no_exception

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.data.workspace import Workspace
from dq_core.filtering import DecisionStore, apply_recipe, load_recipe

TEXTS = ["the flight was late and the crew was rude", "the crew at the gate was friendly and fast",
         "my phone battery lasts all day", "the soup was cold and bland", "The crew at the gate  was friendly and fast",
         "an average flight, nothing special", "the concert was loud and amazing", "the screen cracked in a week",
         "a normal day at the airport", "the pizza arrived hot and fresh", "standard seats, standard food",
         "the album is the best this year"]
LABELS = ["negative", "positive", "positive", "negative", "positive", "neutral", "positive", "negative",
          "neutral", "positive", "neutral", "positive"]
KEPT_COPY, DROPPED_COPY = 1, 4  # row 4 repeats row 1's text (case and spacing aside): the dedupe drops it


def dataset():
    frame = pd.DataFrame({"text": TEXTS, "label": LABELS})
    return build_dataset(frame, ColumnMapping(text="text", label="label"), name="keep a duplicate")


def rows_after(at) -> int:
    found = [m.value for m in at.metric if m.label == "Rows"]
    assert found, [m.label for m in at.metric]
    return int(as_number(found[0]))


def button(at, prefix: str):
    return next(b for b in at.button if b.label.startswith(prefix))


def test_keep_selected_on_a_dropped_copy_keeps_one_more_row_and_says_so(page_app):
    ds = dataset()
    at = page_app("app_pages/clean.py", ds, None, cl_signals=["exact_duplicate"]).run()
    assert_no_exception(at)
    assert rows_after(at) == len(ds) - 1  # the default recipe drops the second copy

    # the review table: the decision columns first, no horizontal scroll to reach them
    table = next(d.value for d in at.dataframe if "decision" in d.value.columns)
    assert list(table.columns[:4]) == ["decision", "relabel to", "select", "row_id"]
    assert DROPPED_COPY in table["row_id"].tolist()  # "touched by the recipe": the dropped copy is listed

    at.session_state["fp_selected"] = {str(DROPPED_COPY)}
    at.run()
    button(at, "Keep selected (1)").click().run()
    assert_no_exception(at)

    assert rows_after(at) == len(ds)  # +1: the kept copy came in, the other copy did not go out
    notes = [i.value for i in at.info]
    assert f"Kept row {DROPPED_COPY}: +1 row kept (11 → 12); its exact duplicate {KEPT_COPY} stays in." in notes

    # what the page saved is what `dq filter` applies: both copies kept
    folder = Workspace.default().recipes_dir(ds.fingerprint[:16])
    assert [(d.row_id, d.action) for d in DecisionStore(folder).decisions()] == [(DROPPED_COPY, "keep")]
    res = apply_recipe(ds, None, load_recipe(folder / "working.json"), workspace=Workspace.default())
    assert {KEPT_COPY, DROPPED_COPY} <= set(res.kept_row_ids.tolist()) and res.n_kept == len(ds)

    # undo says what it takes back
    button(at, "↶ Undo").click().run()
    assert rows_after(at) == len(ds) - 1
    assert "Undo: −1 row kept (12 → 11)." in [i.value for i in at.info]
