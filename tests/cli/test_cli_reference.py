"""A reference cut from DATA on the command line: --reference-where COL=VALUE[,VALUE...] and
--dataset-split A --reference-split B (with --split-col). Cutting gives the same answers as the two parts
saved as files, the user's per-row files are cut the same way, and mistakes exit 2 with one error line.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
import pytest

from dq_core.commands.common import given_embeddings, given_pred_probs, load_inputs
from dq_core.errors import DataError
from tests.cli_helpers import CliResult, dq, error_line

N = 60
LANGS = ["en", "日本語", "Washington, D.C.", "a=b", None, "01"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A 60-row CSV (id, text, label, lang, fold), random unit vectors for it, and a cut by hand into two files."""
    rng = np.random.default_rng(3)
    words = ["late", "bag", "crew", "seat", "gate", "meal", "wifi", "refund", "delay", "smile"]
    frame = pd.DataFrame({
        "id": np.arange(1000, 1000 + N),
        "text": [" ".join(rng.choice(words, 5)) + f" {i}" for i in range(N)],
        "label": rng.choice(["good", "bad"], N),
        "lang": [LANGS[i % len(LANGS)] for i in range(N)],
        "fold": [("a", "b", "c")[i % 3] for i in range(N)],
    })
    vectors = rng.normal(size=(N, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    d = tmp_path_factory.mktemp("ref_cut")
    paths = {"data": d / "full.csv", "npy": d / "full.npy", "dir": d}
    frame.to_csv(paths["data"], index=False)
    np.save(paths["npy"], vectors)
    # What `--reference-where lang=日本語,(missing)` should take: the CSV reads the empty cell as missing.
    ref = frame["lang"].isin(["日本語"]) | frame["lang"].isna()
    for side, mask in (("ds", ~ref), ("ref", ref)):
        frame[mask.to_numpy()].to_csv(d / f"{side}.csv", index=False)
        np.save(d / f"{side}.npy", vectors[mask.to_numpy()])
    return paths


def _ok(r: CliResult) -> dict:
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_reference_where_equals_the_two_parts_as_files(files):
    d, data = files["dir"], str(files["data"])
    where = ["--reference-where", "lang=日本語,(missing)", "--id-col", "id"]  # ids: the same rows on both ways
    cut = _ok(dq("profile", data, *where))
    by_files = _ok(dq("profile", str(d / "ds.csv"), "--reference", str(d / "ref.csv"), "--id-col", "id"))
    assert cut == by_files
    assert (cut["n_rows"], cut["reference"]["n_rows"]) == (40, 20)
    given = ["--embeddings", str(files["npy"])]
    given_files = ["--embeddings", str(d / "ds.npy"), "--reference-embeddings", str(d / "ref.npy")]
    for command, extra in (("coverage", ["--clusters", "3"]),
                           ("shift", ["--clusters", "3", "--bootstrap", "30", "--permutations", "30"])):
        a = _ok(dq(command, data, *where, *given, *extra))
        b = _ok(dq(command, str(d / "ds.csv"), "--reference", str(d / "ref.csv"), "--id-col", "id", *given_files,
                   *extra))
        if command == "shift":  # a reference file's rows are numbered by position (--id-col is DATA's)
            for out in (a, b):
                for row in out["domain_classifier"]["distinctive_reference"]:
                    row.pop("row_id")
        assert a == b, command


@pytest.mark.parametrize(("args", "n_ref"), [
    (["--reference-where", "lang=en", "--reference-where", "lang=01"], 20),
    (["--reference-where", "lang=en,01"], 20),
    (["--reference-where", "lang=Washington\\, D.C."], 10),
    (["--reference-where", "lang=a=b"], 10),
    (["--reference-where", "lang=a\\=b,en"], 20),
    (["--reference-where", "label=good"], None),
    (["--split-col", "fold", "--dataset-split", "a", "--reference-split", "c"], 20),
    (["--dataset-split", "a", "--reference-split", "c"], 20),  # 'fold' is guessed as the split column
])
def test_the_forms_of_a_cut(files, args, n_ref):
    out = _ok(dq("profile", str(files["data"]), *args))
    frame = pd.read_csv(files["data"])
    n_ref = int((frame["label"] == "good").sum()) if n_ref is None else n_ref
    assert out["reference"]["n_rows"] == n_ref
    # a split leaves the third split out; values leave nothing out
    assert out["n_rows"] == (20 if "--dataset-split" in args else N - n_ref)


def test_a_guessed_split_column_is_said(tmp_path):
    path = tmp_path / "parts.csv"
    pd.DataFrame({"text": list("abcdef"), "label": ["x", "y"] * 3,
                  "split": ["train", "test"] * 3}).to_csv(path, index=False)
    r = dq("profile", str(path), "--dataset-split", "train", "--reference-split", "test")
    assert _ok(r)["reference"]["n_rows"] == 3
    assert "note: guessed split column 'split' (pass --split-col to choose)" in r.stderr


@pytest.mark.parametrize(("args", "words"), [
    (["--reference", "x.csv", "--reference-where", "lang=en"], "--reference and --reference-where each pick"),
    (["--reference-where", "lang=en", "--dataset-split", "a", "--reference-split", "b"],
     "--reference-where and --dataset-split/--reference-split each pick the reference"),
    (["--dataset-split", "a"], "--dataset-split and --reference-split go together"),
    (["--reference-where", "lang"], "--reference-where takes COL=VALUE[,VALUE...] (got 'lang')"),
    (["--reference-where", "=en"], "--reference-where takes COL=VALUE"),
    (["--reference-where", "lang=en,"], "--reference-where 'lang=en,' has an empty value"),
    (["--reference-where", "lang=en", "--reference-where", "fold=a"], "names two columns ('lang' and 'fold')"),
    (["--reference-where", "lnag=en"], "column 'lnag' is not in the dataset; did you mean 'lang'?"),
    (["--reference-where", "lang=fr"], "no row has lang = 'fr'; its values: 'en' (10 rows)"),
    (["--reference-where", "fold=a,b,c"], "leaves one side empty"),
    (["--split-col", "fold", "--dataset-split", "a", "--reference-split", "a"], "pick two different splits"),
    (["--split-col", "fodl"], "split column 'fodl' is not in the file; did you mean 'fold'?"),
])
def test_mistakes_exit_2_with_one_line(files, args, words):
    assert words in error_line(dq("profile", str(files["data"]), *args))


def test_a_split_needs_a_split_column(test_data):
    r = dq("profile", str(test_data / "good.csv"), "--dataset-split", "a", "--reference-split", "b")
    assert "the dataset has no split column; map one" in error_line(r)


def test_coverage_without_any_reference_names_every_way_to_give_one(files):
    line = error_line(dq("coverage", str(files["data"]), "--embeddings", str(files["npy"])))
    assert "--reference REF" in line and "--reference-where COL=VALUE" in line and "--dataset-split" in line


def test_the_reference_vectors_come_from_the_cut(files):
    r = dq("coverage", str(files["data"]), "--reference-where", "lang=en", "--embeddings", str(files["npy"]),
           "--reference-embeddings", str(files["dir"] / "ref.npy"))
    assert "--reference-embeddings does not go with --reference-where" in error_line(r)


def _args(files, *extra, probs=None):
    from dq_core.cli import build_parser

    argv = ["signals", str(files["data"]), "--out", "x.parquet", "--embeddings", str(files["npy"]), *extra]
    return build_parser(argv).parse_args(argv + (["--pred-probs", str(probs)] if probs else []))


def test_per_row_files_are_cut_like_the_rows(files, tmp_path):
    labels = pd.read_csv(files["data"])["label"]
    probs = np.where((labels == "bad").to_numpy()[:, None], [[0.8, 0.2]], [[0.3, 0.7]])  # classes bad, good
    path = tmp_path / "probs.npy"
    np.save(path, probs)
    args = _args(files, "--split-col", "fold", "--dataset-split", "b", "--reference-split", "a", probs=path)
    ds, ref = load_inputs(args)
    cut = args.reference_from_data
    emb, ref_emb = given_embeddings(args, ds, ref)
    full = np.load(files["npy"])
    np.testing.assert_allclose(emb.vectors, full[cut.dataset_mask], atol=1e-6)
    np.testing.assert_allclose(ref_emb.vectors, full[cut.reference_mask], atol=1e-6)
    np.testing.assert_array_equal(given_pred_probs(args, ds), probs[cut.dataset_mask])
    assert ds.row_ids.tolist() == list(range(1, N, 3)) and ref.row_ids.tolist() == list(range(0, N, 3))

    args = _args(files, "--reference-where", "label=good", probs=path)
    ds, ref = load_inputs(args)
    with pytest.raises(DataError, match="no dataset row is 'good'; drop --pred-probs"):
        given_pred_probs(args, ds)


def test_without_a_cut_nothing_is_kept(files):
    args = _args(files)
    load_inputs(args)
    assert args.reference_from_data is None
    assert isinstance(args, argparse.Namespace)
