"""embed_pair: a dataset and its reference embedded in planned, counted passes (the bundled MiniLM on a few
dozen texts): the plan's counts, the order of the passes, one total from start to end, the preview sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.data.workspace import Workspace
from dq_core.space import embed_pair as ep
from dq_core.space.embed_cache import cached_dataset_embeddings
from tests.space.test_embed import TEXTS


def dataset(texts: list[str], name: str):
    return build_dataset(pd.DataFrame({"text": texts, "label": ["x", "y"] * (len(texts) // 2)}),
                         ColumnMapping(text="text", label="label"), name=name)


@pytest.fixture
def pair():
    """ds: 20 texts, 4 of them repeated and 2 empty (14 distinct); ref: 10 texts, 2 shared with ds."""
    a = TEXTS[:14] + TEXTS[:4] + ["", " "]
    b = TEXTS[20:28] + TEXTS[:2]
    return dataset(a, "ds"), dataset(b, "ref")


def test_sides_rows_and_key(pair):
    ds, ref = pair
    assert [n for n, _ in ep.pair_sides(ds, ref)] == ["dataset", "reference"]
    assert [n for n, _ in ep.pair_sides(ds, None)] == ["dataset"]
    assert [n for n, _ in ep.pair_sides(ds, ref.subset(np.zeros(len(ref), dtype=bool)))] == ["dataset"]
    assert ep.pair_rows(ds, ref) == 30 and ep.pair_rows(ds, None) == 20
    assert ep.pair_key(ds, ref) == f"{ds.fingerprint[:16]}-{ref.fingerprint[:16]}"
    assert ep.pair_key(ds, None).endswith("-none")


def test_preview_sample_is_seeded_and_keeps_row_order(pair):
    ds, _ = pair
    s = ep.preview_sample(ds, 5)
    assert len(s) == 5 and s.name == "ds (sample of 5)"
    assert list(s.row_ids) == sorted(s.row_ids) and set(s.row_ids) <= set(ds.row_ids)
    assert list(ep.preview_sample(ds, 5).row_ids) == list(s.row_ids)
    assert len(ep.preview_sample(ds, 500)) == len(ds)


def test_run_pair_embeds_the_preview_then_each_side_with_one_total(pair, monkeypatch):
    ds, ref = pair
    ws = Workspace.default()
    monkeypatch.setattr(ep, "PREVIEW_ROWS", 6)
    monkeypatch.setattr(ep, "PREVIEW_ABOVE", 20)
    job = ep.plan_pair(ds, ref, ws)
    assert [n for n, _ in job.samples] == ["dataset", "reference"] and len(job.passes) == 3
    assert (job.plan.n_texts, job.plan.n_cached, job.plan.total) == (22, 0, 22)  # distinct non-empty texts
    seen, previews = [], []
    ep.run_pair(job, ws, progress=lambda phase, done=None, total=1.0: seen.append((phase, done, total)),
                on_preview=previews.append)
    assert [s for s in seen if s[1] is None] == [("preview", None, 1.0), ("embedding", None, 1.0)]
    counts = [(phase, done, total) for phase, done, total in seen if done is not None]
    assert {total for _, _, total in counts} == {22} and counts[-1][1] == 22
    assert [done for _, done, _ in counts] == sorted(done for _, done, _ in counts)
    assert [phase for phase, _, _ in counts] == sorted(phase for phase, _, _ in counts)[::-1]  # preview first
    (pv,) = previews
    assert (len(pv.ds), len(pv.ref)) == (6, 6)
    full = cached_dataset_embeddings(ds, workspace=ws)
    at = [list(ds.row_ids).index(r) for r in pv.ds.row_ids]
    np.testing.assert_allclose(pv.ds_emb.vectors, full.vectors[at], atol=1e-6)  # the same vectors, cached once
    assert ep.pair_ready(ds, ref, ws)

    again = ep.plan_pair(ds, ref, ws)  # every side on disk now: nothing left to embed, nothing reported
    assert again.plan.total == 0
    seen.clear()
    ep.run_pair(again, ws, progress=lambda phase, done=None, total=1.0: seen.append((phase, done, total)))
    assert all(done is None for _, done, _ in seen)

    ep.forget_pair(ds, ref, ws)
    assert not ep.pair_ready(ds, ref, ws)


def test_a_small_pair_has_no_preview(pair):
    ds, ref = pair
    job = ep.plan_pair(ds, None, Workspace.default())
    assert job.samples == () and len(job.passes) == 1
    ep.run_pair(job, Workspace.default(), on_preview=lambda p: pytest.fail("no preview for a small pair"))
    assert ep.pair_ready(ds, None, Workspace.default())
