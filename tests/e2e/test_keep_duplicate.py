"""In a real browser: on the Clean page, keeping a copy that the dedupe rule drops keeps it beside the copy
the rule keeps. The "Rows" figure goes up by exactly one, the page says what the decision did, and
`dq filter`'s code applied to the saved working recipe keeps both copies. The review table shows the
decision columns first."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.streamlit_browser import pick_option, rerun_and_wait, wait_for_streamlit_idle

pytestmark = pytest.mark.e2e
SLOW = 180_000  # the first Clean visit embeds the texts and computes the signals on 2 busy cores
KEPT_COPY, DROPPED_COPY = 5, 7  # tests.filter_data plants three copies of one text at rows 5, 6, 7


@pytest.fixture(scope="module")
def copies_set(dq_home) -> SimpleNamespace:
    from dq_core.data.dataset import ColumnMapping, build_dataset
    from dq_core.data.workspace import Workspace
    from tests.filter_data import make_frame

    frame = make_frame(48, seed=3).drop(columns=["confidence"])
    ds = build_dataset(frame, ColumnMapping(text="text", label="label", metadata=("topic",)), name="copies")
    ws = Workspace(root=dq_home)
    ds_id = ws.save_dataset(ds)
    return SimpleNamespace(ds=ds, ws=ws, query=f"ds={ds_id}", recipes=ws.recipes_dir(ds_id))


def rows_figure(page: Page) -> int:
    """The "Rows" card of the before → after figures: the rows the working recipe keeps."""
    card = page.get_by_test_id("stMetric").filter(has=page.get_by_test_id("stMetricLabel").get_by_text(
        "Rows", exact=True))
    expect(card).to_have_count(1, timeout=SLOW)
    return int(card.get_by_test_id("stMetricValue").inner_text().replace(",", ""))


def test_keeping_a_dropped_copy_adds_one_row_and_says_so(page: Page, server: str, copies_set):
    page.goto(f"{server}/clean?{copies_set.query}")
    wait_for_streamlit_idle(page, timeout=SLOW)
    form = page.get_by_test_id("stForm").filter(has_text="Decide by row id")
    expect(form).to_be_visible(timeout=SLOW)
    before = rows_figure(page)
    assert 0 < before < len(copies_set.ds)

    # the review table: the decision columns come first (the editor draws on a canvas; focusing it shows
    # an accessible table)
    editor = page.locator("[class*=st-key-fp_review_]")
    editor.scroll_into_view_if_needed()
    editor.locator("canvas").first.focus()
    headers = editor.get_by_role("columnheader", include_hidden=True)
    expect(headers.first).to_be_attached(timeout=SLOW)
    names = [h.strip() for h in headers.all_inner_texts() if h.strip()]
    assert names[:3] == ["decision", "relabel to", "✓"], names

    # keep the dropped copy, by row id
    form.scroll_into_view_if_needed()
    form.locator(".st-key-fp_ids input").fill(str(DROPPED_COPY))
    pick_option(page, "fp_ids_action", "keep", timeout=SLOW, reruns=False)
    rerun_and_wait(page, form.get_by_role("button", name="Apply").click, timeout=SLOW)

    effect = (f"Kept row {DROPPED_COPY}: +1 row kept ({before:,} → {before + 1:,}); its exact duplicate "
              f"{KEPT_COPY} stays in.")
    expect(page.get_by_test_id("stAlertContentInfo").filter(has_text=effect)).to_be_visible(timeout=SLOW)
    assert rows_figure(page) == before + 1

    # what the page saved, applied as `dq filter` applies it: both copies kept, one row more than before
    from dq_core.filtering import apply_recipe, load_recipe

    saved = json.loads((copies_set.recipes / "working.json").read_text(encoding="utf-8"))
    assert saved["decisions"] == [{"row_id": DROPPED_COPY, "action": "keep"}]
    res = apply_recipe(copies_set.ds, None, load_recipe(copies_set.recipes / "working.json"),
                       workspace=copies_set.ws)
    assert {KEPT_COPY, DROPPED_COPY} <= set(res.kept_row_ids.tolist())
    assert res.n_kept == before + 1
