"""The filter panel's cached building blocks: prepared inputs, the what-if context and the label inputs.

Each is built by dq_core once per (dataset, signals, embeddings) and kept with st.cache_resource, so moving a
control only re-applies the recipe and recounts the figures.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from dq_core.data.dataset import TextDataset
from dq_core.data.workspace import Workspace
from dq_core.filtering import FilterInputs, LabelInputs
from dq_core.filtering import whatif as wi
from dq_core.filtering.whatif.build import build_what_if_context, known_label_inputs
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


@st.cache_resource(max_entries=4, show_spinner="Precomputing the before/after figures…", hash_funcs=_HASH)
def whatif_context(ds: TextDataset, ref: TextDataset | None, signals: pd.DataFrame | None, home: str,
                   label_key: str = "label", seed: int = 0, emb_token: str = WORKSPACE_CACHE,
                   _given=None) -> wi.WhatIfContext:
    return build_what_if_context(
        ds, ref, signals, workspace=Workspace(Path(home)), label_key=label_key, seed=seed, given=_given,
        inputs=lambda: cached_label_inputs(ds, home, label_key, seed, emb_token, _given))


@st.cache_resource(max_entries=4, show_spinner="Out-of-sample probabilities…", hash_funcs=_HASH)
def cached_label_inputs(ds: TextDataset, home: str, label_key: str = "label", seed: int = 0,
                        emb_token: str = WORKSPACE_CACHE, _given=None) -> LabelInputs:
    """Label-next's and the noise ratio's inputs, from the signals' caches in the workspace at ``home``."""
    return known_label_inputs(ds, Workspace(Path(home)), label_key=label_key, seed=seed, given=_given)
