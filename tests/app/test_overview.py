"""The Overview page in a real Streamlit AppTest: numbers, charts, rows to look at, one-class warning."""

from __future__ import annotations

import pandas as pd
import pytest
from dq_apptest import as_number, assert_no_exception, metric, plotly_figures, texts

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.data.io import load_demo
from dq_core.data.workspace import Workspace
from dq_core.metrics.profile import compute_profile, profile_rows


def row_tables(at) -> list[pd.DataFrame]:
    """The row viewers under "Rows to look at", in page order (st.dataframe has no key in AppTest)."""
    return [d.value for d in at.dataframe if "row_id" in d.value.columns]


def open_overview(new_app, ds, ref=None):
    """Store ``ds`` (and ``ref``) in the workspace and open the app on them through the URL."""
    ws = Workspace.default()
    qp = {"ds": ws.save_dataset(ds)}
    if ref is not None:
        qp["ref"] = ws.save_dataset(ref)
    at = new_app(qp).run()
    assert_no_exception(at)
    assert texts(at.title) == ["📊 Overview"]
    return at


def test_one_class_dataset_shows_a_warning_and_still_works(new_app):
    raw = pd.DataFrame({"text": ["good flight", "great crew", "good flight", "nice seats"],
                        "label": ["positive"] * 4})
    ds = build_dataset(raw, ColumnMapping("text", "label"), name="one class")
    at = open_overview(new_app, ds)
    assert "Only one class is present: balance figures and label checks need at least two classes." in texts(
        at.warning)
    assert any("only one class ('positive')" in c for c in texts(at.caption))
    # the rest of the page is still there and right
    assert as_number(metric(at, "Rows")) == 4
    assert as_number(metric(at, "Classes")) == 1
    assert as_number(metric(at, "Redundant exact copies")) == 1
    assert "Text length per class" in texts(at.subheader)


def test_demo_overview_rows_to_look_at(new_app):
    ds, _ = load_demo("sms_spam")
    p = compute_profile(ds)
    at = open_overview(new_app, ds)
    labels = [e.label for e in at.expander]
    dup_label = next(lab for lab in labels if lab.startswith("Redundant exact copies"))
    assert dup_label.endswith(f": {p.n_exact_duplicates:,}")
    # no empties, missing labels or conflicts in SMS spam: no expander offered for those
    assert (p.n_empty, p.balance.n_missing_labels, p.n_conflicting_duplicates) == (0, 0, 0)
    assert not any(lab.startswith(("Empty", "Missing", "Mixed-label exact copies")) for lab in labels)
    # the duplicate rows table lists every row in a duplicate group, text and label shown
    dup_rows = profile_rows(ds, "exact_duplicate")
    table = row_tables(at)[0]  # the only non-zero kind
    assert len(table) == len(dup_rows)
    # one definition per name: the rows in groups, the groups, and the redundant copies (the metric) agree
    groups = dup_rows["duplicate_group"].nunique()
    assert len(dup_rows) - groups == p.n_exact_duplicates
    assert (p.n_rows_in_duplicate_groups, p.n_duplicate_groups) == (len(dup_rows), groups) == (705, 290)
    # what Clean does with them is said with the figures Clean shows (its dedupe rule counts what it removes)
    assert (f"On Clean, the exact-duplicate signal flags the {len(dup_rows):,} rows in groups, and its dedupe rule "
            "removes the copies the recipe's other rules leave") in " ".join(texts(at.caption))
    assert (f"{len(dup_rows):,} rows in {groups:,} groups of identical texts: {p.n_exact_duplicates:,} are "
            "redundant copies") in " ".join(texts(at.caption))
    assert list(table.columns) == ["row_id", "duplicate_group", "text", "label"]
    assert f"{len(dup_rows):,} rows" in texts(at.caption)


