"""`dq signals DATA --out FILE` as a user runs it (in-process through `dq_core.cli.main`): the columns, exit
codes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tests.cli_helpers import dq

ROOT = Path(__file__).resolve().parents[2]
TEST_DATA = ROOT / "tests" / "data"


def _small_csv(tmp_path: Path) -> Path:
    texts = ["The flight was great, friendly crew", "Lost my luggage again, terrible service",
             "Call me at (415) 555-2671 to claim your prize", "ok", "The flight was great, friendly crew",
             "Seats were comfy and boarding was quick", "Delayed for hours with no updates at all",
             "Amazing staff and a smooth landing", "Worst customer service I have ever had",
             "Nice snacks on board and clean cabin", "They cancelled my flight without notice",
             "Great value for the price, would fly again"]
    labels = ["pos", "neg", "neg", "pos", "neg", "pos", "neg", "pos", "neg", "pos", "neg", "pos"]
    p = tmp_path / "small.csv"
    pd.DataFrame({"text": texts, "label": labels}).to_csv(p, index=False)
    return p


def test_signals_cli_writes_the_contract_columns(tmp_path):
    src = _small_csv(tmp_path)
    out = tmp_path / "signals.parquet"
    r = dq("signals", str(src), "--out", str(out))
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["n_rows"] == 12 and "leakage" in summary["skipped"]
    assert "signal 'leakage' skipped" in r.stderr
    f = pd.read_parquet(out)
    assert f["row_id"].tolist() == list(range(12))
    for name in ("label", "exact_duplicate", "near_duplicate", "conflicting_label", "outlier", "junk", "pii"):
        assert f[f"{name}_score"].between(0, 1).all()
        assert f[f"is_{name}_issue"].dtype == bool
    assert {"suggested_label", "suggested_label_prob", "reasons"} <= set(f.columns)
    assert f.loc[0, "is_conflicting_label_issue"] and f.loc[4, "is_conflicting_label_issue"]
    assert f.loc[2, "is_pii_issue"] and f.loc[3, "is_junk_issue"]
    assert summary["signals"]["pii"]["n_issues"] == 1


def test_signals_cli_csv_with_chosen_signals_and_a_reference(tmp_path):
    src = _small_csv(tmp_path)
    ref = tmp_path / "ref.csv"
    pd.DataFrame({"text": ["Lost my luggage again, terrible service", "a new test sentence"],
                  "label": ["neg", "pos"]}).to_csv(ref, index=False)
    out = tmp_path / "s.csv"
    r = dq("signals", str(src), "--reference", str(ref), "--out", str(out),
           "--signals", "junk,pii(kinds=email),leakage,exact_duplicate")
    assert r.returncode == 0, r.stderr
    f = pd.read_csv(out)
    assert "pii_kinds_email_score" in f.columns and not f["is_pii_kinds_email_issue"].any()
    assert f["is_leakage_issue"].tolist() == [i == 1 for i in range(12)]
    assert "label_score" not in f.columns


def test_signals_cli_bad_input(tmp_path):
    src = _small_csv(tmp_path)
    for args, msg in (
        (["--out", str(tmp_path / "x.xlsx")], "use a .csv or .parquet"),
        (["--out", str(tmp_path / "x.csv"), "--signals", "nope"], "unknown signal 'nope'"),
        (["--out", str(tmp_path / "x.csv"), "--model", str(tmp_path / "missing")], "does not exist"),
    ):
        r = dq("signals", str(src), *args)
        assert r.returncode == 2, (args, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert lines[-1].startswith("error: ") and msg in lines[-1] and "Traceback" not in r.stderr
