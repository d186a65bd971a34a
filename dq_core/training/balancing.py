"""Optional balancing of the *train* split: random oversampling or word-level perturbations.

Validation and test rows are never passed here (the runner only calls this on the train split).
Augmented rows get a row_id ``<source id>#aug<k>`` so they are never mistaken for real rows.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from dq_core.errors import DataError


def _targets(labels: pd.Series, target_share: float) -> dict[str, int]:
    counts = labels.value_counts()
    goal = int(np.ceil(counts.max() * target_share))
    return {str(c): max(0, goal - int(n)) for c, n in counts.items()}


def oversample(train: pd.DataFrame, *, target_share: float, rng: np.random.Generator) -> pd.DataFrame:
    """Repeat random rows of each under-represented class until it reaches ``target_share`` of the largest."""
    extra = []
    for c, need in _targets(train["label"], target_share).items():
        if need <= 0:
            continue
        rows = train[train["label"] == c]
        pick = rows.iloc[rng.integers(0, len(rows), size=need)].copy()
        pick["row_id"] = [f"{r}#aug{i}" for i, r in enumerate(pick["row_id"])]
        extra.append(pick)
    return pd.concat([train, *extra], ignore_index=True) if extra else train


def class_vocabulary(texts: pd.Series, *, top: int = 200) -> list[str]:
    counts = Counter(w for t in texts for w in str(t).split() if w.isalpha() and len(w) > 2)
    return [w for w, _ in counts.most_common(top)]


def perturb(text: str, vocab: list[str], rng: np.random.Generator, *, rate: float = 0.15) -> str:
    """One random edit per ~1/rate words: swap two neighbours, delete a word, or insert a class word."""
    words = str(text).split()
    if not words:
        return text
    n_edits = max(1, int(round(rate * len(words))))
    for _ in range(n_edits):
        op = rng.integers(0, 3)
        if op == 0 and len(words) > 1:
            i = int(rng.integers(0, len(words) - 1))
            words[i], words[i + 1] = words[i + 1], words[i]
        elif op == 1 and len(words) > 2:
            del words[int(rng.integers(0, len(words)))]
        elif vocab:
            words.insert(int(rng.integers(0, len(words) + 1)), vocab[int(rng.integers(0, len(vocab)))])
    return " ".join(words)


def augment(train: pd.DataFrame, *, target_share: float, rng: np.random.Generator) -> pd.DataFrame:
    """Like oversample, but each copy is perturbed (swap/delete/insert from the class's own vocabulary)."""
    extra = []
    for c, need in _targets(train["label"], target_share).items():
        if need <= 0:
            continue
        rows = train[train["label"] == c]
        vocab = class_vocabulary(rows["text"])
        pick = rows.iloc[rng.integers(0, len(rows), size=need)].copy()
        pick["text"] = [perturb(t, vocab, rng) for t in pick["text"]]
        pick["row_id"] = [f"{r}#aug{i}" for i, r in enumerate(pick["row_id"])]
        extra.append(pick)
    return pd.concat([train, *extra], ignore_index=True) if extra else train


def balance_train(train: pd.DataFrame, method: str, *, target_share: float = 0.5,
                  rng: np.random.Generator) -> pd.DataFrame:
    if method == "none":
        return train
    if method == "oversample":
        return oversample(train, target_share=target_share, rng=rng)
    if method == "augment":
        return augment(train, target_share=target_share, rng=rng)
    raise DataError(f"unknown balancing '{method}'; use none, oversample or augment")
