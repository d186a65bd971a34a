"""Approximate neighbours: dq_core's k-means cells, faiss (HNSW, IVF), hnswlib, usearch and pynndescent
against the exact blocked search.

Every method runs in a fresh process (``--one METHOD``), so pynndescent's numba compilation and every
library's import are inside its wall time, as a new `dq signals` process pays them. The task is the one
dq_core asks for: the self-graph of n L2-normalised 384-d vectors with GRAPH_K = 30 neighbours, self
excluded. Recall@k is measured against the exact neighbours of a fixed sample of query rows.

``--data clustered`` (default): a Gaussian mixture (200 centres, unequal sizes and spreads, normalised)
with 1% exact duplicate rows, closer to sentence embeddings than uniform random unit vectors.
``--data tweets``: the tweets demo's MiniLM vectors resampled and jittered as bench_signals.py builds
them (needs the demo's embeddings, computed once into the bench workspace).

    python bench/bench_ann.py                    # 100k rows, writes the docs section
    python bench/bench_ann.py --data tweets --methods dq,faiss:32:80:64 --no-doc
    python bench/bench_ann.py --rows 1000000 --methods usearch,hnswlib --no-doc

The other libraries are the ``bench`` extra (``pip install -e ".[bench]"``): dq_core itself needs none.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

K = 30  # dq_core.space.neighbors.GRAPH_K
N_EVAL = 2000
DIM = 384
NOTES = """Methods: `dq` is `find_neighbors(exact=False)` as the library runs it: k-means cells searched as
dense blocks (dq_core/space/cell_search.py: round(sqrt(n)) spherical k-means cells, 10 iterations on 32
rows per cell; the rows of each cell compared by one matrix product with every row of the 32 cells whose
centres are nearest, top k kept with exact fp32 similarities); `cells:P` the same with P cells probed;
`faiss:M:efc:ef` faiss `IndexHNSWFlat` (links per node, efConstruction, efSearch; `faiss:32:80:64` is the
backend dq_core used before); `hnswlib:M:efc:ef`, `usearch:dtype:M:efc:ef` the other HNSW libraries;
`faissivf:nlist:nprobe` faiss's inverted file; `exact` dq_core's blocked exact search; `pynndescent`
NNDescent (numba compiled in the process). Recall counts a returned row as right when its similarity
reaches the true k-th one (ties from duplicates make the true set ambiguous).

Why the cells are faster at the same recall: an inverted file or a graph scores candidates query by query
(a few GFLOP/s); grouping the queries of a cell makes every candidate score part of one matrix product,
so the ~10 % of all pairs it scores cost less CPU than HNSW's graph walks. The top-k over the long rows
of each product costs about half as much again. Thread races cannot change the result: the graph is the
same for the same seed. Probing per query (a classic inverted file: each query its own nearest cells)
reached the same recall with half the probes in a trial, but one short top-k per (query, cell) made it
slower than the long rows here.

Scaling, and the inverted file's n^1.5: with ~sqrt(n) cells and a fixed probe count a query scores
probe x n / cells = 32 sqrt(n) rows, so the total is ~32 n^1.5 x dim (it holds for this method as for
faiss IVF): 10 % of all pairs at 100k, 3 % at 1M, i.e. ~32x the 100k work for 10x the rows (~8-12
CPU-minutes at 1M, about what HNSW needed by its n log n estimate, not measured). HNSW with fewer links
(M 16, efConstruction 40, the cheaper setting) fell to recall@10 0.83 on the clustered vectors and 0.95
(recall@30 0.91) on the tweets for 34-37 CPU s: more CPU than the cells for less recall."""


def clustered_vectors(n: int, *, dim: int = DIM, n_centres: int = 200, dup_frac: float = 0.01,
                      seed: int = 0) -> np.ndarray:
    """Normalised Gaussian-mixture vectors: cluster sizes Zipf-like, spreads between 0.6 and 1.4."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_centres, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    weights = 1.0 / np.arange(1, n_centres + 1) ** 0.7
    weights /= weights.sum()
    comp = rng.choice(n_centres, size=n, p=weights)
    spread = rng.uniform(0.6, 1.4, n_centres).astype(np.float32)
    out = np.empty((n, dim), dtype=np.float32)
    step = 100_000
    for s in range(0, n, step):
        c = comp[s:s + step]
        noise = rng.standard_normal((len(c), dim)).astype(np.float32) / np.sqrt(dim)
        out[s:s + step] = centres[c] + spread[c, None] * noise
    n_dup = int(n * dup_frac)
    if n_dup:
        src = rng.choice(n, n_dup, replace=False)
        dst = rng.choice(np.setdiff1d(np.arange(n), src), n_dup, replace=False)
        out[dst] = out[src]
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


