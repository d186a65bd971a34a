"""Known answers for what the signals flag, counted and ranked (dq_core.signals.flagged): the Clean page's
figures and tables and the review table read these, so the order is checked against the pandas sorts the
page used before and against the review table's."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dq_core.signals import SignalReport
from dq_core.signals.flagged import flag_counts, lowest_score, most_suspicious, rank_suspicious


def report() -> SignalReport:
    """Seven rows, two signals: junk flags rows 1, 3, 5; label flags rows 0, 3, 5; row 6 has a score column
    that is not a signal's (it must not weigh in the report's ranking)."""
    frame = pd.DataFrame({
        "row_id": list(range(7)), "label": list("abababa"),
        "junk_score": [0.9, 0.1, 0.5, 0.3, 1.0, 0.3, 0.8],
        "is_junk_issue": [False, True, False, True, False, True, False],
        "label_score": [0.2, 0.8, 0.05, 0.4, 0.6, 0.3, 0.7],
        "is_label_issue": [True, False, False, True, False, True, False],
        "near_duplicate__pair_score": [0.0] * 7,
    })
    frame["n_issues"] = frame["is_junk_issue"].astype(int) + frame["is_label_issue"].astype(int)
    return SignalReport(frame=frame, summaries={"junk": {}, "label": {}}, columns={"junk": "junk", "label": "label"})


def test_flag_counts_per_signal_any_signal_and_share():
    c = flag_counts(report())
    assert (c.n_rows, c.any_signal, c.per_signal) == (7, 4, {"junk": 3, "label": 3})
    assert c.share(c.any_signal) == 4 / 7
    empty = SignalReport(frame=report().frame.iloc[:0], summaries={"junk": {}}, columns={"junk": "junk"})
    assert flag_counts(empty).share(0) == 0.0


def test_most_suspicious_any_signal_most_flags_first_then_lowest_score_then_position():
    r = report()
    # rows 3 and 5 carry two flags (lowest 0.3 both: by position); then 0 (0.2), 1 (0.1): by score
    assert most_suspicious(r).tolist() == [3, 5, 1, 0]
    f = r.frame.loc[r.frame["n_issues"] > 0].copy()
    f["_min"] = f[["junk_score", "label_score"]].min(axis=1)
    before = f.sort_values(["n_issues", "_min"], ascending=[False, True], kind="stable").index.tolist()
    assert most_suspicious(r).tolist() == before  # the order the Clean page's table had


def test_most_suspicious_for_one_signal_ranks_its_flagged_rows_by_its_score():
    r = report()
    assert most_suspicious(r, "junk").tolist() == [1, 3, 5]  # 0.1, then 0.3 tied: by position
    assert most_suspicious(r, "label").tolist() == [0, 5, 3]
    for key, col in (("junk", "junk_score"), ("label", "label_score")):
        f = r.frame
        before = f.loc[f[f"is_{col[:-6]}_issue"]].sort_values(col, kind="stable").index.tolist()
        assert most_suspicious(r, key).tolist() == before


def test_rank_suspicious_reads_every_score_column_by_default_and_counts_a_missing_score_as_1():
    frame = pd.DataFrame({"a_score": [0.5, np.nan, 0.2, np.nan], "b_score": [0.4, np.nan, 0.9, 1.0]})
    assert lowest_score(frame).tolist() == [0.4, 1.0, 0.2, 1.0]
    assert lowest_score(frame.drop(columns=["a_score", "b_score"])).tolist() == [1.0] * 4
    assert rank_suspicious(frame, np.ones(4, dtype=bool)).tolist() == [2, 0, 1, 3]
    assert rank_suspicious(frame, np.array([True, False, False, True])).tolist() == [0, 3]
    assert rank_suspicious(None, np.array([False, True, True, False])).tolist() == [1, 2]  # no signals: in order
