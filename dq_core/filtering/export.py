"""Outputs of a recipe result: the cleaned table, the removal log and summary, download bytes and files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dq_core.data.dataset import CANONICAL, TextDataset
from dq_core.errors import DataError
from dq_core.filtering.inputs import align_signals
from dq_core.filtering.result import RecipeResult
from dq_core.filtering.rule_counts import count_rules


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
    if result.text_repairs:  # a repair rule's texts (the junk signal's mojibake repairs)
        f["text"] = pd.Series(result.final_texts(ds)[result.keep_mask], index=f.index, dtype=f["text"].dtype)
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
    # Each rename is taken only when its name is still free, in the order above (the user's text and label
    # names first): a reloaded dq export holds both ``row_id`` and ``meta_row_id``, and one clash must not
    # cost the user every other column name.
    taken = {c for c in f.columns if c not in rename}
    final = {}
    for src, dst in rename.items():
        if src in f.columns and dst not in taken:
            final[src] = dst
            taken.add(dst)
    return f.rename(columns=final)


def removal_log(ds: TextDataset, result: RecipeResult, signals: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per dropped, relabelled or repaired row: row_id, action, reasons, labels, text (and the
    repaired text), signal scores."""
    pos = result.touched_positions()
    labels = result.final_labels()
    frame = ds.frame
    fixed = result.repaired_mask[pos]
    relabelled = result.relabelled_mask[pos]
    kept_action = np.where(fixed, np.where(relabelled, "relabel+repair", "repair"), "relabel")
    log = pd.DataFrame({
        "row_id": ds.row_ids[pos],
        "action": np.where(result.keep_mask[pos], kept_action, "drop"),
        "reasons": result.reasons_at(pos),
        "label": frame["label"].to_numpy(dtype=object)[pos],
        "new_label": np.where(relabelled, labels[pos], None),
        "text": frame["text"].to_numpy(dtype=object)[pos],
        "new_text": np.where(fixed, result.final_texts(ds)[pos], None),
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
            "n_relabelled": result.n_relabelled, "n_repaired": result.n_repaired, "notes": list(result.notes),
            "rules": [c.to_dict() for c in count_rules(result)]}


# Format -> file name ending. "csv_spreadsheet" is the one export that changes data: cells a spreadsheet
# would run as formulas get an apostrophe ("@user" -> "'@user"); it is for opening in Excel, not for training.
EXPORT_FORMATS = {"csv": ".csv", "parquet": ".parquet", "jsonl": ".jsonl", "datasets": "",
                  "csv_spreadsheet": ".for-spreadsheets.csv"}
FORMAT_LABELS = {"csv": "CSV", "parquet": "Parquet", "jsonl": "JSONL", "datasets": "datasets folder (zip)",
                 "csv_spreadsheet": "CSV for spreadsheets (formulas neutralised)"}
SPREADSHEET_NOTE = ("The CSV for spreadsheets prefixes an apostrophe to cells starting with =, +, -, @ (except "
                    "plain numbers), so Excel or LibreOffice shows them instead of running them; the texts "
                    "then differ from the data: train on the plain CSV, Parquet, JSONL or datasets folder.")


def check_format(fmt: str) -> None:
    if fmt not in EXPORT_FORMATS:
        raise DataError(f"unknown export format '{fmt}'; use one of: {', '.join(EXPORT_FORMATS)}")


def label_column(ds: TextDataset, frame: pd.DataFrame) -> str | None:
    """The label's column in a :func:`cleaned_frame` (the user's name, or ``label``)."""
    for name in (ds.mapping.label, "label"):
        if name and name in frame.columns:
            return name
    return None


def export_bytes(frame: pd.DataFrame, fmt: str, *, label_col: str | None = None,
                 extra_files: dict[str, str] | None = None) -> bytes:
    """Bytes for a download that read back as the same rows and texts; a ``datasets`` folder comes as a zip
    of the folder (``label_col`` stored as a ``ClassLabel``, ``extra_files`` such as its card beside the data)."""
    from dq_core.data.io import frame_to_bytes

    check_format(fmt)
    if len(frame) == 0:
        raise DataError("nothing to export: the table has no rows")
    if fmt == "csv_spreadsheet":
        return frame_to_bytes(frame, "csv", spreadsheet_safe=True)
    if fmt != "datasets":
        return frame_to_bytes(frame, fmt)
    import io
    import tempfile
    import zipfile

    from dq_core.data.io import write_frame

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "cleaned"
        write_frame(frame, folder, label_col=label_col, folder=True, extra_files=extra_files)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for p in sorted(folder.rglob("*")):
                if p.is_file():
                    z.write(p, p.relative_to(folder.parent))
        return buf.getvalue()


def write_export(frame: pd.DataFrame, path: str | Path, *, label_col: str | None = None,
                 spreadsheet_safe: bool = False, folder: bool = False,
                 extra_files: dict[str, str] | None = None) -> Path:
    """Write a cleaned table / log atomically by extension (a path without extension, or ``folder``, is a
    datasets folder, ``label_col`` stored as a ``ClassLabel``, with ``extra_files`` such as its card beside
    the data); ``spreadsheet_safe`` neutralises formulas in a CSV."""
    from dq_core.data.io import write_frame

    if len(frame) == 0:
        raise DataError(f"nothing to write to '{Path(path).name}': the table has no rows")
    write_frame(frame, path, label_col=label_col, spreadsheet_safe=spreadsheet_safe, folder=folder,
                extra_files=extra_files)
    return Path(path)
