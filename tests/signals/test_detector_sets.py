"""Precision and recall of the phone and mojibake rules on labelled sets written for them (tests/data).

- tests/data/pii_numbers.csv: number-bearing texts (dates, times, order numbers, ISBNs, versions, scores,
  serials, prices, ids, cards, IBANs) and phone numbers of several countries in national and
  international forms; ``region`` is the country the writer is in (the signal's ``region`` parameter).
- tests/data/mojibake_texts.csv: clean texts in many scripts and the same kind of texts broken by reading
  UTF-8 as cp1252 or Latin-1 (once or twice), with the original where it is known.

bench/bench_detectors.py prints the same figures for the rules before and after (docs/benchmarks.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.signals import SignalContext, get_signal
from dq_core.signals.junk import find_mojibake
from dq_core.signals.pii import find_pii
from tests.conftest import TEST_DATA


def precision_recall(pred: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    pred, truth = np.asarray(pred, bool), np.asarray(truth, bool)
    tp = int((pred & truth).sum())
    return tp / max(int(pred.sum()), 1), tp / max(int(truth.sum()), 1)


@pytest.fixture(scope="module")
def numbers() -> pd.DataFrame:
    return pd.read_csv(TEST_DATA / "pii_numbers.csv", keep_default_na=False)


@pytest.fixture(scope="module")
def mojibake() -> pd.DataFrame:
    return pd.read_csv(TEST_DATA / "mojibake_texts.csv", keep_default_na=False)


def phone_predictions(frame: pd.DataFrame, region: str | None = None) -> np.ndarray:
    """Each text read with its writer's region (or one ``region`` for all)."""
    pred = np.zeros(len(frame), dtype=bool)
    for r, g in frame.groupby("region") if region is None else [(region, frame)]:
        pred[g.index.to_numpy()] = find_pii(g["text"].reset_index(drop=True), region=r)["phone"].to_numpy() > 0
    return pred


def test_the_sets_are_big_and_varied_enough(numbers, mojibake):
    assert len(numbers) >= 50 and numbers["is_phone"].sum() >= 20 and (numbers["is_phone"] == 0).sum() >= 30
    assert {"US", "GB", "DE", "FR", "IN", "BR", "JP"} <= set(numbers["region"])
    assert numbers["text"].str.contains(r"\+\d").sum() >= 8  # international forms
    assert len(mojibake) >= 30 and 10 <= mojibake["is_mojibake"].sum() <= len(mojibake) - 10


def test_phone_rule_precision_and_recall(numbers):
    pred = phone_predictions(numbers)
    p, r = precision_recall(pred, numbers["is_phone"].to_numpy())
    wrong = numbers.loc[pred != numbers["is_phone"].astype(bool), ["text", "is_phone", "region"]]
    print(f"\nphone rule, each text read with its writer's region: precision {p:.3f}, recall {r:.3f} "
          f"({len(numbers)} texts)\n{wrong.to_string() if len(wrong) else ''}")
    assert p >= 0.95 and r >= 0.9


def test_phone_rule_with_one_default_region(numbers):
    """Region US for every text: international forms and US numbers are found, no non-phone is flagged;
    national numbers of other countries ("030 1234567") need their region set."""
    pred = phone_predictions(numbers, "US")
    truth = numbers["is_phone"].to_numpy().astype(bool)
    p, r = precision_recall(pred, truth)
    findable = truth & ((numbers["region"] == "US") | numbers["text"].str.contains(r"\+\d")).to_numpy()
    r_findable = precision_recall(pred & findable, findable)[1]
    print(f"\nphone rule, region US for all: precision {p:.3f}, recall {r:.3f}; on US and +CC numbers "
          f"{r_findable:.3f}")
    assert p >= 0.95 and r_findable >= 0.9


def test_mojibake_rule_precision_and_recall(mojibake):
    flag, fixed = find_mojibake(mojibake["text"])
    truth = mojibake["is_mojibake"].to_numpy().astype(bool)
    p, r = precision_recall(flag, truth)
    wrong = mojibake.loc[flag != truth, ["text", "is_mojibake", "kind"]]
    print(f"\nmojibake rule: precision {p:.3f}, recall {r:.3f} ({len(mojibake)} texts)\n"
          f"{wrong.to_string() if len(wrong) else ''}")
    assert p >= 0.95 and r >= 0.9
    # The repair: clean texts get none; broken ones with a known original are mostly restored exactly.
    assert all(f is None for f in fixed[~truth])
    known = truth & (mojibake["original"] != "").to_numpy()
    exact = np.mean([fixed[i] == mojibake["original"].iat[i] for i in np.flatnonzero(known)])
    print(f"repaired exactly: {exact:.0%} of {known.sum()} broken texts with a known original")
    assert exact >= 0.6  # the rest lost bytes cp1252 cannot decode (now U+FFFD)


def test_junk_signal_exposes_the_repaired_text():
    texts = ["CafÃ© crÃ¨me", "ÐžÑ‚Ð»Ð¸Ñ‡Ð½Ð¾", "Отлично, всё хорошо", "今日はとても良い天気", "I donâ€™t know",
             "naïve façade — “quoted”", "plain text here"]
    ds = build_dataset(pd.DataFrame({"text": texts, "label": ["a"] * len(texts)}), ColumnMapping("text", "label"))
    res = get_signal("junk")(SignalContext(ds))
    assert res.columns["junk_kinds"].tolist()[:2] == ["mojibake", "mojibake"]
    assert not res.is_issue[2:4].any() and not res.is_issue[5:].any()
    assert res.columns["mojibake_fixed_text"].tolist() == ["Café crème", "Отлично", None, None, "I don’t know",
                                                           None, None]
