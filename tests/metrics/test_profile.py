"""Dataset profile on hand-built data: empties, exact and conflicting duplicates, lengths, splits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.metrics.profile import (
    LengthStats,
    compute_profile,
    find_exact_duplicates,
    length_frame,
    profile_rows,
)

ROWS = [
    # text,                 label, split
    ("Hello world", "pos", "train"),    # 0  group A
    ("hello   WORLD ", "pos", "train"),  # 1  group A (same after case/space normalisation), same label
    ("Flight delayed", "neg", "train"),  # 2  group B
    ("flight delayed", "pos", "test"),   # 3  group B: conflicting label
    ("FLIGHT  delayed", "neg", "test"),  # 4  group B
    ("unique one", "neg", "test"),       # 5
    ("", "pos", "train"),                # 6  empty
    ("   ", "neg", "train"),             # 7  whitespace-only (not a duplicate of row 6)
    ("lost bag", None, "test"),          # 8  group C: missing label ...
    ("Lost bag", "neg", "test"),         # 9  ... beside a labelled copy: not a conflict
]


@pytest.fixture
def ds():
    raw = pd.DataFrame(ROWS, columns=["text", "label", "split"])
    return build_dataset(raw, ColumnMapping("text", "label", split="split"))


def test_exact_and_conflicting_duplicates(ds):
    d = find_exact_duplicates(ds.texts, ds.labels)
    # groups: A (2 rows), B (3 rows), C (2 rows) -> 7 rows in groups, 4 beyond the first of each
    assert d.n_rows_in_groups == 7
    assert d.n_exact_duplicates == 4
    assert d.n_conflicting_duplicates == 3  # all of group B
    assert d.conflicting_group.tolist() == [False, False, True, True, True, False, False, False, False, False]
    g = d.group_of_row
    assert g[0] == g[1] >= 0 and g[2] == g[3] == g[4] >= 0 and g[8] == g[9] >= 0
    assert len({g[0], g[2], g[8]}) == 3
    assert g[5] == g[6] == g[7] == -1  # unique and empty texts are in no group


def test_profile_counts(ds):
    p = compute_profile(ds)
    assert p.n_empty == 2
    assert p.n_exact_duplicates == 4
    assert p.n_conflicting_duplicates == 3
    assert p.balance.class_counts == {"neg": 5, "pos": 4}
    assert p.balance.n_missing_labels == 1
    assert p.split_sizes == {"train": 5, "test": 5}


def test_profile_lengths(ds):
    p = compute_profile(ds)
    words = np.array([2, 2, 2, 2, 2, 2, 0, 0, 2, 2])
    chars = np.array([len(t) for t, _, _ in ROWS])
    assert p.words.to_dict() == pytest.approx({"min": 0, "median": 2, "mean": words.mean(),
                                               "p95": np.percentile(words, 95), "max": 2})
    assert p.chars.min == 0 and p.chars.max == 15 and p.chars.mean == pytest.approx(chars.mean())


def test_length_stats_known_values():
    s = LengthStats.of(np.arange(1, 101))
    assert (s.min, s.median, s.mean, s.max) == (1, 50.5, 50.5, 100)
    assert s.p95 == pytest.approx(95.05)
    assert all(np.isnan(v) for v in LengthStats.of(np.array([])).to_dict().values())


def test_profile_rows(ds):
    assert profile_rows(ds, "empty")["row_id"].tolist() == [6, 7]
    assert profile_rows(ds, "missing_label")["row_id"].tolist() == [8]
    dup = profile_rows(ds, "exact_duplicate")
    assert sorted(dup["row_id"]) == [0, 1, 2, 3, 4, 8, 9]
    # rows of one group sit together
    assert all(dup["duplicate_group"].iloc[i] <= dup["duplicate_group"].iloc[i + 1] for i in range(len(dup) - 1))
    assert profile_rows(ds, "conflicting_duplicate")["row_id"].tolist() == [2, 3, 4]
    with pytest.raises(ValueError):
        profile_rows(ds, "nope")


def test_profile_to_dict_keys(ds):
    d = compute_profile(ds).to_dict()
    for k in ("n_rows", "n_classes", "class_counts", "class_balance_index", "imbalance_ratio",
              "normalized_entropy", "n_empty", "n_exact_duplicates", "n_conflicting_duplicates", "text_length"):
        assert k in d
    assert set(d["text_length"]) == {"chars", "words"}
    assert set(d["text_length"]["words"]) == {"min", "median", "mean", "p95", "max"}
    assert d["n_rows"] == 10 and d["n_classes"] == 2


def test_profile_is_row_order_invariant(ds):
    perm = np.random.default_rng(0).permutation(len(ds))
    raw = pd.DataFrame(ROWS, columns=["text", "label", "split"]).iloc[perm].reset_index(drop=True)
    shuffled = build_dataset(raw, ColumnMapping("text", "label", split="split"))
    a, b = compute_profile(ds).to_dict(), compute_profile(shuffled).to_dict()
    assert a == b


def test_no_duplicates():
    ds = build_dataset(pd.DataFrame({"text": ["a", "b", "c"], "label": ["x", "y", "x"]}),
                       ColumnMapping("text", "label"))
    p = compute_profile(ds)
    assert (p.n_exact_duplicates, p.n_conflicting_duplicates, p.n_empty) == (0, 0, 0)
    assert p.split_sizes == {}
    assert profile_rows(ds, "exact_duplicate").empty


def test_length_frame(ds):
    lf = length_frame(ds, "words")
    assert lf["length"].tolist() == [2, 2, 2, 2, 2, 2, 0, 0, 2, 2]
    assert lf["label"].iloc[8] == "(missing)"
    assert length_frame(ds, "chars")["length"].iloc[1] == len("hello   WORLD ")


def test_normalisation_matches_python_split_semantics():
    from dq_core.util.text import char_counts, normalize_for_duplicates, word_counts

    texts = pd.Series(["Hello  World ", "hello\u00a0world", "a\tb\nc", "   ", None, "x\u2003\u2003y", "caf\u00e9"],
                      dtype="string")
    expected = [" ".join(("" if t is pd.NA else t).lower().split()) for t in texts]
    assert normalize_for_duplicates(texts).tolist() == expected
    assert word_counts(texts).tolist() == [len(("" if t is pd.NA else t).split()) for t in texts]
    assert char_counts(texts).tolist() == [13, 11, 5, 3, 0, 4, 4]
