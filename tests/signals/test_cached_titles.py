"""A cached signals report shows today's signal titles: a title renamed since (say "Conflicting labels" ->
"Near duplicates with mixed labels") must not come back from the cache with the numbers."""

from __future__ import annotations

import json

import pandas as pd

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.data.workspace import Workspace
from dq_core.signals import compute_signals, load_cached_report
from dq_core.signals.duplicates import ExactDuplicateSignal
from dq_core.signals.junk import JunkSignal


def test_a_cached_report_carries_the_current_titles(tmp_path):
    ds = build_dataset(pd.DataFrame({"text": ["a long enough text", "A long  enough text", "ok", "another text"],
                                     "label": ["x", "y", "x", "y"]}), ColumnMapping(text="text", label="label"),
                       name="titles")
    ws = Workspace(root=tmp_path)
    signals = [ExactDuplicateSignal(), JunkSignal()]
    first = compute_signals(ds, signals, workspace=ws)
    assert first.titles == {"exact_duplicate": "Exact duplicates", "junk": JunkSignal.title}
    (meta,) = (tmp_path / "cache" / "signals").glob("*.json")
    stored = json.loads(meta.read_text(encoding="utf-8"))
    stored["titles"] = {k: "an old title" for k in stored["titles"]}  # as a report cached before a rename
    meta.write_text(json.dumps(stored), encoding="utf-8")
    for again in (compute_signals(ds, signals, workspace=ws), load_cached_report(ds, signals, workspace=ws)):
        assert again.from_cache
        assert again.titles == first.titles
        assert again.summaries["exact_duplicate"]["n_issues"] == 2
