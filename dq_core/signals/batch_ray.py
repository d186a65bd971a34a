"""The ``ray`` backend of `dq compute`: stage 1 (embeddings + row-local signals) on a Ray actor pool.

A Ray Dataset of the pending shard numbers goes through ``map_batches`` with an actor class: each actor
loads the embedding model once (on its own GPU when the cluster has GPUs) and runs
:func:`dq_core.signals.batch.run_shard` for every shard it is handed, writing the shard's files itself,
so a shard is finished (and skipped by a rerun) the moment its files exist, whatever happens to the
driver. Stage 2 (the kNN graph, duplicate groups, K-fold label probabilities) then runs once on the
driver over the gathered embeddings, exactly as with the local backend.

On a cluster every node needs this package installed (``pip install "dq-dashboard[distributed]"``) and
must see DATA and ``--out`` at the same paths (a shared filesystem).
"""

from __future__ import annotations

from pathlib import Path

from dq_core.errors import DataError
from dq_core.signals.batch import Plan, pending_shards, run_shard


class ShardWorker:
    """One per actor: holds the model, turns shard numbers into finished shard files."""

    def __init__(self, plan: dict, out: str):
        from dq_core.space.embed_model import load_model

        self.plan = Plan.from_dict(plan)
        self.out = out
        cfg = self.plan.config
        # Loaded once per actor (dq_core.space.embed keeps it in a per-process cache): every shard after
        # the first reuses it.
        load_model(cfg["model"], precision=cfg["precision"])

    def __call__(self, batch: dict) -> dict:
        import numpy as np

        shards = [int(i) for i in batch["shard"]]
        rows = [run_shard(self.plan, i, self.out) for i in shards]
        return {"shard": np.array(shards, dtype=np.int64), "n_rows": np.array(rows, dtype=np.int64)}


def _init_ray(address: str | None):
    try:
        import ray
    except ImportError:
        raise DataError('the ray backend needs Ray: pip install "dq-dashboard[distributed]" (or "ray[data]"); '
                        "or use --backend local") from None
    if not ray.is_initialized():
        kwargs = {"address": address} if address else {}
        try:
            ray.init(**kwargs, log_to_driver=False, include_dashboard=False)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            # Ray logs the real cause (often a missing auth token: a `ray start` head of recent Ray asks for
            # one, and a client with RAY_AUTH_MODE unset sends none) and raises a bare "failed to connect".
            raise DataError(f"cannot reach a Ray cluster at '{address}': {str(exc).splitlines()[0][:200]}; "
                            "check the address (ray://HOST:10001 or HOST:6379) or drop --address; if the cluster "
                            "uses token authentication, set RAY_AUTH_MODE=token and give its token in "
                            "~/.ray/auth_token or RAY_AUTH_TOKEN") from None
    return ray


def run_ray(plan: Plan, out: Path, *, address: str | None = None, stop_after: int | None = None,
            say=None, workers: int | None = None) -> int:
    todo = pending_shards(plan, out)
    if stop_after is not None:
        todo = todo[:stop_after]
    if not todo:
        return 0
    ray = _init_ray(address)
    res = ray.cluster_resources()
    n_gpus = int(res.get("GPU", 0))
    n_cpus = max(1, int(res.get("CPU", 1)))
    if workers is None:
        workers = n_gpus if n_gpus else max(1, n_cpus // 2)
    workers = max(1, min(workers, len(todo)))
    if say:
        say(f"ray: {len(todo)} shards on {workers} actor(s) ({n_gpus} GPU(s), {n_cpus} CPU(s) in the cluster)")
    per_actor_cpus = max(1, n_cpus // workers) if not n_gpus else 1
    ds = ray.data.from_items([{"shard": i} for i in todo], override_num_blocks=len(todo))
    mapped = ds.map_batches(ShardWorker, fn_constructor_kwargs={"plan": plan.to_dict(), "out": str(out)},
                            batch_size=1, concurrency=workers, num_gpus=1 if n_gpus else 0,
                            num_cpus=per_actor_cpus, batch_format="numpy")
    done = 0
    for row in mapped.iter_rows():
        done += 1
        if say:
            say(f"shard {int(row['shard']) + 1}/{len(plan.shards)}: {int(row['n_rows']):,} rows ({done}/{len(todo)})")
    return done
