"""Sweep 22b: red-team cases over dq's CLI contract (bad input -> exit 2 and one `error:` line, never a
traceback; no output over an input; exports read back; inputs' bytes unchanged). Every case builds its files
in tmp_path and calls the CLI in-process. Cases that fail today are written as the correct expectation."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.cli_helpers import dq

LABELS = ["neg", "pos", "neu"]


def rows(n: int = 24) -> pd.DataFrame:
    words = ["good", "bad", "fine", "awful", "great", "meh", "ok", "poor", "nice", "dull", "fun", "sad"]
    return pd.DataFrame({
        "text": [f"{words[i % 12]} movie number {i} with {words[(i * 5) % 12]} plot" for i in range(n)],
        "label": [LABELS[i % 3] for i in range(n)],
    })


def write(tmp: Path, name: str = "d.csv", df: pd.DataFrame | None = None) -> Path:
    df = rows() if df is None else df
    p = tmp / name
    if name.endswith(".csv"):
        df.to_csv(p, index=False)
    elif name.endswith(".parquet"):
        df.to_parquet(p, index=False)
    elif name.endswith(".jsonl"):
        df.to_json(p, orient="records", lines=True, force_ascii=False)
    return p


def emb(tmp: Path, n: int = 24, d: int = 8, name: str = "e.npy", dtype=np.float32) -> Path:
    rng = np.random.default_rng(0)
    p = tmp / name
    np.save(p, rng.normal(size=(n, d)).astype(dtype))
    return p


def probs(n: int = 24, k: int = 3) -> np.ndarray:
    rng = np.random.default_rng(1)
    a = rng.uniform(0.1, 1.0, size=(n, k))
    return a / a.sum(axis=1, keepdims=True)


def snapshot(paths) -> dict:
    out = {}
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file():
                    out[str(f)] = f.read_bytes()
        elif p.exists():
            out[str(p)] = p.read_bytes()
    return out


def check(r, rc: int, must: str | None = None) -> None:
    assert "Traceback" not in r.stderr, r.stderr[-2000:]
    assert r.returncode == rc, (r.returncode, r.stderr[-2000:])
    if rc == 2:
        errs = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
        assert len(errs) == 1, r.stderr
        if must:
            assert must.lower() in errs[0].lower(), errs[0]


SIG = ["--signals", "junk"]


# ---------------------------------------------------------------- --embeddings: shapes, dtypes, values
def _emb_case(kind: str, tmp: Path):
    d = write(tmp)
    e = tmp / "e.npy"
    rng = np.random.default_rng(0)
    good = rng.normal(size=(24, 8)).astype(np.float32)
    if kind == "short":
        np.save(e, good[:20])
    elif kind == "long":
        np.save(e, np.vstack([good, good[:3]]))
    elif kind == "1d":
        np.save(e, good[:, 0])
    elif kind == "3d":
        np.save(e, good.reshape(24, 2, 4))
    elif kind == "int":
        np.save(e, (good * 10).astype(np.int64))
    elif kind == "bool":
        np.save(e, good > 0)
    elif kind == "complex":
        np.save(e, good.astype(np.complex64))
    elif kind == "object":
        np.save(e, np.array([[1, "a"]] * 24, dtype=object), allow_pickle=True)
    elif kind == "str":
        np.save(e, np.array([["a"] * 8] * 24))
    elif kind == "nan":
        good[5, 2] = np.nan
        np.save(e, good)
    elif kind == "inf":
        good[7, 1] = np.inf
        np.save(e, good)
    elif kind == "ninf":
        good[0, 0] = -np.inf
        np.save(e, good)
    elif kind == "huge64":
        g = good.astype(np.float64)
        g[3, 3] = 1e300
        np.save(e, g)
    elif kind == "allzero":
        np.save(e, np.zeros((24, 8), np.float32))
    elif kind == "npz":
        np.savez(tmp / "x.npz", a=good)
        os.replace(tmp / "x.npz", e)
    elif kind == "text":
        e.write_text("1,2,3\n4,5,6\n")
    elif kind == "empty":
        e.write_bytes(b"")
    elif kind == "truncated":
        np.save(e, good)
        e.write_bytes(e.read_bytes()[:150])
    elif kind == "zero_width":
        np.save(e, np.zeros((24, 0), np.float32))
    elif kind == "csv_named":
        e = tmp / "e.csv"
        pd.DataFrame(good).to_csv(e, index=False)
    elif kind == "missing":
        e = tmp / "nope.npy"
    elif kind == "dir":
        e = tmp / "edir.npy"
        e.mkdir()
    elif kind == "f16_overflow":
        np.save(e, good.astype(np.float16) * np.float16(60000))
    elif kind == "fortran":
        np.save(e, np.asfortranarray(good))
    elif kind == "f16":
        np.save(e, good.astype(np.float16))
    elif kind == "tiny":
        np.save(e, good * np.float32(1e-30))
    elif kind == "one_zero_row":
        good[4] = 0
        np.save(e, good)
    elif kind == "scalar":
        np.save(e, np.float32(1.0))
    return d, e


EMB_BAD = ["short", "long", "1d", "3d", "bool", "complex", "object", "str", "nan", "inf", "ninf", "huge64",
           "allzero", "npz", "text", "empty", "truncated", "zero_width", "missing", "dir", "scalar"]
EMB_OK = ["fortran", "f16", "tiny", "one_zero_row"]


@pytest.mark.parametrize("kind", EMB_BAD)
@pytest.mark.parametrize("cmd", ["signals", "filter"])
def test_embeddings_refused(tmp_path, kind, cmd):
    d, e = _emb_case(kind, tmp_path)
    before = snapshot([d, e])
    out = tmp_path / ("o.parquet" if cmd == "signals" else "clean.csv")
    args = [cmd, d, "--embeddings", e, "--out", out]
    args += SIG if cmd == "signals" else []
    r = dq(*args)
    check(r, 2)
    assert not out.exists()
    assert snapshot([d, e]) == before


@pytest.mark.parametrize("kind", EMB_OK)
def test_embeddings_accepted(tmp_path, kind):
    d, e = _emb_case(kind, tmp_path)
    before = snapshot([d, e])
    out = tmp_path / "o.parquet"
    r = dq("signals", d, "--embeddings", e, "--out", out, "--signals", "near_duplicate")
    check(r, 0)
    assert snapshot([d, e]) == before
