"""`dq embed` and `dq coverage` as a user runs them (in-process through `dq_core.cli.main`): real model, exit
codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dq_core.space.embed import embed_texts
from tests.cli_helpers import dq

TOPICS = {
    "flight": ["my flight was delayed again", "the crew lost my bag", "boarding took forever today",
               "great legroom on this flight", "the pilot landed smoothly", "cancelled flight, no voucher",
               "seat upgrade made my day", "airline wifi is so slow"],
    "phone": ["my new iphone camera is great", "the phone battery dies by noon", "ios update broke my apps",
              "the apple watch strap snapped", "love the new ipad screen", "my phone keeps restarting",
              "face id fails in the dark", "this charger is too slow"],
    "festival": ["coachella lineup is out", "festival tickets sold out fast", "desert heat at the festival",
                 "stage times announced tonight", "best headliner in years", "camping at the festival was fun",
                 "lost my friends in the crowd", "music all weekend long"],
}


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    rows = [(t, topic) for topic, ts in TOPICS.items() for t in ts]
    data = pd.DataFrame({"text": [t for t, _ in rows if _ != "festival"] + ["", None],
                         "label": [lab for _, lab in rows if lab != "festival"] + ["flight", "phone"]})
    ref = pd.DataFrame({"text": [t for t, _ in rows]})  # unlabelled reference, all three topics
    paths = {"data": tmp_path / "data.csv", "ref": tmp_path / "ref.csv", "header_only": tmp_path / "empty_ref.csv",
             "one_row": tmp_path / "one.csv"}
    data.to_csv(paths["data"], index=False)
    ref.to_csv(paths["ref"], index=False)
    paths["header_only"].write_text("text\n")
    pd.DataFrame({"text": ["only one"], "label": ["a"]}).to_csv(paths["one_row"], index=False)
    return paths


def test_dq_embed_writes_float32_rows_in_input_order(files, tmp_path):
    out = tmp_path / "vectors.npy"
    r = dq("embed", str(files["data"]), "--out", str(out), "--precision", "float32", "--progress")
    assert r.returncode == 0, r.stderr
    vec = np.load(out)
    frame = pd.read_csv(files["data"])
    assert vec.dtype == np.float32 and vec.shape == (len(frame), 384)
    texts = frame["text"].tolist()
    expected = embed_texts(texts, use_cache=False, precision="float32").vectors
    assert np.allclose(vec, expected, atol=1e-5)
    assert np.all(vec[-2:] == 0)  # empty and missing texts: zero rows, in place
    progress = [ln for ln in r.stderr.splitlines() if ln.startswith("embedding: ")]
    assert "0/16" in progress[0] and "100%" in progress[-1] and "16/16" in progress[-1]
    assert "2 rows have empty or missing text" in r.stderr
    # A second run reads the workspace cache.
    again = dq("embed", str(files["data"]), "--out", str(out), "--precision", "float32")
    assert again.returncode == 0 and "18 rows from the cache, 0 texts embedded" in again.stderr


def test_dq_coverage_json_contract(files):
    r = dq("coverage", str(files["data"]), "--reference", str(files["ref"]), "--clusters", "3", "--min-rows", "3",
           "--min-ratio", "0.6")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert {"reference_coverage", "radius", "scene_coverage", "sample_coverage", "clusters"} <= set(out)
    assert out["k"] == 3 and len(out["clusters"]) == 3
    assert out["n_dataset"] == 16 and out["n_dataset_skipped"] == 2 and out["n_reference"] == 24
    clusters = out["clusters"]
    assert sum(c["n_dataset"] for c in clusters) == 16 and sum(c["n_reference"] for c in clusters) == 24
    populated = [c for c in clusters if c["n_reference"]]
    # covered: coverage ratio >= 0.6 and >= 3 dataset rows; scene coverage: the reference share of those
    for c in populated:
        assert c["covered"] == (c["coverage_ratio"] >= 0.6 and c["n_dataset"] >= 3) != c["under_covered"]
    assert out["scene_coverage"] == pytest.approx(sum(c["reference_share"] for c in populated if c["covered"]))
    assert out["min_ratio"] == 0.6 and out["min_rows"] == 3
    assert "0.6" in out["scene_rule"] and "at least 3 dataset rows" in out["scene_rule"]
    assert out["n_scenes"] == len(populated)
    # The festival scene is in the reference only: the under-covered clusters are where its texts sit.
    gap = [c for c in clusters if c["under_covered"]]
    assert gap and any(t in TOPICS["festival"] for c in gap for t in c["reference_examples"])
    assert all(c["top_terms"] for c in clusters)
    assert 0.0 <= out["reference_coverage"] <= 1.0 and 0.0 <= out["sample_coverage"] <= 1.0
    assert "2 rows have empty or missing text and were left out" in r.stderr


@pytest.mark.parametrize("args, message", [
    (["embed", "{data}", "--out", "{tmp}/v.npy", "--model", "{tmp}/no_such_model"], "does not exist"),
    (["embed", "{data}", "--out", "{tmp}/v.txt"], "must end in .npy"),
    (["coverage", "{data}", "--reference", "{header_only}"], "no data rows"),
    (["coverage", "{one_row}", "--reference", "{ref}"], "at least 2"),
    (["coverage", "{data}", "--reference", "{ref}", "--radius", "5"], "between 0 and 2"),
    (["coverage", "{data}", "--reference", "{ref}", "--min-ratio", "0"], "must be above 0"),
    (["coverage", "{data}"], "needs a reference: --reference REF"),
])
def test_bad_input_is_one_error_line_and_exit_2(files, tmp_path, args, message):
    fmt = {k: str(v) for k, v in files.items()} | {"tmp": str(tmp_path)}
    r = dq(*[a.format(**fmt) for a in args])
    assert r.returncode == 2, (r.returncode, r.stderr)
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and message in last, r.stderr
    assert "Traceback" not in r.stderr
