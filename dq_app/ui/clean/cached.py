"""The filter panel's cached building blocks: prepared inputs, the what-if context and the label inputs.

Each is built once per (dataset, signals, embeddings) with st.cache_resource, so moving a control only
re-applies the recipe and recounts the figures.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from dq_core.data.dataset import TextDataset
from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.filtering import FilterInputs, LabelInputs, label_inputs
from dq_core.filtering import whatif as wi
from dq_core.util.fingerprint import array_fingerprint, text_fingerprint

WORKSPACE_CACHE = "workspace-cache"  # the token when the panel reads the embeddings from the workspace
TOKEN_SAMPLE_ROWS = 512  # rows an embeddings token hashes: cheap on large sets, still content-keyed
_HASH = {TextDataset: lambda d: d.fingerprint}


@st.cache_resource(max_entries=4, show_spinner="Preparing the filter…", hash_funcs=_HASH)
def filter_inputs(ds: TextDataset, signals: pd.DataFrame | None) -> FilterInputs:
    return FilterInputs(ds, signals).prepare()


def embeddings_token(embeddings) -> str:
    """A cache key for embeddings a caller passed in: per side the shape, a fixed row sample and the
    valid mask (hashing every vector of a large set on each rerun would be slow)."""
    if embeddings is None:
        return WORKSPACE_CACHE
    parts = []
    for e in embeddings:
        if e is None:
            parts.append("none")
            continue
        v = np.asarray(e.vectors)
        parts += [str(v.shape), array_fingerprint(v[:: max(1, len(v) // TOKEN_SAMPLE_ROWS)]),
                  array_fingerprint(np.asarray(e.valid))]
    return text_fingerprint(*parts)


def embeddings(ds: TextDataset, ref: TextDataset | None, ws: Workspace, given):
    """The caller's embeddings, else those already on disk (Coverage, Shift or the signals computed
    them): the panel never embeds on its own."""
    if given is not None:
        return given[0], (given[1] if len(given) > 1 else None)
    from dq_core.space.embed_cache import cached_dataset_embeddings

    ds_emb = cached_dataset_embeddings(ds, workspace=ws)
    ref_emb = cached_dataset_embeddings(ref, workspace=ws) if ref is not None else None
    return ds_emb, ref_emb


@st.cache_resource(max_entries=4, show_spinner="Precomputing the before/after figures…", hash_funcs=_HASH)
def whatif_context(ds: TextDataset, ref: TextDataset | None, signals: pd.DataFrame | None, home: str,
                   label_key: str = "label", seed: int = 0, emb_token: str = WORKSPACE_CACHE,
                   _given=None) -> wi.WhatIfContext:
    ws = Workspace(Path(home))
    ds_emb, ref_emb = embeddings(ds, ref, ws, _given)
    if ref is None:
        ds_emb = ref_emb = None
    probs = None
    if signals is not None and wi.noise_column(signals) is not None:
        try:  # the label signal's probabilities: the noise ratio then matches the signals' estimate
            probs = cached_label_inputs(ds, home, label_key, seed, emb_token, _given).probs
        except DataError:
            probs = None
    return wi.prepare_what_if(ds, ref, signals, ds_embeddings=ds_emb, ref_embeddings=ref_emb, workspace=ws,
                              label_probs=probs, embed_repairs=repair_embedder(ds_emb, ws, _given))


def repair_embedder(ds_emb, ws: Workspace, given):
    """Embeds the few texts a recipe's repairs propose with the dataset's own model, so a repaired row counts
    by its new text in the coverage figures; None for vectors the user gave (their model is not here)."""
    if given is not None or ds_emb is None:
        return None
    from dq_core.space.embed import embed_texts
    from dq_core.space.embed_model import cache_key

    try:  # the panel reads the default model's vectors (cached_dataset_embeddings): embed with that one only
        if getattr(ds_emb, "model_name", None) != cache_key(None):
            return None
    except (DataError, OSError):
        return None
    return lambda texts: embed_texts(texts, workspace=ws).vectors


@st.cache_resource(max_entries=4, show_spinner="Out-of-sample probabilities…", hash_funcs=_HASH)
def cached_label_inputs(ds: TextDataset, home: str, label_key: str = "label", seed: int = 0,
                        emb_token: str = WORKSPACE_CACHE, _given=None) -> LabelInputs:
    """Label-next's and the noise ratio's inputs, from the signals' caches in the workspace at ``home``."""
    ws = Workspace(Path(home))
    emb, _ = embeddings(ds, None, ws, _given)
    return label_inputs(ds, emb, label_key=label_key, seed=seed, workspace=ws)
