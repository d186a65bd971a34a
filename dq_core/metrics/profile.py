"""Dataset profile: balance + text lengths + empties + exact/conflicting duplicates + split sizes.

The numbers behind `dq profile` and the Overview page (one function, so they always agree).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dq_core.data.dataset import TextDataset
from dq_core.metrics.balance import BalanceResult, compute_class_balance
from dq_core.util.text import char_counts, empty_texts, exact_duplicate_codes, word_counts


@dataclass(frozen=True)
class LengthStats:
    min: float
    median: float
    mean: float
    p95: float
    max: float

    @classmethod
    def of(cls, values: np.ndarray) -> LengthStats:
        if len(values) == 0:
            return cls(*(float("nan"),) * 5)
        v = np.asarray(values, dtype=float)
        return cls(float(v.min()), float(np.median(v)), float(v.mean()), float(np.percentile(v, 95)),
                   float(v.max()))

    def to_dict(self) -> dict:
        return {"min": self.min, "median": self.median, "mean": self.mean, "p95": self.p95, "max": self.max}


@dataclass(frozen=True)
class DuplicateGroups:
    """Exact duplicates after whitespace/case normalisation, as row positions grouped by text."""

    group_of_row: np.ndarray  # group id per row, -1 when the row's text is unique
    n_exact_duplicates: int  # rows that repeat an earlier row's text (rows you could drop)
    n_rows_in_groups: int
    n_conflicting_duplicates: int  # rows in a duplicate group whose labels disagree
    conflicting_group: np.ndarray  # bool per row


def find_exact_duplicates(texts: pd.Series, labels: pd.Series) -> DuplicateGroups:
    group = exact_duplicate_codes(texts)  # group ids in order of first appearance; -1 unique or empty
    in_group = group >= 0
    n_groups = len(np.unique(group[in_group]))
    n_in = int(in_group.sum())
    # Only two different actual labels conflict: a missing label is not one more label, so a labelled
    # row and its unlabelled copy agree.
    lab = labels.astype("string").to_numpy(dtype=object, na_value=None)
    frame = pd.DataFrame({"g": group[in_group], "l": lab[in_group]})
    n_labels = frame.groupby("g")["l"].nunique(dropna=True)
    conflicting_groups = set(n_labels[n_labels > 1].index)
    conflicting = np.zeros(len(group), dtype=bool)
    if conflicting_groups:
        conflicting = np.isin(group, list(conflicting_groups)) & in_group
    return DuplicateGroups(group_of_row=group, n_exact_duplicates=n_in - n_groups, n_rows_in_groups=n_in,
                           n_conflicting_duplicates=int(conflicting.sum()), conflicting_group=conflicting)


@dataclass(frozen=True)
class ProfileResult:
    balance: BalanceResult
    chars: LengthStats
    words: LengthStats
    n_empty: int
    n_exact_duplicates: int
    n_conflicting_duplicates: int
    split_sizes: dict[str, int]
    n_rows_in_duplicate_groups: int = 0  # rows whose text another row repeats (the exact-duplicate signal's flags)
    n_duplicate_groups: int = 0  # groups of identical texts (each keeps one row when deduplicated)

    def to_dict(self) -> dict:
        b = self.balance
        return {
            "n_rows": b.n_rows, "n_classes": b.n_classes, "class_counts": dict(b.class_counts),
            "class_balance_index": b.class_balance_index, "imbalance_ratio": b.imbalance_ratio,
            "normalized_entropy": b.normalized_entropy, "n_empty": self.n_empty,
            "n_missing_labels": b.n_missing_labels, "rare_classes": list(b.rare_classes),
            "n_exact_duplicates": self.n_exact_duplicates,
            "n_conflicting_duplicates": self.n_conflicting_duplicates,
            "n_rows_in_duplicate_groups": self.n_rows_in_duplicate_groups,
            "n_duplicate_groups": self.n_duplicate_groups,
            "text_length": {"chars": self.chars.to_dict(), "words": self.words.to_dict()},
            "split_sizes": dict(self.split_sizes),
        }


def compute_profile(ds: TextDataset) -> ProfileResult:
    texts = ds.texts
    dups = find_exact_duplicates(texts, ds.labels)
    splits = {}
    if ds.has_split:
        vc = ds.frame["split"].fillna("(none)").value_counts()
        splits = {str(k): int(v) for k, v in vc.items()}
    return ProfileResult(
        balance=compute_class_balance(ds.labels), chars=LengthStats.of(char_counts(texts)),
        words=LengthStats.of(word_counts(texts)), n_empty=int(empty_texts(texts).sum()),
        n_exact_duplicates=dups.n_exact_duplicates, n_conflicting_duplicates=dups.n_conflicting_duplicates,
        split_sizes=splits, n_rows_in_duplicate_groups=dups.n_rows_in_groups,
        n_duplicate_groups=count_groups(dups.group_of_row))


def count_groups(group_of_row: np.ndarray) -> int:
    """Duplicate groups in a group id per row (-1 = in no group)."""
    g = np.asarray(group_of_row)
    return int(len(np.unique(g[g >= 0])))


def count_redundant_copies(group_of_row: np.ndarray) -> int:
    """Rows beyond the first of each duplicate group (-1 = in no group): the rows keeping one copy of each
    group drops. The Overview's "redundant exact copies", `dq profile`'s ``n_exact_duplicates``, the
    duplicate signals' ``n_redundant`` and a dedupe rule's "copies in all" are this count."""
    g = np.asarray(group_of_row)
    return int((g >= 0).sum()) - count_groups(g)


PROFILE_ROW_KINDS = ("empty", "missing_label", "exact_duplicate", "conflicting_duplicate")


def profile_rows(ds: TextDataset, kind: str) -> pd.DataFrame:
    """The rows behind one profile count, duplicates sorted so each group sits together."""
    f = ds.frame
    if kind == "empty":
        return f.loc[empty_texts(f["text"])]
    if kind == "missing_label":
        return f.loc[f["label"].isna().to_numpy()]
    if kind in ("exact_duplicate", "conflicting_duplicate"):
        d = find_exact_duplicates(f["text"], f["label"])
        mask = d.group_of_row >= 0 if kind == "exact_duplicate" else d.conflicting_group
        out = f.loc[mask].assign(duplicate_group=d.group_of_row[mask])
        return out.sort_values(["duplicate_group", "row_id"], kind="stable")
    raise ValueError(f"unknown kind {kind!r}; one of {PROFILE_ROW_KINDS}")


def length_frame(ds: TextDataset, unit: str = "words") -> pd.DataFrame:
    lengths = word_counts(ds.texts) if unit == "words" else char_counts(ds.texts)
    return pd.DataFrame({"label": ds.labels.fillna("(missing)").to_numpy(), "length": lengths})
