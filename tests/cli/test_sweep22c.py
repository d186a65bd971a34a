"""Sweep 22c (issue 22, third red-team sweep): --pred-probs headers and values, --embeddings shapes and dtypes,
output-over-input through links, recipes, charsets, exports read back, dq compute refusals, dq advise mistakes,
hub names offline. Each case asserts the exit code, the one `error:` line without a traceback for refusals, and
that every input's bytes are unchanged. Built from tmp_path only; in-process CLI (tests/cli_helpers.dq)."""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from tests.cli_helpers import dq, error_line

N = 12


def _data(tmp: Path, name: str = "d.csv", labels=None, texts=None) -> Path:
    p = tmp / name
    labels = labels or ["a" if i % 2 else "b" for i in range(N)]
    texts = texts or [f"sample text number {i} about {'cats' if i % 2 else 'dogs'}" for i in range(len(labels))]
    with p.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        for t, lab in zip(texts, labels):
            w.writerow([t, lab])
    return p


def _emb(tmp: Path, arr=None, name: str = "e.npy") -> Path:
    p = tmp / name
    if arr is None:
        arr = np.random.default_rng(0).normal(size=(N, 8)).astype("float32")
    np.save(p, arr, allow_pickle=True)
    return p


def _probs(n=N):
    rng = np.random.default_rng(1)
    p = rng.uniform(0.2, 0.8, size=n)
    return np.stack([p, 1 - p], axis=1)  # classes a, b (sorted)


def _csv(tmp: Path, name: str, rows: list[list]) -> Path:
    p = tmp / name
    with p.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    return p


def _probs_csv(tmp: Path, header, cols=None, name="p.csv"):
    pr = _probs()
    rows = [header] if header is not None else []
    for i in range(N):
        vals = {"a": pr[i, 0], "b": pr[i, 1], "id": i, "row_id": i, "c": 0.0, "x": pr[i, 1], "extra": 5}
        rows.append([vals.get(h, pr[i, 1]) for h in (cols or header)])
    return _csv(tmp, name, rows)


def _snapshot(paths):
    out = {}
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for q in sorted(p.rglob("*")):
                if q.is_file():
                    out[str(q)] = q.read_bytes()
        elif p.exists():
            out[str(p)] = p.read_bytes()
    return out


def _run(tmp, args, expect, inputs=(), env=None):
    before = _snapshot(inputs)
    r = dq(*args, env=env)
    assert "Traceback" not in r.stderr, r.stderr
    if expect == 2:
        error_line(r)
    elif expect == "0or2":
        assert r.returncode in (0, 2), r.stderr
        if r.returncode == 2:
            error_line(r)
    else:
        assert r.returncode == expect, r.stderr
    assert _snapshot(inputs) == before, "an input file was changed"
    return r


# ---------------------------------------------------------------- --pred-probs
def _pp_npy(arr):
    def build(tmp):
        p = tmp / "p.npy"
        np.save(p, arr, allow_pickle=True)
        return p
    return build


def _pp_file(name, content: bytes):
    def build(tmp):
        p = tmp / name
        p.write_bytes(content)
        return p
    return build


def _pp_csv(header, cols=None):
    return lambda tmp: _probs_csv(tmp, header, cols)


_onehot = np.eye(2)[[i % 2 for i in range(N)]][:, ::-1].astype("float64")
_nan = _probs().copy()
_nan[3, 0] = np.nan
_inf = _probs().copy()
_inf[2, 1] = np.inf
_gt1 = _probs().copy()
_gt1[0] = [1.5, -0.5]
_neg = _probs().copy()
_neg[1] = [-0.1, 1.1]
_unnorm = _probs() * 3
_npz_bytes = None

