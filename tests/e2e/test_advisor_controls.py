"""In a real browser: the Clean page's advisor controls. "Fine-tunes per candidate" is off for the baseline and
comes on when the transformer is chosen, and the value typed stays through the rerun the selectbox causes
(AppTest does not render widgets, so an enable/disable bound to another widget is checked here)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from dq_app.ui.clean.advisor import TRAINER_HELP
from tests.e2e.streamlit_browser import commit_input, pick_option, wait_for_streamlit_idle

pytestmark = pytest.mark.e2e
SLOW = 180_000


@pytest.fixture(scope="module")
def small_id(dq_home) -> str:
    from dq_core.data.workspace import Workspace
    from tests.train_helpers import tiny_dataset

    return Workspace(root=dq_home).save_dataset(tiny_dataset(300, seed=3))


def test_fine_tunes_per_candidate_follow_the_trainer(page: Page, server: str, small_id: str):
    page.goto(f"{server}/clean?ds={small_id}")
    wait_for_streamlit_idle(page, timeout=SLOW)
    expect(page.get_by_role("heading", name="Which cleaning pays?")).to_be_visible(timeout=SLOW)
    repeats = page.locator(".st-key-adv_repeats input")
    expect(repeats).to_be_disabled()
    expect(repeats).to_have_value("1")

    # the option reads as the trainer's name and its help; pick_option retries a click a rerun swallowed
    pick_option(page, "adv_trainer", f"transformer — {TRAINER_HELP['transformer']}", timeout=SLOW)
    expect(repeats).to_be_enabled()

    commit_input(page, "adv_repeats", "3", timeout=SLOW)
    expect(repeats).to_have_value("3")
    expect(page.get_by_role("button", name="Find the cleaning that pays")).to_be_enabled()
    expect(page.get_by_text("Traceback")).to_have_count(0)
