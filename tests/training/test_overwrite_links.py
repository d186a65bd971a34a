"""Replacing a run never follows a link out of its folder (issue 22: `dq train --overwrite` into a run whose
`baseline_model/` was a symbolic link wrote the new model into the folder the link named)."""

from __future__ import annotations

import os
import shutil

import numpy as np

from dq_core.data.outputs import RUN_MARKER
from dq_core.training import jobs
from tests.cli_helpers import dq
from tests.train_helpers import tiny_frame


def _train(data, vectors, out, *extra):
    # --embeddings: the baseline trains on the given vectors, so no model is loaded
    return dq("train", data, "--trainer", "baseline", "--embeddings", vectors, "--text-col", "text",
              "--label-col", "label", "--quiet", "--out", out, *extra)


def test_train_overwrite_into_a_run_whose_entries_are_symlinks_writes_only_inside_it(tmp_path):
    data, vectors, run = tmp_path / "tiny.csv", tmp_path / "e.npy", tmp_path / "run"
    tiny_frame(60).to_csv(data, index=False)
    np.save(vectors, np.random.default_rng(0).normal(size=(60, 8)).astype(np.float32))
    assert _train(data, vectors, run).returncode == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "weights.npz").write_bytes(b"someone else's model")
    (elsewhere / "notes.txt").write_text("my notes")
    for name in ("baseline_model", "history.jsonl", "log.txt", "metrics.json"):
        target = run / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
    os.symlink(elsewhere, run / "baseline_model")
    os.symlink(elsewhere / "notes.txt", run / "log.txt")
    os.symlink(elsewhere / "notes.txt", run / "metrics.json")
    r = _train(data, vectors, run, "--overwrite")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in elsewhere.iterdir()) == ["notes.txt", "weights.npz"]
    assert (elsewhere / "weights.npz").read_bytes() == b"someone else's model"
    assert (elsewhere / "notes.txt").read_text() == "my notes"
    assert not any(p.is_symlink() for p in run.iterdir())
    assert (run / "baseline_model").is_dir() and (run / RUN_MARKER).is_file() and (run / "metrics.json").is_file()


def test_create_run_removes_links_not_what_they_point_to(tmp_path):
    run, outside = tmp_path / "run", tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    jobs.create_run({"name": "a"}, run)
    jobs.write_status(run, {"state": jobs.SUCCEEDED})
    os.symlink(outside, run / "model")
    os.symlink(outside / "keep.txt", run / "splits.json")
    os.symlink(tmp_path / "missing", run / "checkpoints")  # a dangling one too
    jobs.create_run({"name": "b"}, run)
    assert (outside / "keep.txt").read_text() == "keep"
    assert not any(p.is_symlink() for p in run.iterdir())
    assert jobs.read_config(run)["name"] == "b"
