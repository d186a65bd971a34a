"""A reference cut from the dataset's own rows (dq_core.data.reference): by column values or by split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.data.io import load_dataset, mapping_for
from dq_core.data.reference import (
    MISSING,
    column_values,
    reference_columns,
    split_by_split,
    split_by_values,
    split_names,
)
from dq_core.errors import DataError


def _ds(**extra):
    n = len(next(iter(extra.values()))) if extra else 6
    frame = pd.DataFrame({"body": [f"text {i}" for i in range(n)], "sentiment": ["pos", "neg"] * (n // 2),
                          "uid": [f"u{i}" for i in range(n)], **extra})
    mapping = ColumnMapping(text="body", label="sentiment", id="uid", split="part" if "part" in extra else None,
                            metadata=tuple(c for c in extra if c != "part"))
    return build_dataset(frame, mapping, name="reviews.csv")


def test_values_pick_the_reference_and_the_rest_stay_the_dataset():
    ds = _ds(lang=["en", "fr", "en", "de", "fr", "en"])
    cut = split_by_values(ds, "lang", ["fr", "de"])
    assert cut.reference.row_ids.tolist() == ["u1", "u3", "u4"]
    assert cut.dataset.row_ids.tolist() == ["u0", "u2", "u5"]
    assert cut.reference.name == "reviews.csv (lang=de, fr)"
    assert cut.dataset.name == "reviews.csv (not lang=de, fr)"
    assert cut.source is ds
    np.testing.assert_array_equal(cut.reference_mask, ~cut.dataset_mask)
    assert cut.reference.fingerprint == ds.subset(cut.reference_mask).fingerprint
    assert cut.dataset.fingerprint == ds.subset(cut.dataset_mask).fingerprint


def test_the_order_values_are_given_in_changes_nothing_and_long_lists_are_counted_in_the_name():
    ds = _ds(n=[str(i) for i in range(6)])
    a = split_by_values(ds, "n", ["3", "1", "2", "0", "1"])
    b = split_by_values(ds, "n", ["0", "1", "2", "3"])
    assert a.reference.name == b.reference.name == "reviews.csv (n=0, 1, 2 +1 more)"
    assert a.reference.fingerprint == b.reference.fingerprint


def test_the_source_files_label_and_split_names_reach_the_canonical_columns():
    ds = _ds(part=["train", "test"] * 3)
    by_source = split_by_values(ds, "sentiment", ["neg"])
    by_canonical = split_by_values(ds, "label", ["neg"])
    assert by_source.reference.fingerprint == by_canonical.reference.fingerprint
    assert by_source.reference.name == "reviews.csv (label=neg)"
    assert split_by_values(ds, "part", ["test"]).reference.name == "reviews.csv (split=test)"
    assert reference_columns(ds) == ["label", "split"]


def test_unicode_values():
    ds = _ds(lang=["日本語", "español", "日本語", "emoji 🙂", "español", "ελληνικά"])
    cut = split_by_values(ds, "lang", ["日本語", "emoji 🙂"])
    assert cut.reference.row_ids.tolist() == ["u0", "u2", "u3"]
    assert cut.reference.name == "reviews.csv (lang=emoji 🙂, 日本語)"
    with pytest.raises(DataError, match="no row has lang = 'espanol'; its values: .*'español' \\(2 rows\\)"):
        split_by_values(ds, "lang", ["espanol"])


def test_numbers_written_as_text_match_as_written():
    ds = _ds(code=["01", "1", "1.0", "01", "2", "1"])
    assert split_by_values(ds, "code", ["1"]).reference.row_ids.tolist() == ["u1", "u5"]
    assert split_by_values(ds, "code", ["01"]).reference.row_ids.tolist() == ["u0", "u3"]
    assert split_by_values(ds, "code", ["1.0"]).reference.row_ids.tolist() == ["u2"]


def test_a_column_of_floats_matches_its_values_as_shown():
    ds = _ds(score=[1.0, 2.5, 1.0, np.nan, 2.5, 2.5])
    assert column_values(ds, "score").to_dict() == {"2.5": 3, "1.0": 2, MISSING: 1}
    assert split_by_values(ds, "score", ["1.0"]).reference.row_ids.tolist() == ["u0", "u2"]
    with pytest.raises(DataError, match="no row has score = '1'; its values: '2.5' \\(3 rows\\), '1.0'"):
        split_by_values(ds, "score", ["1"])


def test_rows_without_a_value_are_chosen_as_missing():
    ds = _ds(src=["web", None, "app", np.nan, "web", pd.NA])
    assert column_values(ds, "src")[MISSING] == 3
    cut = split_by_values(ds, "src", [MISSING])
    assert cut.reference.row_ids.tolist() == ["u1", "u3", "u5"]
    assert cut.reference.name == "reviews.csv (src=(missing))"
    both = split_by_values(ds, "src", [MISSING, "app"])
    assert both.dataset.row_ids.tolist() == ["u0", "u4"]


@pytest.mark.parametrize(("column", "values", "words"), [
    ("lnag", ["en"], "column 'lnag' is not in the dataset; did you mean 'lang'?"),
    ("body", ["x"], "'body' is the text column"),
    ("text", ["x"], "'text' is the text column"),
    ("uid", ["u1"], "'uid' is the id column"),
    ("lang", [], "name at least one value of 'lang'"),
    ("lang", ["en", "xx", "yy"], "no row has lang = 'xx' / 'yy'"),
    ("lang", ["en", "fr"], "leaves one side empty"),
])
def test_bad_value_choices_say_what_to_do(column, values, words):
    ds = _ds(lang=["en", "fr", "en", "fr", "en", "fr"])
    with pytest.raises(DataError) as exc:
        split_by_values(ds, column, values)
    assert words in str(exc.value)


def test_another_split_is_the_reference_and_other_splits_are_left_out():
    ds = _ds(part=["train", "test", "train", "val", None, "test"])
    assert split_names(ds) == ["train", "test", "val"]
    cut = split_by_split(ds, "train", "test")
    assert cut.dataset.row_ids.tolist() == ["u0", "u2"]
    assert cut.reference.row_ids.tolist() == ["u1", "u5"]
    assert (cut.dataset.name, cut.reference.name) == ("reviews.csv [train]", "reviews.csv [test]")
    assert not (cut.dataset_mask & cut.reference_mask).any()
    assert cut.reference.fingerprint == ds.subset(cut.reference_mask).fingerprint


@pytest.mark.parametrize(("splits", "words"), [
    (("train", "train"), "pick two different splits (both are 'train')"),
    (("train", "tset"), "no row is in split 'tset'; the splits: 'train' (3 rows), 'test' (3 rows)"),
])
def test_bad_split_choices_say_what_to_do(splits, words):
    ds = _ds(part=["train", "test"] * 3)
    with pytest.raises(DataError) as exc:
        split_by_split(ds, *splits)
    assert words in str(exc.value)


def test_no_split_column_says_how_to_map_one():
    with pytest.raises(DataError, match="no split column; map one .*--split-col NAME"):
        split_by_split(_ds(lang=["en"] * 6), "a", "b")
    assert split_names(_ds(lang=["en"] * 6)) == []


def test_take_makes_each_side():
    ds = _ds(lang=["en", "fr"] * 3)
    calls = []

    def take(d, mask, *, name):
        calls.append((int(mask.sum()), name))
        return d.subset(mask, name=name)

    split_by_values(ds, "lang", ["fr"], take=take)
    assert calls == [(3, "reviews.csv (not lang=fr)"), (3, "reviews.csv (lang=fr)")]


def test_split_col_maps_a_column_not_named_like_a_split(tmp_path):
    path = tmp_path / "folds.csv"
    pd.DataFrame({"text": list("abcdef"), "label": ["x", "y"] * 3, "fold": ["a", "a", "b", "b", "c", "c"],
                  "confidence": [0.5] * 6}).to_csv(path, index=False)
    ds, _ = load_dataset(str(path), split_col="fold")
    assert ds.has_split and "fold" not in ds.frame.columns
    assert split_by_split(ds, "a", "c").reference.row_ids.tolist() == [4, 5]
    frame = pd.read_csv(path)
    m = mapping_for(frame, text_col=None, label_col=None, split_col="confidence")
    assert (m.split, m.agreement) == ("confidence", None)  # the guessed agreement yields to the user's split
    for col, words in (("fodl", "split column 'fodl' is not in the file; did you mean 'fold'?"),
                       ("text", "--split-col 'text' is already the text, label, id or agreement column")):
        with pytest.raises(DataError, match=words):
            mapping_for(frame, text_col=None, label_col=None, split_col=col)
    with pytest.raises(DataError, match="--split-col 'confidence' is already"):
        mapping_for(frame, text_col=None, label_col=None, agreement_col="confidence", split_col="confidence")
