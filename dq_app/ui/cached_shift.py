"""st.cache_* wrappers for the Shift page, keyed by dataset fingerprints and the shift settings."""

from __future__ import annotations

import streamlit as st

from dq_core.data.dataset import TextDataset
from dq_core.data.workspace import Workspace
from dq_core.metrics.shift import ShiftConfig, ShiftResult, compute_shift
from dq_core.space.embed_cache import cached_dataset_embeddings

_HASH = {TextDataset: lambda d: d.fingerprint}


@st.cache_data(max_entries=8, show_spinner="Measuring the shift…", hash_funcs=_HASH)
def shift_result(ds: TextDataset, ref: TextDataset, config_items: tuple, metadata: tuple[str, ...],
                 with_embeddings: bool, home: str) -> ShiftResult:
    """All views + domain classifier; embeddings are read from the workspace cache (computed before)."""
    from pathlib import Path

    ws = Workspace(Path(home))
    config = ShiftConfig(**dict(config_items))
    ds_emb = ref_emb = None
    if with_embeddings:
        ds_emb = cached_dataset_embeddings(ds, workspace=ws)
        ref_emb = cached_dataset_embeddings(ref, workspace=ws)
    return compute_shift(ds, ref, config=config, ds_embeddings=ds_emb, ref_embeddings=ref_emb,
                         metadata=metadata, workspace=ws)
