"""Distribution shift: divergences vs scipy, properties, resampling, views, bad inputs, the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.metrics.shift import (
    DIVERGENCES,
    ShiftConfig,
    basic_interval,
    classify_domains,
    compute_shift,
    compute_view_stats,
    get_divergence,
    js_contributions,
    js_distance,
    js_divergence,
    kl_divergence,
    kl_reverse,
    psi,
    total_variation,
)
from dq_core.metrics.shift import views as sv
from dq_core.space.clusters import cluster_joint
from tests.cli_helpers import dq

ROOT = Path(__file__).resolve().parents[2]
FAST = ShiftConfig(n_bootstrap=200, n_permutations=200)


def make_ds(texts, labels=None, name="ds", **meta):
    frame = pd.DataFrame({"text": list(texts), **({"label": list(labels)} if labels is not None else {}), **meta})
    mapping = ColumnMapping(text="text", label="label" if labels is not None else "", metadata=tuple(meta))
    return build_dataset(frame, mapping, name=name, require_labels=labels is not None)


def strict_json(text: str):
    def refuse(c):
        raise ValueError(f"non-standard JSON constant {c}")
    return json.loads(text, parse_constant=refuse)


def all_numbers(obj) -> list[float]:
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in all_numbers(v)]
    if isinstance(obj, (list, tuple)):
        return [x for v in obj for x in all_numbers(v)]
    return [obj] if isinstance(obj, float) else []


# --------------------------------------------------------------------------- agreement with scipy

@pytest.mark.parametrize("seed", range(10))
def test_agrees_with_scipy_on_random_histograms(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 40))
    p = rng.integers(1, 100, k).astype(float)
    q = rng.integers(1, 100, k).astype(float)
    assert kl_divergence(p, q, alpha=0) == pytest.approx(entropy(p, q, base=2), rel=1e-10)
    assert kl_reverse(p, q, alpha=0) == pytest.approx(entropy(q, p, base=2), rel=1e-10)
    assert kl_divergence(p, q, alpha=0, base=math.e) == pytest.approx(entropy(p, q), rel=1e-10)
    assert js_distance(p, q) == pytest.approx(jensenshannon(p, q, base=2), rel=1e-9)
    assert js_divergence(p, q) == pytest.approx(jensenshannon(p, q, base=2) ** 2, rel=1e-9)
    # empty bins: JS needs no smoothing, scipy agrees
    p[rng.choice(k, k // 3, replace=False)] = 0
    assert js_distance(p, q) == pytest.approx(jensenshannon(p, q, base=2), rel=1e-9, abs=1e-12)
    # smoothed KL is scipy's KL of the smoothed histograms
    assert kl_divergence(p, q, alpha=0.5) == pytest.approx(entropy(p + 0.5, q + 0.5, base=2), rel=1e-10)


def test_batched_calls_equal_row_by_row():
    rng = np.random.default_rng(0)
    p, q = rng.integers(0, 50, (30, 7)) + 1, rng.integers(0, 50, (30, 7)) + 1
    for d in DIVERGENCES.values():
        batch = d.func(p, q)
        assert batch.shape == (30,)
        assert batch == pytest.approx([d.func(a, b) for a, b in zip(p, q, strict=True)])


def test_known_values():
    assert js_divergence([1, 0], [0, 1]) == 1.0  # nothing in common
    assert js_divergence([5, 5], [1, 1]) == 0.0  # scale-free
    assert total_variation([3, 1], [1, 3]) == pytest.approx(0.5)
    assert psi([50, 50], [50, 50]) == 0.0
    # explicit smoothing: an empty Q bin gets 0.5 / (n + 0.5 k)
    p, q = np.array([10.0, 10.0]), np.array([20.0, 0.0])
    ps, qs = np.array([10.5, 10.5]) / 21, np.array([20.5, 0.5]) / 21
    assert kl_divergence(p, q) == pytest.approx(float(np.sum(ps * np.log2(ps / qs))))
    assert psi(p, q) == pytest.approx(float(np.sum((ps - qs) * np.log(ps / qs))))


def test_empty_bins_never_give_inf_or_nan_and_alpha_zero_says_why():
    p, q = [5, 3, 0, 0], [0, 0, 4, 4]
    for d in DIVERGENCES.values():
        assert math.isfinite(d.func(p, q))
    with pytest.raises(DataError, match="infinite.*alpha"):
        kl_divergence(p, q, alpha=0)
    with pytest.raises(DataError, match="infinite"):
        psi(p, q, alpha=0)


@pytest.mark.parametrize(("p", "q", "words"), [
    ([1, 2], [1, 2, 3], "different shapes"),
    ([1, -2], [1, 2], "negative"),
    ([1, float("nan")], [1, 2], "inf or nan"),
    ([0, 0], [1, 2], "empty"),
    ([], [], "no bins"),
])
def test_bad_histograms_are_clear_errors(p, q, words):
    for d in DIVERGENCES.values():
        with pytest.raises(DataError, match=words):
            d.func(p, q)


def test_bad_settings_are_clear_errors():
    with pytest.raises(DataError, match="unknown divergence 'wasserstein'"):
        get_divergence("wasserstein")
    with pytest.raises(DataError, match="unknown divergence"):
        ShiftConfig(test="wasserstein")
    with pytest.raises(DataError, match="confidence"):
        ShiftConfig(confidence=1.5)
    with pytest.raises(DataError, match="vocabulary size"):
        ShiftConfig(vocab_size=0)
    with pytest.raises(DataError, match="alpha"):
        kl_divergence([1, 2], [2, 1], alpha=-1)
    with pytest.raises(DataError, match="base"):
        js_divergence([1, 2], [2, 1], base=1)


# --------------------------------------------------------------------------- properties

counts = st.lists(st.integers(0, 1000), min_size=1, max_size=30).filter(lambda c: sum(c) > 0)


@st.composite
def pairs(draw):
    k = draw(st.integers(1, 30))
    hist = st.lists(st.integers(0, 1000), min_size=k, max_size=k).filter(lambda c: sum(c) > 0)
    return np.array(draw(hist), float), np.array(draw(hist), float)


@settings(max_examples=200, deadline=None)
@given(counts)
def test_divergence_of_a_histogram_with_itself_is_zero(p):
    for d in DIVERGENCES.values():
        assert d.func(p, p) == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(pairs())
def test_js_symmetric_and_bounded_and_all_finite(pq):
    p, q = pq
    js = js_divergence(p, q)
    assert 0.0 <= js <= 1.0
    assert js == pytest.approx(js_divergence(q, p), abs=1e-12)
    assert js_contributions(p, q).sum() == pytest.approx(js, abs=1e-12)
    assert (js_contributions(p, q) >= 0).all()
    assert 0.0 <= total_variation(p, q) <= 1.0
    for name, d in DIVERGENCES.items():
        v = d.func(p, q)
        assert math.isfinite(v) and v >= -1e-12, name
        if d.symmetric:
            assert v == pytest.approx(d.func(q, p), abs=1e-9), name
    assert kl_divergence(p, q) == pytest.approx(kl_reverse(q, p))


@settings(max_examples=100, deadline=None)
@given(pairs(), st.randoms(use_true_random=False))
def test_order_of_bins_does_not_matter(pq, rnd):
    p, q = pq
    order = list(range(len(p)))
    rnd.shuffle(order)
    for d in DIVERGENCES.values():
        assert d.func(p[order], q[order]) == pytest.approx(d.func(p, q), abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["pos", "neg", "neu"]), min_size=2, max_size=40),
       st.lists(st.sampled_from(["pos", "neg", "odd"]), min_size=2, max_size=40),
       st.randoms(use_true_random=False))
def test_results_do_not_depend_on_row_order(lp, lq, rnd):
    words = ["flight late", "great crew", "lost bag again", "seat", "nice food and crew", ""]
    texts_p = [words[i % len(words)] + f" {lab}" for i, lab in enumerate(lp)]
    texts_q = [words[(i * 7) % len(words)] for i in range(len(lq))]
    order = list(range(len(lp)))
    rnd.shuffle(order)
    a = compute_shift(make_ds(texts_p, lp), make_ds(texts_q, lq), config=ShiftConfig(n_bootstrap=30, n_permutations=30))
    b = compute_shift(make_ds([texts_p[i] for i in order], [lp[i] for i in order]), make_ds(texts_q, lq),
                      config=ShiftConfig(n_bootstrap=30, n_permutations=30))
    for name in ("label", "length", "vocabulary"):
        da, db = a.views[name].to_dict(), b.views[name].to_dict()
        assert da == db, name  # same seed: even the interval and p-value are the same


# --------------------------------------------------------------------------- resampling

def _count_view(cp, cq, name="v"):
    return sv.ViewData(name, name, tuple(f"b{i}" for i in range(len(cp))),
                       sv.CountSampler(np.asarray(cp, np.int64), np.asarray(cq, np.int64)))


def test_permutation_p_value_not_small_for_one_distribution_small_for_a_planted_shift():
    rng = np.random.default_rng(0)
    p = np.array([0.4, 0.3, 0.2, 0.1])
    same = [compute_view_stats(_count_view(rng.multinomial(500, p), rng.multinomial(400, p)), FAST,
                               np.random.default_rng(i)).p_value for i in range(40)]
    assert np.median(same) > 0.2
    assert np.mean(np.array(same) < 0.05) <= 0.15  # about 5% false alarms, not more
    shifted = compute_view_stats(_count_view(rng.multinomial(500, p), rng.multinomial(400, [0.25] * 4)), FAST)
    assert shifted.p_value <= 1 / 201 + 1e-12
    assert shifted.verdict == "drift" and shifted.drift is True


def test_token_view_permutation_and_bootstrap_keep_row_totals():
    ds = make_ds(["a flight", "flight late late", "crew", "bag bag bag lost"] * 5, ["x"] * 20)
    ref = make_ds(["match goal", "goal goal", "team crew"] * 4, ["x"] * 12)
    view = sv.vocabulary_view(ds, ref, vocab_size=3, stop_words=False)
    cp, cq = view.sampler.counts()
    rng = np.random.default_rng(0)
    pp, pq = view.sampler.permute(rng, 50)
    assert np.allclose(pp + pq, cp + cq)  # a permutation moves rows between sides, never loses a token
    assert not np.allclose(pp, cp)
    bp, bq = view.sampler.bootstrap(rng, 50)
    assert np.allclose(bp.sum(1) % 1, 0) and bp.shape == (50, len(view.bins))
    planted = compute_view_stats(view, FAST)
    assert planted.p_value < 0.01 and planted.verdict == "drift"
    same = compute_view_stats(sv.vocabulary_view(ds, make_ds(["a flight", "crew", "flight late late",
                                                              "bag bag bag lost"] * 4, ["x"] * 16)), FAST)
    assert same.js == pytest.approx(0.0, abs=1e-12) and same.p_value > 0.5 and same.verdict == "no drift"


def test_bootstrap_interval_covers_the_planted_divergence():
    rng = np.random.default_rng(3)
    p, q = np.array([0.5, 0.3, 0.2]), np.array([0.3, 0.3, 0.4])
    v = compute_view_stats(_count_view(rng.multinomial(4000, p), rng.multinomial(4000, q)), FAST)
    lo, hi = v.js_ci
    assert lo <= js_divergence(p, q) <= hi and lo <= v.js <= hi
    # the basic interval reflects the upward bias of plug-in JS, so no shift can read as [0, small]
    assert basic_interval(0.01, np.array([0.015, 0.02, 0.03])) == pytest.approx((0.0, 0.00505), abs=1e-3)


def test_seeded_results_are_reproducible():
    view = _count_view([30, 20, 10], [10, 20, 30])
    a, b = compute_view_stats(view, FAST), compute_view_stats(view, FAST)
    assert a.to_dict() == b.to_dict()
    c = compute_view_stats(view, ShiftConfig(n_bootstrap=200, n_permutations=200, seed=1))
    assert c.js_ci != a.js_ci


# --------------------------------------------------------------------------- views and bad input

def test_label_view_counts_and_attribution():
    ds = make_ds(["t"] * 10, ["a"] * 6 + ["b"] * 4)
    ref = make_ds(["t"] * 10, ["a"] * 2 + ["b"] * 8)
    v = compute_shift(ds, ref, config=FAST).views["label"]
    assert v.bins == ("b", "a") and list(v.counts_dataset) == [4, 6] and list(v.counts_reference) == [8, 2]
    a = v.attribution().set_index("bin")
    assert a.loc["a", "direction"] == "over-represented" and a.loc["b", "direction"] == "under-represented"
    assert a["contribution"].sum() == pytest.approx(v.js)
    assert a.loc["a", "signed_contribution"] > 0 > a.loc["b", "signed_contribution"]
    assert v.kl == pytest.approx(kl_divergence([4, 6], [8, 2]))


def test_reference_without_labels_skips_the_label_view_only():
    ds = make_ds(["good flight", "bad flight", "ok"], ["pos", "neg", "neu"])
    ref = make_ds(["good game", "bad game"])
    res = compute_shift(ds, ref, config=FAST)
    assert res.views["label"].skipped and "reference has no labels" in res.views["label"].skipped
    assert res.views["label"].to_dict()["js"] is None and res.views["label"].drift is None
    assert res.views["length"].js is not None and res.views["vocabulary"].js is not None


def test_disjoint_labels_give_the_maximum_with_a_note():
    res = compute_shift(make_ds(["a", "b"] * 5, ["pos", "neg"] * 5), make_ds(["a", "b"] * 5, ["1", "0"] * 5),
                        config=FAST)
    v = res.views["label"]
    assert v.js == 1.0 and math.isfinite(v.kl)
    assert any("share no labels" in n for n in v.notes)


def test_one_row_on_a_side_is_untested_with_a_message_and_no_nan():
    res = compute_shift(make_ds(["one lonely text"], ["a"]), make_ds(["late flight", "lost bag", "nice crew"], ["a", "b", "a"]),
                        config=FAST)
    for name in ("label", "length", "vocabulary"):
        v = res.views[name]
        assert v.verdict == "too few rows" and v.p_value is None and v.js_ci is None and v.drift is None
        assert any("only 1 row" in n for n in v.notes)
    out = res.to_dict()
    assert all(math.isfinite(x) for x in all_numbers(out))
    json.dumps(out, allow_nan=False)


def test_no_tokens_skips_the_vocabulary_view():
    res = compute_shift(make_ds(["the", "and", "a"], ["x"] * 3), make_ds(["of", "to"], ["x"] * 2), config=FAST)
    assert "no words" in res.views["vocabulary"].skipped
    res = compute_shift(make_ds(["the", "and"], ["x"] * 2), make_ds(["real words", "here too"], ["x"] * 2),
                        config=FAST)
    assert "the dataset has no words" in res.views["vocabulary"].skipped


def test_length_bins_are_shared_and_named():
    bins, cp, cq = sv.quantile_bins(np.array([1, 1, 2, 3, 10, 20]), np.array([1, 5, 5, 40]), n_bins=4)
    assert cp.sum() == 6 and cq.sum() == 4 and len(bins) == len(cp) == len(cq)
    assert bins[0].startswith("1") and bins[-1].startswith("≥")
    one = sv.quantile_bins(np.array([3, 3]), np.array([3]), n_bins=5)
    assert one[0] == ("3",)


def test_metadata_views_categorical_numeric_and_missing():
    ds = make_ds(["t"] * 40, ["a"] * 40, topic=["air"] * 30 + ["car"] * 10, score=np.linspace(0, 1, 40))
    ref = make_ds(["t"] * 40, ["a"] * 40, topic=["car"] * 30 + [None] * 10, score=np.linspace(0.5, 2, 40))
    res = compute_shift(ds, ref, config=FAST, metadata=["topic", "score"])
    topic = res.views["metadata:topic"]
    assert set(topic.bins) == {"air", "car", "(missing)"} and topic.verdict == "drift"
    score = res.views["metadata:score"]
    assert score.ordered and len(score.bins) > 2 and score.js > 0.3
    only_ds = make_ds(["t"] * 4, ["a"] * 4, extra=["x", "y", "x", "y"])
    res = compute_shift(only_ds, make_ds(["t"] * 3, ["a"] * 3), config=FAST, metadata=["extra"])
    assert "reference has no column 'extra'" in res.views["metadata:extra"].skipped
    with pytest.raises(DataError, match="not a metadata column"):
        compute_shift(only_ds, only_ds, config=FAST, metadata=["nope"])


def test_many_categories_are_merged_into_other():
    ds = make_ds(["t"] * 60, ["a"] * 60, city=[f"c{i % 40}" for i in range(60)])
    v = compute_shift(ds, ds, config=ShiftConfig(n_bootstrap=0, n_permutations=0, max_categories=10),
                      metadata=["city"]).views["metadata:city"]
    assert len(v.bins) == 10 and v.bins[-1] == "(other)" and v.js == 0.0


# --------------------------------------------------------------------------- embeddings: clusters + domain classifier

def _emb(n, centre, seed, d=8, noise=0.05):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, d)) * noise + centre
    v = (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
    return SimpleNamespace(vectors=v, valid=np.ones(n, dtype=bool))


def _clusters(ds_labels, ref_labels, k, d=8):
    return SimpleNamespace(ds_labels=np.asarray(ds_labels), ref_labels=np.asarray(ref_labels), k=k,
                           centroids=np.eye(k, d, dtype=np.float32), how_k_chosen=f"k={k} as given", seed=0)


def test_cluster_view_from_given_clusters_and_examples():
    ds = make_ds([f"air {i}" for i in range(30)], ["a"] * 30)
    ref = make_ds([f"sport {i}" for i in range(30)], ["a"] * 30)
    e1, e2 = np.eye(8)[0], np.eye(8)[1]
    jc = _clusters([0] * 25 + [1] * 5, [0] * 5 + [1] * 25, 2)
    res = compute_shift(ds, ref, config=FAST, ds_embeddings=_emb(30, e1, 0), ref_embeddings=_emb(30, e2, 1),
                        clusters=jc)
    v = res.views["embedding_clusters"]
    assert v.bins == ("cluster 0", "cluster 1")
    assert list(v.counts_dataset) == [25, 5] and list(v.counts_reference) == [5, 25]
    assert v.verdict == "drift"
    a = v.attribution()
    assert a.loc[0, "direction"] == "over-represented" and "dataset_examples" in a.columns
    assert res.clusters == {"k": 2, "how_k_chosen": "k=2 as given", "seed": 0}


def test_cluster_view_with_the_coverage_clustering():
    ds = make_ds([f"air {i}" for i in range(40)], ["a"] * 40)
    ref = make_ds([f"sport {i}" for i in range(40)], ["a"] * 40)
    e1, e2 = np.eye(8)[0], np.eye(8)[1]
    ws = Workspace.default()
    config = ShiftConfig(n_bootstrap=50, n_permutations=50, n_clusters=2)
    res = compute_shift(ds, ref, config=config, ds_embeddings=_emb(40, e1, 0), ref_embeddings=_emb(40, e2, 1),
                        workspace=ws)
    v = res.views["embedding_clusters"]
    assert res.clusters["k"] == 2 and v.js == pytest.approx(1.0)  # each set is its own cluster
    assert res.domain_classifier.auc > 0.95 and res.domain_classifier.verdict == "almost perfectly separable"
    # the same partition as the coverage map: cluster_joint on the same rows gives the same ids
    jc = cluster_joint(_emb(40, e1, 0).vectors, _emb(40, e2, 1).vectors, k=2, seed=0, workspace=ws)
    assert list(v.counts_dataset) == list(np.bincount(jc.ds_labels, minlength=2))
    # the clusters' terms are cached, so a rerun with other settings does not tokenise again
    assert list((ws.root / "cache" / "shift_cluster_terms").glob("*.json"))
    again = compute_shift(ds, ref, config=ShiftConfig(n_bootstrap=0, n_permutations=0, n_clusters=2),
                          ds_embeddings=_emb(40, e1, 0), ref_embeddings=_emb(40, e2, 1), workspace=ws)
    assert again.views["embedding_clusters"].bin_info == v.bin_info


def test_domain_classifier_near_half_on_one_distribution_and_names_rows():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 16)).astype(np.float32)
    rows = pd.DataFrame({"row_id": np.arange(400), "text": [f"t{i}" for i in range(400)]})
    dc = classify_domains(x[:200], x[200:], ds_rows=rows[:200], ref_rows=rows[200:].reset_index(drop=True))
    assert 0.35 < dc.auc < 0.65 and dc.verdict == "indistinguishable"
    shifted = classify_domains(x[:200] + 1.0, x[200:], ds_rows=rows[:200], ref_rows=rows[200:].reset_index(drop=True))
    assert shifted.auc > 0.95
    top = shifted.distinctive_dataset[0]
    assert set(top) == {"row_id", "text", "p_dataset"} and top["p_dataset"] > 0.5
    assert shifted.distinctive_reference[0]["p_dataset"] < 0.5
    assert len(shifted.distinctive_dataset) == 8
    small = classify_domains(x[:1], x[1:5])
    assert small.auc is None and "at least 2" in small.skipped


def test_missing_embeddings_skip_with_a_note_and_the_json_contract():
    ds = make_ds(["good flight", "late again", ""], ["pos", "neg", "neg"])
    ref = make_ds(["good game", "late kickoff"], ["pos", "neg"])
    out = compute_shift(ds, ref, config=FAST).to_dict()
    assert set(out["views"]) == {"label", "length", "vocabulary", "embedding_clusters"}
    for v in out["views"].values():
        assert {"kl", "kl_reverse", "js", "js_ci", "p_value", "drift"} <= set(v)
    assert out["domain_classifier_auc"] is None
    assert "no embeddings" in out["views"]["embedding_clusters"]["skipped"]
    strict_json(json.dumps(out))


# --------------------------------------------------------------------------- CLI

@pytest.fixture
def small_files(tmp_path):
    a = tmp_path / "train.csv"
    b = tmp_path / "prod.csv"
    pd.DataFrame({"text": ["the flight was late", "lovely crew and food", "lost my bag again", "great seats",
                           "delayed two hours", "friendly staff"] * 4,
                  "label": ["neg", "pos", "neg", "pos", "neg", "pos"] * 4,
                  "source": ["web", "app"] * 12}).to_csv(a, index=False)
    pd.DataFrame({"text": ["the match was great", "what a goal", "boring game today", "late kickoff"] * 4,
                  "label": ["pos", "pos", "neg", "neg"] * 4, "source": ["app"] * 16}).to_csv(b, index=False)
    return a, b


def test_cli_shift_json_contract_with_embeddings(small_files):
    a, b = small_files
    r = dq("shift", str(a), "--reference", str(b), "--bootstrap", "50", "--permutations", "50",
           "--metadata-col", "source", "--top-bins", "5", "--progress")
    assert r.returncode == 0, r.stderr
    out = strict_json(r.stdout)
    assert {"label", "length", "vocabulary", "embedding_clusters", "metadata:source"} <= set(out["views"])
    for name in ("label", "length", "vocabulary", "embedding_clusters"):
        v = out["views"][name]
        assert {"kl", "kl_reverse", "js", "js_ci", "p_value", "drift"} <= set(v), name
        assert 0 <= v["js"] <= 1 and v["js_ci"][0] <= v["js_ci"][1] and 0 < v["p_value"] <= 1
        assert isinstance(v["drift"], bool)
    assert len(out["views"]["vocabulary"]["bins"]) == 5
    assert 0.5 <= out["domain_classifier_auc"] <= 1.0
    assert out["views"]["vocabulary"]["drift"] is True  # airline words vs football words
    assert "embedding dataset" in r.stderr


def test_cli_shift_without_embeddings_and_unlabelled_reference(tmp_path, small_files):
    a, _ = small_files
    ref = tmp_path / "unlabelled.jsonl"
    ref.write_text("\n".join(json.dumps({"text": t}) for t in ["good game", "late kickoff", "what a goal"]))
    r = dq("shift", str(a), "--reference", str(ref), "--no-embeddings", "--bootstrap", "20", "--permutations", "20")
    assert r.returncode == 0, r.stderr
    out = strict_json(r.stdout)
    assert out["views"]["label"]["skipped"] and out["views"]["label"]["js"] is None
    assert out["views"]["length"]["js"] is not None
    assert "note: label: the reference has no labels" in r.stderr


@pytest.mark.parametrize(("args", "words"), [
    ([], "needs a reference: --reference REF"),
    (["--reference", "REF", "--vocab-size", "0"], "vocabulary size 0"),
    (["--reference", "REF", "--metadata-col", "nope"], "'nope' is not a metadata column"),
    (["--reference", "missing.csv"], "does not exist"),
])
def test_cli_shift_bad_input_is_one_error_line(small_files, args, words):
    a, b = small_files
    args = [str(b) if x == "REF" else x for x in args]
    r = dq("shift", str(a), "--no-embeddings", *args)
    assert r.returncode == 2
    err = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and words in err[0], r.stderr
    assert "Traceback" not in r.stderr