DATA = os.environ.get("DQ_BENCH_ANN_DATA", "clustered")  # set from --data; children inherit it


def tweet_vectors(n: int) -> np.ndarray:
    """The tweets demo's MiniLM vectors resampled to ``n`` rows and jittered, as bench_signals.py builds
    them (real sentence-embedding geometry; many rows are near copies of each other)."""
    os.environ.setdefault("DQ_HOME", str(HERE.parent / ".dq-bench"))
    sys.path.insert(0, str(HERE))
    from bench_signals import resample

    from dq_core.data.io import load_demo
    from dq_core.data.workspace import Workspace
    from dq_core.space.embed import embed_dataset

    tweets, _ = load_demo("tweets")
    emb = embed_dataset(tweets, workspace=Workspace.default(), precision="float32").vectors
    texts = tweets.texts.to_numpy(dtype=object)
    labels = tweets.labels.to_numpy(dtype=object)
    return resample(texts, labels, tweets.frame["confidence"].to_numpy(), emb, n, 0)[3]


def data_path(n: int) -> Path:
    suffix = "" if DATA == "clustered" else f"-{DATA}"
    p = Path(os.environ.get("TMPDIR", "/tmp")) / f"dq-bench-ann-{n}{suffix}.npy"
    if not p.exists():
        tmp = p.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(tmp, clustered_vectors(n) if DATA == "clustered" else tweet_vectors(n))
        os.replace(tmp, p)
    return p


def eval_rows(n: int) -> np.ndarray:
    return np.random.default_rng(1).choice(n, min(N_EVAL, n), replace=False)


def truth_path(n: int) -> Path:
    """Exact K neighbours (self excluded) of the eval rows; ties broken by the fp32 matmul."""
    p = data_path(n).with_suffix(".truth.npy")
    if not p.exists():
        x = np.load(data_path(n))
        rows = eval_rows(n)
        sims = x[rows] @ x.T
        sims[np.arange(len(rows)), rows] = -np.inf
        top = np.argsort(-sims, axis=1, kind="stable")[:, :K]
        np.save(p, top)
        np.save(p.with_suffix(".sims.npy"), np.take_along_axis(sims, top, axis=1))
    return p


def pynndescent_graph(index: np.ndarray, query: np.ndarray | None, k: int,
                        seed: int) -> tuple[np.ndarray, np.ndarray]:
    from pynndescent import NNDescent

    n = len(index)
    # The query case must not ask pynndescent for more neighbours than the index has rows.
    n_neighbors = min(max(k + 1, 15), n - 1) if query is None else min(max(k, 15), n - 1)
    nnd = NNDescent(index, n_neighbors=n_neighbors, metric="cosine", random_state=seed, n_jobs=-1,
                    low_memory=True, compressed=False)
    if query is None:
        idx, dist = nnd.neighbor_graph
        # Drop each point itself wherever it appears: with exact duplicates (distance 0 ties) the point is
        # not always listed first, and taking idx[:, :k] would keep it as its own neighbour.
        is_self = idx == np.arange(n)[:, None]
        has_self = is_self.any(axis=1)
        keep = ~is_self
        keep[~has_self, -1] = False  # no self in the row: drop the farthest so every row keeps width-1
        width = idx.shape[1] - 1
        idx = idx[keep].reshape(n, width)[:, :k]
        dist = dist[keep].reshape(n, width)[:, :k]
        return idx.astype(np.int64), dist.astype(np.float32)
    nnd.prepare()
    idx, dist = nnd.query(query, k=k)
    return idx.astype(np.int64), dist.astype(np.float32)


