"""Repair-aware cleaning: a repaired text that becomes a copy of another row is deduplicated (on the texts as
the recipe leaves them), and the what-if figures measure repaired rows by their repaired text. Known answers
through the library, `dq filter` (in-process through `dq_core.cli.main`) and the Clean page's export (AppTest)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.data.io import load_dataset
from dq_core.data.workspace import Workspace
from dq_core.filtering import FilterRecipe, SignalRule, apply_recipe, cleaned_frame
from dq_core.filtering import whatif as wi
from dq_core.signals import run_signals
from dq_core.signals.duplicates import ExactDuplicateSignal
from dq_core.signals.junk import JunkSignal
from dq_core.space.clusters import cluster_joint
from tests.cli_helpers import dq
from tests.filtering.whatif_oracle import scratch_figures

PAGE = str(Path(__file__).with_name("repair_dedupe_page.py"))
CAFE = "Café au lait was lovely this morning"
CAFE_BROKEN = "CafÃ© au lait was lovely this morning"  # UTF-8 read as Windows-1252: ftfy gives CAFE back
FILM = "Отличный фильм, всем советую"
FILM_BROKEN = "ÐžÑ‚Ð»Ð¸Ñ‡Ð½Ñ‹Ð¹ Ñ„Ð¸Ð»ÑŒÐ¼, Ð²Ñ\x81ÐµÐ¼ Ñ\x81Ð¾Ð²ÐµÑ‚ÑƒÑŽ"
# row 1 repairs into a copy of row 0 (case and spacing differ: the exact rule normalises them); row 2
# repairs into a copy of row 5, which comes later; rows 3 and 4 are ordinary exact copies of each other
TEXTS = [CAFE, "café  AU lait was lovely this MORNING".replace("café", "CafÃ©"), FILM_BROKEN, "the crew was rude",
         "the crew was rude", FILM, "great pizza tonight", "the app keeps crashing"]
LABELS = ["pos", "pos", "pos", "neg", "neg", "pos", "pos", "neg"]
RECIPE = FilterRecipe(name="repair+dedupe", signals=(SignalRule("junk", action="repair"),
                                                     SignalRule("exact_duplicate", action="dedupe")),
                      signal_settings={"signals": ["junk", "exact_duplicate"], "seed": 0})
KEPT_IDS = [0, 2, 3, 6, 7]  # 1 copies 0 once repaired, 5 copies the repaired 2, 4 copies 3
KEPT_TEXTS = [CAFE, FILM, "the crew was rude", "great pizza tonight", "the app keeps crashing"]


def frame() -> pd.DataFrame:
    return pd.DataFrame({"text": TEXTS, "label": LABELS})


@pytest.fixture(scope="module")
def data():
    ds = build_dataset(frame(), ColumnMapping(text="text", label="label"), name="repair dedupe")
    return ds, run_signals(ds, [JunkSignal(), ExactDuplicateSignal()], use_cache=False)


def test_a_repaired_copy_of_a_kept_row_is_deduplicated(data):
    ds, sig = data
    assert sig["is_exact_duplicate_issue"].tolist() == [False, False, False, True, True, False, False, False]
    res = apply_recipe(ds, sig, RECIPE)
    assert res.kept_row_ids.tolist() == KEPT_IDS
    assert cleaned_frame(ds, res)["text"].tolist() == KEPT_TEXTS
    assert res.repairs == {2: (FILM_BROKEN, FILM)}  # row 1's repair went with the row
    assert res.reasons[1] == res.reasons[5] == res.reasons[4] == "duplicate copy (is_exact_duplicate_issue)"
    # without a repair rule nothing is regrouped: only the ordinary copy goes
    plain = apply_recipe(ds, sig, FilterRecipe(name="dedupe", signals=(RECIPE.signals[1],)))
    assert plain.kept_row_ids.tolist() == [0, 1, 2, 3, 5, 6, 7]
    # applying the recipe to its own output changes nothing more
    again = res.filtered_dataset(ds)
    sig2 = run_signals(again, [JunkSignal(), ExactDuplicateSignal()], use_cache=False)
    res2 = apply_recipe(again, sig2, RECIPE)
    assert res2.n_kept == len(again) and res2.n_repaired == 0


def test_what_if_measures_repaired_rows_by_their_repaired_text(data):
    ds, sig = data
    ref = build_dataset(pd.DataFrame({"text": [CAFE, FILM, "a lovely morning with café", "rude crew again"],
                                      "label": ["pos", "pos", "pos", "neg"]}),
                        ColumnMapping(text="text", label="label"), name="ref")
    cfg = wi.WhatIfConfig(length_bins=3)
    ctx = wi.prepare_what_if(ds, ref, sig, config=cfg)
    # junk repair only: every row kept, two of them with new text
    res = apply_recipe(ds, sig, FilterRecipe(name="repair", signals=(RECIPE.signals[0],)))
    assert res.n_repaired == 2
    fast = wi.figures_for(ctx, res)
    slow = scratch_figures(res.filtered_dataset(ds), ref, config=cfg)
    assert fast.js["vocabulary"] == pytest.approx(slow.js["vocabulary"], abs=1e-12)
    assert fast.js["length"] == pytest.approx(slow.js["length"], abs=1e-12)
    # measured by the broken text the vocabulary reads differently: the repair is what moved it
    stale = wi.figures(ctx, res.keep_mask, res.label_codes, res.classes, res.relabelled_mask)
    assert abs(stale.js["vocabulary"] - fast.js["vocabulary"]) > 1e-3
    # with the dedupe as well: the fast figures still equal the from-scratch ones
    both = apply_recipe(ds, sig, RECIPE)
    slow2 = scratch_figures(both.filtered_dataset(ds), ref, config=cfg)
    fast2 = wi.figures_for(ctx, both)
    assert fast2.n_rows == slow2.n_rows == len(KEPT_IDS)
    for view in ("vocabulary", "length", "label"):
        assert fast2.js[view] == pytest.approx(slow2.js[view], abs=1e-12), view


def test_page_export_and_dq_filter_keep_the_same_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The Clean page (junk set to repair, exact duplicates to dedupe, "Save all to the workspace") and
    `dq filter` with the recipe the page saved: the same rows and texts, the repaired copies gone."""
    data_csv = tmp_path / "data.csv"
    frame().to_csv(data_csv, index=False)
    monkeypatch.setenv("DQ_REPAIR_DATA", str(data_csv))
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    for signal, action in (("junk", "repair"), ("exact_duplicate", "dedupe")):
        if not at.checkbox(key=f"fp_on_{signal}").value:
            at.checkbox(key=f"fp_on_{signal}").check()
        at.selectbox(key=f"fp_act_{signal}").select(action).run()
        assert not at.exception, [e.value for e in at.exception]
    # the dedupe rule groups the repaired texts: it says so and gives the count as loaded (the Overview's) too
    assert ("selects 6 rows in duplicate groups · removes **3 copies** left after the other rules · 3 copies in all "
            "among the repaired texts, 1 among the texts as loaded (as on the Overview)") in [c.value for c in at.caption]
    next(b for b in at.button if b.label == "Save all to the workspace").click().run()
    assert not at.exception, [e.value for e in at.exception]
    ds, _ = load_dataset(str(data_csv))
    exports = Workspace.default().exports_dir(ds.fingerprint[:16])
    page = pd.read_csv(next(exports.glob("*.cleaned.csv")), keep_default_na=False)
    recipe_json = next(exports.glob("*.recipe.json"))
    cli_csv = tmp_path / "cli.csv"
    proc = dq("filter", str(data_csv), "--recipe", str(recipe_json), "--out", str(cli_csv), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["n_repaired"] == 1
    dedupe = next(r for r in json.loads(proc.stdout)["rules"] if r["kind"] == "dedupe")
    assert (dedupe["selects"], dedupe["removes"], dedupe["copies"], dedupe["copies_as_loaded"]) == (6, 3, 3, 1)
    cli = pd.read_csv(cli_csv, keep_default_na=False)
    for out in (page, cli):
        assert out["row_id"].tolist() == KEPT_IDS
        assert out["text"].tolist() == KEPT_TEXTS
    assert np.array_equal(page.columns, cli.columns)


def _bag_of_words(texts) -> np.ndarray:
    """A stand-in sentence embedding: hashed word counts, L2-normalised (equal texts, equal vectors)."""
    import zlib

    x = np.zeros((len(texts), 64), dtype=np.float32)
    for i, t in enumerate(texts):
        for w in str(t).lower().split():
            x[i, zlib.crc32(w.encode()) % 64] += 1.0
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def test_embedding_figures_place_a_repaired_row_by_its_new_text():
    from types import SimpleNamespace

    ds = build_dataset(pd.DataFrame({"text": [FILM_BROKEN, "the crew was rude", "great pizza tonight",
                                              "the app keeps crashing", "a delayed flight again"],
                                     "label": ["pos", "neg", "pos", "neg", "neg"]}),
                       ColumnMapping(text="text", label="label"), name="ds")
    ref = build_dataset(pd.DataFrame({"text": [FILM, "the crew was rude", "quantum physics lecture notes"],
                                      "label": ["pos", "neg", "neg"]}), ColumnMapping(text="text", label="label"),
                        name="ref")
    sig = run_signals(ds, [JunkSignal()], use_cache=False)
    emb = lambda d: SimpleNamespace(vectors=_bag_of_words(d.texts), valid=np.ones(len(d), bool))  # noqa: E731
    cfg = wi.WhatIfConfig(radius=0.05, n_clusters=2)
    ref_x = _bag_of_words(ref.texts)
    jc = cluster_joint(_bag_of_words(ds.texts), ref_x, k=2, seed=0)
    ctx = wi.prepare_what_if(ds, ref, sig, ds_embeddings=emb(ds), ref_embeddings=emb(ref), config=cfg,
                             clusters=jc, embed_repairs=_bag_of_words)
    assert ctx.repair_texts == {0: FILM}
    keep_all = FilterRecipe(name="keep", signals=(SignalRule("junk", action="drop", enabled=False),))
    before = wi.figures_for(ctx, apply_recipe(ds, sig, keep_all, strict=False))
    res = apply_recipe(ds, sig, FilterRecipe(name="repair", signals=(SignalRule("junk", action="repair"),)))
    after = wi.figures_for(ctx, res)
    # FILM in the reference is reached only by the repaired row: 1 of 3 reference rows covered, then 2 of 3
    assert before.reference_coverage == pytest.approx(1 / 3) and after.reference_coverage == pytest.approx(2 / 3)
    # the same figures from scratch on the filtered rows with the repaired row's own vector and cluster
    out = res.filtered_dataset(ds)
    clusters = jc.ds_labels.copy()
    clusters[0] = np.argmax(jc.centroids @ _bag_of_words([FILM])[0])  # the repaired text's nearest centroid
    assert ctx.repair_clusters.tolist() == [clusters[0]]
    slow = scratch_figures(out, ref, ds_vectors=_bag_of_words(out.texts), ref_vectors=ref_x,
                           ds_clusters=clusters, ref_clusters=jc.ref_labels, n_clusters=jc.k, radius=0.05,
                           config=cfg)
    for k in ("reference_coverage", "scene_coverage", "sample_coverage"):
        assert getattr(after, k) == pytest.approx(getattr(slow, k), abs=1e-12), k
    assert after.js["embedding_clusters"] == pytest.approx(slow.js["embedding_clusters"], abs=1e-12)

