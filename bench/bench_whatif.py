"""Benchmark: recomputing the Clean page's before/after panel for a new recipe.

Measures, at each size, the time to apply a new recipe and recompute every panel figure (rows per class,
balance index, imbalance ratio, noise ratio, reference/scene/sample coverage, JS of the label, length,
vocabulary and embedding-cluster views) against precomputed inputs (dq_core.filtering.FilterInputs +
dq_core.filtering.whatif.WhatIfContext), and compares it with recomputing the same figures from scratch on the
filtered data (build the inputs, apply, filter, compute_class_balance, the shift views, an exact
nearest-neighbour search for reference coverage).

Data are synthetic (say so in the figures): Zipf-distributed word texts with class- and topic-dependent
words, a reference set of REF_ROWS rows, 32-dimensional unit vectors around 40 centres (the centre index
stands in for the joint clustering, so no k-means runs), a hand-made signals frame (8% label issues with
suggestions, 3% exact duplicates with their groups, 1% junk, outlier scores).

    .venv/bin/python bench/bench_whatif.py --rows 100000 1000000 --out bench/whatif.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's dq_core, and tests.filtering.whatif_oracle (the slow way)

from _common import cpu_name  # noqa: E402

from dq_core.data.dataset import ColumnMapping, build_dataset  # noqa: E402
from dq_core.filtering import (  # noqa: E402
    ClassRule,
    ConditionRule,
    Decision,
    FilterInputs,
    FilterRecipe,
    RowSet,
    SignalRule,
    apply_prepared,
    default_recipe,
)
from dq_core.filtering import whatif as wi  # noqa: E402
from tests.filtering.whatif_oracle import scratch_figures  # noqa: E402

CLASSES = ("negative", "neutral", "positive", "mixed")
N_TOPICS = 8
N_CENTRES = 40
DIM = 32
VOCAB = 5000
REF_ROWS = 5000
K = 32


class Emb:
    def __init__(self, vectors, valid):
        self.vectors, self.valid = vectors, valid


def make_texts(rng, n: int, labels: np.ndarray, topics: np.ndarray) -> list[str]:
    lengths = rng.integers(3, 26, size=n)
    total = int(lengths.sum())
    words = rng.zipf(1.3, size=total) % VOCAB
    owner = np.repeat(np.arange(n), lengths)
    # a class- and topic-dependent offset so the views have something to measure
    words = (words + 37 * labels[owner] + 101 * topics[owner]) % VOCAB
    vocab = np.array([f"w{i}" for i in range(VOCAB)], dtype=object)
    toks = vocab[words]
    bounds = np.r_[0, np.cumsum(lengths)]
    return [" ".join(toks[bounds[i]:bounds[i + 1]]) for i in range(n)]


def make_data(n: int, seed: int):
    rng = np.random.default_rng(seed)
    labels = rng.choice(len(CLASSES), size=n, p=[0.4, 0.3, 0.2, 0.1])
    topics = rng.integers(0, N_TOPICS, size=n)
    texts = make_texts(rng, n, labels, topics)
    dup = rng.random(n) < 0.03
    src = rng.integers(0, n, size=n)
    texts = [texts[src[i]] if dup[i] else texts[i] for i in range(n)]
    junk = rng.random(n) < 0.01
    for i in np.flatnonzero(junk):
        texts[i] = "!!!!"
    frame = pd.DataFrame({"text": texts, "label": np.array(CLASSES, dtype=object)[labels],
                          "topic": np.array([f"t{t}" for t in range(N_TOPICS)], dtype=object)[topics],
                          "confidence": np.round(rng.uniform(0.3, 1.0, n), 3)})
    ds = build_dataset(frame, ColumnMapping("text", "label", metadata=("topic", "confidence")), name=f"synthetic-{n}")
    centres = rng.normal(size=(N_CENTRES, DIM)).astype(np.float32)
    centre = (topics * 5 + labels) % N_CENTRES
    x = centres[centre] + 0.8 * rng.normal(size=(n, DIM)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return ds, Emb(x.astype(np.float32), np.ones(n, dtype=bool)), centre


def make_signals(ds, rng) -> pd.DataFrame:
    n = len(ds)
    from dq_core.util.text import exact_duplicate_codes, first_row_of_group

    group = first_row_of_group(exact_duplicate_codes(ds.texts))  # the exact_duplicate signal's ids
    is_label = rng.random(n) < 0.08
    label_score = np.where(is_label, rng.uniform(0, 0.2, n), rng.uniform(0.2, 1, n))
    lab = ds.labels.to_numpy(dtype=object)
    shift = rng.integers(1, len(CLASSES), size=n)
    idx = pd.Categorical(lab, categories=list(CLASSES)).codes
    suggested = np.where(is_label, np.array(CLASSES, dtype=object)[(idx + shift) % len(CLASSES)], lab)
    junk = ds.texts.eq("!!!!").to_numpy()
    outlier = rng.uniform(0, 1, n)
    return pd.DataFrame({
        "row_id": ds.row_ids, "label_score": label_score, "is_label_issue": is_label,
        "suggested_label": suggested, "suggested_label_prob": rng.uniform(0.3, 1.0, n),
        "exact_duplicate_score": np.where(group >= 0, 0.0, 1.0), "is_exact_duplicate_issue": group >= 0,
        "exact_duplicate_group": group, "junk_score": np.where(junk, 0.0, 1.0), "is_junk_issue": junk,
        "outlier_score": outlier, "is_outlier_issue": outlier < 0.02,
    })


def topk_neighbours(index: np.ndarray, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k by blocked matmul, in blocks small enough for a 1M-row index."""
    block = max(1, 30_000_000 // len(index))
    idx = np.empty((len(query), k), dtype=np.int64)
    dist = np.empty((len(query), k), dtype=np.float32)
    for s in range(0, len(query), block):
        sims = query[s:s + block] @ index.T
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        ps = np.take_along_axis(sims, part, axis=1)
        order = np.argsort(-ps, axis=1, kind="stable")
        idx[s:s + block] = np.take_along_axis(part, order, axis=1)
        dist[s:s + block] = 1.0 - np.take_along_axis(ps, order, axis=1)
    return idx, dist


def recipes(n: int, rng) -> list[FilterRecipe]:
    some = tuple(int(i) for i in rng.choice(n, size=min(1000, n), replace=False))
    sel = tuple(int(i) for i in rng.choice(n, size=min(10_000, n), replace=False))
    return [
        default_recipe(),
        FilterRecipe(name="thresholds", signals=(SignalRule("label", threshold=0.15, use_flag=False),
                                                 SignalRule("outlier", threshold=0.05, use_flag=False))),
        FilterRecipe(name="conditions", signals=(SignalRule("junk"),),
                     conditions=(ConditionRule("confidence < 0.4 and topic in ['t1', 't2']"),)),
        FilterRecipe(name="cap+relabel", classes=(ClassRule("negative", "cap", max_rows=n // 5),
                                                  ClassRule("mixed", "relabel", to="neutral"))),
        FilterRecipe(name="decisions+rowset", signals=(SignalRule("exact_duplicate", action="dedupe"),),
                     row_sets=(RowSet("lasso", sel),),
                     decisions=tuple(Decision(i, "keep" if j % 2 else "drop") for j, i in enumerate(some))),
        FilterRecipe(name="label relabel 0.5", signals=(SignalRule("label", action="relabel_or_drop", min_prob=0.5),
                                                        SignalRule("junk"))),
    ]


def bench(n: int, repeats: int, scratch_recipes: int) -> dict:
    rng = np.random.default_rng(0)
    out: dict = {"rows": n, "reference_rows": REF_ROWS, "load_average_at_start": os.getloadavg()}
    t = time.perf_counter()
    ds, emb, centre = make_data(n, seed=1)
    ref, ref_emb, ref_centre = make_data(REF_ROWS, seed=2)
    sig = make_signals(ds, rng)
    out["make_data_s"] = time.perf_counter() - t

    t = time.perf_counter()
    inputs = FilterInputs(ds, sig).prepare()
    out["prepare_inputs_s"] = time.perf_counter() - t
    t = time.perf_counter()
    nn = topk_neighbours(emb.vectors, ref_emb.vectors, K)
    out["prepare_neighbour_lists_s"] = time.perf_counter() - t

    class JC:  # the synthetic centres stand in for the joint clustering
        ds_labels, ref_labels, k = centre, ref_centre, N_CENTRES

    t = time.perf_counter()
    radius = float(np.percentile(nn[1][:, 0], 90))
    probs = rng.dirichlet(np.full(len(CLASSES), 0.5), size=n)  # stand-in for the label signal's probabilities
    ctx = wi.prepare_what_if(ds, ref, sig, ds_embeddings=emb, ref_embeddings=ref_emb, clusters=JC,
                             config=wi.WhatIfConfig(radius=radius, n_neighbors=K), ref_neighbors=nn,
                             label_probs=probs)
    out["prepare_context_s"] = time.perf_counter() - t
    wi.figures(ctx)

    per_recipe = {}
    all_times, all_cpu = [], []
    for rec in recipes(n, rng):
        times, cpu = [], []
        for _ in range(repeats):
            inputs._cond_cache.clear()  # a new recipe: its conditions are evaluated afresh
            t, c = time.perf_counter(), time.process_time()
            res = apply_prepared(inputs, rec, strict=False)
            wi.figures_for(ctx, res)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        per_recipe[rec.name] = {"median_s": statistics.median(times), "max_s": max(times),
                                "cpu_median_s": statistics.median(cpu),
                                "kept": res.n_kept, "relabelled": res.n_relabelled, "fallbacks": ctx.fallbacks}
        all_times += times
        all_cpu += cpu
    out["panel"] = {"median_s": statistics.median(all_times), "max_s": max(all_times),
                    "cpu_median_s": statistics.median(all_cpu), "cpu_max_s": max(all_cpu), "per_recipe": per_recipe}

    scratch, scratch_cpu = [], []
    for rec in recipes(n, rng)[:scratch_recipes]:
        c = time.process_time()
        t = time.perf_counter()
        fresh = FilterInputs(ds, sig)
        res = apply_prepared(fresh, rec, strict=False)
        after = ds.subset(res.keep_mask).with_labels(res.final_labels()[res.keep_mask])
        scratch_figures(after, ref, label_probs=probs[res.keep_mask], prob_classes=sorted(CLASSES),
                        ds_vectors=emb.vectors[res.keep_mask],
                        ref_vectors=ref_emb.vectors, ds_clusters=centre[res.keep_mask], ref_clusters=ref_centre,
                        n_clusters=N_CENTRES, radius=radius, config=ctx.config)
        scratch.append(time.perf_counter() - t)
        scratch_cpu.append(time.process_time() - c)
    out["scratch"] = {"median_s": statistics.median(scratch), "runs": scratch,
                      "cpu_median_s": statistics.median(scratch_cpu)}
    out["ratio_scratch_over_panel"] = out["scratch"]["median_s"] / out["panel"]["median_s"]
    out["load_average_at_end"] = os.getloadavg()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--scratch-recipes", type=int, default=2)
    ap.add_argument("--out", default="bench/whatif.json")
    args = ap.parse_args()
    results = {"machine": {"platform": platform.platform(), "python": platform.python_version(),
                           "processor": cpu_name()}, "runs": []}
    for n in args.rows:
        r = bench(n, args.repeats, args.scratch_recipes)
        results["runs"].append(r)
        print(json.dumps({k: v for k, v in r.items() if k != "panel"}
                         | {k: r["panel"][k] for k in ("median_s", "max_s", "cpu_median_s", "cpu_max_s")}), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
