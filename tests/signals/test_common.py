"""One test over every registered signal: length n, scores in [0, 1], deterministic, input untouched."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dq_core.signals import REGISTRY, SignalContext, SignalResult, get_signal


def _ctx(inputs, seed=0):
    ds, emb, ref, ref_emb = inputs
    return SignalContext(ds, embeddings=emb, reference=ref, reference_embeddings=ref_emb, seed=seed)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_signal_keeps_the_contract(name, rich_inputs):
    ds, emb, ref, ref_emb = rich_inputs
    frame_before = ds.frame.copy(deep=True)
    emb_before = emb.copy()
    sig = get_signal(name)
    assert sig.name == name and sig.key == name and isinstance(sig.requires, frozenset)
    ctx = _ctx(rich_inputs)
    assert sig.requires <= ctx.available()

    res = sig(ctx)
    assert isinstance(res, SignalResult)
    n = len(ds)
    assert res.scores.shape == (n,) and res.is_issue.shape == (n,)
    assert res.is_issue.dtype == bool
    assert np.all((res.scores >= 0) & (res.scores <= 1))
    assert isinstance(res.summary, dict) and res.summary["n_issues"] == int(res.is_issue.sum())
    if res.reasons is not None:
        assert len(res.reasons) == n
        assert all(bool(r) for r in res.reasons[res.is_issue])  # every flag explains itself
    for col in res.columns.values():
        assert len(col) == n

    again = sig(_ctx(rich_inputs))  # a fresh context, same seed: same answer
    np.testing.assert_array_equal(res.scores, again.scores)
    np.testing.assert_array_equal(res.is_issue, again.is_issue)

    pd.testing.assert_frame_equal(ds.frame, frame_before)
    np.testing.assert_array_equal(emb, emb_before)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_keys_name_non_default_parameters_only(name):
    import dataclasses

    cls = REGISTRY[name]
    fields = dataclasses.fields(cls)
    if not fields:
        assert get_signal(name).key == name
        return
    f = fields[0]
    other = {int: 7, float: 0.123, str: "knn" if name == "label" else "x", tuple: ("email", "url")}
    value = other.get(type(getattr(get_signal(name), f.name)), None)
    sig = get_signal(name, **{f.name: value})
    assert sig.key == f"{name}({f.name}={value})"
    assert sig.column.startswith(name + "_") and sig.column.isidentifier()
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(sig, f.name, value)
