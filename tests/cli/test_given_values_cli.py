"""Issue 22 on the command line: bad values and wrong files given as --embeddings, --reference-embeddings,
--test-embeddings and --pred-probs stop with one `error:` line (exit 2) naming the option, before any model
loads; rows of extreme scale are used as unit vectors. The files are built here, 30 rows each."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.cli_helpers import dq, error_line

N = 30


@pytest.fixture()
def files(tmp_path):
    texts = [f"text number {i} about {'cats' if i % 2 else 'dogs'}" for i in range(N)]
    labels = ["a" if i % 2 else "b" for i in range(N)]
    for name in ("d", "r", "t"):
        pd.DataFrame({"text": texts, "label": labels}).to_csv(tmp_path / f"{name}.csv", index=False)
    ok = np.random.default_rng(0).standard_normal((N, 8))
    np.save(tmp_path / "ok.npy", ok.astype(np.float32))
    over = ok.copy()
    over[3, 5] = 1e300  # float64, finite there, inf in the float32 cast
    np.save(tmp_path / "over.npy", over)
    return tmp_path


def _signals(f, *extra):
    return dq("signals", f / "d.csv", "--text-col", "text", "--label-col", "label", "--out", f / "o.csv", *extra)


@pytest.mark.parametrize("signals", [["--signals", "outlier,near_duplicate"], []])
def test_float64_overflow_row_refused_with_its_row(files, signals):
    """With --signals outlier,near_duplicate the 1e300 row's distance was NaN and never flagged; with the
    default signals a traceback."""
    line = error_line(_signals(files, "--embeddings", files / "over.npy", *signals))
    assert "--embeddings 'over.npy'" in line and "row 3" in line and "float32" in line, line
    assert not (files / "o.csv").exists()


def test_reference_and_test_embeddings_name_themselves(files):
    line = error_line(dq("coverage", files / "d.csv", "--reference", files / "r.csv", "--embeddings",
                         files / "ok.npy", "--reference-embeddings", files / "over.npy"))
    assert "--reference-embeddings 'over.npy'" in line and "row 3" in line, line
    line = error_line(dq("train", files / "d.csv", "--text-col", "text", "--label-col", "label", "--trainer",
                         "baseline", "--test", files / "t.csv", "--embeddings", files / "ok.npy",
                         "--test-embeddings", files / "over.npy", "--out", files / "run", "--quiet"))
    assert "--test-embeddings 'over.npy'" in line and "row 3" in line, line


def test_rows_of_3e38_and_1e_30_are_unit_vectors_on_the_cli(files):
    """A row of 3e38 became a zero vector and a row of 1e-30 a missing one: now both point along (1, ..., 1),
    so they are each other's near duplicate and every outlier distance is a number."""
    v = np.random.default_rng(1).standard_normal((N, 8))
    v[4], v[5] = 3e38, 1e-30
    np.save(files / "edge.npy", v)
    r = _signals(files, "--embeddings", files / "edge.npy", "--signals", "outlier,near_duplicate", "--no-cache")
    assert r.returncode == 0, r.stderr
    out = pd.read_csv(files / "o.csv")
    assert out["outlier_knn_distance"].notna().all()
    assert out.loc[[4, 5], "is_near_duplicate_issue"].all()
    assert out.loc[4, "near_duplicate_group"] == out.loc[5, "near_duplicate_group"] >= 0


def test_all_zero_embeddings_file_refused(files):
    np.save(files / "zero.npy", np.zeros((N, 8), np.float32))
    line = error_line(_signals(files, "--embeddings", files / "zero.npy", "--signals", "outlier"))
    assert "every row is all zeros" in line, line


@pytest.mark.parametrize("option", ["--embeddings", "--reference-embeddings"])
def test_npz_renamed_npy_refused_without_traceback(files, option):
    np.savez(files / "v.npz", emb=np.random.default_rng(0).standard_normal((N, 8)))
    (files / "v.npz").rename(files / "v.npy")
    given = (["--embeddings", files / "v.npy"] if option == "--embeddings"
             else ["--embeddings", files / "ok.npy", "--reference-embeddings", files / "v.npy"])
    line = error_line(dq("coverage", files / "d.csv", "--reference", files / "r.csv", *given))
    assert f"{option} file 'v.npy' is a NumPy .npz archive" in line and "'emb'" in line, line


def test_text_named_npy_says_so(files):
    (files / "v.npy").write_text("0.1,0.2\n0.3,0.4\n", encoding="utf-8")
    line = error_line(_signals(files, "--embeddings", files / "v.npy", "--signals", "outlier"))
    assert "is not a NumPy .npy file (it holds text)" in line and "pickle" not in line, line


def test_npz_as_pred_probs_is_named(files):
    np.savez(files / "p.npz", probs=np.full((N, 2), 0.5))
    (files / "p.npz").rename(files / "p.npy")
    line = error_line(_signals(files, "--embeddings", files / "ok.npy", "--pred-probs", files / "p.npy"))
    assert "--pred-probs file 'p.npy' is a NumPy .npz archive" in line and "<U" not in line, line


def test_integer_one_hot_pred_probs_refused(files):
    """The README says integer arrays stop; integer one-hot probabilities were accepted."""
    p = np.zeros((N, 2), dtype=np.int64)
    p[np.arange(N), np.arange(N) % 2] = 1
    np.save(files / "p.npy", p)
    line = error_line(_signals(files, "--embeddings", files / "ok.npy", "--pred-probs", files / "p.npy"))
    assert "hard predictions" in line, line


@pytest.mark.parametrize("seed", ["-5", str(10**30), "4294967296"])
def test_cli_seed_out_of_range_refused_by_the_parser(files, seed):
    """--seed -5 reached numpy's seeding deep inside the label signal: a traceback."""
    r = _signals(files, "--embeddings", files / "ok.npy", "--signals", "label", f"--seed={seed}")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "argument --seed" in r.stderr and "4294967295" in r.stderr
