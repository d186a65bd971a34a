"""A test set whose labels the dataset does not have is named a label mismatch, not blamed on the recipe."""

from __future__ import annotations

import pandas as pd
import pytest

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.training.config import TrainConfig
from dq_core.training.splits import make_splits


def _ds(labels: list[str], name: str):
    frame = pd.DataFrame({"text": [f"{name} text number {i}" for i in range(len(labels))], "label": labels})
    return build_dataset(frame, ColumnMapping(text="text", label="label"), name=name)


def test_reference_with_other_labels_is_a_label_mismatch():
    ds = _ds(["sport", "business"] * 20, "news")
    ref = _ds(["pos", "neg"] * 5, "reviews")
    cfg = TrainConfig(trainer="baseline", test_source="reference").validate()
    with pytest.raises(DataError, match="label mismatch") as exc:
        make_splits(ds, cfg, ws=Workspace.default(), reference=ref)
    assert "'neg', 'pos'" in str(exc.value) and "recipe" not in str(exc.value)


def test_a_class_the_recipe_removed_still_blames_the_recipe():
    ds = _ds(["a", "b", "c"] * 20, "three")
    cfg = TrainConfig(trainer="baseline", test_source="holdout").validate()
    keep = (ds.frame["label"] != "c").to_numpy()
    with pytest.raises(DataError, match="recipe or the cap"):
        make_splits(ds, cfg, ws=Workspace.default(), keep_mask=keep)
