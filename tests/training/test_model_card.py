"""The model card (README.md in a transformer run's model folder): the run's own numbers and its caveats."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dq_core.training.model_card import caveats, model_card
from tests.train_helpers import write_run

LABELS = ("negative", "neutral", "positive")


def _metrics(run_dir) -> dict:
    return json.loads((run_dir / "metrics.json").read_text())


def test_a_model_that_predicts_one_class_gets_a_degenerate_warning(tmp_path):
    y = [LABELS[i % 3] for i in range(30)]
    proba = np.tile([0.2, 0.1, 0.7], (30, 1))  # "positive" for every row
    m = _metrics(write_run(tmp_path / "run", labels=LABELS, y_true=y, proba=proba, trainer="transformer"))
    warn = caveats(m)
    assert any("Degenerate model: it predicts 'positive' for every one of the 30 test rows" in w for w in warn)
    assert any("near chance" in w for w in warn)  # macro-F1 1/6 with 3 classes
    card = model_card(m, {"model": "/models/minilm", "epochs": 1.0, "learning_rate": 5e-5, "recipe": None})
    assert "⚠ Degenerate model" in card
    assert "| accuracy | 0.333 |" in card
    assert "| 2 | positive | – | – | 0.333 | 1.000 | 0.500 |" in card  # id, label, counts, P/R/F1
    assert "Filter recipe: none" in card
    assert "base_model:" not in card  # a local folder is no Hub id


def test_a_good_model_has_no_caveats_and_names_recipe_sizes_and_labels(tmp_path):
    y = [LABELS[i % 3] for i in range(30)]
    proba = np.full((30, 3), 0.05)
    proba[np.arange(30), [i % 3 for i in range(30)]] = 0.9
    m = _metrics(write_run(tmp_path / "run", labels=LABELS, y_true=y, proba=proba, trainer="transformer"))
    m["split"].update(train_class_counts={"negative": 30, "neutral": 31, "positive": 39},
                      test_class_counts={"negative": 10, "neutral": 10, "positive": 10})
    m["notes"] = ["recipe 'default': keeps 100 of 120 rows, relabels 3"]
    assert caveats(m) == []
    card = model_card(m, {"model": "sentence-transformers/all-MiniLM-L6-v2", "recipe": "/x/recipes/default.json",
                          "epochs": 2.0, "batch_size": 16, "seed": 0})
    assert "base_model: sentence-transformers/all-MiniLM-L6-v2" in card
    assert "| train | 100 |" in card and "| validation | 10 |" in card and "| test | 30 |" in card
    assert "**default** — recipe 'default': keeps 100 of 120 rows, relabels 3." in card
    assert "| 1 | neutral | 31 | 10 | 1.000 | 1.000 | 1.000 |" in card
    assert "| macro-F1 | 1.000 |" in card and "| batch size | 16 |" in card
    assert "None found in the test metrics" in card


def test_label_mismatch_and_recorded_warnings_are_caveats(tmp_path):
    y = [LABELS[i % 2] for i in range(20)]  # no "positive" test rows
    proba = np.full((20, 3), 0.1)
    proba[np.arange(20), [i % 2 for i in range(20)]] = 0.8
    m = _metrics(write_run(tmp_path / "run", labels=LABELS, y_true=y, proba=proba, trainer="transformer"))
    m["split"].update(train_class_counts={"negative": 5, "neutral": 5, "positive": 5},
                      test_class_counts={"negative": 10, "neutral": 10})
    m["warnings"] = ["training | stopped | [early](javascript:x)"]
    warn = caveats(m)
    assert "Label mismatch: the test set has no rows of 'positive'" in warn[0]
    card = model_card(m, {})
    assert "\\[early\\](javascript:x)" in card and "\\| stopped \\|" in card  # table-safe, no live link


@pytest.mark.slow
def test_a_real_fine_tune_writes_the_card_beside_the_weights(tmp_path):
    from dq_core.data.workspace import Workspace
    from dq_core.training.config import TrainConfig
    from dq_core.training.runner import run_training
    from tests.train_helpers import tiny_dataset

    recipe = tmp_path / "keep-all.json"
    recipe.write_text(json.dumps({"format": "dq-filter-recipe", "version": 1, "name": "keep-all"}))
    cfg = TrainConfig(trainer="transformer", name="card check", max_steps=2, batch_size=8, max_length=16,
                      warmup_ratio=0.0, recipe=str(recipe))
    run_dir = tmp_path / "run"
    m = run_training(cfg, run_dir, ds=tiny_dataset(45), ws=Workspace(tmp_path / "ws"))
    card = (run_dir / "model" / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: transformers\npipeline_tag: text-classification")
    assert f"| train | {m['split']['n_train']} |" in card and f"| test | {m['split']['n_test']} |" in card
    assert f"| accuracy | {m['accuracy']:.3f} |" in card
    for i, lab in enumerate(m["labels"]):
        assert f"| {i} | {lab} |" in card
    assert "**keep-all** — recipe 'keep-all': keeps 45 of 45 rows" in card
    assert "all-MiniLM-L6-v2" in card
