"""AppTest of the Clean page (first half) on a small slice of the tweets demo: real model, real signals."""

from __future__ import annotations

import pytest
from dq_apptest import as_number, assert_no_exception, metric, plotly_figures, random_rows, texts

from dq_core.data.io import load_demo
from dq_core.data.workspace import Workspace
from dq_core.metrics.profile import compute_profile
from dq_core.signals import DEFAULT_SIGNALS, compute_signals, get_signal


@pytest.fixture(scope="module")
def tweets_slice():
    ds, _ = load_demo("tweets")
    return random_rows(ds, 150, 0, name="tweets slice")


@pytest.fixture
def clean_app(page_app):
    return lambda ds, **state: page_app("app_pages/clean.py", ds, None, **state)


def test_clean_page_shows_the_signals_of_dq_core(clean_app, tweets_slice):
    ds = tweets_slice
    at = clean_app(ds).run()
    assert_no_exception(at)
    assert texts(at.title) == ["🧽 Clean"]
    subheaders = texts(at.subheader)
    assert subheaders[:4] == ["Signals at a glance", "Label noise", "Suspicious rows", "Noise-injection sandbox"]

    # the page computed and cached the report: the same numbers come back from dq_core
    rep = compute_signals(ds, [get_signal(n) for n in DEFAULT_SIGNALS], workspace=Workspace.default())
    assert rep.from_cache
    f = rep.frame
    assert as_number(metric(at, "Rows flagged by any signal")) == int((f["n_issues"] > 0).sum())
    assert as_number(metric(at, "Label issues")) == rep.summaries["label"]["n_issues"]
    noise = rep.summaries["label"]["estimated_noise_ratio"]
    assert metric(at, "Estimated noise ratio") == f"{noise:.1%}"
    skipped = " ".join(texts(at.caption))
    assert "Leakage into reference/test** skipped" in skipped and "Annotator disagreement** skipped" in skipped

    # per-signal expanders with counts, the joint heat map, the crowd-agreement hint of the tweets
    labels = [e.label for e in at.expander]
    n_label = rep.summaries["label"]["n_issues"]
    assert f"Label issues: {n_label:,} rows flagged ({n_label / len(ds):.1%})" in labels
    # near duplicates with mixed labels are named apart from the Overview's mixed-label exact copies
    n_mixed = int(f["is_conflicting_label_issue"].sum())
    assert f"Near duplicates with mixed labels: {n_mixed:,} rows flagged ({n_mixed / len(ds):.1%})" in labels
    assert not any(lab.lower().startswith("conflicting") for lab in labels)
    exact = compute_profile(ds)
    assert (f"Exact duplicates: {exact.n_rows_in_duplicate_groups:,} rows flagged "
            f"({exact.n_rows_in_duplicate_groups / len(ds):.1%})") in labels
    figs = plotly_figures(at)
    heat = [fg for fg in figs if fg["data"] and fg["data"][0]["type"] == "heatmap"]
    assert heat and heat[0]["data"][0]["x"] == ds.classes
    hint = rep.agreement_hint
    assert hint["column"] == "confidence"
    auroc = next(m for m in at.metric if m.label == "AUROC")
    assert auroc.value == f"{hint['auroc']:.3f}" and "(`confidence` < 0.6)" in auroc.help

    # the ranked table: the flagged rows, most suspicious first, with text and suggestions
    table = next(d.value for d in at.dataframe if "reasons" in d.value.columns and "suggested_label" in d.value.columns)
    assert len(table) == min(int((f["n_issues"] > 0).sum()), 500)
    assert {"text", "label", "suggested_label", "label_score"} <= set(table.columns)
    assert table["reasons"].str.len().gt(0).all()


def test_sandbox_reports_detection_against_the_known_flips(clean_app, tweets_slice):
    at = clean_app(tweets_slice, cl_sb_rate=0.2, cl_sb_seed=3).run()
    assert_no_exception(at)
    at.button(key="cl_sb_run").click().run()
    assert_no_exception(at)
    md = " ".join(texts(at.markdown))
    assert f"**{round(0.2 * len(tweets_slice)):,}** of {len(tweets_slice):,} labels flipped" in md
    table = next(d.value for d in at.dataframe if "precision" in d.value.columns)
    assert list(table.index) == ["ours (combined)", "cleanlab (LR + CL)", "10-NN disagreement"]
    assert (table["n_found"] <= table["n_flagged"]).all() and table["recall"].between(0, 1).all()
    # the result survives a rerun (session state), e.g. after moving another widget
    at.run()
    assert any("precision" in d.value.columns for d in at.dataframe)


def test_large_dataset_asks_before_computing(clean_app):
    ds, _ = load_demo("sms_spam")  # 5,574 rows: over the page's auto-compute limit
    at = clean_app(ds).run()
    assert_no_exception(at)
    assert any("5,574 rows" in t for t in texts(at.info))
    assert at.button(key="cl_compute").label == "Compute the signals"
    assert not texts(at.subheader)  # nothing computed, nothing drawn yet


def test_phone_region_is_a_setting_and_a_bad_one_is_a_clear_error(clean_app, tweets_slice):
    at = clean_app(tweets_slice, cl_phone_region="XX").run()
    assert_no_exception(at)
    assert any("unknown phone region 'XX'" in e.value for e in at.error)
    assert at.text_input(key="cl_phone_region").value == "XX"
