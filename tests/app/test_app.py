"""The dashboard's entry script in a real Streamlit AppTest: opens on the tweets demo, and the URL brings
a user back."""

from __future__ import annotations

import pytest
from dq_apptest import as_number, assert_no_exception, metric, plotly_figures, texts

from dq_core.data.io import load_demo
from dq_core.data.workspace import Workspace
from dq_core.metrics.profile import compute_profile


@pytest.fixture(scope="module")
def airline_demo():
    ds, ref = load_demo("tweets_airline")
    return ds, ref, compute_profile(ds), compute_profile(ref)


def test_opens_on_the_tweets_demo_with_the_overview_filled_in(new_app, airline_demo):
    ds, ref, p, rp = airline_demo
    at = new_app().run()
    assert_no_exception(at)
    assert texts(at.title) == ["📊 Overview"]
    assert f"**{ds.name}** — {len(ds):,} rows" in at.caption[0].value
    assert f"reference **{ref.name}** — {len(ref):,} rows" in at.caption[0].value

    # dataset (first) and reference (second) metric cards: the numbers compute_profile gives
    for nth, prof in ((0, p), (1, rp)):
        b = prof.balance
        assert as_number(metric(at, "Rows", nth)) == b.n_rows
        assert as_number(metric(at, "Classes", nth)) == b.n_classes
        assert as_number(metric(at, "Balance index", nth)) == pytest.approx(b.class_balance_index, abs=5e-4)
        assert as_number(metric(at, "Imbalance", nth)) == pytest.approx(b.imbalance_ratio, abs=5e-3)
    assert as_number(metric(at, "Redundant exact copies")) == p.n_exact_duplicates
    assert as_number(metric(at, "Mixed-label exact copies")) == p.n_conflicting_duplicates
    assert as_number(metric(at, "Empty")) == p.n_empty
    assert as_number(metric(at, "Missing labels")) == p.balance.n_missing_labels
    assert f"Normalised label entropy **{p.balance.normalized_entropy:.3f}** (1 = uniform)" in texts(at.caption)

    # the class-balance chart carries the same shares, dataset beside reference
    bars = plotly_figures(at)[0]["data"]
    assert [t["name"] for t in bars] == ["dataset", "reference"]
    assert bars[0]["x"] == list(p.balance.class_counts)
    assert bars[0]["y"] == pytest.approx(list(p.balance.class_shares.values()))
    assert bars[1]["y"] == pytest.approx([rp.balance.class_shares[c] for c in bars[1]["x"]])

    # the sidebar names the active dataset and reference
    side = texts(at.sidebar.markdown)
    assert side[0] == f"**Dataset**  \n{ds.name}  \n{len(ds):,} rows · 3 classes"
    assert side[1] == f"**Reference**  \n{ref.name}  \n{len(ref):,} rows"


def test_query_string_holds_the_ids_and_a_new_session_lands_on_the_same_data(new_app, airline_demo):
    ds, ref, p, _ = airline_demo
    first = new_app().run()
    qp = dict(first.query_params)
    assert qp == {"ds": ds.fingerprint[:16], "ref": ref.fingerprint[:16]}

    # a browser reload is a new session with the same URL
    again = new_app(qp).run()
    assert_no_exception(again)
    assert dict(again.query_params) == qp
    assert "_dq_default_tried" not in again.session_state  # it came from the URL, not the default
    assert texts(again.title) == ["📊 Overview"]
    assert as_number(metric(again, "Rows")) == len(ds)
    assert as_number(metric(again, "Rows", 1)) == len(ref)
    assert as_number(metric(again, "Balance index")) == pytest.approx(p.balance.class_balance_index, abs=5e-4)


def test_url_of_another_stored_dataset_survives_a_server_restart(new_app):
    import streamlit as st

    sms, _ = load_demo("sms_spam")
    sms_id = Workspace.default().save_dataset(sms)
    # a restart loses every in-memory cache; only the workspace on disk remains
    st.cache_data.clear()
    st.cache_resource.clear()
    at = new_app({"ds": sms_id}).run()
    assert_no_exception(at)
    assert dict(at.query_params) == {"ds": sms_id}
    assert as_number(metric(at, "Rows")) == 5574
    assert len([m for m in at.metric if m.label == "Rows"]) == 1  # no reference in this URL
    assert texts(at.sidebar.markdown)[0].startswith("**Dataset**  \ndemo:sms_spam")
    assert "No reference set (choose one on Load)." in texts(at.sidebar.caption)


def test_a_stale_url_says_so_and_opens_the_demo(new_app, airline_demo):
    ds, ref, _, _ = airline_demo
    at = new_app({"ds": "0123456789abcdef"}).run()
    assert_no_exception(at)
    warnings = " ".join(texts(at.sidebar.warning))
    assert "could not be opened" in warnings and "0123456789abcdef" in warnings and "demo" in warnings
    # not an empty page: the bundled demo, and the URL now names it
    assert as_number(metric(at, "Rows")) == len(ds)
    assert dict(at.query_params) == {"ds": ds.fingerprint[:16], "ref": ref.fingerprint[:16]}


def test_the_checkout_entry_runs_the_same_app_and_its_page_links(airline_demo):
    """`streamlit run app.py` (the root's thin entry): the same navigation, and a page path given as
    dq_app's (absolute) path switches pages, since the pages are not beside the root's script."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from dq_app.ui import navigation

    root_entry = Path(__file__).resolve().parents[2] / "app.py"
    at = AppTest.from_file(str(root_entry), default_timeout=120).run()
    assert_no_exception(at)
    assert texts(at.title) == ["📊 Overview"]
    at.switch_page(navigation.page("load")).run()
    assert_no_exception(at)
    assert texts(at.title)[0] == "📂 Load a dataset"
