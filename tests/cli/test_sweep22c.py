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
        for t, lab in zip(texts, labels, strict=True):
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
    "pp_csv_id_and_row_id_same_ok": (_pp_csv(["id", "row_id", "a", "b"]), 0),
    "pp_csv_id_and_row_id_differ": (lambda tmp: _csv(tmp, "p.csv", [["id", "row_id", "a", "b"]] + [
        [i, N - 1 - i, *_probs()[i]] for i in range(N)]), 2),
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


def test_pred_probs_csv_id_column_shuffled_is_aligned_or_refused(tmp_path):
    """An `id` column beside the classes: rows given in another order must be aligned by id or refused, never
    read by position (that would score every row with another row's probabilities)."""
    data, emb = _data(tmp_path), _emb(tmp_path)
    good = np.where(np.arange(N) % 2 == 1, 0.99, 0.01)  # P(a): label a on odd rows -> every label looks right
    rows = [["id", "a", "b"]] + [[i, good[i], 1 - good[i]] for i in reversed(range(N))]
    pp = _csv(tmp_path, "p.csv", rows)
    r = _run(tmp_path, ["signals", data, "--signals", "label", "--embeddings", emb, "--pred-probs", pp,
                        "--out", tmp_path / "s.csv"], "0or2", [data, emb, pp])
    if r.returncode == 0:
        import pandas as pd
        s = pd.read_csv(tmp_path / "s.csv")
        score = [c for c in s.columns if c == "label_score"][0]
        assert s[score].min() > 0.5, s[score].tolist()


# ---------------------------------------------------------------- outputs pointed at inputs
def _link(kind, target: Path, name: Path) -> Path:
    if kind == "symlink":
        name.symlink_to(target)
        return name
    if kind == "hardlink":
        os.link(target, name)
        return name
    return target


def _recipe(tmp, obj, name="r.json"):
    p = tmp / name
    p.write_text(json.dumps(obj))
    return p


KEEP = {"format": "dq-filter-recipe", "version": 1, "name": "keep", "signals": []}


def _filter_case(opt_out, opt_in, ext):
    def build(tmp, kind):
        data, emb = _data(tmp), _emb(tmp)
        recipe = _recipe(tmp, KEEP)
        pp = tmp / "p.npy"
        np.save(pp, _probs())
        sig = _csv(tmp, "sig.csv", [["row_id", "is_junk_issue"]] + [[i, False] for i in range(N)])
        inputs = {"DATA": data, "--recipe": recipe, "--embeddings": emb, "--pred-probs": pp, "--signals": sig}
        target = inputs[opt_in]
        out = _link(kind, target, tmp / f"link{ext}")
        args = ["filter", data, "--recipe", recipe, "--embeddings", emb, "--pred-probs", pp, "--signals", sig]
        outs = {"--out": tmp / "o.csv", "--log": tmp / "l.csv", "--save-recipe": tmp / "sr.json"}
        outs[opt_out] = out
        for k, v in outs.items():
            args += [k, v]
        return args, list(inputs.values())
    return build


OVER = {}
for _o, _e in (("--out", ".csv"), ("--log", ".csv"), ("--save-recipe", ".json")):
    for _i in ("DATA", "--recipe", "--embeddings", "--pred-probs", "--signals"):
        for _k in ("direct", "symlink", "hardlink"):
            OVER[f"filter{_o}={_i}:{_k}"] = _filter_case(_o, _i, _e)


@pytest.mark.parametrize("case", sorted(OVER))
def test_output_over_input(tmp_path, case):
    kind = case.rsplit(":", 1)[1]
    args, inputs = OVER[case](tmp_path, kind)
    _run(tmp_path, args, 2, inputs)


def test_filter_out_and_log_same_file(tmp_path):
    data = _data(tmp_path)
    recipe = _recipe(tmp_path, KEEP)
    _run(tmp_path, ["filter", data, "--recipe", recipe, "--out", tmp_path / "o.csv", "--log", tmp_path / "o.csv"],
         2, [data, recipe])


def test_filter_log_inside_out_folder(tmp_path):
    data = _data(tmp_path)
    recipe = _recipe(tmp_path, KEEP)
    _run(tmp_path, ["filter", data, "--recipe", recipe, "--out", tmp_path / "ds", "--log", tmp_path / "ds" / "l.csv"],
         2, [data, recipe])