def run_one(method: str, n: int, threads: int) -> dict:
    t0 = time.perf_counter()
    x = np.load(data_path(n), mmap_mode="r")
    x = np.ascontiguousarray(x)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    c0 = time.process_time()  # CPU seconds of every thread: less sensitive than wall time to a busy machine
    if method == "exact":
        from dq_core.space.neighbors import find_neighbors

        res = find_neighbors(x, k=K, exact=True)
        idx, _dist = res.indices, res.distances
        t_build = 0.0
    elif method == "pynndescent":
        idx, _dist = pynndescent_graph(x, None, K, 0)
        t_build = 0.0
    elif method.startswith("hnswlib"):
        # hnswlib[:M:ef_construction:ef_search]
        import hnswlib

        m_, efc, efs = (int(v) for v in (method.split(":")[1:] or [16, 100, 2 * (K + 1)]))
        t1 = time.perf_counter()
        index = hnswlib.Index(space="ip", dim=x.shape[1])
        index.init_index(max_elements=n, ef_construction=efc, M=m_, random_seed=0)
        index.set_num_threads(threads)
        index.add_items(x, np.arange(n))
        t_build = time.perf_counter() - t1
        index.set_ef(max(efs, K + 1))
        lab, d = index.knn_query(x, k=K + 1)
        idx, _dist = lab.astype(np.int64), d.astype(np.float32)
    elif method.startswith("faissivf"):
        # faissivf:nlist:nprobe: IndexIVFFlat on inner product, k-means cells trained on the data
        import faiss

        nlist, nprobe = (int(v) for v in (method.split(":")[1:] or [1024, 16]))
        faiss.omp_set_num_threads(threads)
        t1 = time.perf_counter()
        quant = faiss.IndexFlatIP(x.shape[1])
        index = faiss.IndexIVFFlat(quant, x.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
        index.train(x[np.random.default_rng(0).choice(n, min(n, 40 * nlist), replace=False)])
        index.add(x)
        t_build = time.perf_counter() - t1
        index.nprobe = nprobe
        sims, lab = index.search(x, K + 1)
        idx, _dist = lab.astype(np.int64), (1.0 - sims).astype(np.float32)
    elif method.startswith("faiss"):
        # faiss[:M:ef_construction:ef_search]: IndexHNSWFlat on inner product (unit vectors: 1 - cos)
        import faiss

        m_, efc, efs = (int(v) for v in (method.split(":")[1:] or [16, 100, 2 * (K + 1)]))
        faiss.omp_set_num_threads(threads)
        t1 = time.perf_counter()
        index = faiss.IndexHNSWFlat(x.shape[1], m_, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = efc
        index.add(x)
        t_build = time.perf_counter() - t1
        index.hnsw.efSearch = max(efs, K + 1)
        sims, lab = index.search(x, K + 1)
        idx, _dist = lab.astype(np.int64), (1.0 - sims).astype(np.float32)
    elif method.startswith("usearch"):
        # usearch[:dtype:connectivity:expansion_add:expansion_search]
        from usearch.index import Index

        parts = method.split(":")[1:]
        dtype = parts[0] if parts else "f32"
        m_, efa, efs = (int(v) for v in (parts[1:] or [16, 128, 2 * (K + 1)]))
        t1 = time.perf_counter()
        index = Index(ndim=x.shape[1], metric="cos", dtype=dtype, connectivity=m_, expansion_add=efa,
                      expansion_search=max(efs, K + 1))
        index.add(np.arange(n), x, threads=threads)
        t_build = time.perf_counter() - t1
        m = index.search(x, K + 1, threads=threads)
        idx, _dist = m.keys.astype(np.int64), m.distances.astype(np.float32)
    elif method.startswith("cells"):
        # cells[:probe]: dq_core's k-means cells searched as dense blocks, ~sqrt(n) cells, probe cells each
        from dq_core.space.cell_search import CELL_PROBE, cell_search

        probe = int(method.split(":")[1]) if ":" in method else CELL_PROBE
        idx, _sims = cell_search(x, None, K + 1, probe=probe, threads=threads)
        t_build = 0.0
    elif method == "dq":  # what dq_core.space.neighbors uses for large sets
        from dq_core.space.neighbors import find_neighbors

        idx = find_neighbors(x, k=K, exact=False).indices
        t_build = 0.0
    else:
        raise SystemExit(f"unknown method {method}")
    t_total = time.perf_counter() - t0
    cpu_total = time.process_time() - c0
    rows = eval_rows(n)
    got = idx[rows]
    if got.shape[1] > K:  # library output with self: drop the row itself wherever it is
        keep = got != rows[:, None]
        keep[keep.all(axis=1), -1] = False
        got = got[keep].reshape(len(rows), got.shape[1] - 1)
    self_hits = int((got == rows[:, None]).sum())
    rec = {}
    truth_sims = np.load(truth_path(n).with_suffix(".sims.npy"))
    xr = x[rows]
    for kk in (10, K):
        # Recall counts a returned row as right if its similarity reaches the k-th true similarity: exact
        # duplicates make the true neighbour set ambiguous by ties.
        sims_got = np.einsum("qd,qkd->qk", xr, x[got[:, :kk]])
        thr = truth_sims[:, kk - 1:kk] - 1e-5
        rec[f"recall@{kk}"] = float((sims_got >= thr).mean())
    hwm = next((int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
                if line.startswith("VmHWM:")), 0)  # ru_maxrss would carry the parent's peak over exec
    return {"method": method, "n": n, "threads": threads, "load_s": round(t_load, 2),
            "build_s": round(t_build, 1), "total_s": round(t_total, 1), "cpu_s": round(cpu_total, 1), **{k: round(v, 4) for k, v in rec.items()},
            "self_in_eval_rows": self_hits,
            "peak_rss_gb": round(hwm / 2**20, 2)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--methods", default="exact,pynndescent,hnswlib,usearch,usearch:f16")
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--data", choices=("clustered", "tweets"), default="clustered",
                    help="clustered: Gaussian mixture; tweets: MiniLM tweet vectors resampled and jittered")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--no-doc", action="store_true")
    ap.add_argument("--json", help="append each result to this JSON-lines file")
    ap.add_argument("--from-json", help="write the docs table from results saved with --json (no runs)")
    args = ap.parse_args()
    global DATA
    DATA = os.environ["DQ_BENCH_ANN_DATA"] = args.data
    if args.one:
        print(json.dumps(run_one(args.one, args.rows, args.threads)))
        return 0
    from _common import load_avg, machine, write_subsection

    results = []
    if args.from_json:
        with open(args.from_json) as f:
            saved = [json.loads(line) for line in f if line.strip()]
        results = [r for r in saved if r["n"] == args.rows]
    else:
        t0 = time.perf_counter()
        data_path(args.rows)
        truth_path(args.rows)
        print(f"data + truth ready in {time.perf_counter() - t0:.1f} s", flush=True)
    for method in [] if args.from_json else args.methods.split(","):
        before = load_avg()
        out = subprocess.run([sys.executable, __file__, "--one", method, "--rows", str(args.rows),
                              "--threads", str(args.threads), "--data", args.data], capture_output=True, text=True)
        if out.returncode != 0:
            print(out.stderr[-2000:], file=sys.stderr)
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        r["load_before"], r["load_after"] = before, load_avg()
        print(json.dumps(r), flush=True)
        results.append(r)
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(r) + "\n")
    if args.no_doc:
        return 0
    lines = [
        f"- Date: {date.today().isoformat()}",
        f"- Machine: {machine()}",
        f"- Command: `.venv/bin/python bench/bench_ann.py --rows {args.rows} --data {args.data} --methods "
        f"{','.join(r['method'] for r in results)}` (one fresh process per method, run one after another)",
        f"- {args.rows:,} " + ("clustered 384-d unit vectors (200 Gaussian centres, Zipf sizes, 1% exact "
                              "duplicates)" if args.data == "clustered" else
                              "MiniLM vectors of the tweets demo, resampled with replacement and jittered "
                              "(sigma 0.03 per dimension, renormalised), as bench/bench_signals.py builds them")
        + f"; self-graph with k = {K} (the shared graph width), self excluded; recall on "
        f"{N_EVAL:,} rows against the exact search; each method in a fresh process (imports and numba "
        f"compilation included); {args.threads} threads",
        "",
        "| method | wall s (build + query) | CPU s (all threads) | build s | recall@10 | recall@30 | peak RSS GB | "
        "1-min load before / after |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(f"| {r['method']} | {r['total_s']} | {r.get('cpu_s', '-')} | {r['build_s'] or '-'} | "
                     f"{r['recall@10']:.3f} | {r['recall@30']:.3f} | {r['peak_rss_gb']} | "
                     f"{r['load_before'].split()[0]} / {r['load_after'].split()[0]} |")
    lines += ["", NOTES]
    write_subsection("## Scale: approximate neighbours and dq compute", "Neighbours, your own vectors, and `dq compute`.",
                     f"Approximate neighbours at {args.rows:,} rows"
                     + ("" if args.data == "clustered" else f" ({args.data})"), "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
