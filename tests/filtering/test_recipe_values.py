"""Issue 22: a recipe's numeric values are JSON numbers in their range, refused when the recipe is read.

``signal_settings.seed`` of -5 or 10**30 reached numpy's seeding inside the label signal (a traceback);
``"threshold": true`` was taken as 1.0 (a JSON boolean is not a number); a signal key's parameter past 64 bits
(``outlier(k=10**23)``) failed in np.isfinite with a message about ufuncs.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from dq_core.errors import DataError
from dq_core.filtering.recipe import FilterRecipe
from dq_core.util.seeds import SEED_MAX
from tests.cli_helpers import dq, error_line

LABEL = {"signal": "label"}


def _settings(seed) -> dict:
    return {"signals": [LABEL], "signal_settings": {"signals": ["label"], "seed": seed}}


@pytest.mark.parametrize("seed", [-5, 10**30, SEED_MAX + 1, 1.5, "3", None, True])
def test_signal_settings_seed_out_of_range_or_not_whole_is_refused(seed):
    with pytest.raises(DataError, match=r"signal_settings\.seed must be a whole number from 0 to 4294967295"):
        FilterRecipe.from_dict(_settings(seed))


@pytest.mark.parametrize("seed", [0, 7, SEED_MAX])
def test_signal_settings_seed_in_range_is_kept(seed):
    assert FilterRecipe.from_dict(_settings(seed)).signal_settings["seed"] == seed


# Every numeric field of a recipe, with a JSON boolean where the number goes.
BOOL_IN_NUMBER = [
    ("threshold", {"signals": [{"signal": "label", "threshold": True}]}),
    ("threshold", {"signals": [{"signal": "label", "threshold": False}]}),
    ("min_prob", {"signals": [{"signal": "label", "action": "relabel", "min_prob": True}]}),
    ("max_rows", {"classes": [{"label": "a", "action": "cap", "max_rows": True}]}),
    ("seed", {"classes": [{"label": "a", "action": "cap", "max_rows": 5, "seed": True}]}),
    ("signal_settings.seed", {"signal_settings": {"signals": ["label"], "seed": True}}),
    ("version", {"version": True}),
    ("threshold", {"signals": [{"signal": "label", "threshold": 0.5}],
                   "signal_settings": {"signals": ["near_duplicate(threshold=true)"], "seed": 0}}),
]


@pytest.mark.parametrize("field, recipe", BOOL_IN_NUMBER, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BOOL_IN_NUMBER)])
def test_a_json_boolean_is_not_a_number_in_any_recipe_field(field, recipe):
    """``"threshold": true`` was taken as 1.0; every numeric field refuses a boolean."""
    with pytest.raises(DataError) as exc:
        FilterRecipe.from_dict(recipe)
    msg = str(exc.value)
    assert field.split(".")[-1] in msg and ("True" in msg or "False" in msg), msg


def test_a_number_written_as_text_is_refused():
    with pytest.raises(DataError, match="threshold of signal 'label' must be a number"):
        FilterRecipe.from_dict({"signals": [{"signal": "label", "threshold": "0.5"}]})


@pytest.mark.parametrize("seed", [-5, 10**30])
def test_class_rule_seed_takes_the_same_range(seed):
    with pytest.raises(DataError, match="seed of the rule for class 'a' must be a whole number from 0 to"):
        FilterRecipe.from_dict({"classes": [{"label": "a", "action": "cap", "max_rows": 5, "seed": seed}]})


def test_signal_key_with_a_huge_parameter_is_refused_when_read():
    with pytest.raises(DataError, match=r"signal_settings\.signals 'outlier\(k=1000.*out of range.*\[1, 1000\]"):
        FilterRecipe.from_dict({"signal_settings": {"signals": [f"outlier(k={10**23})"], "seed": 0}})


@pytest.mark.parametrize("seed", [-5, 10**30])
def test_dq_filter_refuses_the_seed_before_reading_data(tmp_path, seed):
    """On the command line: exit 2, one error line, nothing written (it was a traceback after the data loaded)."""
    pd.DataFrame({"text": [f"t{i}" for i in range(10)], "label": ["a", "b"] * 5}).to_csv(tmp_path / "d.csv",
                                                                                       index=False)
    (tmp_path / "r.json").write_text(json.dumps(_settings(seed)), encoding="utf-8")
    line = error_line(dq("filter", tmp_path / "d.csv", "--recipe", tmp_path / "r.json", "--out", tmp_path / "o.csv"))
    assert "signal_settings.seed must be a whole number from 0 to 4294967295" in line, line
    assert not (tmp_path / "o.csv").exists()