def test_filter_out_into_datasets_folder_input(tmp_path):
    import datasets
    src = tmp_path / "src"
    datasets.Dataset.from_dict({"text": [f"t {i}" for i in range(N)], "label": ["a", "b"] * (N // 2)}).save_to_disk(str(src))
    recipe = _recipe(tmp_path, KEEP)
    _run(tmp_path, ["filter", src, "--recipe", recipe, "--out", src / "o.csv"], 2, [src, recipe])
    _run(tmp_path, ["filter", src, "--recipe", recipe, "--out", src], 2, [src, recipe])


def test_signals_out_symlink_to_reference(tmp_path):
    data, emb = _data(tmp_path), _emb(tmp_path)
    other = tmp_path / "o"
    other.mkdir()
    ref = _data(other, "r.csv")
    out = _link("symlink", ref, tmp_path / "s.csv")
    _run(tmp_path, ["signals", data, "--reference", ref, "--signals", "near_duplicate", "--embeddings", emb,
                    "--out", out], 2, [data, ref, emb])


def test_signals_out_hardlink_to_pred_probs_csv(tmp_path):
    data, emb = _data(tmp_path), _emb(tmp_path)
    pp = _probs_csv(tmp_path, ["a", "b"])
    out = _link("hardlink", pp, tmp_path / "s.csv")
    _run(tmp_path, ["signals", data, "--signals", "label", "--embeddings", emb, "--pred-probs", pp, "--out", out],
         2, [data, emb, pp])


@pytest.mark.parametrize("which", ["DATA", "--test", "DATA:hardlink", "--test:symlink"])
def test_advise_out_over_input(tmp_path, which):
    data = _data(tmp_path)
    test = _data(tmp_path, "t.csv", labels=["a", "b", "a", "b"])
    target = data if which.startswith("DATA") else test
    kind = which.split(":")[1] if ":" in which else "direct"
    out = _link(kind, target, tmp_path / "adv.json")
    _run(tmp_path, ["advise", data, "--test", test, "--trainer", "baseline", "--out", out], 2, [data, test])


@pytest.mark.parametrize("kind", ["folder_of_data", "inside_data_folder", "the_parquet", "symlink_to_folder",
                                  "glob_reaches_out"])
def test_compute_out_over_input(tmp_path, kind):
    import pandas as pd
    d = tmp_path / "in"
    d.mkdir()
    pq = d / "p.parquet"
    pd.DataFrame({"text": [f"t {i}" for i in range(N)], "label": ["a", "b"] * (N // 2)}).to_parquet(pq)
    data = d
    out = {"folder_of_data": d, "inside_data_folder": d / "out", "the_parquet": pq}.get(kind)
    if kind == "symlink_to_folder":
        out = _link("symlink", d, tmp_path / "lnk")
    if kind == "glob_reaches_out":
        data, out = str(d) + "/**/*.parquet", d / "out"
    _run(tmp_path, ["compute", data, "--out", out, "--signals", "junk"], 2, [d])
    assert sorted(p.name for p in d.iterdir()) == ["p.parquet"]


def test_train_out_folder_holding_data(tmp_path):
    sub = tmp_path / "w"
    sub.mkdir()
    data, emb = _data(sub), _emb(sub)
    _run(tmp_path, ["train", data, "--trainer", "baseline", "--embeddings", emb, "--out", sub], 2, [data, emb])


def test_report_out_over_run_file(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / ".dq-run").write_text("")
    (run / "metrics.json").write_text("{}")
    _run(tmp_path, ["report", run, "--out", run / "metrics.json"], 2, [run])


def test_story_out_over_advice(tmp_path):
    data = _data(tmp_path)
    adv = tmp_path / "adv.json"
    adv.write_text("{}")
    out = _link("symlink", adv, tmp_path / "s.json")
    _run(tmp_path, ["story", data, "--advice", adv, "--out", out], 2, [data, adv])


# ---------------------------------------------------------------- recipes
def _sig(**kw):
    s = {"signal": "label", "action": "drop", "threshold": 0.2, "use_flag": False, "min_prob": 0.0,
         "enabled": True, "required": False}
    s.update(kw)
    return {**KEEP, "signals": [s]}


RECIPES = {
    "recipe_threshold_true": _sig(threshold=True),
    "recipe_threshold_false": _sig(threshold=False),
    "recipe_threshold_string": _sig(threshold="0.2"),
    "recipe_threshold_negative": _sig(threshold=-0.1),
    "recipe_threshold_huge": _sig(threshold=1e308),
    "recipe_threshold_nan_text": "NaN",
    "recipe_min_prob_gt1": _sig(min_prob=1.5),
    "recipe_min_prob_bool": _sig(min_prob=True),
    "recipe_unknown_action": _sig(action="explode"),
    "recipe_unknown_signal": _sig(signal="nope"),
    "recipe_enabled_string": _sig(enabled="yes"),
    "recipe_use_flag_int": _sig(use_flag=1),
    "recipe_unknown_top_key": {**KEEP, "bogus": 1},
    "recipe_unknown_signal_key": _sig(bogus=1),
    "recipe_signals_not_list": {**KEEP, "signals": {"label": 1}},
    "recipe_not_object": [1, 2],
    "recipe_wrong_format": {**KEEP, "format": "other"},
    "recipe_version_99": {**KEEP, "version": 99},
    "recipe_version_bool": {**KEEP, "version": True},
    "recipe_seed_negative": {**KEEP, "signal_settings": {"seed": -1}},
    "recipe_seed_too_big": {**KEEP, "signal_settings": {"seed": 2 ** 32}},
    "recipe_seed_float": {**KEEP, "signal_settings": {"seed": 1.5}},
    "recipe_seed_bool": {**KEEP, "signal_settings": {"seed": True}},
    "recipe_signal_settings_list": {**KEEP, "signal_settings": [1]},
    "recipe_signals_params_out_of_range": {**KEEP, "signal_settings": {"signals": {"near_duplicate": {"threshold": 2}}}},
    "recipe_signals_params_bool_k": {**KEEP, "signal_settings": {"signals": {"label": {"k": True}}}},
    "recipe_cap_max_rows_zero": {**KEEP, "classes": [{"label": "a", "action": "cap", "max_rows": 0}]},
    "recipe_cap_max_rows_float": {**KEEP, "classes": [{"label": "a", "action": "cap", "max_rows": 2.5}]},
    "recipe_cap_max_rows_huge_neg": {**KEEP, "classes": [{"label": "a", "action": "cap", "max_rows": -1e300}]},
    "recipe_classes_not_list": {**KEEP, "classes": "a"},
    "recipe_conditions_garbage": {**KEEP, "conditions": [42]},
    "recipe_decisions_garbage": {**KEEP, "decisions": [{"row": "x"}]},
    "recipe_empty_file": "",
    "recipe_not_json": "{not json",
    "recipe_utf16": "utf16",
    "recipe_deep_nesting": "[" * 100000 + "]" * 100000,
}


@pytest.mark.parametrize("case", sorted(RECIPES))
def test_bad_recipe(tmp_path, case):
    obj = RECIPES[case]
    data, emb = _data(tmp_path), _emb(tmp_path)
    r = tmp_path / "r.json"
    if obj == "utf16":
        r.write_bytes(json.dumps(_sig(threshold="x")).encode("utf-16"))
    elif isinstance(obj, str):
        r.write_text(obj)
    else:
        r.write_text(json.dumps(obj))
    expect = "0or2" if case == "recipe_unknown_signal" else 2  # a skipped rule is said in a note
    res = _run(tmp_path, ["filter", data, "--recipe", r, "--embeddings", emb, "--out", tmp_path / "o.csv"], expect,
               [data, emb, r])
    if res.returncode == 2:
        assert not (tmp_path / "o.csv").exists()
    else:
        assert "note:" in res.stderr and "nope" in res.stderr


def test_recipe_missing_and_directory(tmp_path):
    data = _data(tmp_path)
    _run(tmp_path, ["filter", data, "--recipe", tmp_path / "none.json", "--out", tmp_path / "o.csv"], 2, [data])
    (tmp_path / "rd").mkdir()
    _run(tmp_path, ["filter", data, "--recipe", tmp_path / "rd", "--out", tmp_path / "o.csv"], 2, [data])


def test_save_recipe_round_trip(tmp_path):
    data, emb = _data(tmp_path), _emb(tmp_path)
    _run(tmp_path, ["filter", data, "--recipe", "default", "--embeddings", emb, "--out", tmp_path / "o.csv",
                    "--save-recipe", tmp_path / "sr.json"], 0, [data, emb])
    sr = tmp_path / "sr.json"
    _run(tmp_path, ["filter", data, "--recipe", sr, "--embeddings", emb, "--out", tmp_path / "o2.csv"], 0, [data, emb, sr])
    assert (tmp_path / "o.csv").read_bytes() == (tmp_path / "o2.csv").read_bytes()


# ---------------------------------------------------------------- charsets
WORDS = {
    "cp1250": ("Příliš žluťoučký kůň úpěl ďábelské ódy", "dobrý", "špatný"),
    "cp1251": ("Съешь же ещё этих мягких французских булок да выпей чаю", "хорошо", "плохо"),
    "koi8-r": ("Съешь же ещё этих мягких французских булок да выпей чаю", "хорошо", "плохо"),
    "cp1252": ("Voilà l'été où le cœur déçu reçoit des cadeaux très élégants", "bon", "mauvais"),
    "cp1253": ("Ξεσκεπάζω την ψυχοφθόρα βδελυγμία της ζωής μας", "καλό", "κακό"),
    "cp1255": ("דג סקרן שט בים מאוכזב ולפתע מצא חברה", "טוב", "רע"),
    "cp1256": ("نص حكيم له سر قاطع وذو شأن عظيم مكتوب على ثوب أخضر", "جيد", "سيء"),
}


@pytest.mark.parametrize("length", ["short", "long"])
@pytest.mark.parametrize("enc", sorted(WORDS))
def test_codepage_guessed(tmp_path, enc, length):
    sentence, la, lb = WORDS[enc]
    n = 2 if length == "short" else 40
    rows = [[f"{sentence} {i}", la if i % 2 else lb] for i in range(n)]
    text = "text,label\n" + "".join(f'"{t}",{lab}\n' for t, lab in rows)
    p = tmp_path / "d.csv"
    p.write_bytes(text.encode(enc))
    r = _run(tmp_path, ["profile", p], 0, [p])
    counts = json.loads(r.stdout)["class_counts"]
    if length == "long":
        assert set(counts) == {la, lb}, (counts, r.stderr)
    assert "note:" in r.stderr and ("not valid UTF-8" in r.stderr or enc in r.stderr), r.stderr


@pytest.mark.parametrize("enc", sorted(WORDS))
def test_codepage_explicit_encoding(tmp_path, enc):
    sentence, la, lb = WORDS[enc]
    text = "text,label\n" + "".join(f'"{sentence} {i}",{la if i % 2 else lb}\n' for i in range(6))
    p = tmp_path / "d.csv"
    p.write_bytes(text.encode(enc))
    r = _run(tmp_path, ["profile", p, "--encoding", enc], 0, [p])
    assert set(json.loads(r.stdout)["class_counts"]) == {la, lb}


@pytest.mark.parametrize("bom", ["utf-8-sig", "utf-16", "utf-16-le-bom", "utf-16-be-bom"])
def test_unicode_boms(tmp_path, bom):
    text = "text,label\n" + "".join(f'"héllo wörld {i}",{"ä" if i % 2 else "b"}\n' for i in range(6))
    p = tmp_path / "d.csv"
    if bom == "utf-16-le-bom":
        data = b"\xff\xfe" + text.encode("utf-16-le")
    elif bom == "utf-16-be-bom":
        data = b"\xfe\xff" + text.encode("utf-16-be")
    else:
        data = text.encode(bom)
    p.write_bytes(data)
    r = _run(tmp_path, ["profile", p], "0or2" if bom == "utf-32" else 0, [p])
    if r.returncode == 0:
        assert set(json.loads(r.stdout)["class_counts"]) == {"ä", "b"}, r.stdout


ENC_OPTS = {
    "enc_unknown": ("bogus-enc", 2),
    "enc_rot13": ("rot13", 2),
    "enc_base64": ("base64", 2),
    "enc_hex": ("hex", 2),
    "enc_zlib": ("zlib", 2),
    "enc_idna": ("idna", "0or2"),
    "enc_empty": ("", 2),
    "enc_ascii_on_utf8": ("ascii", 2),
    "enc_utf32_on_utf8": ("utf-32", 2),
    "enc_cp1251_on_utf8_notes": ("cp1251", 0),
    "enc_auto": ("auto", 0),
}


@pytest.mark.parametrize("case", sorted(ENC_OPTS))
def test_encoding_option(tmp_path, case):
    enc, expect = ENC_OPTS[case]
    p = _data(tmp_path, texts=[f"naïve café {i}" for i in range(N)])
    r = _run(tmp_path, ["profile", p, "--encoding", enc], expect, [p])
    if case == "enc_cp1251_on_utf8_notes":
        assert "note:" in r.stderr and "UTF-8" in r.stderr, r.stderr


def test_encoding_on_parquet_is_noted(tmp_path):
    import pandas as pd
    p = tmp_path / "d.parquet"
    pd.DataFrame({"text": [f"t {i}" for i in range(N)], "label": ["a", "b"] * (N // 2)}).to_parquet(p)
    r = _run(tmp_path, ["profile", p, "--encoding", "cp1251"], 0, [p])
    assert "note:" in r.stderr


def test_encoding_unknown_on_compute(tmp_path):
    import pandas as pd
    p = tmp_path / "d.parquet"
    pd.DataFrame({"text": [f"t {i}" for i in range(N)], "label": ["a", "b"] * (N // 2)}).to_parquet(p)
    _run(tmp_path, ["compute", p, "--encoding", "bogus-enc", "--out", tmp_path / "out"], 2, [p])
    assert not (tmp_path / "out").exists()


def test_reference_in_other_codepage_with_encoding(tmp_path):
    data = _data(tmp_path)
    ref = tmp_path / "r.csv"
    ref.write_bytes(("text,label\n" + "".join(f'"Съешь ещё {i}",a\n' for i in range(6))).encode("cp1251"))
    r = _run(tmp_path, ["profile", data, "--reference", ref, "--encoding", "cp1251"], "0or2", [data, ref])
    if r.returncode == 0:
        assert "note:" in r.stderr


def test_utf32_with_bom_is_read_or_refused_not_garbled(tmp_path):
    """A UTF-32 file with its BOM must not be read as UTF-8 with replacement characters as labels."""
    text = "text,label\n" + "".join(f'"hello world {i}",{"x" if i % 2 else "y"}\n' for i in range(6))
    p = tmp_path / "d.csv"
    p.write_bytes(text.encode("utf-32"))
    r = _run(tmp_path, ["profile", p], "0or2", [p])
    if r.returncode == 0:
        out = json.loads(r.stdout)
        assert set(out["class_counts"]) == {"x", "y"} and out["n_rows"] == 6, r.stdout


# ---------------------------------------------------------------- exports read back
ODD_LABELS = ["with space", "007", "2.50", "1", " padded ", "true", "null", "NaN"]


def _odd_data(tmp):
    texts = [f"text {i}" for i in range(16)]
    texts[3] = ""
    texts[5] = "has\x00nul"
    texts[6] = "=SUM(A1)"
    texts[7] = "line\nbreak, \"quoted\""
    texts[8] = "NA"
    texts[9] = "  "
    labels = [ODD_LABELS[i % len(ODD_LABELS)] for i in range(16)]
    p = tmp / "d.jsonl"  # a NUL in a CSV is a binary file (README); JSONL carries it
    p.write_text("".join(json.dumps({"text": t, "label": lab}) + "\n" for t, lab in zip(texts, labels, strict=True)))
    return p


@pytest.mark.parametrize("fmt", ["o.csv", "o.jsonl", "o.parquet", "ds_folder"])
def test_export_round_trip(tmp_path, fmt):
    data = _odd_data(tmp_path)
    recipe = _recipe(tmp_path, KEEP)
    out = tmp_path / fmt
    r0 = _run(tmp_path, ["profile", data, "--text-col", "text", "--label-col", "label"], 0, [data])
    _run(tmp_path, ["filter", data, "--recipe", recipe, "--text-col", "text", "--label-col", "label",
                    "--out", out, "--log", tmp_path / "log.jsonl"], 0, [data, recipe])
    r1 = _run(tmp_path, ["profile", out, "--text-col", "text", "--label-col", "label"], 0, [out])
    p0, p1 = json.loads(r0.stdout), json.loads(r1.stdout)
    for k in ("n_rows", "class_counts", "n_empty", "n_missing_labels", "n_exact_duplicates", "text_length"):
        assert p0[k] == p1[k], (k, p0[k], p1[k])


@pytest.mark.parametrize("fmt", ["o.csv", "o.jsonl", "o.parquet"])
def test_export_twice_round_trip(tmp_path, fmt):
    """An export re-exported reads back the same (no drift of numeric-looking labels or empty texts)."""
    data = _odd_data(tmp_path)
    recipe = _recipe(tmp_path, KEEP)
    a, b = tmp_path / fmt, tmp_path / ("b_" + fmt)
    cols = ["--text-col", "text", "--label-col", "label"]
    _run(tmp_path, ["filter", data, "--recipe", recipe, *cols, "--out", a], 0, [data])
    _run(tmp_path, ["filter", a, "--recipe", recipe, *cols, "--out", b], 0, [a])
    pa = json.loads(_run(tmp_path, ["profile", a, *cols], 0, [a]).stdout)
    pb = json.loads(_run(tmp_path, ["profile", b, *cols], 0, [b]).stdout)
    assert pa["class_counts"] == pb["class_counts"] and pa["n_rows"] == pb["n_rows"]


def test_filter_out_bad_extension(tmp_path):
    data = _data(tmp_path)
    _run(tmp_path, ["filter", data, "--recipe", _recipe(tmp_path, KEEP), "--out", tmp_path / "o.xlsx"], 2, [data])
    assert not (tmp_path / "o.xlsx").exists()


def test_filter_log_bad_extension(tmp_path):
    data = _data(tmp_path)
    _run(tmp_path, ["filter", data, "--recipe", _recipe(tmp_path, KEEP), "--out", tmp_path / "o.csv",
                    "--log", tmp_path / "l.txt"], 2, [data])
    assert not (tmp_path / "o.csv").exists()


def test_filter_out_over_foreign_datasets_folder(tmp_path):
    import datasets
    data = _data(tmp_path)
    mine = tmp_path / "mine"
    datasets.Dataset.from_dict({"text": ["x"], "label": ["a"]}).save_to_disk(str(mine))
    _run(tmp_path, ["filter", data, "--recipe", _recipe(tmp_path, KEEP), "--out", mine], 2, [data, mine])


def test_filter_out_datasets_folder_with_extra_file(tmp_path):
    data = _data(tmp_path)
    recipe = _recipe(tmp_path, KEEP)
    _run(tmp_path, ["filter", data, "--recipe", recipe, "--out", tmp_path / "ds"], 0, [data])
    (tmp_path / "ds" / "mine.txt").write_text("keep me")
    _run(tmp_path, ["filter", data, "--recipe", recipe, "--out", tmp_path / "ds"], 2, [data, tmp_path / "ds"])
    assert (tmp_path / "ds" / "mine.txt").read_text() == "keep me"


# ---------------------------------------------------------------- dq compute refusals and failed reads
def _pq(path: Path, df=None):
    import pandas as pd
    if df is None:
        df = pd.DataFrame({"text": [f"t {i}" for i in range(N)], "label": ["a", "b"] * (N // 2)})
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_parquet(path)
    return path


def _pa_table(path: Path, text_values, text_type):
    import pyarrow as pa
    import pyarrow.parquet as pq
    t = pa.table({"text": pa.array(text_values, type=text_type), "label": pa.array(["a", "b"] * (len(text_values) // 2))})
    pq.write_table(t, path)
    return path


COMPUTE_BAD = {
    "compute_shard_rows_zero": (["--shard-rows", "0"], None),
    "compute_shard_rows_negative": (["--shard-rows", "-5"], None),
    "compute_shard_rows_text": (["--shard-rows", "many"], None),
    "compute_workers_zero": (["--workers", "0"], None),
    "compute_batch_size_zero": (["--batch-size", "0"], None),
    "compute_seed_negative": (["--seed", "-1"], None),
    "compute_seed_too_big": (["--seed", str(2 ** 32)], None),
    "compute_unknown_signal": (["--signals", "bogus"], None),
    "compute_unknown_precision": (["--precision", "float8"], None),
    "compute_text_col_missing": (["--text-col", "nope"], None),
    "compute_id_col_missing": (["--id-col", "nope"], None),
    "compute_model_missing_path": (["--model", "/nonexistent/model/folder"], None),
    "compute_model_empty_folder": (["--model", "EMPTY_MODEL"], None),
    "compute_model_broken_folder": (["--model", "BROKEN_MODEL"], None),
    "compute_model_is_file": (["--model", "FILE_MODEL"], None),
}


@pytest.mark.parametrize("case", sorted(COMPUTE_BAD))
def test_compute_refusal_leaves_nothing(tmp_path, case):
    extra, _ = COMPUTE_BAD[case]
    src = _pq(tmp_path / "in" / "p.parquet")
    (tmp_path / "empty_model").mkdir()
    broken = tmp_path / "broken_model"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    (broken / "model.safetensors").write_bytes(b"\x00" * 64)
    (tmp_path / "model.bin").write_bytes(b"xx")
    extra = [{"EMPTY_MODEL": str(tmp_path / "empty_model"), "BROKEN_MODEL": str(broken),
              "FILE_MODEL": str(tmp_path / "model.bin")}.get(a, a) for a in extra]
    out = tmp_path / "out"
    _run(tmp_path, ["compute", src, "--out", out, *extra], 2, [src.parent, broken])
    assert not out.exists(), sorted(p.name for p in out.rglob("*"))


ROW_FAULTS = {
    "dup_ids_across_files": "dup",
    "text_list_column": "list",
    "text_struct_column": "struct",
    "text_binary_column": "binary",
    "text_int_column": "int",
    "label_list_column": "label_list",
}


@pytest.mark.parametrize("case", sorted(ROW_FAULTS))
def test_compute_read_fault_leaves_nothing(tmp_path, case):
    import pandas as pd
    import pyarrow as pa
    kind = ROW_FAULTS[case]
    d = tmp_path / "in"
    d.mkdir()
    extra = ["--signals", "junk"]
    if kind == "dup":
        _pq(d / "a.parquet", pd.DataFrame({"id": range(6), "text": [f"a {i}" for i in range(6)], "label": ["a", "b"] * 3}))
        _pq(d / "b.parquet", pd.DataFrame({"id": range(6), "text": [f"b {i}" for i in range(6)], "label": ["a", "b"] * 3}))
        extra += ["--id-col", "id", "--text-col", "text", "--label-col", "label"]
    elif kind == "list":
        _pa_table(d / "a.parquet", [["x", "y"]] * 6, pa.list_(pa.string()))
        extra += ["--text-col", "text"]
    elif kind == "struct":
        _pa_table(d / "a.parquet", [{"s": "x"}] * 6, pa.struct([("s", pa.string())]))
        extra += ["--text-col", "text"]
    elif kind == "binary":
        _pa_table(d / "a.parquet", [b"\xff\xfe bytes"] * 6, pa.binary())
        extra += ["--text-col", "text"]
    elif kind == "int":
        _pa_table(d / "a.parquet", list(range(6)), pa.int64())
        extra += ["--text-col", "text"]
    else:
        import pyarrow.parquet as pq
        pq.write_table(pa.table({"text": [f"t {i}" for i in range(6)], "label": [["a"]] * 6}), d / "a.parquet")
        extra += ["--text-col", "text", "--label-col", "label"]
    out = tmp_path / "out"
    r = dq("compute", d, "--out", out, *extra)
    assert "Traceback" not in r.stderr, r.stderr
    if kind == "int":
        assert r.returncode in (0, 2), r.stderr
    else:
        error_line(r)
    if r.returncode == 2:
        assert not out.exists(), sorted(str(p) for p in out.rglob("*"))


def test_compute_foreign_out_untouched(tmp_path):
    src = _pq(tmp_path / "in" / "p.parquet")
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("mine")
    _run(tmp_path, ["compute", src, "--out", out, "--signals", "junk"], 2, [src, out])
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]


@pytest.mark.parametrize("manifest", ["{not json", "[]", '{"format": "other"}', '{"state": 5}', ""])
def test_compute_bad_manifest_untouched(tmp_path, manifest):
    src = _pq(tmp_path / "in" / "p.parquet")
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text(manifest)
    _run(tmp_path, ["compute", src, "--out", out, "--signals", "junk"], 2, [src, out])
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"]


@pytest.mark.parametrize("data", ["csv", "empty_glob", "missing", "empty_folder"])
def test_compute_bad_data(tmp_path, data):
    if data == "csv":
        src = _data(tmp_path)
    elif data == "empty_glob":
        src = str(tmp_path / "nothing" / "*.parquet")
    elif data == "missing":
        src = tmp_path / "nope.parquet"
    else:
        src = tmp_path / "emptydir"
        src.mkdir()
    _run(tmp_path, ["compute", src, "--out", tmp_path / "out", "--signals", "junk"], 2, [])
    assert not (tmp_path / "out").exists()


def test_compute_out_is_a_file(tmp_path):
    src = _pq(tmp_path / "in" / "p.parquet")
    f = tmp_path / "out"
    f.write_text("a file")
    _run(tmp_path, ["compute", src, "--out", f], 2, [src, f])


def test_compute_ray_unreachable_address_fast(tmp_path):
    src = _pq(tmp_path / "in" / "p.parquet")
    t0 = time.monotonic()
    _run(tmp_path, ["compute", src, "--backend", "ray", "--address", "127.0.0.1:1", "--out", tmp_path / "out",
                    "--signals", "junk"], 2, [src])
    assert time.monotonic() - t0 < 45
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("addr", ["ray://", "not an address", "127.0.0.1:99999"])
def test_compute_ray_malformed_address(tmp_path, addr):
    src = _pq(tmp_path / "in" / "p.parquet")
    t0 = time.monotonic()
    _run(tmp_path, ["compute", src, "--backend", "ray", "--address", addr, "--out", tmp_path / "out",
                    "--signals", "junk"], 2, [src])
    assert time.monotonic() - t0 < 45
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- hub names with the network off
@pytest.mark.parametrize("args", [["profile", "hf:no-such-org/no-such-dataset"],
                                  ["embed", "DATA", "--model", "no-such-org/no-such-model", "--out", "OUT"],
                                  ["signals", "DATA", "--model", "no-such-org/no-such-model", "--signals",
                                   "near_duplicate", "--out", "OUT"]],
                         ids=["hub_dataset", "hub_model_embed", "hub_model_signals"])
def test_hub_name_offline_fails_fast(tmp_path, args):
    data = _data(tmp_path)
    args = [{"DATA": str(data), "OUT": str(tmp_path / "o.npy" if args[0] == "embed" else tmp_path / "s.csv")}.get(a, a)
            for a in args]
    t0 = time.monotonic()
    _run(tmp_path, args, 2, [data], env={"HF_HUB_OFFLINE": None, "HF_DATASETS_OFFLINE": None})
    assert time.monotonic() - t0 < 20


# ---------------------------------------------------------------- dq advise and argument mistakes
ARGS = {
    "advise_folds_one": ["advise", "DATA", "--trainer", "baseline", "--folds", "1", "--out", "ADV"],
    "advise_folds_zero": ["advise", "DATA", "--trainer", "baseline", "--folds", "0", "--out", "ADV"],
    "advise_folds_negative": ["advise", "DATA", "--trainer", "baseline", "--folds", "-3", "--out", "ADV"],
    "advise_folds_text": ["advise", "DATA", "--trainer", "baseline", "--folds", "five", "--out", "ADV"],
    "advise_folds_more_than_rows": ["advise", "DATA", "--trainer", "baseline", "--folds", "100", "--out", "ADV"],
    "advise_repeats_zero": ["advise", "DATA", "--trainer", "transformer", "--repeats", "0", "--out", "ADV"],
    "advise_repeats_with_baseline": ["advise", "DATA", "--trainer", "baseline", "--repeats", "3", "--out", "ADV"],
    "advise_seed_negative": ["advise", "DATA", "--trainer", "baseline", "--seed", "-1", "--out", "ADV"],
    "advise_seed_max_no_room": ["advise", "DATA", "--trainer", "transformer", "--repeats", "3", "--seed",
                                str(2 ** 32 - 1), "--out", "ADV"],
    "advise_metric_bogus": ["advise", "DATA", "--metric", "auc", "--out", "ADV"],
    "advise_trainer_bogus": ["advise", "DATA", "--trainer", "svm", "--out", "ADV"],
    "advise_missing_out": ["advise", "DATA", "--trainer", "baseline"],
    "advise_out_not_json": ["advise", "DATA", "--trainer", "baseline", "--out", "ADVTXT"],
    "advise_out_is_dir": ["advise", "DATA", "--trainer", "baseline", "--out", "TMPDIR"],
    "advise_test_missing": ["advise", "DATA", "--trainer", "baseline", "--test", "/nonexistent.csv", "--out", "ADV"],
    "advise_test_label_col_unknown": ["advise", "DATA", "--trainer", "baseline", "--test", "TEST",
                                      "--test-label-col", "nope", "--out", "ADV"],
    "advise_test_text_col_without_test": ["advise", "DATA", "--trainer", "baseline", "--test-text-col", "text",
                                          "--out", "ADV"],
    "advise_agreement_col_unknown": ["advise", "DATA", "--trainer", "baseline", "--agreement-col", "nope",
                                     "--out", "ADV"],
    "advise_agreement_col_is_text": ["advise", "DATA", "--trainer", "baseline", "--agreement-col", "text",
                                     "--out", "ADV"],
    "advise_one_class": ["advise", "ONECLASS", "--trainer", "baseline", "--out", "ADV"],
    "advise_test_unseen_classes_only": ["advise", "DATA", "--trainer", "baseline", "--test", "TESTXY", "--out", "ADV"],
    "advise_reference_twice": ["advise", "DATA", "--trainer", "baseline", "--reference", "TEST",
                               "--reference-where", "label=a", "--out", "ADV"],
    "advise_half_split_pair": ["advise", "DATA", "--trainer", "baseline", "--dataset-split", "train", "--out", "ADV"],
    "cli_unknown_command": ["frobnicate"],
    "cli_no_command": [],
    "cli_unknown_option": ["profile", "DATA", "--frob"],
    "cli_missing_data": ["profile"],
    "cli_signals_missing_out": ["signals", "DATA"],
    "cli_signals_unknown_signal": ["signals", "DATA", "--signals", "bogus", "--out", "SIG"],
    "cli_signals_bad_param": ["signals", "DATA", "--signals", "near_duplicate(threshold=2)", "--out", "SIG"],
    "cli_signals_bad_param_syntax": ["signals", "DATA", "--signals", "near_duplicate(threshold=", "--out", "SIG"],
    "cli_signals_k_float": ["signals", "DATA", "--signals", "label(k=2.5)", "--out", "SIG"],
    "cli_signals_k_bool": ["signals", "DATA", "--signals", "label(k=true)", "--out", "SIG"],
    "cli_signals_out_bad_ext": ["signals", "DATA", "--signals", "junk", "--out", "SIGTXT"],
    "cli_signals_seed_text": ["signals", "DATA", "--seed", "x", "--out", "SIG"],
    "cli_train_bad_trainer": ["train", "DATA", "--trainer", "svm", "--out", "RUN"],
    "cli_train_epochs_zero": ["train", "DATA", "--trainer", "transformer", "--epochs", "0", "--out", "RUN"],
    "cli_train_lr_negative": ["train", "DATA", "--trainer", "transformer", "--lr", "-1", "--out", "RUN"],
    "cli_train_lr_nan": ["train", "DATA", "--trainer", "transformer", "--lr", "nan", "--out", "RUN"],
    "cli_shift_bootstrap_huge": ["shift", "DATA", "--reference", "TEST", "--bootstrap", "999999999"],
    "cli_shift_permutations_negative": ["shift", "DATA", "--reference", "TEST", "--permutations", "-1"],
    "cli_coverage_percentile_out": ["coverage", "DATA", "--reference", "TEST", "--percentile", "150"],
    "cli_coverage_radius_nan": ["coverage", "DATA", "--reference", "TEST", "--radius", "nan"],
    "cli_embed_out_not_npy": ["embed", "DATA", "--out", "SIG"],
    "cli_embed_batch_zero": ["embed", "DATA", "--batch-size", "0", "--out", "NPY"],
    "cli_embed_long_texts_bogus": ["embed", "DATA", "--long-texts", "split", "--out", "NPY"],
    "cli_profile_text_col_unknown": ["profile", "DATA", "--text-col", "nope"],
    "cli_profile_text_equals_label": ["profile", "DATA", "--text-col", "text", "--label-col", "text"],
    "cli_profile_nul_in_path": ["profile", "NULPATH"],
    "cli_profile_fifo": ["profile", "FIFO"],
    "cli_profile_dev_zero": ["profile", "/dev/zero"],
    "cli_profile_symlink_loop": ["profile", "LOOP"],
    "cli_profile_long_name": ["profile", "LONGNAME"],
    "cli_report_not_a_run": ["report", "TMPDIR"],
    "cli_story_bad_ext": ["story", "DATA", "--out", "ADVTXT"],
    "cli_story_run_not_finished": ["story", "DATA", "--run", "TMPDIR", "--out", "ADV"],
    "cli_story_advice_not_advice": ["story", "DATA", "--advice", "DATA", "--out", "ADV"],
    "cli_filter_no_recipe_file": ["filter", "DATA", "--recipe", "defaultt", "--out", "OCSV"],
    "cli_filter_spreadsheet_safe_parquet": ["filter", "DATA", "--recipe", "RECIPE", "--spreadsheet-safe",
                                            "--out", "OPQ"],
    "cli_app_open_not_compute": ["app", "--open", "TMPDIR"],
    "cli_app_port_text": ["app", "--port", "http"],
    "cli_max_rows_bad_env": ["profile", "DATA", "ENV:DQ_MAX_ROWS=-5"],
    "cli_max_rows_exceeded": ["profile", "DATA", "ENV:DQ_MAX_ROWS=3"],
}


@pytest.mark.parametrize("case", sorted(ARGS))
def test_argument_mistakes(tmp_path, case):
    data = _data(tmp_path)
    test = _data(tmp_path, "t.csv", labels=["a", "b", "a", "b"])
    one = _data(tmp_path, "one.csv", labels=["a"] * N)
    txy = _data(tmp_path, "txy.csv", labels=["x", "y", "x", "y"])
    recipe = _recipe(tmp_path, KEEP)
    (tmp_path / "adir").mkdir()
    if case == "cli_profile_fifo":
        os.mkfifo(tmp_path / "fifo.csv")
    if case == "cli_profile_symlink_loop":
        (tmp_path / "loop.csv").symlink_to(tmp_path / "loop.csv")
    subst = {"DATA": data, "TEST": test, "ONECLASS": one, "TESTXY": txy, "RECIPE": recipe,
             "ADV": tmp_path / "adv.json", "ADVTXT": tmp_path / "adv.txt", "TMPDIR": tmp_path / "adir",
             "SIG": tmp_path / "s.csv", "SIGTXT": tmp_path / "s.txt", "RUN": tmp_path / "run", "NPY": tmp_path / "e.npy",
             "OCSV": tmp_path / "o.csv", "OPQ": tmp_path / "o.parquet", "NULPATH": str(tmp_path / "a\x00b.csv"),
             "FIFO": tmp_path / "fifo.csv", "LOOP": tmp_path / "loop.csv", "LONGNAME": str(tmp_path / ("x" * 300 + ".csv"))}
    env = {}
    argv = []
    for a in ARGS[case]:
        if a.startswith("ENV:"):
            k, v = a[4:].split("=", 1)
            env[k] = v
        else:
            argv.append(subst.get(a, a))
    before = _snapshot([data, test, one, txy, recipe])
    r = dq(*argv, env=env or None)
    assert "Traceback" not in r.stderr, r.stderr
    error_line(r)
    assert _snapshot([data, test, one, txy, recipe]) == before
    assert not (tmp_path / "adv.json").exists() and not (tmp_path / "run").exists()


# ---------------------------------------------------------------- caches keyed by content
def test_signals_cache_not_stale_after_embeddings_change(tmp_path):
    data, emb = _data(tmp_path), _emb(tmp_path)
    args = ["signals", data, "--signals", "near_duplicate", "--embeddings", emb]
    r1 = _run(tmp_path, [*args, "--out", tmp_path / "s1.csv"], 0, [data, emb])
    e = np.load(emb)
    e[2] = e[0]
    e[4] = e[0]
    np.save(emb, e)
    r2 = _run(tmp_path, [*args, "--out", tmp_path / "s2.csv"], 0, [data, emb])
    n1 = json.loads(r1.stdout)["signals"]["near_duplicate"]["n_issues"]
    n2 = json.loads(r2.stdout)["signals"]["near_duplicate"]["n_issues"]
    assert n1 == 0 and n2 >= 3, (n1, n2)


def test_filter_cache_not_stale_after_pred_probs_change(tmp_path):
    n = 24
    data = _data(tmp_path, labels=["a" if i % 2 else "b" for i in range(n)],
                 texts=[f"sample text number {i}" for i in range(n)])
    emb = _emb(tmp_path, np.random.default_rng(0).normal(size=(n, 8)).astype("float32"))
    pp = tmp_path / "p.npy"
    right = np.where(np.arange(n) % 2 == 1, 0.95, 0.05)
    np.save(pp, np.stack([right, 1 - right], 1))
    args = ["filter", data, "--recipe", "default", "--embeddings", emb, "--pred-probs", pp]
    r1 = json.loads(_run(tmp_path, [*args, "--out", tmp_path / "o1.csv"], 0, [data, emb, pp]).stdout)
    np.save(pp, np.stack([1 - right, right], 1))
    r2 = json.loads(_run(tmp_path, [*args, "--out", tmp_path / "o2.csv"], 0, [data, emb, pp]).stdout)
    assert r1["n_relabelled"] + r1["n_dropped"] == 0
    assert r2["n_relabelled"] + r2["n_dropped"] > 0


def test_pred_probs_numeric_class_header_in_any_order(tmp_path):
    n = 24
    data = _data(tmp_path, labels=["1" if i % 2 else "0" for i in range(n)],
                 texts=[f"sample text number {i}" for i in range(n)])
    emb = _emb(tmp_path, np.random.default_rng(0).normal(size=(n, 8)).astype("float32"))
    p1 = np.where(np.arange(n) % 2 == 1, 0.97, 0.03)
    a = _csv(tmp_path, "pa.csv", [["1", "0"]] + [[p1[i], 1 - p1[i]] for i in range(n)])
    b = _csv(tmp_path, "pb.csv", [["0", "1"]] + [[1 - p1[i], p1[i]] for i in range(n)])
    import pandas as pd
    scores = []
    for pp in (a, b):
        out = tmp_path / f"s_{pp.stem}.csv"
        _run(tmp_path, ["signals", data, "--signals", "label", "--embeddings", emb, "--pred-probs", pp, "--out", out],
             0, [data, emb, pp])
        scores.append(pd.read_csv(out)["label_score"].tolist())
    assert scores[0] == scores[1]


def test_compute_reordered_rows_recomputed(tmp_path):
    """Model-loading case (2 computes): the rows put in another order are computed again, not served stale."""
    import pandas as pd
    src = _pq(tmp_path / "in" / "p.parquet",
              pd.DataFrame({"text": [f"some text {i} here" for i in range(N)], "label": ["a", "b"] * (N // 2)}))
    out = tmp_path / "out"
    _run(tmp_path, ["compute", src, "--out", out, "--signals", "junk"], 0, [src])
    e1 = pd.read_parquet(out / "embeddings" / "part-00000.parquet")
    df = pd.read_parquet(src).iloc[::-1].reset_index(drop=True)
    df.to_parquet(src)
    r = _run(tmp_path, ["compute", src, "--out", out, "--signals", "junk"], 0, [src])
    assert "inputs changed" in r.stderr, r.stderr
    e2 = pd.read_parquet(out / "embeddings" / "part-00000.parquet")
    assert np.allclose(np.stack(e1["embedding"].iloc[::-1].to_numpy()), np.stack(e2["embedding"].to_numpy()), atol=1e-3)


# ---------------------------------------------------------------- more --pred-probs CSV forms and .npy headers
def _pp_text(body_fn):
    def build(tmp):
        pr = _probs()
        p = tmp / "p.csv"
        p.write_bytes(body_fn(pr))
        return p
    return build


def _rows(pr, fmt="{x},{y}\n"):
    return "".join(fmt.format(i=i, x=x, y=y) for i, (x, y) in enumerate(pr))


PP_MORE = {
    "pp_crlf_ok": (_pp_text(lambda pr: ("a,b\r\n" + _rows(pr, "{x},{y}\r\n")).encode()), 0),
    "pp_quoted_header_ok": (_pp_text(lambda pr: ('"a","b"\n' + _rows(pr)).encode()), 0),
    "pp_trailing_blank_lines_ok": (_pp_text(lambda pr: ("a,b\n" + _rows(pr) + "\n\n").encode()), 0),
    "pp_tsv_named_csv": (_pp_text(lambda pr: ("a\tb\n" + _rows(pr, "{x}\t{y}\n")).encode()), "0or2"),
    "pp_label_column_beside": (_pp_text(lambda pr: ("label,a,b\n" + _rows(pr, "a,{x},{y}\n")).encode()), 2),
    "pp_percent_values": (_pp_text(lambda pr: ("a,b\n" + _rows(pr * 100)).encode()), 2),
    "pp_comma_decimal": (_pp_text(lambda pr: ("a;b\n" + _rows(pr, "{x};{y}\n").replace(".", ",")).encode()), 2),
    "pp_id_duplicated": (_pp_text(lambda pr: ("id,a,b\n" + _rows(pr, "0,{x},{y}\n")).encode()), 2),
    "pp_id_unknown_values": (_pp_text(lambda pr: ("id,a,b\n" + _rows(pr, "r{i},{x},{y}\n")).encode()), 2),
    "pp_headerless_three_columns": (_pp_text(lambda pr: _rows(pr, "{i},{x},{y}\n").encode()), 2),
    "pp_three_decimals_ok": (_pp_text(lambda pr: ("a,b\n" + _rows(pr, "{x:.3f},{y:.3f}\n")).encode()), 0),
    "pp_utf16_csv": (_pp_text(lambda pr: ("a,b\n" + _rows(pr)).encode("utf-16")), "0or2"),
}


@pytest.mark.parametrize("case", sorted(PP_MORE))
def test_pred_probs_more(tmp_path, case):
    build, expect = PP_MORE[case]
    data, emb, pp = _data(tmp_path), _emb(tmp_path), build(tmp_path)
    _run(tmp_path, ["signals", data, "--signals", "label", "--embeddings", emb, "--pred-probs", pp,
                    "--out", tmp_path / "s.csv"], expect, [data, emb, pp])


def _npy_header(shape, dtype="<f4"):
    h = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape}, }}"
    h = h + " " * (64 - (10 + len(h) + 1) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(h).to_bytes(2, "little") + h.encode()


_B = _base.astype("float32")
NPY_HEADERS = {
    "npy_header_huge_shape": (_npy_header("(1000000000000, 8)") + _B.tobytes(), 2),
    "npy_header_short_data": (_npy_header("(12, 8)") + _B.tobytes()[:100], 2),
    "npy_header_negative_shape": (_npy_header("(-12, 8)") + _B.tobytes(), 2),
    "npy_big_endian_ok": (_npy_header("(12, 8)", ">f4") + _B.astype(">f4").tobytes(), 0),
    "npy_void_dtype": (_npy_header("(12, 8)", "|V4") + _B.tobytes(), 2),
    "npy_datetime_dtype": (_npy_header("(12, 8)", "<M8[s]") + _B.astype("int64").tobytes(), 2),
    "npy_float16_inf": ("f16inf", 2),
    "npy_fortran_ok": ("fortran", 0),
}


@pytest.mark.parametrize("case", sorted(NPY_HEADERS))
def test_embeddings_npy_headers(tmp_path, case):
    content, expect = NPY_HEADERS[case]
    data, emb = _data(tmp_path), tmp_path / "e.npy"
    if content == "f16inf":
        a = _B.astype("float16")
        a[1, 1] = np.inf
        np.save(emb, a)
    elif content == "fortran":
        np.save(emb, np.asfortranarray(_B))
    else:
        emb.write_bytes(content)
    _run(tmp_path, ["signals", data, "--signals", "near_duplicate", "--embeddings", emb,
                    "--out", tmp_path / "s.csv"], expect, [data, emb])


MISC = {
    "story_embeddings_wrong_rows": (["story", "DATA", "--embeddings", "E5", "--out", "SMD"], 2),
    "story_reference_embeddings_without_reference": (["story", "DATA", "--embeddings", "E", "--reference-embeddings",
                                                      "E", "--out", "SMD"], 2),
    "train_embeddings_wrong_rows": (["train", "DATA", "--trainer", "baseline", "--embeddings", "E5", "--out", "RUN"], 2),
    "train_transformer_with_embeddings": (["train", "DATA", "--trainer", "transformer", "--embeddings", "E",
                                           "--out", "RUN"], 2),
    "shift_embeddings_wrong_rows": (["shift", "DATA", "--reference", "DATA", "--embeddings", "E5"], 2),
    "filter_embeddings_wrong_rows": (["filter", "DATA", "--recipe", "default", "--embeddings", "E5", "--out", "OCSV"], 2),
    "advise_pred_probs_unknown_option": (["advise", "DATA", "--pred-probs", "E", "--out", "ADV"], 2),
    "signals_model_missing_with_embeddings": (["signals", "DATA", "--embeddings", "E", "--model", "/nonexistent/m",
                                               "--signals", "near_duplicate", "--out", "SIG"], 2),
    "embed_out_over_data": (["embed", "DATA", "--out", "DATA"], 2),
    "signals_reference_embeddings_with_reference_where": (["signals", "WDATA", "--reference-where", "src=y",
                                                           "--embeddings", "E", "--reference-embeddings", "E",
                                                           "--signals", "near_duplicate", "--out", "SIG"], 2),
}


@pytest.mark.parametrize("case", sorted(MISC))
def test_misc_refusals(tmp_path, case):
    argv, expect = MISC[case]
    data, emb = _data(tmp_path), _emb(tmp_path)
    e5 = _emb(tmp_path, _B[:5], "e5.npy")
    wdata = tmp_path / "w.csv"
    wdata.write_text("text,label,src\n" + "".join(f"t {i},{'a' if i % 2 else 'b'},{'x' if i < 8 else 'y'}\n"
                                                   for i in range(N)))
    subst = {"DATA": data, "WDATA": wdata, "E": emb, "E5": e5, "SMD": tmp_path / "s.md", "RUN": tmp_path / "run",
             "OCSV": tmp_path / "o.csv", "ADV": tmp_path / "a.json", "SIG": tmp_path / "s.csv"}
    _run(tmp_path, [subst.get(a, a) for a in argv], expect, [data, emb, e5, wdata])
    for out in ("s.md", "run", "o.csv", "a.json"):
        assert not (tmp_path / out).exists()


# ---------------------------------------------------------------- BOM files with broken bytes
_BOM_BROKEN = {
    "utf8_bom_then_cp1252_line_csv": ("d.csv", b'\xef\xbb\xbftext,label\n"hello 1",x\n"hello 2",y\n"caf\xe9 3",x\n'),
    "utf8_bom_then_cp1252_line_jsonl": ("d.jsonl", b'\xef\xbb\xbf{"text": "hello 1", "label": "x"}\n'
                                                   b'{"text": "hello 2", "label": "y"}\n'
                                                   b'{"text": "caf\xe9 3", "label": "x"}\n'),
    "utf8_bom_then_cp1252_line_tsv": ("d.tsv", b'\xef\xbb\xbftext\tlabel\nhello 1\tx\nhello 2\ty\ncaf\xe9 3\tx\n'),
    "utf16_bom_odd_length": ("d.csv", "text,label\n\"hello 1\",x\n\"hello 2\",y\n".encode("utf-16") + b"\x41"),
    "utf16_bom_lone_surrogate": ("d.csv", "text,label\n\"hello 1\",x\n\"hello 2\",y\n".encode("utf-16")
                                 + b"\x00\xd8" + ",x\n".encode("utf-16-le")),
}


@pytest.mark.parametrize("where", ["DATA", "--reference"])
@pytest.mark.parametrize("case", sorted(_BOM_BROKEN))
def test_bom_file_with_broken_bytes(tmp_path, case, where):
    """README: a byte-order mark and a few broken bytes (UTF-8 lines beside cp1252 ones) are read, with a note;
    never a UnicodeDecodeError traceback."""
    name, content = _BOM_BROKEN[case]
    sub = tmp_path / "in"
    sub.mkdir()
    p = sub / name
    p.write_bytes(content)
    args = ["profile", p] if where == "DATA" else ["profile", _data(tmp_path), "--reference", p]
    r = _run(tmp_path, args, "0or2", [p])
    if r.returncode == 0:
        assert "note:" in r.stderr


@pytest.mark.parametrize("case", ["ds_to_itself", "log_inside_ds", "out_symlink_to_dq_ds", "arrow_file_as_data",
                                  "card_as_data"])
def test_dq_written_datasets_folder_as_input(tmp_path, case):
    data = _data(tmp_path)
    recipe = _recipe(tmp_path, KEEP)
    ds = tmp_path / "ds"
    _run(tmp_path, ["filter", data, "--recipe", recipe, "--out", ds], 0, [data])
    argv = {
        "ds_to_itself": ["filter", ds, "--recipe", recipe, "--out", ds],
        "log_inside_ds": ["filter", ds, "--recipe", recipe, "--out", tmp_path / "o.csv", "--log", ds / "l.csv"],
        "out_symlink_to_dq_ds": ["filter", data, "--recipe", recipe, "--out", _link("symlink", ds, tmp_path / "lnk")],
        "arrow_file_as_data": ["filter", next(ds.glob("*.arrow")), "--recipe", recipe, "--out", tmp_path / "o.csv"],
        "card_as_data": ["profile", ds / "README.md"],
    }[case]
    _run(tmp_path, argv, 2, [data, recipe, ds])
    if case == "out_symlink_to_dq_ds":
        assert (tmp_path / "lnk").is_symlink()
