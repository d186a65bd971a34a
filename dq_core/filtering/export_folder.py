"""Everything an export writes into a folder: the cleaned data (a datasets folder with its dataset card),
the removal log and the recipe. Apart from :mod:`~dq_core.filtering.export` because the card reads that
module's figures."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from dq_core.data.dataset import TextDataset
from dq_core.data.io import atomic_write_bytes, frame_to_bytes
from dq_core.filtering.dataset_card import card_files
from dq_core.filtering.export import (
    EXPORT_FORMATS,
    check_format,
    cleaned_frame,
    label_column,
    removal_log,
    write_export,
)
from dq_core.filtering.recipe import save_recipe
from dq_core.filtering.result import RecipeResult


def export_all(ds: TextDataset, result: RecipeResult, signals: pd.DataFrame | None, folder: str | Path, *,
               fmt: str = "csv", stem: str | None = None) -> dict[str, Path]:
    """Cleaned data, removal log (CSV) and the recipe (JSON) into ``folder``; returns the paths written."""
    result.check()
    folder = Path(folder)
    stem = stem or re.sub(r"[^A-Za-z0-9_.-]+", "_", result.recipe.name) or "recipe"
    check_format(fmt)
    data_path = folder / f"{stem}.cleaned{EXPORT_FORMATS[fmt]}"
    frame = cleaned_frame(ds, result)
    card = card_files(ds, result, signals=signals, frame=frame) if fmt == "datasets" else None  # its README.md
    out = {"data": write_export(frame, data_path, label_col=label_column(ds, frame),
                                spreadsheet_safe=fmt == "csv_spreadsheet", folder=fmt == "datasets",
                                extra_files=card)}
    log = removal_log(ds, result, signals)
    log_path = folder / f"{stem}.removed.csv"
    atomic_write_bytes(log_path, frame_to_bytes(log, "csv"))  # an empty log is fine: nothing was removed
    out["log"] = log_path
    out["recipe"] = save_recipe(result.recipe, folder / f"{stem}.recipe.json")
    return out