PRED_PROBS = {
    "pp_npy_ok": (_pp_npy(_probs()), 0),
    "pp_npy_float32_ok": (_pp_npy(_probs().astype("float32")), 0),
    "pp_csv_header_ok": (_pp_csv(["a", "b"]), 0),
    "pp_csv_header_reordered_ok": (_pp_csv(["b", "a"]), 0),
    "pp_csv_id_col_ok": (_pp_csv(["id", "a", "b"]), 0),
    "pp_csv_row_id_col_ok": (_pp_csv(["row_id", "a", "b"]), 0),
    "pp_csv_headerless_ok": (_pp_csv(None, ["a", "b"]), 0),
    "pp_csv_extra_class": (_pp_csv(["a", "b", "c"]), 2),
    "pp_csv_missing_class": (_pp_csv(["a"]), 2),
    "pp_csv_renamed_class": (_pp_csv(["a", "x"]), 2),
    "pp_csv_duplicated_class": (_pp_csv(["a", "a"]), 2),
    "pp_csv_other_column": (_pp_csv(["id", "a", "b", "extra"]), 2),
    "pp_csv_id_and_row_id": (_pp_csv(["id", "row_id", "a", "b"]), 2),
    "pp_csv_header_only": (lambda tmp: _csv(tmp, "p.csv", [["a", "b"]]), 2),
    "pp_csv_string_cell": (lambda tmp: _csv(tmp, "p.csv", [["a", "b"]] + [["0.5", "half"]] * N), 2),
    "pp_csv_empty_cell": (lambda tmp: _csv(tmp, "p.csv", [["a", "b"]] + [["0.5", ""]] * N), 2),
    "pp_csv_nan_cell": (lambda tmp: _csv(tmp, "p.csv", [["a", "b"]] + [["nan", "0.5"]] * N), 2),
    "pp_csv_wrong_rows": (lambda tmp: _csv(tmp, "p.csv", [["a", "b"]] + [["0.5", "0.5"]] * (N - 1)), 2),
    "pp_csv_onehot_int": (lambda tmp: _csv(tmp, "p.csv", [["a", "b"]] + [["1", "0"], ["0", "1"]] * (N // 2)), 2),
    "pp_csv_semicolon": (lambda tmp: _pp_file("p.csv", ("a;b\n" + "0.5;0.5\n" * N).encode())(tmp), "0or2"),
    "pp_csv_bom_header": (lambda tmp: _pp_file("p.csv", ("\ufeffa,b\n" + "0.25,0.75\n" * N).encode())(tmp), 0),
    "pp_csv_spaced_header": (lambda tmp: _pp_file("p.csv", (" a , b \n" + "0.25,0.75\n" * N).encode())(tmp), "0or2"),
    "pp_npy_nan": (_pp_npy(_nan), 2),
    "pp_npy_inf": (_pp_npy(_inf), 2),
    "pp_npy_gt1": (_pp_npy(_gt1), 2),
    "pp_npy_negative": (_pp_npy(_neg), 2),
    "pp_npy_unnormalised": (_pp_npy(_unnorm), 2),
    "pp_npy_onehot_float": (_pp_npy(_onehot), 2),
    "pp_npy_onehot_int": (_pp_npy(_onehot.astype("int64")), 2),
    "pp_npy_bool": (_pp_npy(_onehot.astype(bool)), 2),
    "pp_npy_complex": (_pp_npy(_probs().astype("complex128")), 2),
    "pp_npy_object": (_pp_npy(np.array([[0.5, 0.5]] * N, dtype=object)), 2),
    "pp_npy_strings": (_pp_npy(np.array([["0.5", "0.5"]] * N)), 2),
    "pp_npy_wrong_rows": (_pp_npy(_probs(N + 1)), 2),
    "pp_npy_wrong_width": (_pp_npy(np.full((N, 3), 1 / 3)), 2),
    "pp_npy_1d": (_pp_npy(_probs()[:, 0]), 2),
    "pp_npy_3d": (_pp_npy(_probs()[:, :, None]), 2),
    "pp_npy_0d": (_pp_npy(np.float64(0.5)), 2),
    "pp_npy_empty": (_pp_npy(np.zeros((0, 2))), 2),
    "pp_npy_all_zero_rows": (_pp_npy(np.zeros((N, 2))), 2),
    "pp_npy_tiny_values": (_pp_npy(np.full((N, 2), 1e-300)), 2),
    "pp_npy_huge_values": (_pp_npy(np.full((N, 2), 1e300)), 2),
    "pp_empty_file_npy": (_pp_file("p.npy", b""), 2),
    "pp_empty_file_csv": (_pp_file("p.csv", b""), 2),
    "pp_text_named_npy": (_pp_file("p.npy", b"0.5,0.5\n" * N), 2),
    "pp_npy_named_csv": (lambda tmp: (np.save(tmp / "x.npy", _probs()), os.rename(tmp / "x.npy", tmp / "p.csv"),
                                      tmp / "p.csv")[2], 2),
    "pp_npz": (lambda tmp: (np.savez(tmp / "p.npz", a=_probs()), tmp / "p.npz")[1], 2),
    "pp_npz_named_npy": (lambda tmp: (np.savez(tmp / "x.npz", a=_probs()), os.rename(tmp / "x.npz", tmp / "p.npy"),
                                      tmp / "p.npy")[2], 2),
    "pp_parquet": (lambda tmp: (__import__("pandas").DataFrame(_probs(), columns=["a", "b"]).to_parquet(tmp / "p.parquet"),
                                tmp / "p.parquet")[1], 2),
    "pp_directory": (lambda tmp: (tmp / "pdir").mkdir() or tmp / "pdir", 2),
    "pp_missing": (lambda tmp: tmp / "nope.npy", 2),
    "pp_binary_garbage_csv": (_pp_file("p.csv", bytes(range(256)) * 4), 2),
}


@pytest.mark.parametrize("case", sorted(PRED_PROBS))
def test_pred_probs(tmp_path, case):
    build, expect = PRED_PROBS[case]
    data, emb, pp = _data(tmp_path), _emb(tmp_path), build(tmp_path)
    _run(tmp_path, ["signals", data, "--signals", "label", "--embeddings", emb, "--pred-probs", pp,
                    "--out", tmp_path / "s.csv"], expect, [data, emb, pp])


# ---------------------------------------------------------------- --embeddings
_base = np.random.default_rng(0).normal(size=(N, 8))


def _with(rows, val, dtype="float32"):
    a = _base.astype(dtype).copy()
    for r in rows:
        a[r] = val
    return a


EMB = {
    "emb_float32_ok": (_base.astype("float32"), 0),
    "emb_float16_ok": (_base.astype("float16"), 0),
    "emb_float64_fits_ok": (_base.astype("float64"), 0),
    "emb_float64_huge": (_with([4], 1e300, "float64"), 2),
    "emb_float64_tiny_ok": (_with([4], 1e-300, "float64"), "0or2"),
    "emb_3e38_row_ok": (_with([4], 3e38), 0),
    "emb_1e-30_row_ok": (_with([4], 1e-30), 0),
    "emb_nan": (_with([3], np.nan), 2),
    "emb_inf": (_with([3], np.inf), 2),
    "emb_neg_inf": (_with([3], -np.inf), 2),
    "emb_one_zero_row_ok": (_with([0], 0.0), 0),
    "emb_all_zero": (np.zeros((N, 8), "float32"), 2),
    "emb_wrong_rows": (_base[:-1].astype("float32"), 2),
    "emb_more_rows": (np.vstack([_base, _base[:1]]).astype("float32"), 2),
    "emb_1d": (_base[:, 0].astype("float32"), 2),
    "emb_3d": (_base[:, :, None].astype("float32"), 2),
    "emb_zero_width": (np.zeros((N, 0), "float32"), 2),
    "emb_int": (np.ones((N, 8), "int64"), "0or2"),
    "emb_bool": (np.ones((N, 8), bool), 2),
    "emb_complex": (_base.astype("complex64"), 2),
    "emb_object": (np.array(_base.tolist(), dtype=object), 2),
    "emb_strings": (_base.astype(str), 2),
    "emb_structured": (np.zeros(N, dtype=[("x", "f4"), ("y", "f4")]), 2),
}


@pytest.mark.parametrize("case", sorted(EMB))
def test_embeddings(tmp_path, case):
    arr, expect = EMB[case]
    data, emb = _data(tmp_path), _emb(tmp_path, arr)
    _run(tmp_path, ["signals", data, "--signals", "near_duplicate", "--embeddings", emb,
                    "--out", tmp_path / "s.csv"], expect, [data, emb])


EMB_FILES = {
    "embfile_empty": b"",
    "embfile_text": b"0.1 0.2 0.3\n" * N,
    "embfile_truncated_npy": None,
    "embfile_npz": "npz",
    "embfile_pickle": "pickle",
}


@pytest.mark.parametrize("case", sorted(EMB_FILES))
def test_embedding_files(tmp_path, case):
    content = EMB_FILES[case]
    data, emb = _data(tmp_path), tmp_path / "e.npy"
    if content is None:
        np.save(emb, _base.astype("float32"))
        emb.write_bytes(emb.read_bytes()[:200])
    elif content == "npz":
        np.savez(tmp_path / "x.npz", _base.astype("float32"))
        os.rename(tmp_path / "x.npz", emb)
    elif content == "pickle":
        import pickle
        emb.write_bytes(pickle.dumps(_base.astype("float32")))
    else:
        emb.write_bytes(content)
    _run(tmp_path, ["signals", data, "--signals", "near_duplicate", "--embeddings", emb,
                    "--out", tmp_path / "s.csv"], 2, [data, emb])


def test_embeddings_directory(tmp_path):
    data = _data(tmp_path)
    (tmp_path / "e.npy").mkdir()
    _run(tmp_path, ["signals", data, "--embeddings", tmp_path / "e.npy", "--out", tmp_path / "s.csv"], 2, [data])


REF_EMB = {
    "refemb_ok": ("ok", 0),
    "refemb_width_mismatch": ("width", 2),
    "refemb_wrong_rows": ("rows", 2),
    "refemb_nan": ("nan", 2),
    "refemb_all_zero": ("zero", 2),
    "refemb_without_reference": ("noref", 2),
    "refemb_same_file_as_embeddings_wrong_rows": ("same", 2),
}


@pytest.mark.parametrize("case", sorted(REF_EMB))
def test_reference_embeddings(tmp_path, case):
    kind, expect = REF_EMB[case]
    data = _data(tmp_path)
    ref = _data(tmp_path, "r.csv", labels=["a", "b", "a", "b", "a", "b"])
    emb = _emb(tmp_path)
    r6 = np.random.default_rng(5).normal(size=(6, 8)).astype("float32")
    arr = {"ok": r6, "width": r6[:, :4], "rows": r6[:5], "nan": np.where(np.eye(6, 8) > 0, np.nan, r6).astype("float32"),
           "zero": np.zeros((6, 8), "float32"), "noref": r6, "same": None}[kind]
    remb = emb if arr is None else _emb(tmp_path, arr, "re.npy")
    args = ["coverage", data, "--embeddings", emb, "--reference-embeddings", remb]
    if kind != "noref":
        args += ["--reference", ref]
    _run(tmp_path, args, expect, [data, ref, emb, remb])


TEST_EMB = {
    "testemb_without_test": ("notest", 2),
    "testemb_wrong_rows": ("rows", 2),
    "testemb_width_mismatch": ("width", 2),
    "testemb_inf": ("inf", 2),
}


@pytest.mark.parametrize("case", sorted(TEST_EMB))
def test_test_embeddings(tmp_path, case):
    kind, expect = TEST_EMB[case]
    data, emb = _data(tmp_path), _emb(tmp_path)
    test = _data(tmp_path, "t.csv", labels=["a", "b", "a", "b"])
    t4 = np.random.default_rng(7).normal(size=(4, 8)).astype("float32")
    arr = {"notest": t4, "rows": t4[:3], "width": t4[:, :5], "inf": np.where(np.eye(4, 8) > 0, np.inf, t4)}[kind]
    temb = _emb(tmp_path, arr.astype("float32"), "te.npy")
    args = ["train", data, "--trainer", "baseline", "--embeddings", emb, "--test-embeddings", temb,
            "--out", tmp_path / "run"]
    if kind != "notest":
        args += ["--test", test]
    _run(tmp_path, args, expect, [data, emb, temb, test])
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())
