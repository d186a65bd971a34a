"""The signals frame a recipe needs, for the CLI and the page: from the workspace cache or computed into it."""

from __future__ import annotations

import pandas as pd

from dq_core.data.dataset import TextDataset
from dq_core.filtering.recipe import check_settings
from dq_core.util.progress import Progress


def signal_specs(settings: dict | None) -> tuple[list | None, int]:
    """(the signals, the seed) a recipe's ``signal_settings`` name; None signals = the default set."""
    from dq_core.signals import parse_signal_spec

    settings = check_settings(settings) or {"signals": None, "seed": 0}
    signals = [parse_signal_spec(k) for k in settings["signals"]] if settings["signals"] else None
    return signals, settings["seed"]


def cached_signals(ds: TextDataset, ref: TextDataset | None = None, *, workspace,
                   settings: dict | None = None) -> pd.DataFrame | None:
    """The signals frame a recipe needs if the workspace cache holds it (with ``ref``, else without a
    reference), never computed: for figures that must stay instant, such as the Train page's row count."""
    from dq_core.signals import load_cached_report

    signals, seed = signal_specs(settings)
    for reference in (ref, None) if ref is not None else (None,):
        report = load_cached_report(ds, signals, workspace=workspace, reference=reference, seed=seed)
        if report is not None:
            return report.frame
    return None


def load_or_compute_signals(ds: TextDataset, ref: TextDataset | None = None, *, workspace=None,
                            settings: dict | None = None, progress: Progress | None = None, embeddings=None,
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
    from dq_core.signals import compute_signals

    ws = workspace or Workspace.default()
    signals, seed = signal_specs(settings)
    return compute_signals(ds, signals, reference=ref, workspace=ws, seed=seed,
                           progress=progress, embeddings=embeddings, reference_embeddings=reference_embeddings,
                           pred_probs=pred_probs).frame
