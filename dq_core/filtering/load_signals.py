"""The signals frame a recipe needs, for the CLI and the page: from the workspace cache or computed into it."""

from __future__ import annotations

import pandas as pd

from dq_core.data.dataset import TextDataset
from dq_core.filtering.recipe import check_settings


def load_or_compute_signals(ds: TextDataset, ref: TextDataset | None = None, *, workspace=None,
                            settings: dict | None = None, progress=None, embeddings=None,
                            reference_embeddings=None, pred_probs=None) -> pd.DataFrame:
    """The wide signals frame of ``ds``, from the workspace cache or computed into it.

    ``settings`` is a recipe's ``signal_settings`` ({"signals": [keys], "seed": n}; None = the default
    signals, seed 0): the Clean page records the signals it showed there, so `dq filter`, training
    (through :func:`apply_recipe`) and the page compute, or find in the cache, the very same frame and
    the same recipe selects the same rows everywhere. dq_core.signals owns the computation and its cache
    (keyed by dataset, signal keys, embedding model, reference and seed). ``embeddings`` /
    ``reference_embeddings`` (arrays) and ``pred_probs`` are the user's own, as `dq signals` takes them.
    """
    from dq_core.data.workspace import Workspace
    from dq_core.signals import compute_signals, parse_signal_spec

    ws = workspace or Workspace.default()
    settings = check_settings(settings) or {"signals": None, "seed": 0}
    signals = [parse_signal_spec(k) for k in settings["signals"]] if settings["signals"] else None
    return compute_signals(ds, signals, reference=ref, workspace=ws, seed=settings["seed"],
                           progress=progress, embeddings=embeddings, reference_embeddings=reference_embeddings,
                           pred_probs=pred_probs).frame
