"""Outputs of a recipe result: the cleaned table, the removal log and summary, download bytes and files."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from dq_core.data.dataset import CANONICAL, TextDataset
from dq_core.errors import DataError
from dq_core.filtering.apply import RecipeResult
from dq_core.filtering.inputs import align_signals
from dq_core.filtering.recipe import save_recipe


def cleaned_frame(ds: TextDataset, result: RecipeResult, *, original_names: bool = True) -> pd.DataFrame:
    """The kept rows with their final labels; with ``original_names`` the columns get the user's names back.

    ``row_id`` is kept (renamed to the id column when one was mapped) so every row traces back to the
    source and to the removal log.
    """
    result.check()
    if len(result.keep_mask) != len(ds):
        raise DataError("the recipe result is for another dataset (different number of rows)")
    f = ds.frame.loc[result.keep_mask].copy()
    f["label"] = pd.array(result.final_labels()[result.keep_mask], dtype="string")
    f = f.reset_index(drop=True)
    if not original_names:
        return f
    m = ds.mapping
    rename = {"text": m.text, "label": m.label or "label"}
    if m.split and "split" in f.columns:
        rename["split"] = m.split
    if m.id:
        rename["row_id"] = m.id
    for c in list(f.columns):
        if c.startswith("meta_") and c[5:] in CANONICAL:
            rename[c] = c[5:]
    targets = list(rename.values())
    if len(set(targets)) == len(targets):
        keep_names = [c for c in f.columns if c not in rename]
        if not set(targets) & set(keep_names):
            f = f.rename(columns=rename)
    return f


def removal_log(ds: TextDataset, result: RecipeResult, signals: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per dropped or relabelled row: row_id, action, reasons, labels, text, signal scores."""
    pos = result.touched_positions()
    labels = result.final_labels()
    frame = ds.frame
    log = pd.DataFrame({
        "row_id": ds.row_ids[pos],
        "action": np.where(result.keep_mask[pos], "relabel", "drop"),
        "reasons": result.reasons_at(pos),
        "label": frame["label"].to_numpy(dtype=object)[pos],
        "new_label": np.where(result.relabelled_mask[pos], labels[pos], None),
        "text": frame["text"].to_numpy(dtype=object)[pos],
    })
    aligned = align_signals(ds, signals) if signals is not None else None
    if aligned is not None:
        cols = [c for c in aligned.columns if c.endswith("_score") or c in ("suggested_label", "suggested_label_prob")]
        for c in cols:
            log[c] = aligned[c].to_numpy()[pos]
    return log


def removal_summary(result: RecipeResult) -> dict:
    return {"recipe": result.recipe.name, "recipe_fingerprint": result.recipe.fingerprint,
            "n_rows": result.n_rows, "n_kept": result.n_kept, "n_dropped": result.n_dropped,
            "n_relabelled": result.n_relabelled, "notes": list(result.notes),
            "rules": result.rule_counts().to_dict(orient="records")}


EXPORT_FORMATS = {"csv": ".csv", "parquet": ".parquet", "jsonl": ".jsonl", "datasets": ""}


def export_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """Bytes for a download; a ``datasets`` folder comes as a zip of the folder."""
    from dq_core.data.io import frame_to_bytes

    if fmt not in EXPORT_FORMATS:
        raise DataError(f"unknown export format '{fmt}'; use one of: {', '.join(EXPORT_FORMATS)}")
    if len(frame) == 0:
        raise DataError("nothing to export: the table has no rows")
    if fmt != "datasets":
        return frame_to_bytes(frame, fmt)
    import io
    import tempfile
    import zipfile

    from dq_core.data.io import write_frame

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "cleaned"
        write_frame(frame, folder)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for p in sorted(folder.rglob("*")):
                if p.is_file():
                    z.write(p, p.relative_to(folder.parent))
        return buf.getvalue()


def write_export(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a cleaned table / log atomically by extension (a path without extension is a datasets folder)."""
    from dq_core.data.io import write_frame

    if len(frame) == 0:
        raise DataError(f"nothing to write to '{Path(path).name}': the table has no rows")
    write_frame(frame, path)
    return Path(path)


def export_all(ds: TextDataset, result: RecipeResult, signals: pd.DataFrame | None, folder: str | Path, *,
               fmt: str = "csv", stem: str | None = None) -> dict[str, Path]:
    """Cleaned data, removal log (CSV) and the recipe (JSON) into ``folder``; returns the paths written."""
    result.check()
    folder = Path(folder)
    stem = stem or re.sub(r"[^A-Za-z0-9_.-]+", "_", result.recipe.name) or "recipe"
    data_path = folder / f"{stem}.cleaned{EXPORT_FORMATS[fmt]}" if fmt != "datasets" else folder / f"{stem}.cleaned"
    out = {"data": write_export(cleaned_frame(ds, result), data_path)}
    log = removal_log(ds, result, signals)
    log_path = folder / f"{stem}.removed.csv"
    from dq_core.data.io import atomic_write_bytes, frame_to_bytes

    atomic_write_bytes(log_path, frame_to_bytes(log, "csv"))  # an empty log is fine: nothing was removed
    out["log"] = log_path
    out["recipe"] = save_recipe(result.recipe, folder / f"{stem}.recipe.json")
    return out
