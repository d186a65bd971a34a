"""The filter panel's what-if context embeds the repairs the junk signal proposes with the dataset's own
model (real MiniLM), so a repaired row counts by its new text in the coverage figures; never for vectors
the user gave."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.data.workspace import Workspace
from dq_core.filtering import FilterRecipe, SignalRule, apply_recipe, load_or_compute_signals
from dq_core.filtering import whatif as wi
from dq_core.filtering.whatif.build import repair_embedder
from dq_core.space.embed import embed_dataset, embed_texts
from dq_core.space.embed_cache import cached_dataset_embeddings

FILM = "Отличный фильм, всем советую"
FILM_BROKEN = "ÐžÑ‚Ð»Ð¸Ñ‡Ð½Ñ‹Ð¹ Ñ„Ð¸Ð»ÑŒÐ¼, Ð²Ñ\x81ÐµÐ¼ Ñ\x81Ð¾Ð²ÐµÑ‚ÑƒÑŽ"


def test_the_panel_context_embeds_the_proposed_repairs(dq_env):
    ws = Workspace.default()
    ds = build_dataset(pd.DataFrame({"text": [FILM_BROKEN, "the crew was rude", "great pizza tonight",
                                              "the app keeps crashing", "a delayed flight again", "lovely staff"],
                                     "label": ["pos", "neg", "pos", "neg", "neg", "pos"]}),
                       ColumnMapping(text="text", label="label"), name="ds")
    ref = build_dataset(pd.DataFrame({"text": [FILM, "the crew was rude", "rude crew, late plane"],
                                      "label": ["pos", "neg", "neg"]}), ColumnMapping(text="text", label="label"),
                        name="ref")
    embed_dataset(ds, workspace=ws)
    embed_dataset(ref, workspace=ws)
    ds_emb = cached_dataset_embeddings(ds, workspace=ws)
    assert repair_embedder(ds_emb, ws, (ds_emb,)) is None  # the user's own vectors: their model is not here
    embed = repair_embedder(ds_emb, ws, None)
    assert embed is not None

    sig = load_or_compute_signals(ds, workspace=ws, settings={"signals": ["junk"], "seed": 0})
    ref_emb = cached_dataset_embeddings(ref, workspace=ws)
    ctx = wi.prepare_what_if(ds, ref, sig, ds_embeddings=ds_emb, ref_embeddings=ref_emb, workspace=ws,
                             config=wi.WhatIfConfig(n_clusters=2), embed_repairs=embed)
    assert ctx.repair_texts == {0: FILM}
    film = embed_texts([FILM], workspace=ws).vectors[0]
    assert float(ctx.repair_vectors[0] @ film) > 0.999  # the repaired text's vector, not the broken one's
    assert float(np.asarray(ds_emb.vectors[0], dtype=np.float32) @ film) < 0.9
    res = apply_recipe(ds, sig, FilterRecipe(name="repair", signals=(SignalRule("junk", action="repair"),)))
    after = wi.figures_for(ctx, res)
    # two reference rows have an exact copy among the rows as repaired (FILM and the crew's): covered
    # whatever the radius; the figures without the repair place row 0 by its broken text
    assert after.reference_coverage >= 2 / 3
    assert after.reference_coverage >= wi.figures(ctx).reference_coverage
