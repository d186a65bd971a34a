"""The story HTML that `dq story` writes works offline in a real browser: opened as a file:// URL with every
other request aborted, it asks for nothing off the file (0 aborted requests), logs no console error, shows the
XSS text of the data as text without running it (no dialog), draws its plotly figures (each with an svg), and
prints to PDF under print media."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.cli_helpers import dq
from tests.e2e.streamlit_browser import CHROMIUM, launch_browser
from tests.story.helpers import EVIL, fake_run, write_inputs

pytestmark = pytest.mark.e2e
SCREENSHOT = Path("/tmp/story.png")  # looked at by hand when the template changes


@pytest.fixture
def story_file(tmp_path: Path) -> Path:
    """A full story (shift with given vectors, issues with the XSS row among the examples, the default recipe,
    two runs compared) written by `dq story` in-process; no model is loaded."""
    from dq_core.data.io import load_dataset
    from tests.filter_data import make_embeddings

    files = write_inputs(tmp_path)
    ds = load_dataset(str(files["data"]))[0]
    ref = load_dataset(str(files["ref"]))[0]
    signals = pd.read_parquet(files["signals"])
    pos = int((ds.texts == EVIL).to_numpy().nonzero()[0][0])
    signals.loc[pos, ["junk_score", "is_junk_issue"]] = [0.0, True]  # the XSS row leads the junk examples
    signals.to_parquet(files["signals"])
    np.save(tmp_path / "e.npy", make_embeddings(ds).vectors)
    np.save(tmp_path / "r.npy", make_embeddings(ref, seed=1).vectors)
    a, y = fake_run(tmp_path / "all", ds, skill=0.6, seed=1, name="all rows")
    b, _ = fake_run(tmp_path / "clean", ds, skill=0.9, y=y, seed=2, name="cleaned")
    out = tmp_path / "story.html"
    r = dq("story", files["data"], "--reference", files["ref"], "--embeddings", tmp_path / "e.npy",
           "--reference-embeddings", tmp_path / "r.npy", "--recipe", "default", "--signals", files["signals"],
           "--run", a, "--run", b, "--out", out)
    assert r.returncode == 0, r.stderr
    return out


def test_story_html_works_offline_in_chromium(story_file: Path):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it with apt-get when run as root)")
    from playwright.sync_api import sync_playwright

    aborted, errors, dialogs = [], [], []
    with sync_playwright() as pw:
        browser = launch_browser(pw)
        context = browser.new_context(viewport={"width": 1200, "height": 900})

        def only_the_file(route):
            if route.request.url.startswith("file://"):
                route.continue_()
            else:
                aborted.append(route.request.url)
                route.abort()

        context.route("**/*", only_the_file)
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(story_file.as_uri(), wait_until="load")
        page.wait_for_selector(".js-plotly-plot .main-svg")

        plots = page.locator(".js-plotly-plot")
        n_plots = plots.count()
        assert n_plots > 0
        assert all(plots.nth(i).locator("svg").count() > 0 for i in range(n_plots))
        assert page.evaluate("() => typeof window.Plotly") == "object"
        assert page.get_by_text(EVIL, exact=True).count() >= 1  # shown as text, not parsed into tags
        assert page.locator("img[src='x']").count() == 0
        # a median word count of 9 showed as "9.000" (a count is not a 3-decimal measure)
        assert page.locator("tr", has_text="words per text (median)").locator("td").inner_text() == "9"
        # column headers sat right-aligned over left-aligned text columns (row_id / label / text looked adrift)
        assert page.locator("thead th").first.evaluate("e => getComputedStyle(e).textAlign") == "left"
        page.screenshot(path=str(SCREENSHOT), full_page=True)

        page.emulate_media(media="print")
        assert page.evaluate("() => matchMedia('print').matches")
        assert page.evaluate("() => [...document.querySelectorAll('.modebar')]"
                             ".every(e => getComputedStyle(e).display === 'none')")
        pdf = page.pdf(format="A4", print_background=False)
        assert pdf[:5] == b"%PDF-" and len(pdf) > 10_000
        seen = (list(aborted), list(errors), list(dialogs))
        # the guard itself works: a request off the file, made on purpose, is aborted and counted
        page.evaluate("() => fetch('https://cdn.plot.ly/plotly-latest.min.js').catch(() => null)")
        assert aborted == ["https://cdn.plot.ly/plotly-latest.min.js"]
        context.close()
        browser.close()
    assert seen == ([], [], [])
