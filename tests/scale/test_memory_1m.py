"""A generated 1M-row frame through load + profile + the default recipe on precomputed signal columns, in a
fresh process whose peak RSS must stay under a bound (1M rows on one machine must fit in 12 GB; this
subset needs no embeddings, so its bound is tighter). No timings are asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROWS = 1_000_000
LIMIT_GB = 4.0

GENERATE = textwrap.dedent("""
    import sys
    import numpy as np, pandas as pd, pyarrow as pa, pyarrow.compute as pc, pyarrow.parquet as pq
    n, out = int(sys.argv[1]), sys.argv[2]
    rng = np.random.default_rng(0)
    vocab = np.array([f"w{i}" for i in range(3000)], dtype=object)
    lengths = rng.integers(5, 61, size=n)
    words = (rng.zipf(1.25, size=int(lengths.sum())) - 1) % len(vocab)
    offsets = pa.array(np.r_[0, np.cumsum(lengths)].astype(np.int32))
    texts = pc.binary_join(pa.ListArray.from_arrays(offsets, pa.array(vocab[words], type=pa.string())), " ")
    texts = texts.to_numpy(zero_copy_only=False).astype(object)
    texts[:10_000] = texts[10_000:20_000]          # 10,000 exact copies
    texts[20_000:21_000] = ""                      # empty rows
    texts[21_000:22_000] = "!!!!"                  # junk rows
    classes = np.array(["a", "b", "c", "d"], dtype=object)
    labels = classes[rng.choice(4, size=n, p=[0.55, 0.25, 0.15, 0.05])]
    pq.write_table(pa.table({"text": pa.array(texts, type=pa.string()), "label": pa.array(labels)}), out + "/data.parquet")
    dup = np.zeros(n, dtype=bool)
    dup[:10_000] = True
    group = np.where(dup, np.arange(n) + 10_000, -1)
    group[10_000:20_000] = np.arange(10_000, 20_000)
    junk = np.zeros(n, dtype=bool)
    junk[20_000:22_000] = True
    label_issue = np.zeros(n, dtype=bool)
    label_issue[100_000:150_000] = True            # 50,000 flagged: 25,000 confident (relabel), 25,000 not (drop)
    prob = np.where(np.arange(n) < 125_000, 0.9, 0.4)
    pd.DataFrame({
        "row_id": np.arange(n, dtype=np.int64),
        "exact_duplicate_score": np.where(group >= 0, 0.0, 1.0), "is_exact_duplicate_issue": group >= 0,
        "exact_duplicate_group": group, "junk_score": np.where(junk, 0.0, 1.0), "is_junk_issue": junk,
        "label_score": np.where(label_issue, 0.05, 0.9), "is_label_issue": label_issue,
        "suggested_label": np.where(label_issue, np.where(labels == "d", "c", "d"), labels), "suggested_label_prob": prob,
    }).to_parquet(out + "/signals.parquet", index=False)
""")

STEPS = textwrap.dedent("""
    import json, resource, sys
    import pandas as pd
    from dq_core.data.io import load_dataset
    from dq_core.filtering import apply_recipe, default_recipe
    from dq_core.metrics.profile import compute_profile
    d = sys.argv[1]
    ds, _ = load_dataset(d + "/data.parquet", text_col="text", label_col="label")
    prof = compute_profile(ds)
    res = apply_recipe(ds, pd.read_parquet(d + "/signals.parquet"), default_recipe(), strict=False)
    print(json.dumps({"rows": len(ds), "kept": res.n_kept, "relabelled": res.n_relabelled,
                      "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))
""")


def _run(code: str, *args: str) -> tuple[str, float]:
    """Run ``code`` in a fresh interpreter; its stdout and its own peak RSS in GB (from wait4)."""
    proc = subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err[-3000:]
    return out, json.loads(out.strip().splitlines()[-1])["peak_gb"] if code is STEPS else 0.0


def test_load_profile_filter_1m_rows_stay_under_the_memory_bound(tmp_path: Path) -> None:
    _run(GENERATE, str(ROWS), str(tmp_path))
    out, peak_gb = _run(STEPS, str(tmp_path))
    got = json.loads(out.strip().splitlines()[-1])
    assert got["rows"] == ROWS
    # 10,000 duplicate copies + 2,000 empty/junk rows + 25,000 unconfident label issues dropped;
    # the 25,000 confident ones relabelled
    assert got["kept"] == ROWS - 10_000 - 2_000 - 25_000
    assert got["relabelled"] == 25_000
    assert 0 < peak_gb < LIMIT_GB, f"peak RSS {peak_gb:.2f} GB over {LIMIT_GB} GB"
    assert os.path.getsize(tmp_path / "data.parquet") > 0
