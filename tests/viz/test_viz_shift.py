"""Shift figures carry the numbers of the ShiftResult they are drawn from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.metrics.shift import DomainClassifierResult, ShiftConfig, compute_shift
from dq_core.viz import shift as viz_shift


def _ds(texts, labels):
    return build_dataset(pd.DataFrame({"text": texts, "label": labels}), ColumnMapping(text="text", label="label"))


@pytest.fixture(scope="module")
def result():
    ds = _ds(["late flight again", "lost bag", "great crew", "nice seats"] * 10, ["neg", "neg", "pos", "pos"] * 10)
    ref = _ds(["great goal", "late kickoff", "boring match"] * 10, ["pos", "neg", "neg"] * 10)
    return compute_shift(ds, ref, config=ShiftConfig(n_bootstrap=100, n_permutations=100))


def test_overview_bars_are_the_js_of_each_computed_view(result):
    fig = viz_shift.views_overview(result)
    bar = fig.data[0]
    computed = [v for v in result.views.values() if not v.skipped]
    assert list(bar.y) == [v.title for v in computed][::-1]
    assert list(bar.x) == pytest.approx([v.js for v in computed][::-1])
    assert list(bar.error_x.array) == pytest.approx([v.js_ci[1] - v.js for v in computed][::-1])


def test_histogram_pair_and_attribution_match_the_view(result):
    v = result.views["label"]
    fig = viz_shift.histogram_pair(v)
    assert [t.name for t in fig.data] == ["dataset", "reference"]
    a = v.attribution()
    assert list(fig.data[0].y) == pytest.approx(list(a["dataset_share"]))
    assert list(fig.data[1].y) == pytest.approx(list(a["reference_share"]))
    bars = viz_shift.attribution_bar(v).data[0]
    assert sum(abs(x) for x in bars.x) == pytest.approx(v.js)
    signs = dict(zip(bars.y, np.sign(bars.x), strict=True))
    assert signs == {row.bin: np.sign(row.difference) for row in a.itertuples() if row.contribution > 0}


def test_top_bins_only_for_wide_views_and_messages_for_skipped(result):
    vocab = result.views["vocabulary"]
    fig = viz_shift.histogram_pair(vocab, top=5)
    assert len(fig.data[0].x) == min(5, len(vocab.bins))
    skipped = result.views["embedding_clusters"]
    assert skipped.skipped
    for f in (viz_shift.histogram_pair, viz_shift.attribution_bar, viz_shift.resampling_figure):
        assert skipped.skipped in f(skipped).layout.annotations[0].text
    assert "No domain classifier" in viz_shift.domain_scores(DomainClassifierResult(auc=None)).layout.annotations[0].text
    res_fig = viz_shift.resampling_figure(result.views["label"])
    assert len(res_fig.data) == 2 and len(res_fig.data[0].x) == 100
