"""A reference taken from the dataset itself: the rows matching some values of a column, or another split.

The Load page's Reference tab and the command line (``--reference-where``, ``--dataset-split`` with
``--reference-split``) both call these functions, so either way the two sides hold the same rows, carry
the same names and have the same fingerprints.

Values are compared as text, the way the page lists them: ``1.0`` in a column of floats, ``01`` in a
column of strings (never ``1``). A row with no value is shown and chosen as :data:`MISSING`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dq_core.data.dataset import TextDataset
from dq_core.errors import DataError
from dq_core.util.wording import counted

MISSING = "(missing)"
# Every row has its own id and text: neither can make up a reference.
NOT_CHOOSABLE = ("row_id", "text")
NAMED_VALUES = 3  # values spelt out in a side's name; the rest are counted
LISTED_VALUES = 8  # values listed in an error message

Take = Callable[..., TextDataset]  # take(ds, mask, name=...): the rows where mask is true, so named


@dataclass(frozen=True)
class ReferenceSplit:
    """The dataset and the reference cut from ``source``, and which of its rows went to each."""

    source: TextDataset
    dataset: TextDataset
    reference: TextDataset
    dataset_mask: np.ndarray
    reference_mask: np.ndarray


def value_texts(values: pd.Series) -> pd.Series:
    """Each row's value as a user sees and types it: its text, or MISSING where there is none."""
    return values.astype("string").fillna(MISSING)


def reference_columns(ds: TextDataset) -> list[str]:
    """The columns whose values can pick the reference: the label, the split and the metadata."""
    return [str(c) for c in ds.frame.columns if c not in NOT_CHOOSABLE]


def resolve_column(ds: TextDataset, column: str) -> str:
    """The dataset's column for ``column``: its own name, or the source file's name of the label or split
    column (``sentiment`` for a dataset whose label came from it)."""
    columns = reference_columns(ds)
    if column in columns:
        return column
    m = ds.mapping
    by_source = {m.label: "label", m.split: "split"}
    if column and by_source.get(column) in columns:
        return by_source[column]
    shown = ", ".join(f"'{c}'" for c in columns[:12]) + (" ..." if len(columns) > 12 else "")
    if column in ("text", m.text):
        raise DataError(f"'{column}' is the text column; pick a column of categories ({shown})")
    if column in ("row_id", m.id):
        raise DataError(f"'{column}' is the id column, one value per row; pick a column of categories ({shown})")
    close = difflib.get_close_matches(column, columns, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise DataError(f"column '{column}' is not in the dataset{hint} (columns: {shown})")


def column_values(ds: TextDataset, column: str) -> pd.Series:
    """Rows per value of ``column`` (as text, MISSING for none), most frequent first."""
    return value_texts(ds.frame[resolve_column(ds, column)]).value_counts()


def split_names(ds: TextDataset) -> list[str]:
    """The dataset's splits in order of first appearance (none without a split column)."""
    return ds.frame["split"].dropna().unique().tolist() if ds.has_split else []


def split_by_values(ds: TextDataset, column: str, values: Iterable[str], *,
                    take: Take | None = None) -> ReferenceSplit:
    """The rows whose ``column`` value is one of ``values`` become the reference, the rest the dataset.

    Raises DataError for an unknown column, no values, a value no row has, and a choice that takes
    every row.
    """
    col = resolve_column(ds, column)
    wanted = list(dict.fromkeys(str(v) for v in values))
    if not wanted:
        raise DataError(f"name at least one value of '{col}' for the reference")
    texts = value_texts(ds.frame[col])
    counts = texts.value_counts()
    unmatched = [v for v in wanted if v not in counts.index]
    if unmatched:
        raise DataError(f"no row has {col} = {_quoted(unmatched)}; its values: {_listing(counts)}")
    mask = texts.isin(wanted).to_numpy(dtype=bool)
    label = _values_label(wanted)
    if mask.all():
        raise DataError(f"every row has {col} = {_quoted(wanted)}: that choice leaves one side empty (the "
                        "dataset); pick fewer values")
    return _cut(ds, ~mask, mask, f"{ds.name} (not {col}={label})", f"{ds.name} ({col}={label})", take)


def split_by_split(ds: TextDataset, dataset_split: str, reference_split: str, *,
                   take: Take | None = None) -> ReferenceSplit:
    """The rows of ``dataset_split`` become the dataset and those of ``reference_split`` the reference;
    rows of any other split (or none) are left out of both.

    Raises DataError without a split column, for two equal splits and for a split no row is in.
    """
    if not ds.has_split:
        raise DataError("the dataset has no split column; map one (the Split column of the column mapping, "
                        "--split-col NAME on the command line)")
    a, b = str(dataset_split), str(reference_split)
    if a == b:
        raise DataError(f"pick two different splits (both are '{a}')")
    splits = ds.frame["split"]
    counts = splits.dropna().value_counts()
    unknown = [s for s in (a, b) if s not in counts.index]
    if unknown:
        listed = counts.reindex(split_names(ds))
        raise DataError(f"no row is in split {_quoted(unknown)}; the splits: {_listing(listed)}")
    ds_mask = (splits == a).fillna(False).to_numpy(dtype=bool)
    ref_mask = (splits == b).fillna(False).to_numpy(dtype=bool)
    return _cut(ds, ds_mask, ref_mask, f"{ds.name} [{a}]", f"{ds.name} [{b}]", take)


def _cut(ds: TextDataset, ds_mask: np.ndarray, ref_mask: np.ndarray, ds_name: str, ref_name: str,
         take: Take | None) -> ReferenceSplit:
    take = take or (lambda d, m, *, name: d.subset(m, name=name))
    return ReferenceSplit(source=ds, dataset=take(ds, ds_mask, name=ds_name),
                          reference=take(ds, ref_mask, name=ref_name), dataset_mask=ds_mask,
                          reference_mask=ref_mask)


def _values_label(values: list[str]) -> str:
    """The values as a side's name shows them: sorted, so the order they were picked in does not matter."""
    ordered = sorted(values)
    more = len(ordered) - NAMED_VALUES
    return ", ".join(ordered[:NAMED_VALUES]) + (f" +{more} more" if more > 0 else "")


def _quoted(values: list[str]) -> str:
    return " / ".join(f"'{v}'" for v in values)


def _listing(counts: pd.Series) -> str:
    shown = ", ".join(f"'{v}' ({counted(n, 'row')})" for v, n in counts.head(LISTED_VALUES).items())
    return shown + (f" and {len(counts) - LISTED_VALUES:,} more" if len(counts) > LISTED_VALUES else "")
