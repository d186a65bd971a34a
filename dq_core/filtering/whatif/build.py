"""The what-if context the Clean page's filter panel counts its before/after figures on, built in one call.

Its inputs come from what the workspace already holds: the embeddings the caller passed, else those on disk
(Coverage, Shift or the signals computed them; nothing is embedded here but a recipe's few repaired texts),
the label signal's out-of-sample probabilities (so the noise ratio is the signals' own estimate), and the
dataset's model to embed the texts the junk signal's repairs propose.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from dq_core.data.dataset import TextDataset
from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.filtering.active_learning import LabelInputs, label_inputs
from dq_core.filtering.whatif import WhatIfContext, noise_column, prepare_what_if


def known_embeddings(ds: TextDataset, ref: TextDataset | None, workspace: Workspace, given=None) -> tuple:
    """(dataset, reference) embeddings: ``given`` (the caller's, a sequence of one or two), else those the
    workspace cache holds (None for a side it does not). Never embeds."""
    if given is not None:
        return given[0], (given[1] if len(given) > 1 else None)
    from dq_core.space.embed_cache import cached_dataset_embeddings

    ds_emb = cached_dataset_embeddings(ds, workspace=workspace)
    ref_emb = cached_dataset_embeddings(ref, workspace=workspace) if ref is not None else None
    return ds_emb, ref_emb


def repair_embedder(ds_emb, workspace: Workspace, given=None) -> Callable[[list[str]], np.ndarray] | None:
    """Embeds the few texts a recipe's repairs propose with the dataset's own model, so a repaired row counts
    by its new text in the coverage figures; None for vectors the user gave (their model is not here)."""
    if given is not None or ds_emb is None:
        return None
    from dq_core.space.embed import embed_texts
    from dq_core.space.embed_model import cache_key

    try:  # the cache holds the default model's vectors (cached_dataset_embeddings): embed with that one only
        if getattr(ds_emb, "model_name", None) != cache_key(None):
            return None
    except (DataError, OSError):
        return None
    return lambda texts: embed_texts(texts, workspace=workspace).vectors


def known_label_inputs(ds: TextDataset, workspace: Workspace, *, label_key: str = "label", seed: int = 0,
                       given=None) -> LabelInputs:
    """Label-next's and the noise ratio's inputs on the dataset's :func:`known_embeddings`, from the signals'
    caches in ``workspace``."""
    emb, _ = known_embeddings(ds, None, workspace, given)
    return label_inputs(ds, emb, label_key=label_key, seed=seed, workspace=workspace)


def build_what_if_context(ds: TextDataset, ref: TextDataset | None, signals: pd.DataFrame | None, *,
                          workspace: Workspace, label_key: str = "label", seed: int = 0, given=None,
                          inputs: Callable[[], LabelInputs] | None = None) -> WhatIfContext:
    """:func:`~dq_core.filtering.whatif.prepare_what_if` on the workspace's embeddings (``given``: the
    caller's), the label signal's probabilities when the signals hold its flags, and the repair embedder.

    Without a reference the embeddings are left out (the coverage figures need both sides). ``inputs``: where
    the label inputs come from, when the caller keeps them (the page caches them for label-next too);
    default :func:`known_label_inputs`. Probabilities that cannot be had (a DataError) leave the noise ratio
    to the label signal's flags.
    """
    ds_emb, ref_emb = known_embeddings(ds, ref, workspace, given)
    if ref is None:
        ds_emb = ref_emb = None
    probs = None
    if signals is not None and noise_column(signals) is not None:
        get = inputs or (lambda: known_label_inputs(ds, workspace, label_key=label_key, seed=seed, given=given))
        try:
            probs = get().probs
        except DataError:
            probs = None
    return prepare_what_if(ds, ref, signals, ds_embeddings=ds_emb, ref_embeddings=ref_emb, workspace=workspace,
                           label_probs=probs, embed_repairs=repair_embedder(ds_emb, workspace, given))
