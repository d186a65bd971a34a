"""Opening a `dq compute` output folder: the rows, the computed vectors and the signals, without recomputing;
clear errors for an interrupted compute, a folder that is not one, and inputs that changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.signals import compute_signals, load_cached_report
from dq_core.signals.batch import ComputeConfig, read_output
from dq_core.signals.batch_compute import compute
from dq_core.signals.compute_output import check_compute_output, open_compute_output
from dq_core.space.embed_cache import cached_dataset_embeddings, has_dataset_embeddings

CONFIG = ComputeConfig(shard_rows=25, precision="float32")


def assert_same_frames(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Same columns and values (missing cells compare equal whether None or NaN: the cache's Parquet
    round trip writes either)."""
    assert set(a.columns) == set(b.columns)
    for c in b.columns:
        if b[c].dtype.kind == "f":
            np.testing.assert_allclose(a[c].to_numpy(float), b[c].to_numpy(float), atol=1e-6, err_msg=c)
        else:
            def norm(s: pd.Series) -> list:
                return [None if pd.isna(v) else str(v) for v in s.astype(object)]
            assert norm(a[c]) == norm(b[c]), c


def small_parquet(d: Path, n_ham: int = 40, n_spam: int = 20) -> Path:
    from dq_core.data.io import load_demo

    f = load_demo("sms_spam")[0].frame.drop_duplicates("text")
    rng = np.random.default_rng(1)
    pick = np.sort(np.concatenate([rng.choice(np.flatnonzero(f["label"] == "ham"), n_ham, replace=False),
                                   rng.choice(np.flatnonzero(f["label"] == "spam"), n_spam, replace=False)]))
    rows = f.iloc[pick][["text", "label"]].reset_index(drop=True)
    rows.loc[3, "text"] = rows.loc[4, "text"]  # an exact duplicate
    d.mkdir(parents=True, exist_ok=True)
    rows.to_parquet(d / "sms.parquet")
    return d / "sms.parquet"


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("co")
    data = small_parquet(d / "data")
    out = d / "out"
    summary = compute(str(data), out, CONFIG, workspace=Workspace(d / "ws_compute"))
    assert summary["state"] == "done"
    return {"dir": d, "data": data, "out": out}


def test_opens_rows_vectors_and_signals_without_recomputing(finished, tmp_path):
    ws = Workspace(tmp_path / "ws")
    ds = open_compute_output(finished["out"], workspace=ws)
    src = pd.read_parquet(finished["data"])
    assert len(ds) == 60 and ds.texts.tolist() == src["text"].tolist()
    assert ds.name == "out · dq compute"
    # the vectors are the compute's, served wherever the dataset's embeddings are asked for
    emb = cached_dataset_embeddings(ds, workspace=ws)
    stored = read_output(finished["out"], "embeddings")
    np.testing.assert_array_equal(emb.vectors, np.stack(stored["embedding"]).astype(np.float32))
    assert emb.model_name.startswith("compute:") and has_dataset_embeddings(ds, workspace=ws)
    # the signals are in the cache under the Clean page's default key: read, not computed
    rep = load_cached_report(ds, None, workspace=ws, seed=0)
    assert rep is not None and rep.from_cache
    written = read_output(finished["out"], "signals")
    assert_same_frames(rep.frame, written)
    assert rep.summaries["exact_duplicate"]["n_issues"] == 2
    assert "estimated_noise_ratio" in rep.summaries["label"] and "leakage" in rep.skipped
    assert rep.summaries["junk"]["n_issues"] == int(written["is_junk_issue"].sum())
    # the same reopened from the workspace (a browser reload) is the same dataset
    again = ws.load_dataset(ds.fingerprint[:16])
    assert again.fingerprint == ds.fingerprint


def test_signals_from_the_computed_vectors_equal_the_computes(finished, tmp_path):
    """Known answer: recomputing the signals on the opened dataset (its given vectors, no cache) gives the
    frame dq compute wrote."""
    ws = Workspace(tmp_path / "ws")
    ds = open_compute_output(finished["out"], workspace=ws)
    fresh = compute_signals(ds, None, workspace=ws, use_cache=False).frame
    assert_same_frames(fresh, read_output(finished["out"], "signals"))


def test_the_plain_rows_keep_the_models_vectors(finished, tmp_path):
    """The same rows loaded as a file are another dataset: no cache entry of the opened one is theirs."""
    from dq_core.data.io import load_dataset

    ws = Workspace(tmp_path / "ws")
    ds = open_compute_output(finished["out"], workspace=ws)
    plain, _ = load_dataset(str(finished["data"]))
    assert plain.fingerprint != ds.fingerprint
    assert cached_dataset_embeddings(plain, workspace=ws) is None


def test_interrupted_compute_says_how_to_finish(tmp_path):
    data = small_parquet(tmp_path / "data")
    out = tmp_path / "out"
    res = compute(str(data), out, CONFIG, workspace=Workspace(tmp_path / "wsc"), stop_after=1)
    assert res["state"] == "interrupted"
    with pytest.raises(DataError, match=r"unfinished compute .*1 of 3 shards embedded.*run `dq compute` again"):
        check_compute_output(out)


@pytest.mark.parametrize("damage, message", [
    ("no_manifest", "has no manifest.json: it is not a `dq compute` output folder"),
    ("bad_manifest", "is not a `dq compute` manifest"),
    ("missing_part", "unfinished compute"),
    ("no_report", "has no signals/report.json"),
    ("input_changed", "now has 59 rows but 'out' was computed from 60"),
    ("input_gone", "which no longer exists"),
    # Same row count, other rows: only row counts were compared, and a reversed input was opened with
    # its stored labels and signals on the wrong rows.
    ("rows_reversed", "'sms.parquet' changed since 'out' was computed .*run `dq compute` again"),
    ("one_text_changed", "'sms.parquet' changed since 'out' was computed .*run `dq compute` again"),
])
def test_damaged_or_mismatched_folders(finished, tmp_path, damage, message):
    out = tmp_path / "out"
    shutil.copytree(finished["out"], out)
    data = finished["data"]
    manifest = json.loads((out / "manifest.json").read_text())
    if damage in ("input_changed", "input_gone", "rows_reversed", "one_text_changed"):
        data = tmp_path / "sms.parquet"
        shutil.copy(finished["data"], data)
        manifest["plan"]["files"] = [str(data)]
        (out / "manifest.json").write_text(json.dumps(manifest))
    if damage == "no_manifest":
        (out / "manifest.json").unlink()
    elif damage == "bad_manifest":
        (out / "manifest.json").write_text("{not json")
    elif damage == "missing_part":
        (out / "signals" / "part-00001.parquet").unlink()
    elif damage == "no_report":
        (out / "signals" / "report.json").unlink()
    elif damage == "input_changed":
        pd.read_parquet(data).iloc[:59].to_parquet(data)
    elif damage == "input_gone":
        data.unlink()
    elif damage == "rows_reversed":
        pd.read_parquet(data).iloc[::-1].to_parquet(data)
    elif damage == "one_text_changed":
        frame = pd.read_parquet(data)
        frame.iloc[10, frame.columns.get_loc("text")] = "another text"
        frame.to_parquet(data)
    pattern = message if ".*" in message else message.replace("(", r"\(").replace(")", r"\)").replace("`", ".")
    with pytest.raises(DataError, match=pattern):
        check_compute_output(out)


def test_inputs_outside_the_allowed_folder_are_refused(finished, tmp_path):
    with pytest.raises(DataError, match="outside the data folder"):
        check_compute_output(finished["out"], inputs_under=tmp_path)
