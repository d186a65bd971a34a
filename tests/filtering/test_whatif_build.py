"""build_what_if_context: the filter panel's what-if context in one call, the same as prepare_what_if on the
inputs it gathers (the caller's embeddings or the workspace's, the label signal's probabilities, the repair
embedder), with the answers for a missing reference, missing probabilities and no label flags."""

from __future__ import annotations

import numpy as np
import pytest

from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.filtering import LabelInputs
from dq_core.filtering import whatif as wi
from dq_core.filtering.whatif.build import (
    build_what_if_context,
    known_embeddings,
    known_label_inputs,
    repair_embedder,
)
from tests.filter_data import make_dataset, make_embeddings, make_reference, make_signals


@pytest.fixture(scope="module")
def pair():
    ds, ref = make_dataset(90, seed=3), make_reference(60)
    return ds, ref, make_signals(ds, seed=3), make_embeddings(ds), make_embeddings(ref, seed=1)


def probs_of(ds) -> np.ndarray:
    return np.random.default_rng(0).dirichlet(np.ones(len(ds.classes)), size=len(ds))


def test_the_context_is_prepare_what_if_on_the_gathered_inputs(pair):
    ds, ref, sig, e, er = pair
    ws = Workspace.default()
    probs, asked = probs_of(ds), []
    inputs = lambda: (asked.append(1), LabelInputs(probs, None, "given"))[1]  # noqa: E731
    ctx = build_what_if_context(ds, ref, sig, workspace=ws, given=(e, er), inputs=inputs)
    direct = wi.prepare_what_if(ds, ref, sig, ds_embeddings=e, ref_embeddings=er, workspace=ws, label_probs=probs)
    assert asked == [1]
    assert wi.figures(ctx).to_dict() == wi.figures(direct).to_dict()
    assert ctx.radius is not None and ctx.radius == direct.radius
    np.testing.assert_array_equal(ctx.label_probs, probs)
    assert ctx.repair_texts is None  # the caller's own vectors: their model is not here to embed repairs


def test_without_a_reference_the_embeddings_are_left_out(pair):
    ds, _, sig, e, er = pair
    ctx = build_what_if_context(ds, None, sig, workspace=Workspace.default(), given=(e, er),
                                inputs=lambda: LabelInputs(probs_of(ds), None, "given"))
    assert ctx.radius is None and ctx.ds_vectors is None
    assert ctx.label_probs is not None  # the noise ratio still reads the probabilities


def test_probabilities_out_of_reach_leave_the_noise_ratio_to_the_flags(pair):
    ds, ref, sig, e, er = pair

    def unavailable() -> LabelInputs:
        raise DataError("label checks need at least two labelled rows")

    ctx = build_what_if_context(ds, ref, sig, workspace=Workspace.default(), given=(e, er), inputs=unavailable)
    assert ctx.label_probs is None and ctx.noise_flag is not None
    assert wi.figures(ctx).noise_ratio == pytest.approx(sig["is_label_issue"].mean())


def test_no_label_flags_no_probabilities_asked(pair):
    ds, ref, sig, e, er = pair
    plain = sig.drop(columns=[c for c in sig.columns if "label" in c and c.startswith("is_")])
    ctx = build_what_if_context(ds, ref, plain, workspace=Workspace.default(), given=(e, er),
                                inputs=lambda: pytest.fail("the probabilities were asked for"))
    assert ctx.label_probs is None and ctx.noise_method is None


def test_the_workspace_answers_when_nothing_is_given(pair):
    ds, ref, sig, _, _ = pair
    ws = Workspace.default()
    assert known_embeddings(ds, ref, ws) == (None, None)  # nothing cached: nothing embedded either
    e = make_embeddings(ds)
    assert known_embeddings(ds, ref, ws, (e,)) == (e, None)
    inputs = known_label_inputs(ds, ws)
    assert inputs.probs is None and inputs.note.startswith("no cached embeddings")
    ctx = build_what_if_context(ds, ref, sig, workspace=ws)
    assert ctx.radius is None and ctx.label_probs is None
    assert "no embeddings" in " ".join(ctx.notes)


def test_repairs_are_embedded_only_with_the_datasets_own_model(pair):
    ds, _, _, e, _ = pair
    ws = Workspace.default()
    assert repair_embedder(None, ws) is None
    assert repair_embedder(e, ws, (e,)) is None  # the caller's vectors
    assert repair_embedder(e, ws) is None  # vectors without the default model's key