def test_overview_with_reference_table_toggle_and_units(new_app):
    ds, ref = load_demo("tweets_airline")
    p, rp = compute_profile(ds), compute_profile(ref)
    at = open_overview(new_app, ds, ref)

    table = at.dataframe[0].value  # the class table comes first
    assert list(table.columns) == ["dataset rows", "dataset share", "reference rows", "reference share"]
    assert table["dataset rows"].to_dict() == p.balance.class_counts
    assert table["reference rows"].to_dict() == rp.balance.class_counts
    assert table["dataset share"].to_dict() == pytest.approx(p.balance.class_shares)

    # counts instead of shares
    at.toggle(key="ov_share").set_value(False).run()
    bars = plotly_figures(at)[0]["data"]
    assert bars[0]["y"] == [p.balance.class_counts[c] for c in bars[0]["x"]]

    # length statistics follow the unit
    words = p.words
    def show(v: float) -> str:  # whole numbers as integers, the rest with one decimal
        return f"{int(v):,}" if float(v).is_integer() else f"{v:.1f}"

    assert (f"Dataset words: min {show(words.min)} · median {show(words.median)} · mean {show(words.mean)} · "
            f"p95 {show(words.p95)} · max {show(words.max)}") in texts(at.caption)
    at.radio(key="ov_unit").set_value("chars").run()
    assert_no_exception(at)
    assert f"Dataset chars: min {show(p.chars.min)} · median {show(p.chars.median)}" in " ".join(texts(at.caption))
    hist = plotly_figures(at)[1]
    assert hist["layout"]["xaxis"]["title"]["text"] == "length (chars)"
    assert sorted({t["name"] for t in hist["data"]}) == ["negative", "neutral", "positive"]

    # conflicting duplicates: an expander whose table holds exactly the conflicting rows
    conflicting = profile_rows(ds, "conflicting_duplicate")
    assert len(conflicting) == p.n_conflicting_duplicates > 0
    exact, table = row_tables(at)  # in the page order: exact, then conflicting
    assert sorted(table["row_id"]) == sorted(conflicting["row_id"])
    assert (table.groupby("duplicate_group")["label"].nunique() > 1).all()
    assert len(exact) == len(profile_rows(ds, "exact_duplicate"))


def test_rare_class_is_flagged(new_app):
    raw = pd.DataFrame({"text": [f"text number {i}" for i in range(206)],
                        "label": ["a"] * 100 + ["b"] * 100 + ["c"] * 6})
    ds = build_dataset(raw, ColumnMapping("text", "label"), name="rare")
    at = open_overview(new_app, ds)
    assert "Class **c** holds 2.91% of the rows, under 10% of a uniform share (33.3%)." in texts(at.warning)


def test_missing_and_empty_rows(new_app):
    raw = pd.DataFrame({"text": ["fine", "  ", "", "ok then", "again"], "label": ["a", "b", None, "a", None]})
    ds = build_dataset(raw, ColumnMapping("text", "label"), name="gaps")
    at = open_overview(new_app, ds)
    assert as_number(metric(at, "Empty")) == 2
    assert as_number(metric(at, "Missing labels")) == 2
    empty, missing = row_tables(at)
    assert empty["row_id"].tolist() == [1, 2]
    assert missing["row_id"].tolist() == [2, 4]


def test_without_a_dataset_points_to_load(new_app, monkeypatch):
    # no default demo either (as when the demo package is missing): the page says where to go
    monkeypatch.setenv("DQ_DEFAULT_DEMO", "nope")
    at = new_app().run()
    assert_no_exception(at)
    assert texts(at.title) == ["📂 Load a dataset"]
    assert any("The bundled demo could not be opened" in w for w in texts(at.warning))


def test_class_table_keeps_the_reference_classes_when_the_label_sets_differ(new_app):
    def make(labels, word):
        frame = pd.DataFrame({"text": [f"{word} {i}" for i in range(len(labels))], "label": labels})
        return build_dataset(frame, ColumnMapping(text="text", label="label"), name=word)

    ds = make(["sport", "business", "sport", "tech"], "news")
    ref = make(["pos", "neg", "pos"], "review")
    at = open_overview(new_app, ds, ref)
    table = at.dataframe[0].value
    assert sorted(table.index) == ["business", "neg", "pos", "sport", "tech"]
    assert table.loc["pos", "reference rows"] == 2 and table.loc["pos", "dataset rows"] == 0
    assert table.loc["sport", "dataset rows"] == 2 and table.loc["sport", "reference rows"] == 0
    warnings = " ".join(w.value for w in at.warning)
    assert "**neg**, **pos** appear only in the reference" in warnings
    assert "**business**, **sport**, **tech** appear only in the dataset" in warnings
