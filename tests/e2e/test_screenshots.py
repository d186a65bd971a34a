"""Every page at 1280x800 in a real browser: each metric tile shows its whole label and its whole value
(a tile too narrow for them reads "14,…" or "Balance i…").

Streamlit cuts a tile's label and value with CSS (``text-overflow: ellipsis``), so the DOM text stays whole
while the screen shows "…": a tile is cut when an element of its label, value or delta is wider than its box
(``scrollWidth > clientWidth``, or the text's own width beyond its container). The data: 12,000 rows (five-
digit counts, as the tweets demo's 14,640) and a 3,000-row reference, both with vectors and class
probabilities of their own, so Coverage, Shift and Clean draw every tile without the embedding model; a
finished run for Report and a running one for Train's live tiles. Full-page screenshots go to
$DQ_SCREENSHOTS (default /tmp/dq-screenshots) as tiles_<page>.png.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import serve_app
from tests.e2e.streamlit_browser import (
    block_non_loopback,
    launch_browser,
    streamlit_full_screenshot,
    wait_for_streamlit_idle,
)

pytestmark = pytest.mark.e2e
SHOTS = Path(os.environ.get("DQ_SCREENSHOTS", "/tmp/dq-screenshots"))
SLOW = 180_000
VIEWPORT = {"width": 1280, "height": 800}
N_ROWS, N_REF = 12_000, 3_000
TRAINING = {"step": 2385, "total_steps": 7155, "epoch": 1.0, "eta_seconds": 3725, "elapsed_seconds": 1880}

INT = re.compile(r"\d{1,3}(,\d{3})*")
PCT = re.compile(r"\d{1,3}\.\d%")
SHARE = re.compile(r"[01]\.\d{3}")
FOUR = re.compile(r"[01]\.\d{4}")

# Each tile's label, value, delta text (and any element that overflows its box), as the browser draws them.
TILES_JS = """() => [...document.querySelectorAll('[data-testid=stMetric]')].map(tile => {
  const part = id => {
    const el = tile.querySelector(`[data-testid=${id}]`);
    if (!el) return null;
    const cut = [el, ...el.querySelectorAll('*')].filter(e => {
      if (e.scrollWidth > e.clientWidth) return true;
      if (!e.childNodes.length || [...e.childNodes].some(n => n.nodeType !== Node.TEXT_NODE)) return false;
      const range = document.createRange();
      range.selectNodeContents(e);
      const box = (e.closest('[data-testid=stMarkdownContainer]') || el).getBoundingClientRect();
      const text = range.getBoundingClientRect();
      return text.left < box.left - 0.5 || text.right > box.right + 0.5;
    }).map(e => `${e.tagName.toLowerCase()} ${e.scrollWidth}>${e.clientWidth}px`);
    return {text: el.innerText.trim(), width: el.getBoundingClientRect().width, cut};
  };
  return {label: part('stMetricLabel'), value: part('stMetricValue'), delta: part('stMetricDelta')};
})"""


def _vectors(ds, rng: np.random.Generator):
    """Unit vectors clustered by topic, stored as the dataset's own (no embedding model in this test)."""
    from dq_core.space.embed_cache import EmbeddingResult

    topics = ds.frame["topic"] if "topic" in ds.frame else ds.frame["meta_topic"]
    centres = {t: rng.normal(size=16) for t in sorted(set(topics))}
    v = np.stack([centres[t] for t in topics]) + rng.normal(size=(len(ds), 16))
    v = (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
    return EmbeddingResult(vectors=v, valid=np.ones(len(ds), bool), n_truncated=0, n_cached=0, n_computed=0,
                           model_name="given:tiles.npy", max_seq_length=0)


def _probabilities(ds, rng: np.random.Generator) -> np.ndarray:
    """Out-of-sample class probabilities that back the given label on ~92% of the rows."""
    classes = list(ds.classes)
    favoured = ds.frame["label"].map(classes.index).to_numpy(copy=True)
    wrong = rng.random(len(ds)) < 0.08
    favoured[wrong] = (favoured[wrong] + 1) % len(classes)
    p = rng.dirichlet(np.ones(len(classes)), size=len(ds))
    p[np.arange(len(ds)), favoured] += 1.5
    return p / p.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def tiles_app(tmp_path_factory):
    from dq_core.data.dataset import ColumnMapping, build_dataset
    from dq_core.data.workspace import Workspace
    from dq_core.metrics.profile import compute_profile
    from dq_core.space.given import attach_given
    from dq_core.training import jobs
    from tests.filter_data import make_frame, make_reference
    from tests.train_helpers import random_predictions, write_run

    home = tmp_path_factory.mktemp("tiles_home")
    ws = Workspace(root=home)
    rng = np.random.default_rng(20)
    mapping = ColumnMapping(text="text", label="label", metadata=("topic",), agreement="confidence")
    ds = build_dataset(make_frame(N_ROWS), mapping, name="tiles")
    ref = make_reference(N_REF)
    ds = attach_given(ds, workspace=ws, embeddings=_vectors(ds, rng), pred_probs=_probabilities(ds, rng),
                      source="tiles.npy")
    ref = attach_given(ref, workspace=ws, embeddings=_vectors(ref, rng), source="tiles_ref.npy")
    query = f"ds={ws.save_dataset(ds)}&ref={ws.save_dataset(ref)}"

    labels = tuple(ds.classes)
    y, proba = random_predictions(600, labels, seed=3)
    finished = write_run(ws.runs_dir() / "20250101-000000-aaaaaa", labels=labels, y_true=y, proba=proba,
                         name="all rows")
    running = ws.runs_dir() / "20250102-000000-bbbbbb"  # its worker is this test process: alive while we look
    jobs.create_run({"name": "fine-tune", "train": {"trainer": "transformer"},
                     "data": {"dataset_name": "tiles"}}, running)
    jobs.update_status(running, state=jobs.RUNNING, pid=os.getpid(),
                       pid_start=jobs.process_start_time(os.getpid()),
                       progress=TRAINING["step"] / TRAINING["total_steps"], message="training", **TRAINING)
    for url in serve_app(home, tmp_path_factory.mktemp("tiles_data")):
        yield SimpleNamespace(url=url, query=query, profiles=(compute_profile(ds), compute_profile(ref)),
                              finished=finished)


@pytest.fixture()
def page_1280():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_browser(pw)
        context = browser.new_context(viewport=VIEWPORT)
        block_non_loopback(context, [])
        pg = context.new_page()
        pg.set_default_timeout(SLOW)
        yield pg
        context.close()
        browser.close()


def expected_tiles(app) -> dict[str, list[tuple[str, str | re.Pattern]]]:
    """Per page, every tile in page order: (label, its value as drawn, or a pattern the whole value matches
    where the figure comes from the page's own computation: tests/app checks those numbers)."""
    from dq_app.ui.widgets import fmt_num
    from dq_core.report import load_run

    overview = []
    for prof in app.profiles:
        b = prof.balance
        overview += [("Rows", f"{b.n_rows:,}"), ("Classes", str(b.n_classes)),
                     ("Balance index", fmt_num(b.class_balance_index)),
                     ("Imbalance", fmt_num(b.imbalance_ratio, 2))]
    p = app.profiles[0]
    overview += [("Empty texts", f"{p.n_empty:,}"),
                 ("Missing labels", f"{p.balance.n_missing_labels:,}"),
                 ("Redundant exact copies", f"{p.n_exact_duplicates:,}"),
                 ("Mixed-label exact copies", f"{p.n_conflicting_duplicates:,}")]
    head = load_run(app.finished).headline()
    eta = (f"{TRAINING['eta_seconds'] // 60}m {TRAINING['eta_seconds'] % 60:02d}s",
           f"{TRAINING['elapsed_seconds'] // 60}m {TRAINING['elapsed_seconds'] % 60:02d}s")
    return {
        "load": [],
        "overview": overview,
        "coverage": [("Reference coverage", PCT), ("Scene coverage", PCT), ("Sample coverage", PCT),
                     ("Radius", SHARE)],
        "shift": [("JS divergence", FOUR)] * 4 + [("Domain classifier ROC-AUC", SHARE)],
        "clean": [("Rows flagged by any signal", INT), ("Share flagged", PCT), ("Estimated noise ratio", PCT),
                  ("Label issues", INT),
                  ("Estimated noise ratio", PCT), ("Rows flagged", INT),
                  ("AUROC", SHARE), ("Spearman ρ", re.compile(r"-?[01]\.\d{3}")),
                  ("Low-agreement rows", INT),
                  ("Mean score low / high", re.compile(r"[01]\.\d\d / [01]\.\d\d")),
                  ("Rows", INT), ("Class-balance index", SHARE),
                  ("Imbalance ratio", re.compile(r"\d+\.\d\d")),
                  ("Estimated noise ratio", PCT),
                  ("Reference coverage", PCT), ("Scene coverage", PCT), ("Sample coverage", PCT),
                  ("JS (clusters)", FOUR)],
        "train": [(f"Step of {TRAINING['total_steps']:,}", f"{TRAINING['step']:,}"),
                  ("Epoch", fmt_num(TRAINING["epoch"], 2)), ("ETA", eta[0]), ("Elapsed", eta[1])],
        "report": [("Accuracy", fmt_num(head["accuracy"])), ("Macro-F1", fmt_num(head["macro_f1"])),
                   ("Weighted-F1", fmt_num(head["weighted_f1"])),
                   ("ROC-AUC (macro, OvR)", fmt_num(head["roc_auc_macro"])), ("ECE", fmt_num(head["ece"]))],
    }


def open_page(page: Page, app, path: str, n_tiles: int) -> None:
    url_path = "" if path == "overview" else path  # Overview is the default page: "/"
    page.goto(f"{app.url}/{url_path}?{app.query}")
    wait_for_streamlit_idle(page, timeout=SLOW)
    expect(page.get_by_text("Page not found")).to_have_count(0)
    if path == "clean":  # 12,000 rows: the page asks before it computes the signals
        compute = page.locator(".st-key-cl_compute").get_by_role("button")
        expect(compute).to_be_visible()
        compute.click()
    expect(page.get_by_test_id("stMetric")).to_have_count(n_tiles, timeout=SLOW)
    wait_for_streamlit_idle(page, timeout=SLOW)


def test_every_metric_tile_shows_its_whole_label_and_value_at_1280x800(tiles_app, page_1280):
    page = page_1280
    SHOTS.mkdir(parents=True, exist_ok=True)
    for path, tiles in expected_tiles(tiles_app).items():
        open_page(page, tiles_app, path, len(tiles))
        # the sidebar is open: the main column is as narrow as 1280 px makes it
        assert page.get_by_test_id("stSidebar").bounding_box()["width"] > 200, path
        expect(page.get_by_test_id("stException")).to_have_count(0)
        shown = page.evaluate(TILES_JS)
        streamlit_full_screenshot(page, str(SHOTS / f"tiles_{path}.png"))
        assert [t["label"]["text"] for t in shown] == [label for label, _ in tiles], path
        for tile, (label, value) in zip(shown, tiles, strict=True):
            where = f"{path}: {label!r} = {tile['value']['text']!r}"
            text = tile["value"]["text"]
            assert value.fullmatch(text) if isinstance(value, re.Pattern) else text == value, where
            for part in ("label", "value", "delta"):
                if tile[part] is not None:
                    assert tile[part]["width"] > 0 and not tile[part]["cut"], (where, part, tile[part])
