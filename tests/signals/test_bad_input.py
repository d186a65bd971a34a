"""Bad input: tiny classes, one class, all duplicates, a missing model, bad parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.errors import DataError
from dq_core.signals import SignalContext, compute_signals, get_signal, parse_signal_spec


def _emb(n, d=16, seed=0):
    v = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_classes_with_one_or_two_rows_do_not_crash_and_are_marked_unreliable(sms_slice):
    raw, emb = sms_slice
    lab = raw["label"].astype(object).copy()
    lab.iloc[0] = "typo_class"  # one row
    lab.iloc[[1, 2]] = "rare"  # two rows
    ds = build_dataset(raw.assign(label=lab), ColumnMapping("text", "label"))
    res = get_signal("label")(SignalContext(ds, embeddings=emb))
    assert set(res.summary["unreliable_classes"]) == {"typo_class", "rare"}
    assert "unreliable" in res.summary["note"]
    assert not res.is_issue[:3].any()
    assert all("label score unreliable" in r for r in res.reasons[:3])
    assert np.isfinite(res.scores).all()


def test_every_class_smaller_than_the_fold_count():
    raw = pd.DataFrame({"text": ["a one", "b two", "c three", "d four", "e five", "f six"],
                        "label": ["x", "x", "y", "y", "z", "w"]})
    ds = build_dataset(raw, ColumnMapping("text", "label"))
    res = get_signal("label")(SignalContext(ds, embeddings=_emb(6)))
    assert len(res.scores) == 6 and not res.is_issue.any()
    assert len(res.summary["unreliable_classes"]) == 4


def test_single_class_is_skipped_with_a_reason_and_refused_when_called_directly():
    raw = pd.DataFrame({"text": [f"text number {i}" for i in range(12)], "label": ["only"] * 12})
    ds = build_dataset(raw, ColumnMapping("text", "label"))
    rep = compute_signals(ds, [get_signal("label"), get_signal("junk")], embeddings=_emb(12))
    assert "label" in rep.skipped and "two classes" in rep.skipped["label"]
    assert "junk_score" in rep.frame.columns and "label_score" not in rep.frame.columns
    with pytest.raises(DataError, match="at least two classes"):
        get_signal("label")(SignalContext(ds, embeddings=_emb(12)))
    with pytest.raises(DataError, match="none of the chosen signals can run"):
        compute_signals(ds, [get_signal("label")], embeddings=_emb(12))


def test_all_duplicate_data():
    raw = pd.DataFrame({"text": ["same message"] * 20, "label": ["a", "b"] * 10})
    ds = build_dataset(raw, ColumnMapping("text", "label"))
    emb = np.repeat(_emb(1), 20, axis=0)
    rep = compute_signals(ds, embeddings=emb)
    f = rep.frame
    assert f["is_exact_duplicate_issue"].all() and f["is_near_duplicate_issue"].all()
    assert f["is_conflicting_label_issue"].all()
    assert not f["is_outlier_issue"].any()
    assert rep.summaries["exact_duplicate"]["n_groups"] == 1 and rep.summaries["exact_duplicate"]["n_redundant"] == 19
    assert f["label_score"].between(0, 1).all()


def test_missing_embedding_model_is_a_clear_error(tmp_path):
    raw = pd.DataFrame({"text": ["good", "bad", "fine", "awful"], "label": ["p", "n", "p", "n"]})
    ds = build_dataset(raw, ColumnMapping("text", "label"))
    with pytest.raises(DataError, match="does not exist"):
        compute_signals(ds, model=str(tmp_path / "no_such_model"))
    empty = tmp_path / "empty_model"
    empty.mkdir()
    with pytest.raises(DataError, match="not a sentence-transformers model folder"):
        compute_signals(ds, [get_signal("outlier")], model=str(empty))
    # text-only signals need no model at all
    rep = compute_signals(ds, [get_signal("junk"), get_signal("pii"), get_signal("exact_duplicate")],
                          embeddings=None, model=None)
    assert len(rep.frame) == 4


def test_bad_parameters_and_specs():
    with pytest.raises(DataError, match="unknown signal"):
        get_signal("nope")
    with pytest.raises(DataError, match="bad parameters"):
        get_signal("junk", colour="red")
    with pytest.raises(DataError, match="unknown label method"):
        get_signal("label", method="magic")
    sig = parse_signal_spec("label(method=cleanlab,k=20)")
    assert sig.key == "label(k=20,method=cleanlab)" and sig.k == 20
    with pytest.raises(DataError, match="name=value"):
        parse_signal_spec("label(cleanlab)")
    raw = pd.DataFrame({"text": ["x y", "z w"], "label": ["a", "b"]})
    ds = build_dataset(raw, ColumnMapping("text", "label"))
    with pytest.raises(DataError, match="embedding rows"):
        SignalContext(ds, embeddings=_emb(3))
    with pytest.raises(DataError, match="listed twice"):
        compute_signals(ds, [get_signal("junk"), get_signal("junk")])


def test_empty_texts_are_not_judged_by_the_embedding_signals(sms_slice):
    raw, emb = sms_slice
    raw = raw.copy()
    emb = emb.copy()
    raw.loc[:3, "text"] = ["", "   ", None, ""]
    emb[:4] = 0.0  # as embed.py leaves rows it could not embed
    ds = build_dataset(raw, ColumnMapping("text", "label"))
    ctx = SignalContext(ds, embeddings=emb)
    assert not ctx.valid[:4].any()
    for name in ("label", "outlier", "near_duplicate"):
        res = get_signal(name)(ctx)
        assert not res.is_issue[:4].any(), name
    assert (get_signal("label")(ctx).scores[:4] == 1.0).all()
    assert get_signal("junk")(ctx).is_issue[:4].all()
