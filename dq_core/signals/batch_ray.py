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


REACH_TIMEOUT_S = 5.0  # the TCP connect to a cluster's address
ANSWER_TIMEOUT_S = 10.0  # its first reply; with the connect (and a name lookup) well under 30 s
# A Ray head (GCS, HOST:6379) and a Ray Client server (ray://HOST:10001) are gRPC servers: HTTP/2, whose
# server opens every connection with a SETTINGS frame (type 4, the 4th byte of a frame's 9-byte header).
_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes.fromhex("000000040000000000")
_H2_SETTINGS = 0x04


def _host_port(address: str) -> tuple[str, int] | None:
    """HOST and PORT of ``ray://HOST:PORT`` or ``HOST:PORT``; None for what Ray resolves itself (auto)."""
    a = address.strip()
    a = a[len("ray://"):] if a.startswith("ray://") else a
    host, sep, port = a.rpartition(":")
    if not sep or not port.isdigit() or not host:
        return None
    return host.strip("[]"), int(port)


def check_reachable(address: str, where: str) -> None:
    """Whether a Ray cluster answers at ``address``, known within seconds: Ray itself retries a closed
    port, a host that does not answer or a port that is no Ray server for minutes. A TCP connect, then
    the HTTP/2 greeting every gRPC server sends (not tried under TLS, RAY_USE_TLS, where it is encrypted)."""
    import os
    import socket

    hp = _host_port(address)
    if hp is None:
        return
    fix = ("check the address (ray://HOST:10001, or HOST:6379 on a cluster node) and that the cluster is up, "
           f"or drop {where} for a local Ray; nothing was written")
    try:
        with socket.create_connection(hp, timeout=REACH_TIMEOUT_S) as sock:
            if os.environ.get("RAY_USE_TLS", "0").lower() in ("1", "true"):
                return
            sock.settimeout(ANSWER_TIMEOUT_S)
            sock.sendall(_H2_PREFACE)
            head = b""
            while len(head) < 9:
                got = sock.recv(9 - len(head))
                if not got:
                    break
                head += got
    except OSError as exc:
        why = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or type(exc).__name__)
        raise DataError(f"no Ray cluster answers at '{address}' ({where}: {why}): {fix}") from None
    if len(head) < 9 or head[3] != _H2_SETTINGS:
        raise DataError(f"'{address}' ({where}) answers, but not as a Ray cluster does (no gRPC): {fix}")


def connect(address: str | None, say=None):
    """The ray module, connected to the cluster at ``address`` (else RAY_ADDRESS, else a local Ray started
    for this run); a DataError when Ray is missing or the cluster does not answer, within 30 s."""
    import os

    try:
        import ray
    except ImportError:
        raise DataError('the ray backend needs Ray: pip install "dq-dashboard[distributed]" (or "ray[data]"); '
                        "or use --backend local") from None
    if ray.is_initialized():
        return ray
    target = address or os.environ.get("RAY_ADDRESS") or None
    where = "--address" if address else "RAY_ADDRESS"
    kwargs = {"address": address} if address else {}
    kwargs.update(log_to_driver=False, include_dashboard=False)
    try:
        if target:
            check_reachable(target, where)
        _init_keeping_sigterm(ray, kwargs)
    except DataError:
        raise
    except (ConnectionError, ValueError, RuntimeError) as exc:
        # Ray logs the real cause (often a missing auth token: a `ray start` head of recent Ray asks for
        # one, and a client with RAY_AUTH_MODE unset sends none) and raises a bare "failed to connect".
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise DataError(f"cannot reach a Ray cluster at '{target}': {first[:200]}; "
                        "check the address (ray://HOST:10001 or HOST:6379) or drop --address; if the cluster "
                        "uses token authentication, set RAY_AUTH_MODE=token and give its token in "
                        "~/.ray/auth_token or RAY_AUTH_TOKEN") from None
    if say:
        say(f"ray: connected ({target or 'a local Ray for this run'})")
    return ray


def _init_keeping_sigterm(ray, kwargs: dict) -> None:
    """ray.init, with the process's SIGTERM handler put back: Ray's driver installs one that calls sys.exit and
    keeps it after ray.shutdown, so a later fork (a multiprocessing pool) inherits it, and `dq`'s own handler
    (which removes temporary files) would be replaced for the rest of the command."""
    import signal
    import threading

    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if main else None
    ray.init(**kwargs)
    if main and previous is not None:
        signal.signal(signal.SIGTERM, previous)


def run_ray(plan: Plan, out: Path, *, address: str | None = None, stop_after: int | None = None,
            say=None, workers: int | None = None) -> int:
    todo = pending_shards(plan, out)
    if stop_after is not None:
        todo = todo[:stop_after]
    if not todo:
        return 0
    ray = connect(address)
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
