"""Splits: the test set is fixed before filtering, the holdout is stored, caps and balancing touch train only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.training.balancing import augment, balance_train, oversample
from dq_core.training.config import TrainConfig
from dq_core.training.splits import make_splits
from dq_core.util.sampling import stratified_sample
from tests.train_helpers import tiny_dataset


@pytest.fixture
def ws(dq_env) -> Workspace:
    return Workspace.default()


def test_holdout_is_stratified_stored_and_independent_of_the_seed(ws):
    ds = tiny_dataset(90)
    a = make_splits(ds, TrainConfig(trainer="baseline", seed=0), ws=ws)
    b = make_splits(ds, TrainConfig(trainer="baseline", seed=7, val_fraction=0.2), ws=ws)
    assert a.test_source == "holdout" and len(a.test) == 18
    assert a.test["row_id"].tolist() == b.test["row_id"].tolist() and a.test_key == b.test_key
    assert a.test["label"].value_counts().tolist() == [6, 6, 6]
    assert list((ws.root / "cache" / "test_splits").glob("*.json"))
    assert not set(a.test["row_id"]) & set(a.train["row_id"]) and not set(a.test["row_id"]) & set(a.val["row_id"])
    assert len(a.train) + len(a.val) + len(a.test) == 90


def test_filtering_and_relabels_never_touch_the_test_set(ws):
    ds = tiny_dataset(90)
    full = make_splits(ds, TrainConfig(trainer="baseline"), ws=ws)
    test_ids = set(full.test["row_id"])
    train_ids = list(full.train["row_id"])
    drop = {*list(test_ids)[:5], *train_ids[:10]}
    keep = [r for r in ds.frame["row_id"] if r not in drop]
    some_test = next(iter(test_ids))
    relabel = {train_ids[20]: "positive", some_test: "positive"}
    cfg = TrainConfig(trainer="baseline", keep_row_ids=keep, relabel=relabel)
    f = make_splits(ds, cfg, ws=ws)
    assert f.test_key == full.test_key  # same test rows, labels untouched
    assert not set(train_ids[:10]) & (set(f.train["row_id"]) | set(f.val["row_id"]))
    assert f.counts["n_filtered_out"] == 10
    row = f.train.set_index("row_id").loc[train_ids[20]] if train_ids[20] in set(f.train["row_id"]) else \
        f.val.set_index("row_id").loc[train_ids[20]]
    assert row["label"] == "positive"
    assert f.test.set_index("row_id").loc[some_test, "label"] == full.test.set_index("row_id").loc[some_test, "label"]
    # a boolean keep mask works the same way
    mask = ~ds.frame["row_id"].isin(list(drop)).to_numpy()
    m = make_splits(ds, TrainConfig(trainer="baseline"), ws=ws, keep_mask=mask)
    assert m.test_key == full.test_key and m.counts["n_filtered_out"] == 10
    assert sorted(m.train["row_id"]) + sorted(m.val["row_id"]) == sorted(f.train["row_id"]) + sorted(f.val["row_id"])


def test_users_test_and_validation_split(ws):
    ds = tiny_dataset(60, split=True)
    plan = make_splits(ds, TrainConfig(trainer="baseline"), ws=ws)
    assert plan.test_source == "split"
    assert set(plan.test["row_id"]) == {f"r{i}" for i in range(60) if i % 5 == 0}
    assert set(plan.val["row_id"]) == {f"r{i}" for i in range(60) if i % 5 == 1}


def test_reference_and_external_test(ws):
    ds, ref = tiny_dataset(60), tiny_dataset(30, seed=3)
    plan = make_splits(ds, TrainConfig(trainer="baseline", test_source="reference"), ws=ws, reference=ref)
    assert plan.test_source == "reference" and len(plan.test) == 30 and len(plan.train) + len(plan.val) == 60
    with pytest.raises(DataError, match="no reference"):
        make_splits(ds, TrainConfig(trainer="baseline", test_source="reference"), ws=ws)
    ext = make_splits(ds, TrainConfig(trainer="baseline"), ws=ws, external_test=ref)
    assert ext.test_source == "external"


def test_cap_is_stratified(ws):
    ds = tiny_dataset(300)
    plan = make_splits(ds, TrainConfig(trainer="transformer", max_train_rows=60), ws=ws)
    assert len(plan.train) == 60 and plan.counts["n_capped_out"] > 0
    assert sorted(plan.train["label"].value_counts().tolist()) == [20, 20, 20]
    labels = np.array(["a"] * 90 + ["b"] * 9 + ["c"])
    pos = stratified_sample(labels, 20, np.random.default_rng(0))
    counts = {c: int((labels[pos] == c).sum()) for c in "abc"}
    assert sum(counts.values()) == 20 and counts["c"] == 1 and counts["a"] >= 17


def test_recipe_leaving_one_class_or_a_class_without_training_rows(ws):
    ds = tiny_dataset(60)
    only_pos = ds.frame.loc[ds.frame["label"] == "positive", "row_id"].tolist()
    with pytest.raises(DataError, match="at least two classes"):
        make_splits(ds, TrainConfig(trainer="baseline", keep_row_ids=only_pos), ws=ws)
    no_neutral = ds.frame.loc[ds.frame["label"] != "neutral", "row_id"].tolist()
    with pytest.raises(DataError, match="'neutral' has test rows but no training rows"):
        make_splits(ds, TrainConfig(trainer="baseline", keep_row_ids=no_neutral), ws=ws)
    with pytest.raises(DataError, match="no training rows are left"):
        make_splits(ds, TrainConfig(trainer="baseline", keep_row_ids=[]), ws=ws)


@pytest.mark.parametrize("kw, words", [({"batch_size": 0}, "batch size"), ({"max_length": 4}, "max length"),
                                       ({"trainer": "svm"}, "unknown trainer"), ({"learning_rate": 2.0}, "learning rate"),
                                       ({"early_stopping_patience": 2, "val_fraction": 0.0}, "validation split")])
def test_config_out_of_range(kw, words):
    with pytest.raises(DataError, match=words):
        TrainConfig(**kw).validate()
    assert TrainConfig.from_dict(TrainConfig().to_dict()) == TrainConfig()
    with pytest.raises(DataError, match="unknown training setting"):
        TrainConfig.from_dict({"nope": 1})


def test_balancing_touches_train_only():
    ds = tiny_dataset(60)
    train = ds.frame[["row_id", "text", "label"]].copy()
    train = train[(train["label"] != "neutral") | (train.index < 9)]  # 3 neutral vs 20/20
    rng = np.random.default_rng(0)
    over = oversample(train, target_share=0.5, rng=rng)
    assert over["label"].value_counts()["neutral"] == 10
    assert over["row_id"].str.contains("#aug").sum() == 7
    aug = augment(train, target_share=1.0, rng=np.random.default_rng(1))
    new = aug[aug["row_id"].str.contains("#aug")]
    assert len(new) == 17 and (new["label"] == "neutral").all()
    neutral_words = {w for t in train.loc[train["label"] == "neutral", "text"] for w in t.split()}
    assert all(set(t.split()) <= neutral_words for t in new["text"])  # swap/delete/insert from the class vocabulary
    assert balance_train(train, "none", rng=rng) is train


def test_a_filter_recipe_plugs_in(ws, tmp_path):
    """A FilterRecipe (dq_core.filtering) drops/relabels training rows only, through the training adapter."""
    import json

    from dq_core.training.recipe import apply_recipe

    ds = tiny_dataset(90)
    full = make_splits(ds, TrainConfig(trainer="baseline"), ws=ws)
    relabelled = full.train["row_id"].iloc[0]
    recipe = tmp_path / "no_apple.json"
    recipe.write_text(json.dumps({"format": "dq-filter-recipe", "version": 1, "name": "no apple",
                                  "conditions": [{"where": "topic == 'apple'"}],
                                  "decisions": [{"row_id": relabelled, "action": "relabel", "label": "neutral"}]}))
    out = apply_recipe(ds, str(recipe), ws=ws)
    assert int((~out.keep_mask).sum()) == 45 - (1 if ds.frame.set_index("row_id").loc[relabelled, "topic"]
                                                == "apple" else 0)
    plan = make_splits(ds, TrainConfig(trainer="baseline"), ws=ws, keep_mask=out.keep_mask, relabel=out.relabel)
    assert plan.test_key == full.test_key  # apple rows stay in the test set
    both = pd.concat([plan.train, plan.val]).set_index("row_id")
    others = both.drop(index=relabelled)
    assert set(ds.frame.set_index("row_id").loc[others.index, "topic"]) == {"airlines"}
    assert both.loc[relabelled, "label"] == "neutral"  # a manual decision keeps and relabels its row
