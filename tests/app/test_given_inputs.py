"""The Load page's "Your vectors" tab and its "dq compute output" source, in a real Streamlit AppTest.

Known answers: the model's own vectors given back as a file give the very signals the page computes
itself; the label signal's own probabilities given back give its label scores; a compute folder opens
with the signals dq compute wrote, shown on Clean without computing them again.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from dq_apptest import as_number, assert_no_exception, metric, texts

from dq_core.data.workspace import Workspace
from dq_core.signals import compute_signals, load_cached_report
from dq_core.space.embed import embed_dataset
from dq_core.space.embed_cache import cached_dataset_embeddings


@pytest.fixture(scope="module")
def sms40():
    """40 SMS whose texts occur once in the demo (a random ham/spam mix) as a dataset, another 20 as a reference."""
    from dq_core.data.io import load_demo

    full, _ = load_demo("sms_spam")
    f = full.frame
    once = ~f["text"].duplicated(keep=False).to_numpy()
    rng = np.random.default_rng(3)
    ham, spam = np.flatnonzero(once & (f["label"] == "ham")), np.flatnonzero(once & (f["label"] == "spam"))
    pick = np.concatenate([rng.choice(ham, 36, replace=False), rng.choice(spam, 24, replace=False)])
    rng.shuffle(pick)
    sides = []
    for sel, name in ((pick[:40], "sms40"), (pick[40:], "sms-ref")):
        keep = np.zeros(len(f), dtype=bool)
        keep[sel] = True
        sides.append(full.subset(keep, name=name))
    return sides[0], sides[1]


def npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def open_vectors_tab(page_app, ds, ref=None):
    at = page_app("app_pages/load.py", ds, ref).run()
    assert_no_exception(at)
    assert [t.label for t in at.tabs] == ["New dataset", "Reference set", "Your vectors", "Recent"]
    return at


def give(at, key: str, name: str, data: bytes):
    at.file_uploader(key=key).set_value((name, data, "application/octet-stream")).run()
    at.button(key="gv_apply").click().run()
    return at


def test_given_vectors_give_the_signals_the_page_computes(page_app, sms40):
    ds, _ = sms40
    ws = Workspace.default()
    model = embed_dataset(ds, workspace=ws)  # what the page would compute itself
    at = give(open_vectors_tab(page_app, ds), "gv_emb", "mine.npy", npy_bytes(model.vectors))
    assert_no_exception(at)
    assert not at.error, texts(at.error)
    new_id = at.session_state["ds"]
    assert new_id != ds.fingerprint[:16]
    given = ws.load_dataset(new_id)
    assert given.name == "sms40 · your vectors" and given.texts.tolist() == ds.texts.tolist()
    # the page and the sidebar say the vectors are the user's own
    assert "🧭 The dataset uses your own vectors `mine.npy` (384-d): not the embedding model's." in texts(at.caption)
    assert any("your own vectors `mine.npy`" in c for c in texts(at.sidebar.caption))
    emb = cached_dataset_embeddings(given, workspace=ws)
    np.testing.assert_array_equal(emb.vectors, model.vectors)
    assert emb.model_name == "given:mine.npy"
    # Clean computes the signals of the active (given) dataset; known answer: the model's own signals
    at.switch_page("app_pages/clean.py").run()
    assert_no_exception(at)
    shown = load_cached_report(given, None, workspace=ws, seed=0)
    assert shown is not None
    own = compute_signals(ds, None, workspace=ws).frame
    pd.testing.assert_frame_equal(shown.frame, own)
    assert as_number(metric(at, "Rows flagged by any signal")) == int((own["n_issues"] > 0).sum())
    # the plain rows keep the model's vectors: the given ones never enter their cache
    assert cached_dataset_embeddings(ds, workspace=ws).model_name == model.model_name


def test_given_probabilities_give_the_label_signals_scores(page_app, sms40):
    from dq_core.signals import get_signal
    from dq_core.signals.context import SignalContext

    ds, _ = sms40
    ws = Workspace.default()
    emb = embed_dataset(ds, workspace=ws)
    own = SignalContext(ds, embeddings=emb.vectors).oof_probabilities().probs
    csv = pd.DataFrame(own[:, ::-1], columns=ds.classes[::-1]).to_csv(index=False).encode()
    at = give(open_vectors_tab(page_app, ds), "gv_probs", "probs.csv", csv)
    assert not at.error, texts(at.error)
    given = ws.load_dataset(at.session_state["ds"])
    assert "🧭 The dataset uses your own class probabilities `probs.csv`: not the embedding model's." in texts(at.caption)
    label = [get_signal("label")]
    a = compute_signals(ds, label, workspace=ws).frame
    b = compute_signals(given, label, workspace=ws).frame
    np.testing.assert_allclose(a["label_score"], b["label_score"], atol=1e-12)
    # "Use the embedding model again" goes back to the plain rows
    at.button(key="gv_drop").click().run()
    assert at.session_state["ds"] == ds.fingerprint[:16]


def _nan_row(e):
    e = e.copy()
    e[5] = np.nan
    return e


BAD_VECTORS = [
    (lambda e: e[:-1], "Vectors file 'bad.npy' has 39 rows but the dataset has 40"),
    (_nan_row, "Vectors file 'bad.npy' has NaN or infinite values (first at row 5)"),
    (lambda e: e.astype(np.int32), "holds int32 values; save float32 or float16 vectors"),
    (lambda e: e[:, :16], "your vectors have 16 dimensions but the reference's (the embedding model's) have 384"),
]


@pytest.mark.parametrize("make, words", BAD_VECTORS)
def test_bad_vectors_one_clear_error_nothing_lost(page_app, sms40, make, words):
    ds, ref = sms40
    rng = np.random.default_rng(0)
    good = rng.normal(size=(40, 384)).astype(np.float32)
    at = open_vectors_tab(page_app, ds, ref)
    before = (at.session_state["ds"], at.session_state["ref"])
    at = give(at, "gv_emb", "bad.npy", npy_bytes(make(good)))
    assert_no_exception(at)
    assert len(at.error) == 1 and words in at.error[0].value, texts(at.error)
    # nothing the user had is lost: same active data, the file still chosen
    assert (at.session_state["ds"], at.session_state["ref"]) == before
    assert at.file_uploader(key="gv_emb").value is not None


BAD_PROBS = [
    (lambda p: p[:, :1], "has 1 columns but the dataset has 2 classes (ham, spam)"),
    (lambda p: p * 0.5, "40 rows do not sum to 1"),
    (lambda p: p[:-2], "has 38 rows but the dataset has 40"),
]


@pytest.mark.parametrize("make, words", BAD_PROBS)
def test_bad_probabilities_one_clear_error(page_app, sms40, make, words):
    ds, _ = sms40
    p = np.tile([0.7, 0.3], (40, 1))
    at = give(open_vectors_tab(page_app, ds), "gv_probs", "p.npy", npy_bytes(make(p)))
    assert_no_exception(at)
    assert len(at.error) == 1 and words in at.error[0].value, texts(at.error)
    assert at.session_state["ds"] == ds.fingerprint[:16]


# --------------------------------------------------------------------------- dq compute output


def small_parquet(d):
    """60 SMS rows (40 ham, 20 spam) in one Parquet file."""
    from dq_core.data.io import load_demo

    f = load_demo("sms_spam")[0].frame.drop_duplicates("text")
    rng = np.random.default_rng(1)
    pick = np.sort(np.concatenate([rng.choice(np.flatnonzero(f["label"] == "ham"), 40, replace=False),
                                   rng.choice(np.flatnonzero(f["label"] == "spam"), 20, replace=False)]))
    d.mkdir(parents=True, exist_ok=True)
    f.iloc[pick][["text", "label"]].reset_index(drop=True).to_parquet(d / "sms.parquet")
    return d / "sms.parquet"


def _compute(dq_env, **kw):
    from dq_core.signals.batch import ComputeConfig
    from dq_core.signals.batch_compute import compute

    data = small_parquet(dq_env.data / "in")
    out = dq_env.data / "runs" / "sms"
    compute(str(data), out, ComputeConfig(shard_rows=25, precision="float32"), workspace=Workspace(dq_env.home), **kw)
    return out


def pick_compute(new_app, folder: str):
    at = new_app().run()
    at.switch_page("app_pages/load.py").run()
    at.radio(key="ds_source").set_value("dq compute output").run()
    at.text_input(key="ds_compute_path").input(folder).run()
    return at


def test_compute_output_opens_and_its_signals_show_on_clean(new_app, dq_env):
    from dq_core.signals.batch import read_output

    out = _compute(dq_env)
    at = pick_compute(new_app, "runs/sms")
    assert_no_exception(at)
    assert not at.error, texts(at.error)
    assert at.selectbox(key="ds_compute_pick").options == ["(none)", "runs/sms/"]
    assert any("a finished compute of **60 rows** in 3 shards from 1 file" in s for s in texts(at.success))
    at.button(key="open_compute").click().run()
    assert_no_exception(at)
    assert texts(at.title) == ["📊 Overview"] and as_number(metric(at, "Rows")) == 60
    assert any("vectors from `dq compute` output `sms` (384-d)" in c for c in texts(at.sidebar.caption))
    at.switch_page("app_pages/clean.py").run()
    assert_no_exception(at)
    written = read_output(out, "signals")
    assert "Loaded from the workspace cache (same data, signals and settings)." in texts(at.caption)
    assert as_number(metric(at, "Rows flagged by any signal")) == int((written["n_issues"] > 0).sum())
    assert as_number(metric(at, "Label issues")) == int(written["is_label_issue"].sum())


def test_interrupted_compute_output_is_refused_clearly(new_app, dq_env):
    _compute(dq_env, stop_after=1)
    at = pick_compute(new_app, "runs/sms")
    assert_no_exception(at)
    assert len(at.error) == 1 and "'sms' is an unfinished compute" in at.error[0].value, texts(at.error)
    assert "run `dq compute` again with the same arguments" in at.error[0].value


def test_a_folder_that_is_not_a_compute_output(new_app, dq_env):
    (dq_env.data / "plain").mkdir()
    at = pick_compute(new_app, "plain")
    assert len(at.error) == 1 and "has no manifest.json" in at.error[0].value, texts(at.error)


def _with_vectors(ds, dim: int = 16):
    from dq_core.space.embed_cache import EmbeddingResult
    from dq_core.space.given import attach_given

    ws = Workspace.default()
    v = np.random.default_rng(7).normal(size=(len(ds), dim)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    emb = EmbeddingResult(vectors=v, valid=np.ones(len(ds), bool), n_truncated=0, n_cached=0, n_computed=0,
                          model_name="given:v16.npy", max_seq_length=0)
    return attach_given(ds, workspace=ws, embeddings=emb, source="v16.npy"), v


def test_splitting_a_dataset_with_vectors_keeps_them_on_both_sides(page_app, sms40):
    ds, _ = sms40
    given, v = _with_vectors(ds)
    at = page_app("app_pages/load.py", given).run()
    at.radio(key="ref_how").set_value("Rows matching a column value").run()
    at.selectbox(key="ref_col").set_value("label").run()
    at.multiselect(key="ref_vals").set_value(["spam"]).run()
    at.button(key="ref_split_go").click().run()
    assert_no_exception(at)
    assert not at.error, texts(at.error)
    ws = Workspace.default()
    spam = (ds.labels == "spam").to_numpy()
    for key, mask in (("ds", ~spam), ("ref", spam)):
        side = ws.load_dataset(at.session_state[key])
        emb = cached_dataset_embeddings(side, workspace=ws)
        np.testing.assert_array_equal(emb.vectors, v[mask])
        assert emb.model_name == "given:v16.npy"
    assert not at.sidebar.warning  # both sides 16-d: comparable


def test_a_model_embedded_reference_beside_given_vectors_is_flagged(page_app, sms40):
    ds, ref = sms40
    given, _ = _with_vectors(ds)
    at = page_app("app_pages/load.py", given, ref).run()
    assert_no_exception(at)
    assert [w.value for w in at.sidebar.warning] == [
        "The dataset's vectors (your vectors, 16-d) and the reference's (the embedding model's, 384-d) cannot be "
        "compared: give the other side's vectors on Load › Your vectors, or use the embedding model for both."]


def test_dq_app_open_starts_on_a_compute_output(new_app, dq_env, monkeypatch):
    """`dq app --open DIR` sets DQ_OPEN: a new session starts on that folder's rows instead of the demo."""
    out = _compute(dq_env)
    monkeypatch.setenv("DQ_OPEN", str(out))
    at = new_app().run()
    assert_no_exception(at)
    assert texts(at.title) == ["📊 Overview"] and as_number(metric(at, "Rows")) == 60
    ds = Workspace.default().load_dataset(at.session_state["ds"])
    assert ds.name == "sms · dq compute" and at.session_state["ref"] is None


def test_dq_app_open_refuses_a_bad_folder_before_starting(tmp_path):
    from tests.cli_helpers import dq

    r = dq("app", "--open", str(tmp_path))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [f"error: '{tmp_path.name}' has no manifest.json: it is not a `dq compute` "
                                             "output folder (run `dq compute DATA --out DIR` and open DIR)"]


def test_the_sidebar_line_names_a_file_only_when_one_was_recorded():
    from dq_app.ui.given_inputs import describe

    assert describe({"embeddings": True, "source": "vecs.npy", "dim": 16, "pred_probs": True,
                     "pred_probs_source": "probs.npy"}) == \
        "your own vectors `vecs.npy` (16-d) and your own class probabilities `probs.npy`"
    # stored through the library without a file name: no empty code span (it read "probabilities ` `")
    assert describe({"embeddings": True, "source": "", "dim": 16, "pred_probs": True, "pred_probs_source": ""}) == \
        "your own vectors (16-d) and your own class probabilities"
    assert describe({"embeddings": True, "kind": "compute", "source": "runs/a", "dim": 384}) == \
        "vectors from `dq compute` output `runs/a` (384-d)"
