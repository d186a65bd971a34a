"""TextDataset: column guessing, validation, label categories, fingerprints and the workspace round trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dq_core.data.dataset import ColumnMapping, build_dataset, content_fingerprint, guess_mapping
from dq_core.data.workspace import Workspace, config_key
from dq_core.errors import DataError

# --------------------------------------------------------------------------- guess_mapping


def test_guess_canonical_names():
    f = pd.DataFrame({"id": [10, 11, 12, 13], "text": ["a b", "c d", "e f", "g h"], "label": ["x", "y", "x", "y"],
                      "split": ["train", "train", "test", "test"], "source": ["web"] * 4})
    g = guess_mapping(f).mapping
    assert (g.text, g.label, g.id, g.split) == ("text", "label", "id", "split")
    assert g.metadata == ("source",)


def test_guess_tweets_shape_keeps_confidence_as_agreement():
    f = pd.DataFrame({"sentiment": ["negative", "positive", "neutral"], "confidence": [0.75, 1.0, 0.5],
                      "tweet": ["@united lost my bag", "love @jetblue", "boarding now"]})
    guess = guess_mapping(f)
    g = guess.mapping
    assert (g.text, g.label, g.agreement) == ("tweet", "sentiment", "confidence")
    assert "confidence" in g.metadata
    assert "text column guessed as 'tweet' (by name)" in guess.reasons
    assert "'confidence' kept as the per-row agreement hint" in guess.reasons


def test_guess_by_content_when_names_say_nothing():
    rng = np.random.default_rng(0)
    n = 40
    f = pd.DataFrame({
        "col_a": rng.choice(["spam", "ham"], n),
        "col_b": [f"this is a fairly long message number {i} about nothing much" for i in range(n)],
        "col_c": [f"k{i}" for i in range(n)],
    })
    guess = guess_mapping(f)
    assert (guess.mapping.text, guess.mapping.label) == ("col_b", "col_a")
    assert "text column guessed as 'col_b' (longest strings)" in guess.reasons
    assert "label column guessed as 'col_a' (2 distinct values)" in guess.reasons


def test_guess_does_not_take_numeric_strings_or_role_names_as_text():
    # A CSV is read as strings: an id column of digits and a label column are not the text.
    f = pd.DataFrame({"id": ["1", "2", "3", "4"], "label": ["positive", "negative", "neutral", "positive"]})
    guess = guess_mapping(f)
    assert guess.mapping is None
    assert guess.reasons == ("no column holds text; map the text column by hand",)


def test_guess_no_label():
    f = pd.DataFrame({"text": [f"unique text {i}" for i in range(6)], "score": list(range(6))})
    guess = guess_mapping(f)
    assert guess.mapping is None
    assert guess.reasons[-1] == "no column looks like a label; map the label column by hand"


def test_guess_keeps_a_fixed_label_and_guesses_the_text():
    f = pd.DataFrame({"text": ["a b", "c d", "e f"], "lable": ["x", "y", "z"]})
    assert guess_mapping(f).mapping is None  # three classes in three rows: no label guess
    g = guess_mapping(f, label="lable").mapping
    assert (g.text, g.label) == ("text", "lable")


def test_guess_skips_nested_columns():
    f = pd.DataFrame({"body": ["good one", "bad one", "fine", "meh", "ok then", "no way"],
                      "tokens": [np.array(w.split()) for w in ["good one", "bad one", "fine", "meh", "ok", "no"]],
                      "cls": ["a", "b", "a", "b", "a", "b"]})
    g = guess_mapping(f).mapping
    assert (g.text, g.label) == ("body", "cls")
    assert g.metadata == ("tokens",)


def test_guess_drops_non_unique_id_and_high_cardinality_split():
    f = pd.DataFrame({"text": [f"t{i} words" for i in range(30)], "label": ["a", "b"] * 15,
                      "id": [1, 1] + list(range(2, 30)), "split": [f"s{i}" for i in range(30)]})
    g = guess_mapping(f).mapping
    assert g.id is None and g.split is None
    assert set(g.metadata) == {"id", "split"}


# --------------------------------------------------------------------------- build_dataset

def _frame(**cols):
    return pd.DataFrame(cols)


def test_numeric_labels_are_categories():
    ds = build_dataset(_frame(text=["a", "b", "c", "d"], label=[1.0, 2.0, np.nan, 1.0]),
                       ColumnMapping(text="text", label="label"))
    assert ds.labels.tolist()[:2] == ["1", "2"] and pd.isna(ds.labels.iloc[2])
    assert ds.classes == ["1", "2"]
    assert ds.notes == ("1 rows have no label",)


def test_int_and_bool_labels():
    ds = build_dataset(_frame(text=["a", "b"], label=[0, 1]), ColumnMapping(text="text", label="label"))
    assert ds.labels.tolist() == ["0", "1"]
    ds = build_dataset(_frame(text=["a", "b"], label=[True, False]), ColumnMapping(text="text", label="label"))
    assert ds.classes == ["False", "True"]


def test_whitespace_labels_are_missing_and_labels_are_stripped():
    ds = build_dataset(_frame(text=["a", "b", "c"], label=[" pos ", "   ", "neg"]),
                       ColumnMapping(text="text", label="label"))
    assert ds.labels.tolist()[0] == "pos" and pd.isna(ds.labels.iloc[1])


def test_missing_text_is_the_empty_text_never_none():
    """A missing text is read as '' (not 'None' or 'nan'), with a note: a CSV cannot tell an empty field
    from a missing one, so one rule keeps every export reading back the same (issue 22)."""
    ds = build_dataset(_frame(text=["a", None, 3], label=["x", "y", "x"]), ColumnMapping(text="text", label="label"))
    assert ds.texts.tolist() == ["a", "", "3"]
    assert ds.notes == ("1 rows have no text (an empty or missing value): read as the empty text ''",)


@pytest.mark.parametrize(("frame", "mapping", "words"), [
    (_frame(text=[], label=[]), ColumnMapping("text", "label"), ("header but no data rows",)),
    (pd.DataFrame(), ColumnMapping("text", "label"), ("no columns",)),
    (_frame(text=["a"], label=["x"]), ColumnMapping("txt", "label"), ("text column 'txt'", "did you mean 'text'")),
    (_frame(text=["a"], label=["x"]), ColumnMapping("text", "labels"),
     ("label column 'labels'", "did you mean 'label'")),
    (_frame(text=["a"], label=["x"]), ColumnMapping("text", "text"), ("both text and label",)),
    (_frame(text=["a"], label=[None]), ColumnMapping("text", "label"), ("every value in label column",)),
    (_frame(text=["a"], label=["x"]), ColumnMapping("text", ""), ("no label column is mapped",)),
    (_frame(text=["a", "b"], label=["x", "y"], id=[1, 1]), ColumnMapping("text", "label", id="id"),
     ("id column 'id' is not unique", "'1' repeats")),
    (_frame(text=["a", "b"], label=["x", "y"], id=[1, None]), ColumnMapping("text", "label", id="id"),
     ("id column 'id' has missing values",)),
    (_frame(text=[["a"], ["b"]], label=["x", "y"]), ColumnMapping("text", "label"), ("nested values",)),
    (_frame(text=[b"a", b"b"], label=["x", "y"]), ColumnMapping("text", "label"), ("binary values",)),
])
def test_build_dataset_errors(frame, mapping, words):
    with pytest.raises(DataError) as exc:
        build_dataset(frame, mapping)
    for w in words:
        assert w in str(exc.value)


def test_unlabelled_reference_is_allowed_without_labels():
    ds = build_dataset(_frame(text=["a", "b"]), ColumnMapping(text="text", label=""), require_labels=False)
    assert ds.labels.isna().all()
    assert ds.classes == []


def test_one_class_is_a_note_not_an_error():
    ds = build_dataset(_frame(text=["a", "b"], label=["x", "x"]), ColumnMapping("text", "label"))
    assert ds.notes == ("only one class ('x') is present: balance and label checks need at least two",)


def test_id_column_gives_row_ids_and_metadata_named_like_a_role_is_kept_apart():
    ds = build_dataset(_frame(text=["a", "b"], label=["x", "y"], uid=["u1", "u2"], row_id=[5, 6]),
                       ColumnMapping("text", "label", id="uid", metadata=("row_id",)))
    assert ds.row_ids.tolist() == ["u1", "u2"]
    assert ds.frame["meta_row_id"].tolist() == [5, 6]


def test_split_column():
    ds = build_dataset(_frame(text=["a", "b", "c"], label=["x", "y", "x"], part=["train", "test", None]),
                       ColumnMapping("text", "label", split="part"))
    assert ds.has_split
    assert ds.frame["split"].tolist()[:2] == ["train", "test"] and pd.isna(ds.frame["split"].iloc[2])


def test_raw_frame_is_not_modified():
    raw = _frame(text=[" a ", "b"], label=[1, 2])
    before = raw.copy()
    build_dataset(raw, ColumnMapping("text", "label"))
    pd.testing.assert_frame_equal(raw, before)


# --------------------------------------------------------------------------- fingerprint, subset, relabel

def test_fingerprint_is_stable_and_content_sensitive():
    f = _frame(text=["a", "b", "c"], label=["x", "y", "x"])
    a = build_dataset(f, ColumnMapping("text", "label"))
    b = build_dataset(f.copy(), ColumnMapping("text", "label"), name="other name")
    assert a.fingerprint == b.fingerprint == content_fingerprint(a.frame)
    c = build_dataset(_frame(text=["a", "b", "c"], label=["x", "y", "y"]), ColumnMapping("text", "label"))
    assert c.fingerprint != a.fingerprint
    d = build_dataset(_frame(text=["b", "a", "c"], label=["y", "x", "x"]), ColumnMapping("text", "label"))
    assert d.fingerprint != a.fingerprint  # row order is content: row_ids are positions


def test_subset_keeps_row_ids_and_refingerprints():
    ds = build_dataset(_frame(text=["a", "b", "c", "d"], label=["x", "y", "x", "y"]), ColumnMapping("text", "label"))
    sub = ds.subset(np.array([False, True, False, True]), name="odd")
    assert sub.row_ids.tolist() == [1, 3]
    assert sub.name == "odd" and len(ds) == 4
    assert sub.fingerprint == content_fingerprint(sub.frame) != ds.fingerprint


def test_with_labels_returns_a_new_dataset():
    ds = build_dataset(_frame(text=["a", "b"], label=["x", "y"]), ColumnMapping("text", "label"))
    new = ds.with_labels(["y", "y"])
    assert new.labels.tolist() == ["y", "y"] and ds.labels.tolist() == ["x", "y"]
    assert new.fingerprint != ds.fingerprint


# --------------------------------------------------------------------------- workspace

def _rich_dataset():
    raw = pd.DataFrame({"text": ["Hello world", "hello  WORLD", "", "bye", None],
                        "label": [1, 2, 1, None, 2], "part": ["train", "train", "test", "test", "test"],
                        "confidence": [0.5, 1.0, np.nan, 0.7, 0.9], "source": ["a", "b", "c", "d", "e"]})
    return build_dataset(raw, ColumnMapping("text", "label", split="part", metadata=("confidence", "source"),
                                            agreement="confidence"), name="rich", source="rich.csv")


def test_workspace_round_trip_keeps_the_fingerprint(dq_env):
    ws = Workspace.default()
    assert ws.root == dq_env.home.resolve()
    ds = _rich_dataset()
    ds_id = ws.save_dataset(ds)
    assert ds_id == ds.fingerprint[:16]
    assert (dq_env.home / "datasets" / ds_id / "data.parquet").exists()
    back = ws.load_dataset(ds_id)
    assert back.fingerprint == ds.fingerprint
    assert content_fingerprint(back.frame) == ds.fingerprint  # the stored content really is the same
    assert back.mapping == ds.mapping
    assert (back.name, back.source, back.notes) == (ds.name, ds.source, ds.notes)
    pd.testing.assert_series_equal(back.texts, ds.texts)
    pd.testing.assert_series_equal(back.labels, ds.labels)
    assert back.frame["confidence"].tolist()[:2] == [0.5, 1.0]


def test_workspace_save_is_idempotent_and_listed(dq_env):
    ws = Workspace.default()
    ds = _rich_dataset()
    assert ws.save_dataset(ds) == ws.save_dataset(ds)
    items = ws.list_datasets()
    assert [m["name"] for m in items] == ["rich"]
    assert items[0]["n_rows"] == 5 and items[0]["fingerprint"] == ds.fingerprint


@pytest.mark.parametrize("bad_id", ["../etc", "a/b", ""])
def test_workspace_rejects_path_like_ids(bad_id):
    with pytest.raises(DataError) as exc:
        Workspace.default().load_dataset(bad_id)
    assert "not a valid workspace id" in str(exc.value)


def test_workspace_missing_id():
    with pytest.raises(DataError) as exc:
        Workspace.default().load_dataset("0123456789abcdef")
    assert "is not in the workspace" in str(exc.value) and "load it again" in str(exc.value)


def test_workspace_caches_round_trip():
    ws = Workspace.default()
    key = config_key("fp", {"k": 5})
    assert key == config_key("fp", {"k": 5}) != config_key("fp", {"k": 6})
    assert ws.load_array("emb", key) is None
    ws.save_array("emb", key, np.arange(6, dtype=np.float32).reshape(2, 3))
    assert ws.load_array("emb", key).tolist() == [[0, 1, 2], [3, 4, 5]]
    ws.save_json("j", key, {"a": np.int64(3), "b": np.float32(0.5)})
    assert ws.load_json("j", key) == {"a": 3, "b": 0.5}
    ws.save_frame("f", key, pd.DataFrame({"x": [1, 2]}))
    assert ws.load_frame("f", key)["x"].tolist() == [1, 2]
    ws.cache_path("emb", key, ".npy").write_bytes(b"corrupt")
    assert ws.load_array("emb", key) is None  # a corrupt entry is a miss
