"""Bring your own vectors and predictions: --embeddings / --reference-embeddings / --pred-probs.

The same vectors (saved with `dq embed`) give the same outputs as letting each command embed; the label
signal's own out-of-sample probabilities passed back as --pred-probs give the same label scores; wrong
shapes, widths and values fail with one `error:` line and exit 2.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dq_core.errors import DataError
from dq_core.space.given import load_embeddings_file, load_pred_probs_file
from tests.cli_helpers import dq, error_line


@pytest.fixture(scope="module")
def sms_files(tmp_path_factory):
    """60 SMS rows (dataset) and 30 others (reference) as CSVs, each with its `dq embed` vectors."""
    from dq_core.data.io import load_demo

    full, _ = load_demo("sms_spam")
    f = full.frame.drop_duplicates("text")
    rng = np.random.default_rng(0)
    ham, spam = np.flatnonzero(f["label"] == "ham"), np.flatnonzero(f["label"] == "spam")
    pick = np.concatenate([rng.choice(ham, 60, replace=False), rng.choice(spam, 30, replace=False)])
    rng.shuffle(pick)
    rows = f.iloc[pick][["text", "label"]].reset_index(drop=True)
    d = tmp_path_factory.mktemp("given")
    data, ref = d / "data.csv", d / "ref.csv"
    rows.iloc[:60].to_csv(data, index=False)
    rows.iloc[60:].to_csv(ref, index=False)
    out = {"dir": d, "data": data, "ref": ref, "data_npy": d / "data.npy", "ref_npy": d / "ref.npy"}
    for src, npy in ((data, out["data_npy"]), (ref, out["ref_npy"])):
        # the precision the other commands use (auto); a workspace of its own (no test's DQ_HOME is set yet)
        r = dq("embed", str(src), "--out", str(npy), env={"DQ_HOME": str(d / "dq_home")})
        assert r.returncode == 0, r.stderr
    return out


def test_signals_with_given_embeddings_equal_computed(sms_files):
    a, b = sms_files["dir"] / "computed.parquet", sms_files["dir"] / "given.parquet"
    common = ["--reference", str(sms_files["ref"]), "--no-cache"]
    r1 = dq("signals", str(sms_files["data"]), "--out", str(a), *common)
    assert r1.returncode == 0, r1.stderr
    r2 = dq("signals", str(sms_files["data"]), "--out", str(b), *common, "--embeddings", str(sms_files["data_npy"]),
            "--reference-embeddings", str(sms_files["ref_npy"]))
    assert r2.returncode == 0, r2.stderr
    fa, fb = pd.read_parquet(a), pd.read_parquet(b)
    assert list(fa.columns) == list(fb.columns)
    for c in fa.columns:
        if c.endswith("_score") or c == "suggested_label_prob":
            np.testing.assert_allclose(fa[c].to_numpy(float), fb[c].to_numpy(float), atol=1e-6, err_msg=c)
        else:
            assert fa[c].equals(fb[c]), c
    s1, s2 = json.loads(r1.stdout)["skipped"], json.loads(r2.stdout)["skipped"]
    assert s1 == s2 and "leakage" not in s2  # the reference's given vectors reach the leakage signal


def test_coverage_and_shift_with_given_embeddings_equal_computed(sms_files):
    data, ref = str(sms_files["data"]), str(sms_files["ref"])
    given = ["--embeddings", str(sms_files["data_npy"]), "--reference-embeddings", str(sms_files["ref_npy"])]
    c1 = dq("coverage", data, "--reference", ref, "--clusters", "3")
    c2 = dq("coverage", data, "--reference", ref, "--clusters", "3", *given)
    assert c1.returncode == 0 and c2.returncode == 0, c1.stderr + c2.stderr
    j1, j2 = json.loads(c1.stdout), json.loads(c2.stdout)
    for key in ("reference_coverage", "radius", "scene_coverage", "sample_coverage"):
        assert j1[key] == pytest.approx(j2[key], abs=1e-4), key
    fast = ["--bootstrap", "50", "--permutations", "50", "--clusters", "3"]
    s1 = dq("shift", data, "--reference", ref, *fast)
    s2 = dq("shift", data, "--reference", ref, *fast, *given)
    assert s1.returncode == 0 and s2.returncode == 0, s1.stderr + s2.stderr
    v1, v2 = json.loads(s1.stdout), json.loads(s2.stdout)
    e1, e2 = v1["views"]["embedding_clusters"], v2["views"]["embedding_clusters"]
    assert e1["js"] == pytest.approx(e2["js"], abs=1e-4)
    assert v1["domain_classifier_auc"] == pytest.approx(v2["domain_classifier_auc"], abs=1e-3)


def test_filter_and_baseline_with_given_embeddings(sms_files, tmp_path):
    data, emb = str(sms_files["data"]), str(sms_files["data_npy"])
    outs = []
    for extra in ([], ["--embeddings", emb]):
        out = tmp_path / f"clean{len(extra)}.csv"
        r = dq("filter", data, "--recipe", "default", "--out", str(out), *extra)
        assert r.returncode == 0, r.stderr
        outs.append(pd.read_csv(out))
    pd.testing.assert_frame_equal(outs[0], outs[1])
    metrics = []
    for extra in ([], ["--embeddings", emb]):
        run = tmp_path / f"run{len(extra)}"
        r = dq("train", data, "--trainer", "baseline", "--out", str(run), "--quiet", *extra)
        assert r.returncode == 0, r.stderr
        metrics.append(json.loads((run / "metrics.json").read_text()))
    assert metrics[0]["accuracy"] == pytest.approx(metrics[1]["accuracy"], abs=1e-9)
    assert metrics[0]["macro_f1"] == pytest.approx(metrics[1]["macro_f1"], abs=1e-9)
    assert metrics[1]["training"]["embedding_model"] == "given:data.npy"


def test_pred_probs_equal_to_the_label_signals_own_give_the_same_scores(sms_files, tmp_path):
    from dq_core.data.io import load_dataset
    from dq_core.signals import compute_signals, get_signal
    from dq_core.signals.context import SignalContext

    ds, _ = load_dataset(str(sms_files["data"]))
    emb = np.load(sms_files["data_npy"])
    own = SignalContext(ds, embeddings=emb).oof_probabilities().probs
    label = [get_signal("label")]
    base = compute_signals(ds, label, embeddings=emb).frame
    given = compute_signals(ds, label, embeddings=emb, pred_probs=own).frame
    np.testing.assert_array_equal(base["label_score"], given["label_score"])
    np.testing.assert_array_equal(base["is_label_issue"], given["is_label_issue"])
    # Through the file readers: .npy and a CSV whose header names the classes (any column order).
    np.save(tmp_path / "p.npy", own)
    assert np.allclose(load_pred_probs_file(tmp_path / "p.npy", len(ds), tuple(ds.classes)), own)
    pd.DataFrame(own[:, ::-1], columns=list(ds.classes)[::-1]).to_csv(tmp_path / "p.csv", index=False)
    assert np.allclose(load_pred_probs_file(tmp_path / "p.csv", len(ds), tuple(ds.classes)), own)


def test_pred_probs_cli_matches_the_signals_own(sms_files, tmp_path):
    """`dq signals --pred-probs` fed the K-fold probabilities the label signal computes gives its scores."""
    from dq_core.data.io import load_dataset
    from dq_core.signals.context import SignalContext

    ds, _ = load_dataset(str(sms_files["data"]))
    emb = np.load(sms_files["data_npy"])
    probs = SignalContext(ds, embeddings=emb).oof_probabilities().probs
    pd.DataFrame(probs, columns=ds.classes).to_csv(tmp_path / "probs.csv", index=False)
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    base = ["--signals", "label", "--embeddings", str(sms_files["data_npy"]), "--no-cache"]
    r1 = dq("signals", str(sms_files["data"]), "--out", str(a), *base)
    r2 = dq("signals", str(sms_files["data"]), "--out", str(b), *base, "--pred-probs", str(tmp_path / "probs.csv"))
    assert r1.returncode == 0 and r2.returncode == 0, r1.stderr + r2.stderr
    np.testing.assert_allclose(pd.read_parquet(a)["label_score"], pd.read_parquet(b)["label_score"], atol=1e-12)


@pytest.mark.parametrize("make, words", [
    (lambda e: e[:-1], "rows but the dataset has"),
    (lambda e: e[:, :10], "dimensions"),
    (lambda e: e.reshape(-1), "must be 2-D"),
    (lambda e: np.where(np.arange(len(e))[:, None] == 5, np.nan, e), "NaN or infinite"),
    (lambda e: e.astype(np.int32), "float32 or float16"),
])
def test_wrong_embeddings_exit_2(sms_files, tmp_path, make, words):
    bad = tmp_path / "bad.npy"
    np.save(bad, make(np.load(sms_files["data_npy"])))
    # --reference-embeddings checked against --embeddings' width; the rest against the rows.
    args = (["coverage", str(sms_files["data"]), "--reference", str(sms_files["ref"]), "--embeddings",
             str(sms_files["data_npy"]), "--reference-embeddings", str(bad)] if words == "dimensions"
            else ["signals", str(sms_files["data"]), "--out", str(tmp_path / "o.csv"), "--embeddings", str(bad)])
    if words == "dimensions":
        np.save(bad, np.load(sms_files["ref_npy"])[:, :10])
    line = error_line(dq(*args))
    assert words in line, line


@pytest.mark.parametrize("probs, words", [
    (lambda n: np.full((n, 3), 1 / 3), "columns but the dataset has 2 classes"),
    (lambda n: np.full((n - 1, 2), 0.5), "rows but the dataset has"),
    (lambda n: np.full((n, 2), 0.7), "do not sum to 1"),
    (lambda n: np.tile([3.0, -2.0], (n, 1)), "outside [0, 1]"),
])
def test_wrong_pred_probs_exit_2(sms_files, tmp_path, probs, words):
    bad = tmp_path / "probs.npy"
    np.save(bad, probs(60))
    line = error_line(dq("signals", str(sms_files["data"]), "--out", str(tmp_path / "o.csv"), "--pred-probs",
                          str(bad), "--embeddings", str(sms_files["data_npy"])))
    assert words in line, line


def test_given_embeddings_are_checked_and_normalised(tmp_path):
    v = np.random.default_rng(0).standard_normal((5, 8)).astype(np.float16)
    v[2] = 0
    np.save(tmp_path / "v.npy", v)
    res = load_embeddings_file(tmp_path / "v.npy", 5)
    assert res.vectors.dtype == np.float32 and res.valid.tolist() == [True, True, False, True, True]
    np.testing.assert_allclose(np.linalg.norm(res.vectors[res.valid], axis=1), 1.0, rtol=1e-5)
    with pytest.raises(DataError, match="must be a .npy"):
        load_embeddings_file(tmp_path / "v.csv", 5)
    with pytest.raises(DataError, match="does not exist"):
        load_embeddings_file(tmp_path / "missing.npy", 5)


def test_train_with_embeddings_refuses_the_transformer(sms_files, tmp_path):
    line = error_line(dq("train", str(sms_files["data"]), "--trainer", "transformer", "--out",
                          str(tmp_path / "run"), "--embeddings", str(sms_files["data_npy"])))
    assert "--trainer baseline" in line
