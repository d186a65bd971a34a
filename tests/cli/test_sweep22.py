"""Issue 22 red-team sweep: `dq` against bad and hostile inputs, from the README's promises only.

Every case builds its files in a fresh folder ``w`` (the command's working folder), runs `dq` in-process and
asserts the contract: a refusal is exit 2 with one ``error: ...`` line and no traceback; a success is exit 0
with no traceback; no file that existed in ``w`` before the command changed or vanished (data is sacred), and
a refusal creates nothing in ``w``. Some cases add a check of what was written (round trips, staleness).
Cases that load the embedding model or train are marked (``MODEL``); the rest give ``--embeddings``,
``--pred-probs`` or a recipe that needs no signal, or are refused before any data is read.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.cli_helpers import dq

N = 24
WORDS = "apple banana cherry delta echo foxtrot golf hotel india juliet kilo lima".split()
KEEP = {"format": "dq-filter-recipe", "version": 1, "signals": []}  # a recipe that needs no signal


# ---------------------------------------------------------------------------------------------- builders
def texts(n=N):
    rng = np.random.RandomState(0)
    return [" ".join(rng.choice(WORDS, 5, replace=False)) + f" row{i}" for i in range(n)]


def write_csv(path: Path, rows, header=("text", "label")):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def base(w: Path, n=N):
    """d.csv (n rows, neg/pos), e.npy (n x 8 float32), p.npy (n x 2 probabilities)."""
    write_csv(w / "d.csv", [(t, "pos" if i % 2 else "neg") for i, t in enumerate(texts(n))])
    np.save(w / "e.npy", np.random.RandomState(0).randn(n, 8).astype("float32"))
    np.save(w / "p.npy", np.random.RandomState(1).dirichlet([1, 1], n))
    (w / "keep.json").write_text(json.dumps(KEEP))


def ref(w: Path, n=12):
    write_csv(w / "r.csv", [(t + " ref", "pos" if i % 2 else "neg") for i, t in enumerate(texts(n))])
    np.save(w / "re.npy", np.random.RandomState(2).randn(n, 8).astype("float32"))


def make_test_set(w: Path, n=10):
    write_csv(w / "t.csv", [(t + " test", "pos" if i % 2 else "neg") for i, t in enumerate(texts(n))])
    np.save(w / "te.npy", np.random.RandomState(3).randn(n, 8).astype("float32"))


def parquet(path: Path, n=N, **extra):
    df = pd.DataFrame({"text": texts(n), "label": ["pos" if i % 2 else "neg" for i in range(n)], **extra})
    df.to_parquet(path, index=False)
    return path


def read_jsonl(path: Path):
    return [json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


# ---------------------------------------------------------------------------------------------- the cases
# id -> (build(w) -> args | (args, post), expect, contains, model)
# expect: "error" (exit 2, one `error:` line), "ok" (exit 0), "clean" (0, or 2 with one `error:` line),
# "usage" (argparse: exit 2 and an error line, usage allowed).
CASES: dict[str, tuple] = {}
MODEL: set[str] = set()


def case(cid, expect="error", contains=None, model=False):
    def deco(fn):
        assert cid not in CASES, cid
        CASES[cid] = (fn, expect, contains)
        if model:
            MODEL.add(cid)
        return fn
    return deco


def add(cid, build, expect="error", contains=None, model=False):
    case(cid, expect, contains, model)(build)


# --- --embeddings (dq signals near_duplicate reads only the vectors) -----------------------------------
def _emb_case(arr_or_writer):
    def build(w):
        base(w)
        target = w / "x.npy"
        if callable(arr_or_writer):
            arr_or_writer(target)
        else:
            np.save(target, arr_or_writer)
        return ["signals", "d.csv", "--embeddings", target.name, "--signals", "near_duplicate", "--out", "s.csv"]
    return build


R = np.random.RandomState(7)
GOOD = R.randn(N, 8).astype("float32")


def _with(arr, row, value):
    a = arr.copy()
    a[row] = value
    return a


EMB = {
    "emb-ok-float32": (GOOD, "ok"),
    "emb-ok-float16": (GOOD.astype("float16"), "ok"),
    "emb-ok-float64-fits": (GOOD.astype("float64"), "ok"),
    "emb-ok-bigendian": (GOOD.astype(">f4"), "ok"),
    "emb-ok-fortran": (np.asfortranarray(GOOD), "ok"),
    "emb-ok-huge-3e38": (np.full((N, 8), 3e38, dtype="float32"), "ok"),
    "emb-ok-tiny-1e-30": (np.full((N, 8), 1e-30, dtype="float32") * np.arange(1, 9, dtype="float32"), "ok"),
    "emb-ok-denormal": (np.full((N, 8), 1e-44, dtype="float32"), "ok"),
    "emb-ok-one-zero-row": (_with(GOOD, 3, 0.0), "ok"),
    "emb-width1": (R.rand(N, 1).astype("float32") + 0.1, "error"),
    "emb-rows-short": (GOOD[:-1], "error"),
    "emb-rows-long": (np.vstack([GOOD, GOOD[:1]]), "error"),
    "emb-1d": (GOOD[:, 0], "error"),
    "emb-3d": (GOOD.reshape(N, 2, 4), "error"),
    "emb-0d": (np.float32(1.0), "error"),
    "emb-width0": (np.zeros((N, 0), dtype="float32"), "error"),
    "emb-empty-0rows": (np.zeros((0, 8), dtype="float32"), "error"),
    "emb-int64": (R.randint(-5, 5, (N, 8)), "clean"),
    "emb-bool": (R.rand(N, 8) > 0.5, "clean"),
    "emb-complex": (GOOD.astype("complex64"), "error"),
    "emb-structured": (np.zeros(N, dtype=[("a", "f4"), ("b", "f4")]), "error"),
    "emb-unicode": (np.array([["a"] * 8] * N), "error"),
    "emb-nan": (_with(GOOD, 5, np.nan), "error"),
    "emb-inf": (_with(GOOD, 5, np.inf), "error"),
    "emb-neginf": (_with(GOOD, 5, -np.inf), "error"),
    "emb-float64-1e300": (_with(GOOD.astype("float64"), 5, 1e300), "error"),
    "emb-float64-3.5e38": (_with(GOOD.astype("float64"), 5, 3.5e38), "error"),
    "emb-float16-inf": (_with(GOOD.astype("float16"), 2, np.inf), "error"),
    "emb-all-zero": (np.zeros((N, 8), dtype="float32"), "error"),
    "emb-all-zero-float16": (np.zeros((N, 8), dtype="float16"), "error"),
    "emb-negzero-all": (np.full((N, 8), -0.0, dtype="float32"), "error"),
}
for _cid, (_arr, _exp) in EMB.items():
    add(_cid, _emb_case(_arr), _exp, "--embeddings" if _exp == "error" else None)


def _obj(p):
    np.save(p, np.array([object()] * N, dtype=object), allow_pickle=True)


def _npz(p):
    with open(p, "wb") as f:
        np.savez(f, a=GOOD)


add("emb-object-pickle", _emb_case(_obj), "error", "--embeddings")
add("emb-npz-named-npy", _emb_case(_npz), "error", "--embeddings")
add("emb-text-named-npy", _emb_case(lambda p: p.write_text("1,2,3\n4,5,6\n")), "error", "--embeddings")
add("emb-empty-file", _emb_case(lambda p: p.write_bytes(b"")), "error", "--embeddings")
add("emb-binary-garbage", _emb_case(lambda p: p.write_bytes(os.urandom(2000))), "error", "--embeddings")


def _truncated(p):
    np.save(p, GOOD)
    p.write_bytes(p.read_bytes()[:-50])


add("emb-truncated", _emb_case(_truncated), "error", "--embeddings")
add("emb-header-lies-shape", _emb_case(
    lambda p: (np.save(p, GOOD), p.write_bytes(p.read_bytes().replace(b"(24, 8)", b"(99, 8)")))), "error",
    "--embeddings")


def _emb_named(name, writer, expect):
    def build(w):
        base(w)
        writer(w / name)
        return ["signals", "d.csv", "--embeddings", name, "--signals", "near_duplicate", "--out", "s.csv"]
    return build


add("emb-npy-renamed-bin", _emb_named("x.bin", lambda p: p.write_bytes(_npy_bytes(GOOD)), "clean"), "clean")
add("emb-real-npz", _emb_named("x.npz", lambda p: np.savez(p, a=GOOD), "error"), "error", "--embeddings")
add("emb-csv-file", _emb_named("x.csv", lambda p: np.savetxt(p, GOOD, delimiter=","), "clean"), "clean")
add("emb-missing-file", _emb_named("nope.npy", lambda p: None, "error"), "error", "nope.npy")
add("emb-directory", _emb_named("dir.npy", lambda p: p.mkdir(), "error"), "error", "--embeddings")


def _npy_bytes(arr):
    import io
    b = io.BytesIO()
    np.save(b, arr)
    return b.getvalue()


# --- --reference-embeddings (dq coverage reads only vectors) --------------------------------------------
def _refemb(arr, extra=()):
    def build(w):
        base(w)
        ref(w)
        if arr is not None:
            np.save(w / "rx.npy", arr)
        return ["coverage", "d.csv", "--reference", "r.csv", "--embeddings", "e.npy",
                "--reference-embeddings", "rx.npy", *extra]
    return build


RG = np.random.RandomState(9).randn(12, 8).astype("float32")
add("refemb-ok", _refemb(RG), "ok")
add("refemb-width-mismatch", _refemb(RG[:, :4]), "error", "--reference-embeddings")
add("refemb-rows-short", _refemb(RG[:-2]), "error", "--reference-embeddings")
add("refemb-nan", _refemb(_with(RG, 1, np.nan)), "error", "--reference-embeddings")
add("refemb-inf", _refemb(_with(RG, 1, np.inf)), "error", "--reference-embeddings")
add("refemb-all-zero", _refemb(np.zeros((12, 8), "float32")), "error", "--reference-embeddings")
add("refemb-float64-huge", _refemb(_with(RG.astype("float64"), 0, 1e300)), "error", "--reference-embeddings")
add("refemb-1d", _refemb(RG[:, 0]), "error", "--reference-embeddings")
add("refemb-float16", _refemb(RG.astype("float16")), "ok")


def _refemb_no_ref(w):
    base(w)
    ref(w)
    return ["coverage", "d.csv", "--reference-where", "label=pos", "--embeddings", "e.npy",
            "--reference-embeddings", "re.npy"]


add("refemb-with-reference-where", _refemb_no_ref, "error", "--reference-embeddings")


def _refemb_without_emb(w):
    base(w)
    ref(w)
    return ["coverage", "d.csv", "--reference", "r.csv", "--reference-embeddings", "re.npy"]


add("refemb-without-embeddings", _refemb_without_emb, "error", "--embeddings")


def _refemb_without_ref(w):
    base(w)
    ref(w)
    return ["signals", "d.csv", "--embeddings", "e.npy", "--reference-embeddings", "re.npy",
            "--signals", "near_duplicate", "--out", "s.csv"]


add("refemb-without-reference", _refemb_without_ref, "error", "--reference")


def _ref_emb_shift_width(w):
    base(w)
    ref(w)
    np.save(w / "rx.npy", RG[:, :6])
    return ["shift", "d.csv", "--reference", "r.csv", "--embeddings", "e.npy", "--reference-embeddings", "rx.npy",
            "--bootstrap", "10", "--permutations", "10"]


add("refemb-shift-width-mismatch", _ref_emb_shift_width, "error", "--reference-embeddings")


# --- --test-embeddings (dq train --trainer baseline) ----------------------------------------------------
def _train(te=None, extra=(), emb=True):
    def build(w):
        base(w)
        make_test_set(w)
        if te is not None:
            np.save(w / "tx.npy", te)
        args = ["train", "d.csv", "--trainer", "baseline", "--test", "t.csv", "--out", "run"]
        if emb:
            args += ["--embeddings", "e.npy"]
        if te is not None:
            args += ["--test-embeddings", "tx.npy"]
        return args + list(extra)
    return build


TG = np.random.RandomState(4).randn(10, 8).astype("float32")
add("testemb-ok", _train(TG), "ok")
add("testemb-rows-short", _train(TG[:-1]), "error", "--test-embeddings")
add("testemb-width-mismatch", _train(TG[:, :5]), "error", "--test-embeddings")
add("testemb-nan", _train(_with(TG, 0, np.nan)), "error", "--test-embeddings")
add("testemb-all-zero", _train(np.zeros((10, 8), "float32")), "error", "--test-embeddings")
add("testemb-float64-huge", _train(_with(TG.astype("float64"), 0, -1e300)), "error", "--test-embeddings")
add("testemb-without-embeddings", _train(TG, emb=False), "error", "--embeddings")


def _testemb_without_test(w):
    base(w)
    make_test_set(w)
    return ["train", "d.csv", "--trainer", "baseline", "--out", "run", "--embeddings", "e.npy",
            "--test-embeddings", "te.npy"]


add("testemb-without-test", _testemb_without_test, "error", "--test")


def _train_emb_transformer(w):
    base(w)
    return ["train", "d.csv", "--trainer", "transformer", "--out", "run", "--embeddings", "e.npy"]


add("train-embeddings-with-transformer", _train_emb_transformer, "error", "--embeddings")


# --- --pred-probs (dq signals label with given vectors) -------------------------------------------------
def _pp(writer, name="pp.npy", cmd="signals"):
    def build(w):
        base(w)
        p = w / name
        if callable(writer):
            writer(p)
        else:
            np.save(p, writer)
        if cmd == "signals":
            return ["signals", "d.csv", "--embeddings", "e.npy", "--pred-probs", name, "--signals", "label",
                    "--out", "s.csv"]
        return ["filter", "d.csv", "--embeddings", "e.npy", "--pred-probs", name, "--recipe", "default",
                "--out", "c.csv"]
    return build


PG = np.random.RandomState(5).dirichlet([1, 1], N)
ONEHOT = np.eye(2)[[i % 2 for i in range(N)]]
PP = {
    "pp-ok": (PG, "ok"),
    "pp-ok-float32": (PG.astype("float32"), "ok"),
    "pp-ok-float16": (PG.astype("float16"), "clean"),
    "pp-ok-almost-hard": (np.where(ONEHOT == 1, 0.999, 0.001), "ok"),
    "pp-ok-one-row-soft": (np.vstack([ONEHOT[:-1], [[0.4, 0.6]]]), "ok"),
    "pp-rows-short": (PG[:-1], "error"),
    "pp-rows-long": (np.vstack([PG, PG[:1]]), "error"),
    "pp-width3": (np.random.RandomState(5).dirichlet([1, 1, 1], N), "error"),
    "pp-width1": (np.ones((N, 1)), "error"),
    "pp-1d": (PG[:, 0], "error"),
    "pp-3d": (PG.reshape(N, 2, 1), "error"),
    "pp-nan": (_with(PG, 2, np.nan), "error"),
    "pp-inf": (_with(PG, 2, np.inf), "error"),
    "pp-negative": (_with(PG, 2, [-0.5, 1.5]), "error"),
    "pp-above-one": (_with(PG, 2, [1.5, -0.5]), "error"),
    "pp-unnormalised": (PG * 3, "error"),
    "pp-logits": (np.random.RandomState(5).randn(N, 2), "error"),
    "pp-percent": (PG * 100, "error"),
    "pp-zero-row": (_with(PG, 4, 0.0), "error"),
    "pp-all-zero": (np.zeros((N, 2)), "error"),
    "pp-onehot-int": (ONEHOT.astype("int64"), "error"),
    "pp-onehot-float": (ONEHOT, "error"),
    "pp-onehot-bool": (ONEHOT.astype(bool), "error"),
    "pp-onehot-float16": (ONEHOT.astype("float16"), "error"),
    "pp-complex": (PG.astype("complex128"), "error"),
    "pp-huge": (_with(PG, 1, 1e300), "error"),
    "pp-uniform": (np.full((N, 2), 0.5), "ok"),
}
for _cid, (_arr, _exp) in PP.items():
    add(_cid, _pp(_arr), _exp, "--pred-probs" if _exp == "error" else None)

add("pp-filter-onehot", _pp(ONEHOT, cmd="filter"), "error", "--pred-probs")
add("pp-filter-unnormalised", _pp(PG * 2, cmd="filter"), "error", "--pred-probs")
add("pp-filter-ok", _pp(PG, cmd="filter"), "ok")
add("pp-npz", _pp(lambda p: np.savez(open(p, "wb"), a=PG)), "error", "--pred-probs")
add("pp-text-named-npy", _pp(lambda p: p.write_text("0.5,0.5\n")), "error", "--pred-probs")
add("pp-empty-file", _pp(lambda p: p.write_bytes(b"")), "error", "--pred-probs")
add("pp-missing", _pp(lambda p: None), "error", "pp.npy")
add("pp-object", _pp(lambda p: np.save(p, np.array([None] * N, dtype=object), allow_pickle=True)),
    "error", "--pred-probs")


def _pp_csv(text, name="pp.csv"):
    return _pp(lambda p: p.write_text(text), name=name)


def _rows_csv(arr, header=None):
    lines = [",".join(header)] if header else []
    lines += [",".join(repr(float(x)) for x in row) for row in arr]
    return "\n".join(lines) + "\n"


add("pp-csv-header-ok", _pp_csv(_rows_csv(PG, ["neg", "pos"])), "ok")
add("pp-csv-headerless-ok", _pp_csv(_rows_csv(PG)), "ok")
add("pp-csv-wrong-classes", _pp_csv(_rows_csv(PG, ["cat", "dog"])), "error", "--pred-probs")
add("pp-csv-extra-class", _pp_csv(_rows_csv(np.hstack([PG, np.zeros((N, 1))]), ["neg", "pos", "zzz"])),
    "error", "--pred-probs")
add("pp-csv-text-cell", _pp_csv(_rows_csv(PG, ["neg", "pos"]).replace("\n", "\nabc,0.5\n", 1)), "error",
    "--pred-probs")
add("pp-csv-empty-cell", _pp_csv("neg,pos\n" + ",0.5\n" + _rows_csv(PG[1:])), "error", "--pred-probs")
add("pp-csv-onehot", _pp_csv(_rows_csv(ONEHOT, ["neg", "pos"])), "error", "--pred-probs")
add("pp-csv-header-only", _pp_csv("neg,pos\n"), "error", "--pred-probs")
add("pp-csv-ragged", _pp_csv("neg,pos\n0.5,0.5\n0.5\n" + _rows_csv(PG[2:])), "error", "--pred-probs")
add("pp-csv-semicolons", _pp_csv(_rows_csv(PG, ["neg", "pos"]).replace(",", ";")), "clean")
add("pp-txt-extension", _pp(lambda p: p.write_text(_rows_csv(PG)), name="pp.txt"), "error", "--pred-probs")
add("pp-parquet", _pp(lambda p: pd.DataFrame(PG, columns=["neg", "pos"]).to_parquet(p), name="pp.parquet"),
    "clean")


def _pp_reversed_header(w):
    base(w)
    (w / "rev.csv").write_text(_rows_csv(PG[:, ::-1], ["pos", "neg"]))
    (w / "fwd.csv").write_text(_rows_csv(PG, ["neg", "pos"]))
    args = ["signals", "d.csv", "--embeddings", "e.npy", "--pred-probs", "rev.csv", "--signals", "label",
            "--out", "s1.csv"]

    def post(r, w):
        r2 = dq("signals", "d.csv", "--embeddings", "e.npy", "--pred-probs", "fwd.csv", "--signals", "label",
                "--out", "s2.csv", cwd=w)
        assert r2.returncode == 0, r2.stderr
        a = pd.read_csv(w / "s1.csv")["label_score"]
        b = pd.read_csv(w / "s2.csv")["label_score"]
        assert np.allclose(a, b), "a header naming the classes in another order was not read by name"
    return args, post


add("pp-csv-header-reordered", _pp_reversed_header, "ok")


def _pp_cut_loses_class(w):
    base(w)
    return ["signals", "d.csv", "--reference-where", "label=pos", "--embeddings", "e.npy", "--pred-probs",
            "p.npy", "--signals", "label", "--out", "s.csv"]


add("pp-cut-loses-class", _pp_cut_loses_class, "error", "--pred-probs")


def _pp_unlabelled(w):
    write_csv(w / "d.csv", [(t,) for t in texts()], header=("text",))
    np.save(w / "e.npy", GOOD)
    np.save(w / "p.npy", PG)
    return ["signals", "d.csv", "--text-col", "text", "--embeddings", "e.npy", "--pred-probs", "p.npy",
            "--signals", "label", "--out", "s.csv"]


add("pp-unlabelled-data", _pp_unlabelled, "error")


# --- dq advise ------------------------------------------------------------------------------------------
def _advise(*extra, build_extra=None):
    def build(w):
        base(w)
        make_test_set(w)
        if build_extra:
            build_extra(w)
        return ["advise", "d.csv", "--trainer", "baseline", "--out", "a.json", *extra]
    return build


for _v in ("0", "1", "-1"):
    add(f"advise-folds-{_v}", _advise("--folds", _v), "error", "--folds")
add("advise-folds-999", _advise("--folds", "999"), "error", "--folds")
add("advise-folds-text", _advise("--folds", "x"), "usage")
for _v in ("0", "11", "-2"):
    add(f"advise-repeats-{_v}", _advise("--repeats", _v), "error", "--repeats")
for _v in ("-1", "4294967296", "99999999999999999999"):
    add(f"advise-seed-{_v}", _advise("--seed", _v), "error", "seed")
add("advise-seed-room-for-repeats", _advise("--trainer", "transformer", "--repeats", "3", "--seed", "4294967294"),
    "error", "seed")
add("advise-metric-bad", _advise("--metric", "auc"), "usage")
add("advise-out-is-data", lambda w: (base(w), ["advise", "d.csv", "--out", "d.csv"])[1], "error", "--out")
add("advise-out-is-test", lambda w: (base(w), make_test_set(w),
                                     ["advise", "d.csv", "--test", "t.csv", "--out", "t.csv"])[2], "error", "--out")
add("advise-out-symlink-data", lambda w: (base(w), os.symlink("d.csv", w / "a.json"),
                                          ["advise", "d.csv", "--out", "a.json"])[2], "error", "--out")
add("advise-out-hardlink-test", lambda w: (base(w), make_test_set(w), os.link(w / "t.csv", w / "a.json"),
                                           ["advise", "d.csv", "--test", "t.csv", "--out", "a.json"])[3],
    "error", "--out")
add("advise-out-dotdot-data", lambda w: (base(w), (w / "sub").mkdir(),
                                         ["advise", "d.csv", "--out", "sub/../d.csv"])[2], "error", "--out")
add("advise-out-is-dir", lambda w: (base(w), (w / "a.json").mkdir(), ["advise", "d.csv", "--out", "a.json"])[2],
    "error", "--out")
add("advise-test-missing", _advise("--test", "nope.csv"), "error", "nope.csv")
add("advise-test-label-col-unknown", _advise("--test", "t.csv", "--test-label-col", "zzz"), "error", "zzz")
add("advise-test-text-col-unknown", _advise("--test", "t.csv", "--test-text-col", "zzz"), "error", "zzz")
add("advise-agreement-col-unknown", _advise("--agreement-col", "zzz"), "error", "zzz")
add("advise-agreement-col-is-text", _advise("--agreement-col", "text"), "error", "--agreement-col")


def _single_class(w):
    write_csv(w / "d.csv", [(t, "pos") for t in texts()])
    return ["advise", "d.csv", "--trainer", "baseline", "--out", "a.json"]


add("advise-single-class", _single_class, "error")


def _advise_unlabelled_test(w):
    base(w)
    write_csv(w / "t.csv", [(t + " q",) for t in texts(6)], header=("text",))
    return ["advise", "d.csv", "--trainer", "baseline", "--test", "t.csv", "--test-text-col", "text",
            "--out", "a.json"]


add("advise-test-unlabelled", _advise_unlabelled_test, "error")


def _advise_runs(w):
    base(w)
    make_test_set(w)
    args = ["advise", "d.csv", "--trainer", "baseline", "--test", "t.csv", "--out", "a.json"]

    def post(r, w):
        assert json.loads((w / "a.json").read_text())
    return args, post


add("advise-baseline-test-runs", _advise_runs, "ok", model=True)


def _advise_agreement_scale(w):
    rows = [(t, "pos" if i % 2 else "neg", str(i % 5 + 1)) for i, t in enumerate(texts())]
    write_csv(w / "d.csv", rows, header=("text", "label", "agreement"))
    return ["advise", "d.csv", "--trainer", "baseline", "--folds", "2", "--out", "a.json"]


add("advise-agreement-other-scale-said", _advise_agreement_scale, "ok", model=True)


# --- dq compute (refusals before any model; two runs with the model) ----------------------------------
def _compute(prep, *extra, data="d.parquet", out="out"):
    def build(w):
        parquet(w / "d.parquet")
        prep(w)
        return ["compute", data, "--out", out, *extra]
    return build


def _noop(w):
    return None


add("compute-csv-refused", lambda w: (base(w), ["compute", "d.csv", "--out", "out"])[1], "error")
add("compute-out-is-data", _compute(_noop, out="d.parquet"), "error", "--out")
add("compute-out-inside-data-folder", lambda w: ((w / "dd").mkdir(), parquet(w / "dd" / "a.parquet"),
                                                 ["compute", "dd", "--out", "dd/out"])[2], "error", "--out")
add("compute-out-is-data-folder", lambda w: ((w / "dd").mkdir(), parquet(w / "dd" / "a.parquet"),
                                             ["compute", "dd", "--out", "dd"])[2], "error", "--out")
add("compute-out-holds-data", lambda w: ((w / "dd").mkdir(), parquet(w / "dd" / "a.parquet"),
                                         ["compute", "dd/a.parquet", "--out", "dd"])[2], "error", "--out")
add("compute-out-reached-by-glob", lambda w: ((w / "dd").mkdir(), parquet(w / "dd" / "a.parquet"),
                                              ["compute", "dd/**/*.parquet", "--out", "dd/out"])[2], "error",
    "--out")
add("compute-out-foreign-folder", _compute(lambda w: ((w / "out").mkdir(), (w / "out" / "mine.txt").write_text("x"))),
    "error", "--out")
add("compute-out-manifest-not-json", _compute(lambda w: ((w / "out").mkdir(),
                                                         (w / "out" / "manifest.json").write_text("{not json"))),
    "error", "manifest")
add("compute-out-manifest-other-json", _compute(lambda w: ((w / "out").mkdir(),
                                                           (w / "out" / "manifest.json").write_text('{"a": 1}'))),
    "error", "manifest")
add("compute-out-manifest-list", _compute(lambda w: ((w / "out").mkdir(),
                                                     (w / "out" / "manifest.json").write_text("[1, 2]"))),
    "error", "manifest")
add("compute-out-manifest-empty", _compute(lambda w: ((w / "out").mkdir(),
                                                      (w / "out" / "manifest.json").write_bytes(b""))),
    "error", "manifest")
add("compute-out-is-file", _compute(lambda w: (w / "out").write_text("x")), "error", "--out")
add("compute-out-symlink-to-data", _compute(lambda w: os.symlink("d.parquet", w / "out")), "error", "--out")
for _opt, _v in (("--shard-rows", "0"), ("--shard-rows", "-5"), ("--batch-size", "0"), ("--seed", "-1"),
                 ("--seed", "4294967296"), ("--workers", "0"), ("--signals", "bogus"), ("--encoding", "nope-enc"),
                 ("--model", "no_such_model_dir"), ("--text-col", "zzz"), ("--id-col", "zzz")):
    add(f"compute-bad{_opt}={_v}", _compute(_noop, _opt, _v), "error")
add("compute-glob-matches-nothing", _compute(_noop, data="none/*.parquet"), "error")
add("compute-folder-without-parquet", lambda w: ((w / "dd").mkdir(), (w / "dd" / "x.csv").write_text("a\n"),
                                                 ["compute", "dd", "--out", "out"])[2], "error")
add("compute-empty-parquet", lambda w: (parquet(w / "d.parquet", n=0), ["compute", "d.parquet", "--out", "out"])[1],
    "error")
add("compute-duplicate-ids", lambda w: (parquet(w / "d.parquet", id=[1] * N),
                                        ["compute", "d.parquet", "--id-col", "id", "--out", "out"])[1], "error", "id")
add("compute-nested-text", lambda w: (pd.DataFrame({"text": [[1, 2]] * N, "label": ["a", "b"] * (N // 2)})
                                      .to_parquet(w / "d.parquet"),
                                      ["compute", "d.parquet", "--text-col", "text", "--out", "out"])[1], "error")
add("compute-ray-unreachable", _compute(_noop, "--backend", "ray", "--address", "127.0.0.1:1"), "error")
add("compute-ray-garbage-address", _compute(_noop, "--backend", "ray", "--address", "not an address"), "error")
add("compute-ray-client-unreachable", _compute(_noop, "--backend", "ray", "--address", "ray://127.0.0.1:1"),
    "error")


def _compute_stale(edit, expect_note, out_changed=True):
    def build(w):
        parquet(w / "d.parquet")
        args = ["compute", "d.parquet", "--out", "out", "--signals", "junk,exact_duplicate", "--shard-rows", "12"]
        r0 = dq(*args, cwd=w)
        assert r0.returncode == 0, r0.stderr
        edit(w)

        def post(r, w):
            assert expect_note in r.stderr, r.stderr
            fresh = dq(*[("fresh" if a == "out" else a) for a in args], cwd=w)
            assert fresh.returncode == 0, fresh.stderr

            def signals(d):
                parts = sorted((w / d / "signals").glob("part-*.parquet"))
                return pd.concat([pd.read_parquet(p) for p in parts]).sort_values("row_id").reset_index(drop=True)
            pd.testing.assert_frame_equal(signals("out"), signals("fresh"))  # the resumed run is not stale
        return args, post
    return build


def _edit_text(w):
    df = pd.read_parquet(w / "d.parquet")
    df.loc[3, "text"] = df.loc[0, "text"]  # a new exact duplicate: served stale it would be missed
    df.to_parquet(w / "d.parquet", index=False)


add("compute-stale-after-edit", _compute_stale(_edit_text, "inputs changed"), "ok", model=True)


def _reorder(w):
    df = pd.read_parquet(w / "d.parquet")
    df.iloc[::-1].to_parquet(w / "d.parquet", index=False)


add("compute-stale-after-reorder", _compute_stale(_reorder, "inputs changed"), "ok", model=True)


def _compute_other_settings(w):
    parquet(w / "d.parquet")
    r0 = dq("compute", "d.parquet", "--out", "out", "--signals", "junk", "--shard-rows", "12", cwd=w)
    assert r0.returncode == 0, r0.stderr
    return ["compute", "d.parquet", "--out", "out", "--signals", "junk", "--shard-rows", "8"]


add("compute-other-settings-refused", _compute_other_settings, "error", "shard", model=True)






# --- recipes --------------------------------------------------------------------------------------------
def _recipe(content, extra=()):
    def build(w):
        base(w)
        (w / "r.json").write_text(content if isinstance(content, str) else json.dumps(content))
        return ["filter", "d.csv", "--embeddings", "e.npy", "--pred-probs", "p.npy", "--recipe", "r.json",
                "--out", "c.csv", *extra]
    return build


def _sig(**kw):
    s = {"signal": "label", "action": "drop", "threshold": 0.2, "use_flag": False, "min_prob": 0.0,
         "enabled": True, "required": False}
    s.update(kw)
    return {**KEEP, "signals": [s]}


def _cap(**kw):
    c = {"label": "pos", "action": "cap", "max_rows": 3}
    c.update(kw)
    return {**KEEP, "classes": [c]}


RECIPES = {
    "recipe-ok-keep": (KEEP, "ok"),
    "recipe-ok-label": (_sig(), "ok"),
    "recipe-ok-cap": (_cap(seed=4294967295), "ok"),
    "recipe-not-json": ("{oops", "error"),
    "recipe-empty": ("", "error"),
    "recipe-list": ("[]", "error"),
    "recipe-null": ("null", "error"),
    "recipe-number": ("3", "error"),
    "recipe-unknown-top-key": ({**KEEP, "colour": "red"}, "error"),
    "recipe-wrong-format": ({**KEEP, "format": "something"}, "error"),
    "recipe-version-99": ({**KEEP, "version": 99}, "error"),
    "recipe-version-string": ({**KEEP, "version": "1"}, "error"),
    "recipe-signals-not-list": ({**KEEP, "signals": {"label": 1}}, "error"),
    "recipe-threshold-string": (_sig(threshold="0.5"), "error"),
    "recipe-threshold-true": (_sig(threshold=True), "error"),
    "recipe-threshold-false": (_sig(threshold=False), "error"),
    "recipe-threshold-1.5": (_sig(threshold=1.5), "error"),
    "recipe-threshold-negative": (_sig(threshold=-0.1), "error"),
    "recipe-threshold-1e400": ('{"format": "dq-filter-recipe", "version": 1, "signals": [{"signal": "label", '
                               '"action": "drop", "threshold": 1e400}]}', "error"),
    "recipe-threshold-NaN": ('{"format": "dq-filter-recipe", "version": 1, "signals": [{"signal": "label", '
                             '"action": "drop", "threshold": NaN}]}', "error"),
    "recipe-threshold-Infinity": ('{"format": "dq-filter-recipe", "version": 1, "signals": [{"signal": "label", '
                                  '"action": "drop", "threshold": -Infinity}]}', "error"),
    "recipe-min-prob-2": (_sig(action="relabel_or_drop", min_prob=2), "error"),
    "recipe-min-prob-true": (_sig(action="relabel_or_drop", min_prob=True), "error"),
    "recipe-min-prob-string": (_sig(action="relabel_or_drop", min_prob="0.7"), "error"),
    "recipe-enabled-string": (_sig(enabled="yes"), "error"),
    "recipe-enabled-int": (_sig(enabled=1), "error"),
    "recipe-use-flag-string": (_sig(use_flag="false"), "error"),
    "recipe-unknown-signal-noted": (_sig(signal="bogus"), "ok"),
    "recipe-unknown-action": (_sig(action="explode"), "error"),
    "recipe-unknown-rule-key": (_sig(colour="red"), "error"),
    "recipe-signal-rule-not-object": ({**KEEP, "signals": ["label"]}, "error"),
    "recipe-cap-max-rows-0": (_cap(max_rows=0), "error"),
    "recipe-cap-max-rows-negative": (_cap(max_rows=-3), "error"),
    "recipe-cap-max-rows-2.5": (_cap(max_rows=2.5), "error"),
    "recipe-cap-max-rows-true": (_cap(max_rows=True), "error"),
    "recipe-cap-max-rows-string": (_cap(max_rows="3"), "error"),
    "recipe-cap-max-rows-1e20": (_cap(max_rows=1e20), "clean"),
    "recipe-cap-max-rows-huge-int": (_cap(max_rows=10 ** 40), "clean"),
    "recipe-cap-seed-negative": (_cap(seed=-1), "error"),
    "recipe-cap-seed-2**32": (_cap(seed=2 ** 32), "error"),
    "recipe-cap-seed-float": (_cap(seed=1.5), "error"),
    "recipe-cap-seed-true": (_cap(seed=True), "error"),
    "recipe-cap-unknown-class": (_cap(label="zzz"), "clean"),
    "recipe-cap-unknown-key": (_cap(colour="red"), "error"),
    "recipe-settings-seed-negative": ({**KEEP, "signal_settings": {"seed": -1}}, "error"),
    "recipe-settings-seed-huge": ({**KEEP, "signal_settings": {"seed": 2 ** 64}}, "error"),
    "recipe-settings-seed-true": ({**KEEP, "signal_settings": {"seed": True}}, "error"),
    "recipe-settings-signal-out-of-range": ({**KEEP, "signal_settings": {
        "signals": ["near_duplicate(threshold=2)"]}}, "error"),
    "recipe-settings-signal-k-float": ({**KEEP, "signal_settings": {"signals": ["label(k=2.5)"]}}, "error"),
    "recipe-settings-unknown-key": ({**KEEP, "signal_settings": {"colour": 1}}, "error"),
    "recipe-settings-not-object": ({**KEEP, "signal_settings": [1]}, "error"),
    "recipe-deep-nesting": ('{"format": "dq-filter-recipe", "version": 1, "signals": []' + ', "name": '
                            + "[" * 5000 + "]" * 5000 + "}", "error"),
    "recipe-utf8-bom": ("\ufeff" + json.dumps(KEEP), "clean"),
    "recipe-decisions-not-list": ({**KEEP, "decisions": "x"}, "error"),
    "recipe-conditions-garbage": ({**KEEP, "conditions": [{"x": 1}]}, "error"),
}
for _cid, (_content, _exp) in RECIPES.items():
    add(_cid, _recipe(_content), _exp, "recipe" if _exp == "error" else None)

add("recipe-missing-file", lambda w: (base(w), ["filter", "d.csv", "--recipe", "nope.json", "--out", "c.csv"])[1],
    "error", "nope.json")
add("recipe-is-directory", lambda w: (base(w), (w / "rd").mkdir(),
                                      ["filter", "d.csv", "--recipe", "rd", "--out", "c.csv"])[2], "error")
add("recipe-binary", lambda w: (base(w), (w / "r.json").write_bytes(os.urandom(300)),
                                ["filter", "d.csv", "--recipe", "r.json", "--out", "c.csv"])[2], "error", "recipe")
add("recipe-checked-before-data", lambda w: ((w / "r.json").write_text(json.dumps(_cap(max_rows=0))),
                                             ["filter", "missing.csv", "--recipe", "r.json", "--out", "c.csv"])[1],
    "error", "recipe")


def _save_recipe_roundtrip(w):
    base(w)
    args = ["filter", "d.csv", "--embeddings", "e.npy", "--pred-probs", "p.npy", "--recipe", "default",
            "--out", "c1.csv", "--save-recipe", "saved.json"]

    def post(r, w):
        r2 = dq("filter", "d.csv", "--embeddings", "e.npy", "--pred-probs", "p.npy", "--recipe", "saved.json",
                "--out", "c2.csv", cwd=w)
        assert r2.returncode == 0, r2.stderr
        assert (w / "c1.csv").read_bytes() == (w / "c2.csv").read_bytes()
    return args, post


add("recipe-save-roundtrip", _save_recipe_roundtrip, "ok")
add("recipe-save-over-recipe", lambda w: (base(w), (w / "r.json").write_text(json.dumps(KEEP)),
                                          ["filter", "d.csv", "--recipe", "r.json", "--out", "c.csv",
                                           "--save-recipe", "r.json"])[2], "error", "--save-recipe")
add("recipe-save-over-data", lambda w: (base(w), ["filter", "d.csv", "--recipe", "keep.json", "--out", "c.csv",
                                                  "--save-recipe", "d.csv"])[1], "error", "--save-recipe")
add("recipe-save-hardlink-recipe", lambda w: (base(w), os.link(w / "keep.json", w / "s.json"),
                                              ["filter", "d.csv", "--recipe", "keep.json", "--out", "c.csv",
                                               "--save-recipe", "s.json"])[2], "error", "--save-recipe")
add("recipe-save-equals-out", lambda w: (base(w), ["filter", "d.csv", "--recipe", "keep.json", "--out", "c.json",
                                                   "--save-recipe", "c.json"])[1], "error")


# --- charsets (dq filter with a recipe that needs no signal, then the export's texts) ------------------
SAMPLES = {
    "cp1250": ["Zażółć gęślą jaźń", "Příliš žluťoučký kůň úpěl ďábelské ódy", "Łódź i Kraków są piękne",
               "Žluťoučký kůň pije vodu"],
    "cp1251": ["Съешь же ещё этих мягких французских булок", "да выпей чаю", "Привет мир как дела",
               "Широкая электрификация южных губерний"],
    "cp1252": ["Voilà l'été, très agréable", "Größe und Straße über alles", "El niño comió piña",
               "Ça coûte cher à Noël"],
    "cp1253": ["Ξεσκεπάζω την ψυχοφθόρα βδελυγμία", "Καλημέρα κόσμε", "Γειά σου φίλε μου", "Η θάλασσα είναι γαλάζια"],
    "cp1255": ["דג סקרן שט בים מאוכזב", "ולפתע מצא חברה", "שלום עולם", "מה שלומך היום"],
    "cp1256": ["نص حكيم له سر قاطع", "وذو شأن عظيم مكتوب", "مرحبا بالعالم", "كيف حالك اليوم"],
    "koi8-r": ["Съешь же ещё этих мягких французских булок", "да выпей чаю", "Привет мир как дела",
               "Широкая электрификация южных губерний"],
}


def _charset_file(w, codec, rows, bom=b""):
    body = "text,label\n" + "".join(f'"{t}",{lab}\n' for t, lab in rows)
    (w / "d.csv").write_bytes(bom + body.encode(codec))
    (w / "keep.json").write_text(json.dumps(KEEP))


def _charset(codec, long=False, encoding=None, bom=b"", enc_name=None):
    def build(w):
        base_texts = SAMPLES.get(codec, SAMPLES["cp1252"])
        n = 300 if long else 4
        rows = [(base_texts[i % 4] + (f" {i}" if long else ""), "a" if i % 2 else "b") for i in range(n)]
        _charset_file(w, enc_name or codec, rows, bom)
        args = ["filter", "d.csv", "--recipe", "keep.json", "--out", "o.jsonl"]
        if encoding:
            args += ["--encoding", encoding]

        def post(r, w):
            got = [row["text"] for row in read_jsonl(w / "o.jsonl")]
            assert got == [t for t, _ in rows], (r.stderr, got[:4])
        return args, post
    return build


for _codec in SAMPLES:
    add(f"charset-short-{_codec}", _charset(_codec), "ok")
    add(f"charset-long-{_codec}", _charset(_codec, long=True), "ok")
    add(f"charset-given-{_codec}", _charset(_codec, encoding=_codec), "ok")
add("charset-utf16-le-bom", _charset("cp1251", bom=b"\xff\xfe", enc_name="utf-16-le"), "ok")
add("charset-utf16-be-bom", _charset("cp1253", bom=b"\xfe\xff", enc_name="utf-16-be"), "ok")
add("charset-utf8-bom", _charset("cp1250", bom=b"\xef\xbb\xbf", enc_name="utf-8"), "ok")
add("charset-utf16-given", _charset("cp1255", encoding="utf-16-le", enc_name="utf-16-le"), "ok")
add("charset-utf8-plain", _charset("cp1256", enc_name="utf-8"), "ok")
add("charset-unknown-encoding", lambda w: (base(w), ["profile", "d.csv", "--encoding", "klingon"])[1], "error",
    "klingon")
add("charset-encoding-empty", lambda w: (base(w), ["profile", "d.csv", "--encoding", ""])[1], "error")
add("charset-encoding-not-text-codec", lambda w: (base(w), ["profile", "d.csv", "--encoding", "base64"])[1],
    "error")
add("charset-encoding-rot13", lambda w: (base(w), ["profile", "d.csv", "--encoding", "rot13"])[1], "error")


def _ascii_refuses(w):
    _charset_file(w, "utf-8", [("café au lait", "a"), ("plain", "b")])
    return ["profile", "d.csv", "--encoding", "ascii"]


add("charset-byte-not-in-encoding", _ascii_refuses, "error", "offset")


def _utf8_read_as_cp1251(w):
    _charset_file(w, "utf-8", [("café au lait", "a"), ("plain", "b")])
    args = ["profile", "d.csv", "--encoding", "cp1251"]

    def post(r, w):
        assert "note:" in r.stderr and "UTF-8" in r.stderr.upper(), r.stderr
    return args, post


add("charset-valid-utf8-forced-cp1251-noted", _utf8_read_as_cp1251, "ok")


def _encoding_on_parquet(w):
    parquet(w / "d.parquet")
    args = ["profile", "d.parquet", "--encoding", "cp1251"]

    def post(r, w):
        assert "note:" in r.stderr and "encoding" in r.stderr.lower(), r.stderr
    return args, post


add("charset-encoding-on-parquet-noted", _encoding_on_parquet, "ok")


# --- exports and round trips ----------------------------------------------------------------------------
ODD_ROWS = [("plain text one", "pos"), ("", "neg"), ("has\x00nul", "pos"), ("=SUM(A1:A2)", "neg"),
            ("line\nbreak", "pos"), ('quote " and , comma', "neg"), ("  spaced  ", " with space "),
            ("zero seven", "007"), ("two fifty", "2.50"), ("NA", "neg"), ("null", "pos"), ("1.0", "1.0")]


def _odd_csv(w):
    """A JSONL source: a text file with a NUL byte is taken for a binary one, but JSON escapes it."""
    (w / "d.jsonl").write_text("".join(json.dumps({"text": t, "label": lab}) + "\n" for t, lab in ODD_ROWS))
    (w / "keep.json").write_text(json.dumps(KEEP))


def _load_export(path: Path):
    if path.is_dir():
        import datasets
        ds = datasets.load_from_disk(str(path))
        lab = ds.features["label"]
        names = getattr(lab, "names", None)
        return list(ds["text"]), [names[x] if names else x for x in ds["label"]]
    if path.suffix == ".csv":
        df = pd.read_csv(path, keep_default_na=False, dtype=str)
    elif path.suffix == ".jsonl":
        df = pd.read_json(path, lines=True, dtype=False)
    else:
        df = pd.read_parquet(path)
    return list(df["text"]), [str(x) for x in df["label"]]


def _export(out):
    def build(w):
        _odd_csv(w)
        args = ["filter", "d.jsonl", "--text-col", "text", "--label-col", "label", "--recipe", "keep.json",
                "--out", out]

        def post(r, w):
            got_t, got_l = _load_export(w / out)
            want_t = [t.replace("\x00", "\ufffd") for t, _ in ODD_ROWS]
            want_l = [lab.strip() for _, lab in ODD_ROWS]
            assert got_t == want_t, got_t
            assert got_l == want_l, got_l
            assert "note:" in r.stderr  # NUL replaced and label whitespace stripped are said
            r2 = dq("profile", out, "--text-col", "text", "--label-col", "label", cwd=w)
            r1 = dq("profile", "d.jsonl", "--text-col", "text", "--label-col", "label", cwd=w)
            assert r2.returncode == 0, r2.stderr
            p1, p2 = json.loads(r1.stdout), json.loads(r2.stdout)
            for k in ("n_rows", "class_counts", "n_empty", "n_exact_duplicates", "text_length"):
                assert p1[k] == p2[k], (k, p1[k], p2[k])
            # dq reads its own export back with the same texts (a filter of the export exports the same)
            r3 = dq("filter", out, "--text-col", "text", "--label-col", "label", "--recipe", "keep.json",
                    "--out", "again.jsonl", cwd=w)
            assert r3.returncode == 0, r3.stderr
            assert [x["text"] for x in read_jsonl(w / "again.jsonl")] == want_t
        return args, post
    return build


for _out in ("o.csv", "o.parquet", "o.jsonl", "o_ds"):
    add(f"export-roundtrip-{_out}", _export(_out), "ok")


def _log_format(log):
    def build(w):
        base(w)
        return ["filter", "d.csv", "--embeddings", "e.npy", "--pred-probs", "p.npy", "--recipe", "default",
                "--out", "c.csv", "--log", log]
    return build


for _log in ("l.csv", "l.parquet", "l.jsonl"):
    add(f"export-log-{_log}", _log_format(_log), "ok")
add("export-log-xlsx", _log_format("l.xlsx"), "error", "--log")
add("export-out-txt", lambda w: (base(w), ["filter", "d.csv", "--recipe", "keep.json", "--out", "c.txt"])[1],
    "error", "--out")
add("export-out-tsv", lambda w: (base(w), ["filter", "d.csv", "--recipe", "keep.json", "--out", "c.tsv"])[1],
    "clean")
add("export-out-equals-log", lambda w: (base(w), ["filter", "d.csv", "--recipe", "keep.json", "--out", "c.csv",
                                                  "--log", "c.csv"])[1], "error")
add("export-log-inside-out-folder", lambda w: (base(w), ["filter", "d.csv", "--recipe", "keep.json", "--out", "ods",
                                                         "--log", "ods/l.csv"])[1], "error")
add("export-out-foreign-folder", lambda w: (base(w), (w / "ods").mkdir(), (w / "ods" / "mine.txt").write_text("x"),
                                            ["filter", "d.csv", "--recipe", "keep.json", "--out", "ods"])[3],
    "error", "--out")


def _ds_replace_own(extra_file):
    def build(w):
        base(w)
        args = ["filter", "d.csv", "--recipe", "keep.json", "--out", "ods"]
        assert dq(*args, cwd=w).returncode == 0
        if extra_file:
            (w / "ods" / "mine.txt").write_text("keep me")
        return args
    return build


add("export-ds-replace-own", _ds_replace_own(False), "ok")
add("export-ds-own-with-user-file", _ds_replace_own(True), "error", "--out")
add("export-ds-symlink-folder", lambda w: (base(w), (w / "real").mkdir(), os.symlink("real", w / "ods"),
                                           ["filter", "d.csv", "--recipe", "keep.json", "--out", "ods"])[3], "error")


def _spreadsheet_safe(w):
    _odd_csv(w)
    return ["filter", "d.jsonl", "--text-col", "text", "--label-col", "label", "--recipe", "keep.json",
            "--out", "o.parquet", "--spreadsheet-safe"]


add("export-spreadsheet-safe-on-parquet", _spreadsheet_safe, "error", "--spreadsheet-safe")


def _numeric_labels_two_ways(w):
    write_csv(w / "d.csv", [(t, "1" if i % 3 else ("1.0" if i % 2 else "2")) for i, t in enumerate(texts())])
    (w / "keep.json").write_text(json.dumps(KEEP))
    args = ["filter", "d.csv", "--recipe", "keep.json", "--out", "o.jsonl"]

    def post(r, w):
        labs = {row["label"] for row in read_jsonl(w / "o.jsonl")}
        assert labs == {"1", "2"}, labs
        assert "note:" in r.stderr and "1.0" in r.stderr
    return args, post


add("export-numeric-label-two-spellings", _numeric_labels_two_ways, "ok")


def _empty_label_only_whitespace(w):
    write_csv(w / "d.csv", [(t, "   " if i == 0 else ("pos" if i % 2 else "neg")) for i, t in enumerate(texts())])
    return ["profile", "d.csv"]


add("export-label-whitespace-is-missing", lambda w: (_empty_label_only_whitespace(w), (
    ["profile", "d.csv"], lambda r, w: json.loads(r.stdout)["n_missing_labels"] == 1 or pytest.fail(r.stdout)))[1],
    "ok")


# --- outputs pointed at inputs (the real commands, not the up-front check alone) ------------------------
def _over(cmd_args, target, how):
    """An output option of ``cmd_args`` (the placeholder OUT) pointed at input ``target`` ``how``."""
    def build(w):
        base(w)
        ref(w)
        make_test_set(w)
        (w / "sig").mkdir()
        parquet(w / "sig" / "s.parquet")  # a stand-in signals file (refused before it is read)
        if how == "same":
            out = target
        elif how == "symlink":
            os.symlink(target, w / "lnk")
            out = "lnk"
        elif how == "hardlink":
            os.link(w / target, w / "hl")
            out = "hl"
        elif how == "abs":
            out = str(w / target)
        elif how == "dotdot":
            (w / "sub").mkdir()
            out = f"sub/../{target}"
        elif how == "linked-parent":
            os.symlink(".", w / "here")
            out = f"here/{target}"
        return [out if a == "OUT" else a for a in cmd_args]
    return build


FILTER = ["filter", "d.csv", "--reference", "r.csv", "--embeddings", "e.npy", "--reference-embeddings", "re.npy",
          "--pred-probs", "p.npy", "--recipe", "keep.json"]
OVER = {
    "filter-out": (FILTER + ["--out", "OUT"], ("d.csv", "r.csv", "e.npy", "re.npy", "p.npy", "keep.json")),
    "filter-log": (FILTER + ["--out", "c.csv", "--log", "OUT"], ("d.csv", "r.csv", "p.npy", "keep.json")),
    "filter-save-recipe": (FILTER + ["--out", "c.csv", "--save-recipe", "OUT"], ("keep.json", "d.csv", "e.npy")),
    "filter-out-signals": (["filter", "d.csv", "--signals", "sig/s.parquet", "--recipe", "keep.json", "--out", "OUT"],
                           ("sig/s.parquet",)),
    "signals-out": (["signals", "d.csv", "--embeddings", "e.npy", "--pred-probs", "p.npy", "--signals", "label",
                     "--out", "OUT"], ("d.csv", "e.npy", "p.npy")),
    "embed-out": (["embed", "d.csv", "--out", "OUT"], ("d.csv",)),
    "train-out": (["train", "d.csv", "--trainer", "baseline", "--embeddings", "e.npy", "--test", "t.csv",
                   "--test-embeddings", "te.npy", "--out", "OUT"], ("d.csv", "t.csv", "te.npy")),
    "advise-out": (["advise", "d.csv", "--test", "t.csv", "--out", "OUT"], ("d.csv", "t.csv")),
}
for _name, (_args, _targets) in OVER.items():
    for _t in _targets:
        for _how in ("same", "symlink", "hardlink", "abs", "dotdot", "linked-parent"):
            if _how in ("abs", "dotdot", "linked-parent") and _t != _targets[0]:
                continue
            if _how == "hardlink" and "/" in _t:
                continue
            add(f"over-{_name}-{_t.replace('/', '_')}-{_how}", _over(_args, _t, _how), "error")


def _train_out_holds_data(w):
    base(w)
    (w / "proj").mkdir()
    write_csv(w / "proj" / "d.csv", [(t, "pos" if i % 2 else "neg") for i, t in enumerate(texts())])
    return ["train", "proj/d.csv", "--trainer", "baseline", "--embeddings", "e.npy", "--out", "proj"]


add("over-train-out-folder-holds-data", _train_out_holds_data, "error", "--out")
add("over-train-out-foreign-folder", lambda w: (base(w), (w / "run").mkdir(), (w / "run" / "notes.txt").write_text("x"),
                                                ["train", "d.csv", "--trainer", "baseline", "--embeddings", "e.npy",
                                                 "--out", "run"])[3], "error", "--out")
add("over-filter-out-inside-datasets-input", lambda w: (
    base(w), dq("filter", "d.csv", "--recipe", "keep.json", "--out", "ds", cwd=w),
    ["filter", "ds", "--recipe", "keep.json", "--out", "ds/inner.csv"])[2], "error", "--out")
add("over-filter-out-is-datasets-input", lambda w: (
    base(w), dq("filter", "d.csv", "--recipe", "keep.json", "--out", "ds", cwd=w),
    ["filter", "ds", "--recipe", "keep.json", "--out", "ds"])[2], "error", "--out")


def _report_over_run(w):
    base(w)
    r = dq("train", "d.csv", "--trainer", "baseline", "--embeddings", "e.npy", "--out", "run", cwd=w)
    assert r.returncode == 0, r.stderr
    return ["report", "run", "--out", "run/metrics.json"]


add("over-report-out-run-metrics", _report_over_run, "error", "--out")


def _not_ray_server(w):
    """A port that answers like an HTTP server, not a Ray one: refused, nothing written."""
    import socket
    import threading
    parquet(w / "d.parquet")
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)

    def serve():
        for _ in range(4):
            try:
                c, _a = srv.accept()
            except OSError:
                return
            c.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
            c.close()
    threading.Thread(target=serve, daemon=True).start()
    return ["compute", "d.parquet", "--backend", "ray", "--address", f"127.0.0.1:{srv.getsockname()[1]}",
            "--out", "out"], lambda r, w: srv.close()


add("compute-ray-port-not-ray", _not_ray_server, "error", "ray")
add("compute-ray-env-address-unreachable", lambda w: (parquet(w / "d.parquet"), (
    ["compute", "d.parquet", "--backend", "ray", "--out", "out"], None, {"RAY_ADDRESS": "127.0.0.1:1"}))[1],
    "error", "RAY_ADDRESS")
add("compute-out-reached-by-cwd-glob", _compute(_noop, data="**/*.parquet"), "error", "--out")
add("compute-out-symlink-to-foreign-folder", _compute(lambda w: ((w / "mine").mkdir(), (w / "mine" / "a.txt")
                                                                 .write_text("x"), os.symlink("mine", w / "out"))),
    "error", "--out")
add("compute-part-folder-symlink", _compute(lambda w: ((w / "out").mkdir(), (w / "elsewhere").mkdir(),
                                                       os.symlink("../elsewhere", w / "out" / "signals"))), "error")
add("refemb-reference-where-cut-ok", lambda w: (base(w), ["coverage", "d.csv", "--reference-where", "label=pos",
                                                          "--embeddings", "e.npy"])[1], "ok")
add("pp-reference-where-cut-ok", lambda w: (base(w), write_csv(w / "d.csv", [
    (t, ["a", "b", "c"][i % 3], "x" if i < 12 else "y") for i, t in enumerate(texts())], header=("text", "label", "src")),
    np.save(w / "p3.npy", np.random.RandomState(1).dirichlet([1, 1, 1], N)),
    ["signals", "d.csv", "--reference-where", "src=y", "--embeddings", "e.npy", "--pred-probs", "p3.npy",
     "--signals", "label", "--out", "s.csv"])[3], "ok")


# ---------------------------------------------------------------------------------------------- the test
def _snapshot(w: Path) -> dict[str, bytes | None]:
    snap = {}
    for p in w.rglob("*"):
        rel = p.relative_to(w).as_posix()
        if rel.split("/")[0] == ".dq":
            continue
        if p.is_symlink():
            snap[rel] = ("link:" + os.readlink(p)).encode()
        elif p.is_file():
            snap[rel] = p.read_bytes()
        elif p.is_dir():
            snap[rel] = None
    return snap


RESUMABLE = ("out/", "ods/", "run/")  # outputs a case's first run made and its second may replace


@pytest.mark.parametrize("cid", list(CASES))
def test_sweep(cid, tmp_path):
    build, expect, contains = CASES[cid]
    w = tmp_path / "w"
    w.mkdir()
    built = build(w)
    args, post, env = (tuple(built) + (None, None))[:3] if isinstance(built, tuple) else (built, None, None)
    before = _snapshot(w)
    r = dq(*args, cwd=w, env=env)
    assert "Traceback" not in r.stderr, r.stderr
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error: ")]
    if expect == "error" or (expect == "clean" and r.returncode != 0):
        assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
        assert len(errors) == 1, r.stderr
        if contains and expect == "error":
            assert contains.lower() in errors[0].lower(), errors[0]
    elif expect == "usage":
        assert r.returncode == 2 and "error:" in r.stderr, r.stderr
    else:
        assert r.returncode == 0, r.stderr[-3000:]
    after = _snapshot(w)
    changed = [k for k, v in before.items() if after.get(k, b"<gone>") != v and not k.startswith(RESUMABLE)]
    assert changed == [], f"inputs changed or removed: {changed}"
    if r.returncode != 0:
        assert sorted(set(after) - set(before)) == [], "a refused command left files behind"
    if post:
        post(r, w)
