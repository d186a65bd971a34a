"""How figures read: counts whole with separators, rates with their decimals, nouns that agree, sentences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dq_core.util.wording import counted, format_figure, format_number, is_count, sentence


@pytest.mark.parametrize("name", ["n_train", "n_test", "n_rows", "kept_rows", "support", "n", "row_count"])
def test_counts_are_told_by_name(name):
    assert is_count(name)


@pytest.mark.parametrize("name", ["accuracy", "macro_f1", "ece", "roc_auc_macro", "imbalance_ratio", "rows_share"])
def test_rates_are_not_counts(name):
    assert not is_count(name)


def test_a_count_held_as_a_float_reads_whole():
    assert format_figure("n_train", 3539.0) == "3,539"
    assert format_figure("n_train", 475.0, signed=True) == "+475"
    assert format_figure("n_test", -12.0, signed=True) == "-12"
    assert format_figure("n_test", 0.0, signed=True) == "+0"
    assert format_figure("support", np.float64(21.0)) == "21"


def test_rates_keep_their_decimals():
    assert format_figure("accuracy", 0.81234) == "0.8123"
    assert format_figure("accuracy", 1.0) == "1.0000"
    assert format_figure("macro_f1", 0.0123, signed=True) == "+0.0123"
    assert format_number(0.5) == "0.500" and format_number(2.0, 2) == "2.00"


def test_unnamed_numbers():
    assert format_number(np.int64(5)) == "5" and format_number(12_345) == "12,345"
    assert format_number(38158.0) == "38,158"  # a whole float of 1,000 or more is a count
    for missing in (None, float("nan"), np.nan, pd.NA):
        assert format_number(missing) == "n/a"
    assert format_number(float("inf")) == "∞" and format_number(float("-inf")) == "-∞"
    assert format_number("text") == "text"


def test_counted_agrees_with_its_number():
    assert counted(1, "scene") == "1 scene"
    assert counted(0, "scene") == "0 scenes"
    assert counted(5, "scene") == "5 scenes"
    assert counted(1204, "row") == "1,204 rows"
    assert counted(2, "class", "classes") == "2 classes"


def test_sentence_capitalises_and_stops():
    assert sentence("no candidate's gain has an interval above zero") == \
        "No candidate's gain has an interval above zero."
    assert sentence("macro-F1 is kept as written.") == "Macro-F1 is kept as written."
    assert sentence("  why?  ") == "Why?"
    assert sentence("") == ""
