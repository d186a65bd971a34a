"""Class balance: known values, edge cases, and properties (order invariance, balanced -> 1)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dq_core.metrics.balance import (
    RARE_SHARE_OF_UNIFORM,
    compute_class_balance,
    compute_class_balance_from_counts,
)


def _labels(counts: dict[str, int]) -> list[str]:
    return [c for c, n in counts.items() for _ in range(n)]


def test_known_values_three_classes():
    r = compute_class_balance(_labels({"a": 6, "b": 3, "c": 1}))
    # 1 - [(0.6 - 1/3)^2 + (0.3 - 1/3)^2 + (0.1 - 1/3)^2] = 1 - 0.126667
    assert r.class_balance_index == pytest.approx(1 - (0.6 - 1 / 3) ** 2 - (0.3 - 1 / 3) ** 2 - (0.1 - 1 / 3) ** 2)
    assert r.class_balance_index == pytest.approx(0.873333, abs=1e-6)
    assert r.imbalance_ratio == pytest.approx(6.0)
    # H = -(0.6 ln 0.6 + 0.3 ln 0.3 + 0.1 ln 0.1) / ln 3
    assert r.normalized_entropy == pytest.approx(0.817345, abs=1e-6)
    assert r.class_counts == {"a": 6, "b": 3, "c": 1}
    assert list(r.class_counts) == ["a", "b", "c"]  # largest first
    assert r.class_shares == pytest.approx({"a": 0.6, "b": 0.3, "c": 0.1})
    assert (r.n_rows, r.n_labelled, r.n_missing_labels, r.n_classes) == (10, 10, 0, 3)
    assert r.rare_classes == ()


def test_known_values_two_classes():
    r = compute_class_balance(_labels({"ham": 3, "spam": 1}))
    assert r.class_balance_index == pytest.approx(1 - 2 * 0.25 ** 2)  # 0.875
    assert r.imbalance_ratio == pytest.approx(3.0)
    assert r.normalized_entropy == pytest.approx(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)) / math.log(2))


def test_balanced_is_one():
    r = compute_class_balance(_labels({"x": 5, "y": 5, "z": 5, "w": 5}))
    assert r.class_balance_index == 1.0
    assert r.imbalance_ratio == 1.0
    assert r.normalized_entropy == pytest.approx(1.0)


def test_one_class():
    r = compute_class_balance(["a"] * 7)
    assert (r.n_classes, r.class_balance_index, r.imbalance_ratio, r.normalized_entropy) == (1, 1.0, 1.0, 0.0)
    assert r.rare_classes == ()


def test_no_labels_gives_nan_not_a_crash():
    r = compute_class_balance([None, None])
    assert r.n_classes == 0 and r.n_missing_labels == 2 and r.class_counts == {}
    assert math.isnan(r.class_balance_index) and math.isnan(r.imbalance_ratio) and math.isnan(r.normalized_entropy)


def test_missing_labels_are_counted_not_classes():
    r = compute_class_balance(["a", "b", None, "a", np.nan])
    assert (r.n_rows, r.n_labelled, r.n_missing_labels) == (5, 3, 2)
    assert r.class_counts == {"a": 2, "b": 1}


def test_rare_class_flag_threshold():
    # uniform share 1/3; rare under 10% of it, i.e. a share under 1/30
    assert RARE_SHARE_OF_UNIFORM == 0.10
    r = compute_class_balance(_labels({"a": 100, "b": 100, "c": 6}))  # 6/206 = 0.0291 < 0.0333
    assert r.rare_classes == ("c",)
    r = compute_class_balance(_labels({"a": 100, "b": 100, "c": 7}))  # 7/207 = 0.0338 > 0.0333
    assert r.rare_classes == ()


def test_ties_are_ordered_by_name():
    assert list(compute_class_balance(["b", "a", "c", "b", "a"]).class_counts) == ["a", "b", "c"]


def test_from_counts_known_values_and_absent_classes():
    r = compute_class_balance_from_counts({"c": 1, "a": 6, "b": 3, "gone": 0}, n_missing=2)
    assert r.class_counts == {"a": 6, "b": 3, "c": 1}  # a zero count is an absent class
    assert (r.n_rows, r.n_labelled, r.n_missing_labels, r.n_classes) == (12, 10, 2, 3)
    assert r.class_balance_index == pytest.approx(0.873333, abs=1e-6)
    assert r.imbalance_ratio == 6.0
    empty = compute_class_balance_from_counts({"a": 0})
    assert empty.n_classes == 0 and math.isnan(empty.class_balance_index)


def test_to_dict_is_plain_json():
    import json

    d = compute_class_balance(_labels({"1": 2, "0": 1})).to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["class_counts"] == {"1": 2, "0": 1}


labels_strategy = st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=1, max_size=200)


@settings(max_examples=60, deadline=None)
@given(labels_strategy, st.randoms(use_true_random=False))
def test_order_invariance(labels, rnd):
    shuffled = list(labels)
    rnd.shuffle(shuffled)
    assert compute_class_balance(labels).to_dict() == compute_class_balance(shuffled).to_dict()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "d", "e", None]), min_size=1, max_size=200))
def test_from_counts_equals_from_labels(labels):
    counts = {c: labels.count(c) for c in ("a", "b", "c", "d", "e")}
    a = compute_class_balance_from_counts(counts, n_missing=labels.count(None)).to_dict()
    assert repr(a) == repr(compute_class_balance(labels).to_dict())  # repr: nan equals nan


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=12), st.integers(min_value=1, max_value=50))
def test_balanced_is_always_one(k, per_class):
    r = compute_class_balance([f"class{i}" for i in range(k) for _ in range(per_class)])
    assert r.class_balance_index == pytest.approx(1.0)
    assert r.imbalance_ratio == 1.0
    assert r.normalized_entropy == pytest.approx(1.0 if k > 1 else 0.0)
    assert r.rare_classes == ()


@settings(max_examples=60, deadline=None)
@given(labels_strategy)
def test_bounds(labels):
    r = compute_class_balance(labels)
    k = r.n_classes
    # the index is lowest when one class holds (almost) everything: never below 1/C
    assert 1 / k - 1e-12 <= r.class_balance_index <= 1.0 + 1e-12
    assert 0.0 <= r.normalized_entropy <= 1.0 + 1e-12
    assert r.imbalance_ratio >= 1.0
    assert sum(r.class_counts.values()) == len(labels)
    assert sum(r.class_shares.values()) == pytest.approx(1.0)


@settings(max_examples=40, deadline=None)
@given(labels_strategy, st.integers(min_value=2, max_value=5))
def test_scaling_counts_changes_nothing_but_counts(labels, factor):
    a = compute_class_balance(labels)
    b = compute_class_balance(labels * factor)
    assert b.class_balance_index == pytest.approx(a.class_balance_index)
    assert b.imbalance_ratio == pytest.approx(a.imbalance_ratio)
    assert b.normalized_entropy == pytest.approx(a.normalized_entropy)


def test_uniform_share_is_one_over_the_classes():
    assert compute_class_balance(["a", "b", "b", "c"]).uniform_share == 1 / 3
    assert math.isnan(compute_class_balance([None, None]).uniform_share)
