"""The signals frame a recipe needs, for the CLI and the page: from the workspace cache or computed into it."""

from __future__ import annotations

import pandas as pd

from dq_core.data.dataset import TextDataset
from dq_core.errors import DataError
from dq_core.filtering.recipe import _check_settings


def load_or_compute_signals(ds: TextDataset, ref: TextDataset | None = None, *, workspace=None,
                            settings: dict | None = None, progress=None, embeddings=None,
                            reference_embeddings=None, pred_probs=None) -> pd.DataFrame:
    """The wide signals frame of ``ds``, from the workspace cache or computed into it.

    ``settings`` is a recipe's ``signal_settings`` ({"signals": [keys], "seed": n}; None = the default
    signals, seed 0): the Clean page records the signals it showed there, so `dq filter`, training
    (through :func:`apply_recipe`) and the page compute, or find in the cache, the very same frame and
    the same recipe selects the same rows everywhere. dq_core.signals (issue 5) owns the computation and
    its cache (keyed by dataset, signal keys, embedding model, reference and seed). ``embeddings`` /
    ``reference_embeddings`` (arrays) and ``pred_probs`` are the user's own, as `dq signals` takes them.
    """
    try:
        from dq_core.signals import compute_signals, parse_signal_spec
    except ImportError:  # pragma: no cover - another issue's package
        raise DataError("this recipe needs per-row signals, but the signals module is not available in this "
                        "build; pass a signals file (dq signals DATA --out FILE, then --signals FILE)") from None
    from dq_core.data.workspace import Workspace

    ws = workspace or Workspace.default()
    settings = _check_settings(settings) or {"signals": None, "seed": 0}
    signals = [parse_signal_spec(k) for k in settings["signals"]] if settings["signals"] else None
    return compute_signals(ds, signals, reference=ref, workspace=ws, seed=settings["seed"],
                           progress=progress, embeddings=embeddings, reference_embeddings=reference_embeddings,
                           pred_probs=pred_probs).frame
