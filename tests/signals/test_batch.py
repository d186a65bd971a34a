"""`dq compute`: sharded embeddings + signals over Parquet; resumable; the ray backend equals the local one."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dq_core.signals.batch import ComputeConfig, list_parquet_files, read_output
from dq_core.signals.batch_compute import compute
from tests.cli_helpers import dq

# float32: bf16 results move by ~1e-3 with the thread count and batch layout of each process, and this
# test is about the backends giving the same rows, not about bf16 being reproducible across processes.
CONFIG = ComputeConfig(shard_rows=40, precision="float32")


@pytest.fixture(scope="module")
def parquet_folder(tmp_path_factory) -> Path:
    """130 SMS rows in two Parquet files (the first with small row groups), so shards cross files."""
    from dq_core.data.io import load_demo

    full, _ = load_demo("sms_spam")
    f = full.frame
    rng = np.random.default_rng(0)
    pick = np.sort(np.concatenate([rng.choice(np.flatnonzero(f["label"] == "ham"), 90, replace=False),
                                   rng.choice(np.flatnonzero(f["label"] == "spam"), 40, replace=False)]))
    rows = f.iloc[pick][["text", "label"]].reset_index(drop=True)
    rows.loc[5, "text"] = rows.loc[6, "text"]  # an exact duplicate
    rows.loc[7, "text"] = "write to jane.doe@example.com now"  # PII (an e-mail: needs no phone region)
    d = tmp_path_factory.mktemp("compute_in")
    rows.iloc[:70].to_parquet(d / "a.parquet", row_group_size=16)
    rows.iloc[70:].to_parquet(d / "b.parquet")
    return d


def outputs(out: Path) -> dict[str, pd.DataFrame]:
    return {w: read_output(out, w) for w in ("embeddings", "rows", "signals")}


def assert_same(a: dict, b: dict) -> None:
    for what in a:
        fa, fb = a[what], b[what]
        assert list(fa.columns) == list(fb.columns), what
        for c in fa.columns:
            if c == "embedding":
                np.testing.assert_allclose(np.stack(fa[c]), np.stack(fb[c]), atol=1e-6)
            elif fa[c].dtype.kind == "f":
                np.testing.assert_allclose(fa[c].to_numpy(), fb[c].to_numpy(), atol=1e-6, err_msg=f"{what}.{c}")
            else:
                assert fa[c].astype(str).tolist() == fb[c].astype(str).tolist(), f"{what}.{c}"


@pytest.fixture(scope="module")
def uninterrupted(parquet_folder, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("compute_out") / "full"
    summary = compute(str(parquet_folder), out, CONFIG)
    assert summary["state"] == "done" and summary["n_rows"] == 130 and summary["shards"] == 4
    return out


def test_local_compute_writes_shards_keyed_by_row_id(uninterrupted):
    m = json.loads((uninterrupted / "manifest.json").read_text())
    assert m["state"] == "done" and [tuple(s) for s in m["plan"]["shards"]] == [(0, 40), (40, 80), (80, 120),
                                                                                 (120, 130)]
    sig = read_output(uninterrupted)
    assert sig["row_id"].tolist() == list(range(130))
    for name in ("label", "exact_duplicate", "near_duplicate", "outlier", "junk", "pii"):
        assert sig[f"{name}_score"].between(0, 1).all()
    assert sig.loc[5, "is_exact_duplicate_issue"] and sig.loc[6, "is_exact_duplicate_issue"]
    assert sig.loc[7, "is_pii_issue"]
    assert (sig["n_issues"] == sig.filter(regex=r"^is_.*_issue$").sum(axis=1)).all()
    emb = np.stack(read_output(uninterrupted, "embeddings")["embedding"])
    assert emb.shape == (130, 384)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-3)


def test_resumed_compute_equals_uninterrupted(parquet_folder, uninterrupted, tmp_path):
    out = tmp_path / "resumed"
    first = compute(str(parquet_folder), out, CONFIG, stop_after=2)  # "interrupted" after two shards
    assert first == {"state": "interrupted", "shards_done": 2, "shards": 4}
    assert not any((out / "signals").iterdir())
    done_before = {p.name: p.stat().st_mtime_ns for p in (out / "embeddings").iterdir()}
    second = compute(str(parquet_folder), out, CONFIG)
    assert second["state"] == "done"
    for name, mtime in done_before.items():  # finished shards were skipped, not recomputed
        assert (out / "embeddings" / name).stat().st_mtime_ns == mtime
    assert_same(outputs(out), outputs(uninterrupted))


def test_other_settings_in_the_same_folder_are_refused(parquet_folder, uninterrupted):
    from dq_core.errors import DataError

    with pytest.raises(DataError, match="another --out folder"):
        compute(str(parquet_folder), uninterrupted, ComputeConfig(shard_rows=50))


def test_inputs_file_folder_and_glob(parquet_folder, tmp_path):
    assert [p.name for p in list_parquet_files(str(parquet_folder))] == ["a.parquet", "b.parquet"]
    assert [p.name for p in list_parquet_files(str(parquet_folder / "*.parquet"))] == ["a.parquet", "b.parquet"]
    assert [p.name for p in list_parquet_files(str(parquet_folder / "b.parquet"))] == ["b.parquet"]
    r = dq("compute", str(tmp_path / "nothing*.parquet"), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and r.stderr.startswith("error: ") and "glob" in r.stderr


def test_cli_compute_glob(parquet_folder, uninterrupted, tmp_path):
    out = tmp_path / "cli"
    r = dq("compute", str(parquet_folder / "*.parquet"), "--out", str(out), "--shard-rows", "40", "--precision",
           "float32")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["state"] == "done"
    assert_same(outputs(out), outputs(uninterrupted))


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason='ray is not installed (pip install "ray[data]")')
def test_ray_backend_equals_local(parquet_folder, uninterrupted, tmp_path):
    import signal

    import ray

    sigterm = signal.getsignal(signal.SIGTERM)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        summary = compute(str(parquet_folder), tmp_path / "ray", CONFIG, backend="ray", workers=2)
    finally:
        ray.shutdown()
        # Ray's driver leaves its own SIGTERM handler behind: later tests (and their forks) get this process's
        signal.signal(signal.SIGTERM, sigterm)
    assert summary["state"] == "done" and summary["backend"] == "ray"
    assert_same(outputs(tmp_path / "ray"), outputs(uninterrupted))
