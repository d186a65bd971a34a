"""Known answers per signal: planted duplicates, planted label flips, Luhn, PII, junk, leakage, agreement."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import embed

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.errors import DataError
from dq_core.signals import SignalContext, compute_signals, get_signal, run_signals
from dq_core.signals.pii import find_phones, find_pii, is_card_number, luhn_ok
from dq_core.signals.sandbox import inject_label_noise, score_detection


def _ds(texts, labels=None, **mapping):
    raw = pd.DataFrame({"text": texts, "label": labels if labels is not None else ["a", "b"] * (len(texts) // 2)
                        + ["a"] * (len(texts) % 2)})
    return build_dataset(raw, ColumnMapping("text", "label", **mapping))


def _synthetic(n=60, d=16, seed=0):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


# ----------------------------------------------------------------------------- duplicates

def test_exact_duplicates_are_grouped_after_normalisation():
    texts = ["Hello  World", "something else", "hello world ", "another one", "HELLO WORLD", "", "  ", "x y"]
    ds = _ds(texts)
    res = get_signal("exact_duplicate")(SignalContext(ds))
    assert res.is_issue.tolist() == [True, False, True, False, True, False, False, False]
    assert res.columns["exact_duplicate_group"].tolist() == [0, -1, 0, -1, 0, -1, -1, -1]
    assert res.summary["n_groups"] == 1 and res.summary["n_redundant"] == 2  # empties are junk, not duplicates
    assert res.scores[0] == 0 and res.scores[1] == 1


def test_near_duplicates_found_with_real_embeddings():
    texts = ["My flight was delayed again by three hours", "My flight was delayed again by 3 hours",
             "MY FLIGHT WAS DELAYED AGAIN BY THREE HOURS",
             "The quarterly report shows revenue growth in Asia", "Do you want to grab pizza for dinner?",
             "My cat sleeps on the keyboard all day", "Train delayed by 20 minutes at the station"]
    ds = _ds(texts)
    res = get_signal("near_duplicate")(SignalContext(ds, embeddings=embed(texts)))
    assert res.is_issue.tolist() == [True, True, True, False, False, False, False]
    g = res.columns["near_duplicate_group"]
    assert g[0] == g[1] == g[2] == 0 and (g[3:] == -1).all()
    assert res.summary["n_groups"] == 1 and res.summary["largest_group"] == 3
    assert "near duplicate of row" in res.reasons[1]


def test_large_exact_groups_stay_whole_even_beyond_k_neighbours():
    # 15 copies and k=3: neighbour edges alone could split them; the hash groups keep them together.
    others = ["pizza tonight?", "the train is late", "happy birthday mum", "lost my keys again", "rain all week",
              "new phone who dis", "meeting moved to 3", "cat knocked the vase", "gym at 7am", "sold the old car"]
    texts = ["same text"] * 15 + others
    emb = _synthetic(25)
    emb[:15] = emb[0]
    ds = _ds(texts)
    res = get_signal("near_duplicate", k=3)(SignalContext(ds, embeddings=emb))
    assert res.is_issue[:15].all() and not res.is_issue[15:].any()
    assert set(res.columns["near_duplicate_group"][:15]) == {0}


def test_minhash_catches_surface_edits_embeddings_underrate():
    texts = ["My flight was delayed again by three hours http://t.co/abc123",
             "RT @bob: My flight was delayed again by three hours http://t.co/abc123",
             "Do you want to grab pizza for dinner tonight?", "The quarterly report shows revenue growth in Asia"]
    emb = embed(texts)
    assert float(emb[0] @ emb[1]) < 0.9  # under the 0.92 cosine bar: the embedding alone misses the retweet
    ds = _ds(texts)
    only_emb = get_signal("near_duplicate", method="embedding")(SignalContext(ds, embeddings=emb))
    both = get_signal("near_duplicate")(SignalContext(ds, embeddings=emb))
    assert not only_emb.is_issue.any()
    assert both.is_issue.tolist() == [True, True, False, False]
    assert "shared wording" in both.reasons[1] and both.summary["by_kind"]["jaccard"] == 2


def test_conflicting_labels_flag_whole_groups():
    texts = ["great flight", "great flight", "Great  flight", "lost my bag", "on time", "lost my bag"]
    labels = ["positive", "positive", "negative", "negative", "positive", "negative"]
    emb = _synthetic(6)
    ds = _ds(texts, labels)
    res = get_signal("conflicting_label")(SignalContext(ds, embeddings=emb))
    assert res.is_issue.tolist() == [True, True, True, False, False, False]
    assert res.scores[2] == 0.0 and res.scores[0] == pytest.approx(0.25)  # 1 of 2 others agree, halved
    assert "'negative'" in res.reasons[0] and "'positive'" in res.reasons[2]
    assert res.summary["n_conflicting_groups"] == 1


# ----------------------------------------------------------------------------- label issues

def test_planted_label_flips_are_found_on_real_embeddings(sms_slice):
    raw, emb = sms_slice
    noisy = inject_label_noise(raw["label"], rate=0.08, mode="uniform", seed=4)
    ds = build_dataset(raw.assign(label=noisy.labels), ColumnMapping("text", "label"))
    res = get_signal("label")(SignalContext(ds, embeddings=emb))
    det = score_detection(noisy.flipped, res.is_issue, res.scores)
    assert noisy.n_flipped == round(0.08 * len(raw))
    assert det.recall >= 0.8 and det.precision >= 0.65, det
    assert det.average_precision >= 0.85
    # a flipped row found gets its original label suggested back
    found = noisy.flipped & res.is_issue
    sugg = res.columns["suggested_label"]
    assert (sugg[found] == noisy.original[found]).mean() >= 0.9
    assert np.all((res.columns["suggested_label_prob"] >= 0.5) & (res.columns["suggested_label_prob"] <= 1))
    assert "looks wrong: likely" in res.reasons[np.flatnonzero(found)[0]]
    # the joint is a distribution over (given, true) and the noise estimate is in a sane range
    joint = np.array(res.info["joint"])
    assert joint.sum() == pytest.approx(1.0) and 0.0 <= res.summary["estimated_noise_ratio"] <= 0.3


@pytest.mark.parametrize("method", ["cleanlab", "knn"])
def test_peer_methods_run_on_the_same_context(method, sms_slice):
    raw, emb = sms_slice
    noisy = inject_label_noise(raw["label"], rate=0.1, seed=0)
    ds = build_dataset(raw.assign(label=noisy.labels), ColumnMapping("text", "label"))
    res = get_signal("label", method=method)(SignalContext(ds, embeddings=emb))
    assert score_detection(noisy.flipped, res.is_issue, res.scores).recall >= 0.6


def test_unlabelled_rows_get_a_suggestion_but_no_flag(sms_slice):
    raw, emb = sms_slice
    lab = raw["label"].astype(object).copy()
    lab.iloc[:5] = None
    ds = build_dataset(raw.assign(label=lab), ColumnMapping("text", "label"))
    res = get_signal("label")(SignalContext(ds, embeddings=emb))
    assert not res.is_issue[:5].any() and (res.scores[:5] == 1.0).all()
    assert set(res.columns["suggested_label"][:5]) <= {"ham", "spam"}
    assert res.summary["n_unlabelled"] == 5


# ----------------------------------------------------------------------------- outliers

def test_outlier_planted_far_from_a_tight_cluster():
    rng = np.random.default_rng(0)
    centre = rng.normal(size=32)
    v = centre + 0.05 * rng.normal(size=(80, 32))
    v[17] = rng.normal(size=32) * 3  # far away
    v = (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
    ds = _ds([f"text {i}" for i in range(80)])
    res = get_signal("outlier")(SignalContext(ds, embeddings=v))
    assert np.flatnonzero(res.is_issue).tolist() == [17]
    assert res.scores.argmin() == 17 and res.scores[17] < 0.5 < np.delete(res.scores, 17).min()


# ----------------------------------------------------------------------------- junk + PII

def test_junk_kinds():
    texts = ["", "ok", "A perfectly normal sentence here.", "http://t.co/abc123", "CafÃ© was great",
             "!!!!!!!!!!!!!!!!", "1234 5678 9012 !!", "x" * 6000, "sooo good, I loved it", "broken \ufffd byte"]
    res = get_signal("junk")(SignalContext(_ds(texts)))
    kinds = res.columns["junk_kinds"].tolist()
    assert kinds == ["empty", "too_short", "", "url_only", "mojibake", "non_letters,repeated_chars", "non_letters",
                     "too_long,repeated_chars", "", "mojibake"]
    assert res.scores[0] == 0.0 and res.scores[2] == 1.0
    assert res.summary["by_kind"]["mojibake"] == 2


def test_luhn():
    assert luhn_ok("4111111111111111") and luhn_ok("79927398713") and luhn_ok("378282246310005")
    assert not luhn_ok("4111111111111112") and not luhn_ok("79927398710") and not luhn_ok("12a4")
    assert is_card_number("4111 1111 1111 1111") and not is_card_number("+4111 1111 1111 1111")
    assert not is_card_number("4111-1111-1111-1112")  # 16 digits failing Luhn
    assert not is_card_number("2015-06-12")


def test_phones_valid_in_their_numbering_plan_only():
    assert find_phones("+44 20 7946 0958") == ["+44 20 7946 0958"]  # international form: any region
    assert find_phones("call 09061701461 now") == []  # a UK national number is no US number
    assert find_phones("call 09061701461 now", "GB") == ["09061701461"]
    assert find_phones("Call us at (415) 555-2671") == ["(415) 555-2671"]
    for text in ["Flight landed at 2015-02-24 11:30", "Abflug 24.02.2015 11:30 Uhr", "Order #6502530000 shipped",
                 "ISBN 978-0-306-40615-7", "version 10.3.1.4567", "Final scores: 21-17, 14-10, 28-24",
                 "scores 98 95 87 91 88", "Serial number SN 4829301756", "ratio 10.4155552671",
                 "Case no. 2125550147 was escalated"]:
        assert find_phones(text) == [], text
    assert find_phones("Abflug 24.02.2015 11:30 Uhr", "DE") == []


def test_pii_region_is_a_checked_parameter():
    sig = get_signal("pii", region="gb")
    assert sig.region == "GB" and sig.key == "pii(region=GB)"
    assert get_signal("pii", region="UK").region == "GB"  # what people type
    texts = ["ring 020 7946 0018 please", "call (415) 555-2671"]
    assert get_signal("pii", region="GB")(SignalContext(_ds(texts))).is_issue.tolist() == [True, False]
    res = get_signal("pii")(SignalContext(_ds(texts)))
    assert res.is_issue.tolist() == [False, True] and res.info["phone_region"] == "US"
    for bad in ("XX", "USA", "", 44):
        with pytest.raises(DataError, match="unknown phone region"):
            get_signal("pii", region=bad)
    from dq_core.signals.runner import parse_signal_spec

    assert parse_signal_spec("pii(region=DE)").region == "DE"


def test_pii_kinds_per_row():
    texts = ["write to jane.doe@example.org please", "call +44 20 7946 0958 now", "pay with 4111 1111 1111 1111",
             "server at 192.168.10.254 is down", "see https://example.com/x?y=1", "meeting at 10:30 in room 12",
             "nothing here"]
    counts = find_pii(pd.Series(texts))
    assert counts.to_dict("list") == {"email": [1, 0, 0, 0, 0, 0, 0], "phone": [0, 1, 0, 0, 0, 0, 0],
                                      "card": [0, 0, 1, 0, 0, 0, 0], "ip": [0, 0, 0, 1, 0, 0, 0],
                                      "url": [0, 0, 0, 0, 1, 0, 0]}
    res = get_signal("pii")(SignalContext(_ds(texts)))
    assert res.is_issue.tolist() == [True] * 4 + [False] * 3  # URLs are counted, not flagged, by default
    assert res.columns["pii_kinds"][4] == "url" and res.summary["rows_by_kind"]["url"] == 1
    with_urls = get_signal("pii", kinds=("email", "phone", "card", "ip", "url"))(SignalContext(_ds(texts)))
    assert with_urls.is_issue.tolist() == [True] * 5 + [False] * 2
    assert with_urls.scores[2] == 0.0 and with_urls.scores[4] > with_urls.scores[0]  # cards rank above URLs
    card_only = get_signal("pii", kinds="card")  # the CLI form
    assert card_only.kinds == ("card",)
    only = card_only(SignalContext(_ds(texts)))
    assert only.is_issue.tolist() == [False, False, True, False, False, False, False]
    with pytest.raises(DataError, match="unknown PII kind"):
        get_signal("pii", kinds=("email", "ssn"))


# ----------------------------------------------------------------------------- leakage + annotators

def test_leakage_finds_exact_and_near_copies_of_reference_rows(rich_inputs):
    ds, emb, ref, ref_emb = rich_inputs
    res = get_signal("leakage")(SignalContext(ds, embeddings=emb, reference=ref, reference_embeddings=ref_emb))
    assert res.is_issue[3] and res.is_issue[10]
    assert res.summary["n_exact"] >= 2 and res.summary["n_reference_rows_matched"] >= 2
    assert "identical to reference row 0" in res.reasons[3]


def test_annotator_agreement_known_values():
    from dq_core.metrics.consistency import compute_annotator_agreement, fleiss_kappa

    # Krippendorff (2011) nominal example: 4 coders, 12 units, missing values -> alpha = 0.743
    a = [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None]
    b = [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3]
    c = [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None]
    d = [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]
    f = pd.DataFrame({"a": a, "b": b, "c": c, "d": d}).astype("Int64").astype("string")
    res = compute_annotator_agreement(f, ["a", "b", "c", "d"])
    assert res.krippendorff_alpha == pytest.approx(0.743, abs=1e-3)
    assert res.n_rows_rated == 11 and res.agreement_rate == pytest.approx(8 / 11)
    # Fleiss (1971) worked example (Wikipedia): 10 subjects, 14 raters, 5 categories -> kappa = 0.210
    counts = np.array([[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
                       [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]])
    assert fleiss_kappa(counts) == pytest.approx(0.210, abs=1e-3)


def test_annotator_signal_flags_rows_the_annotators_do_not_back():
    raw = pd.DataFrame({"text": ["a b c", "d e f", "g h i", "j k l"], "label": ["x", "x", "y", "y"],
                        "r1": ["x", "y", "y", "x"], "r2": ["x", "y", "y", None], "r3": ["x", "x", "y", "y"]})
    ds = build_dataset(raw, ColumnMapping("text", "label", annotators=("r1", "r2", "r3")))
    res = get_signal("annotator_agreement")(SignalContext(ds))
    assert res.scores.tolist() == pytest.approx([1.0, 1 / 3, 1.0, 0.5])
    assert res.is_issue.tolist() == [False, True, False, True]
    assert res.summary["agreement_rate"] == pytest.approx(0.5)
    assert "1/3 annotators chose 'x' (majority 'y')" == res.reasons[1]


def test_agreement_hint_auroc():
    from dq_core.metrics.consistency import compare_with_agreement

    scores = np.array([0.1, 0.2, 0.9, 0.8, 0.7, 0.3])
    agree = np.array([0.4, 0.5, 1.0, 0.9, 0.55, 0.8])
    h = compare_with_agreement(scores, agree, threshold=0.6)
    # low-agreement rows: 0.1, 0.2, 0.7; high: 0.9, 0.8, 0.3 -> 8 of 9 pairs ordered right
    assert h.n_low_agreement == 3 and h.auroc == pytest.approx(8 / 9)


# ----------------------------------------------------------------------------- the wide frame

def test_wide_frame_columns_and_cache(rich_inputs, dq_env):
    from dq_core.data.workspace import Workspace

    ds, emb, ref, ref_emb = rich_inputs
    ws = Workspace.default()
    rep = compute_signals(ds, embeddings=emb, reference=ref, reference_embeddings=ref_emb, workspace=ws)
    f = rep.frame
    for name in ("label", "near_duplicate", "outlier"):  # cleanlab's names
        assert f"{name}_score" in f.columns and f"is_{name}_issue" in f.columns
    assert {"row_id", "label", "suggested_label", "suggested_label_prob", "reasons", "n_issues",
            "exact_duplicate_group", "near_duplicate_group", "is_leakage_issue", "annotator_agreement_score"} <= set(f.columns)
    assert f["row_id"].tolist() == ds.row_ids.tolist()
    assert (f["n_issues"] == f.filter(like="is_").sum(axis=1)).all()
    assert rep.skipped == {} and rep.agreement_hint is not None and rep.agreement_hint["column"] == "conf"
    assert not rep.from_cache
    again = compute_signals(ds, embeddings=emb, reference=ref, reference_embeddings=ref_emb, workspace=ws)
    assert again.from_cache
    pd.testing.assert_frame_equal(again.frame, f, check_dtype=False)
    # a different parameter is a different key, column and cache entry
    other = run_signals(ds, [get_signal("near_duplicate", threshold=0.2)], embeddings=emb, workspace=ws)
    assert "near_duplicate_threshold_0_2_score" in other.columns
