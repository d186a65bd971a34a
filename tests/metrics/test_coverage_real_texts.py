"""Scene coverage on real texts and the real model: two unrelated corpora read low, two halves of one high."""

from __future__ import annotations

import numpy as np
import pytest

from dq_core.data.io import load_demo
from dq_core.metrics.coverage import compute_coverage
from dq_core.space.embed import embed_texts

N = 200  # texts per side: ~600 texts embed in ~15 s on 2 cores


def _sample(name: str, n: int, seed: int) -> list[str]:
    ds, _ = load_demo(name)
    t = ds.texts.dropna().astype(str)
    t = t[t.str.strip().str.len() > 0].drop_duplicates()
    idx = np.random.default_rng(seed).choice(len(t), n, replace=False)  # a random sample, in random order
    return t.iloc[idx].tolist()


@pytest.fixture(scope="module")
def vectors() -> dict[str, np.ndarray]:
    tweets = _sample("tweets", 2 * N, seed=0)
    sms = _sample("sms_spam", N, seed=0)
    v = embed_texts(tweets + sms, use_cache=False).vectors
    return {"tweets_a": v[:N], "tweets_b": v[N:2 * N], "sms": v[2 * N:]}


@pytest.mark.parametrize("data, ref", [("sms", "tweets_a"), ("tweets_a", "sms")])
def test_sms_and_tweets_read_low(vectors, data, ref):
    res = compute_coverage(vectors[data], vectors[ref])
    print(f"{data} vs {ref}: scene {res.scene_coverage:.3f} ({res.n_scenes_covered}/{res.n_scenes} scenes), "
          f"sample {res.sample_coverage:.3f}, k={res.k}")
    assert res.scene_coverage <= 0.3
    assert res.sample_coverage <= 0.3
    for c in res.clusters:
        assert c.covered != c.under_covered if c.n_reference else not (c.covered or c.under_covered)


def test_two_halves_of_the_tweets_read_high(vectors):
    res = compute_coverage(vectors["tweets_a"], vectors["tweets_b"])
    print(f"tweets half vs half: scene {res.scene_coverage:.3f}, sample {res.sample_coverage:.3f}, k={res.k}")
    assert res.scene_coverage >= 0.9
    assert res.sample_coverage >= 0.85
    assert res.reference_coverage >= 0.8
