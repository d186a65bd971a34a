"""Prepared inputs: the signals aligned to the dataset's rows and everything else about (dataset, signals)
a recipe is applied against, computed once (:class:`FilterInputs`)."""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Sequence
from functools import cached_property

import numpy as np
import pandas as pd

from dq_core.data.dataset import CANONICAL, TextDataset
from dq_core.errors import DataError
from dq_core.filtering.conditions import eval_clause, parse_condition
from dq_core.filtering.rules import json_scalar_id
from dq_core.util.text import exact_duplicate_codes

LABEL_SIGNAL = "label"  # the label signal's name; a parameterised one has the column stem label_<params>


def is_label_signal(stem: str) -> bool:
    """Whether a wide frame's column stem is the label signal's (``label`` or ``label_<params>``)."""
    return stem == LABEL_SIGNAL or stem.startswith(f"{LABEL_SIGNAL}_")


def signal_names(frame: pd.DataFrame | None) -> list[str]:
    """Signals present in a wide frame: stems of ``<name>_score`` and ``is_<name>_issue`` columns."""
    if frame is None:
        return []
    names = []
    for c in frame.columns:
        c = str(c)
        m = re.fullmatch(r"is_(.+)_issue", c)
        if m:
            names.append(m.group(1))
        elif c.endswith("_score"):
            names.append(c[: -len("_score")])
    return list(dict.fromkeys(names))


def _id_keys(ids) -> pd.Index:
    """row_ids as strings: JSON, CSV and Parquet round trips agree on the string of an id."""
    arr = np.asarray(ids)
    if arr.dtype.kind in "iu":
        return pd.Index(arr.astype(str))
    return pd.Index([str(json_scalar_id(v)) if not isinstance(v, str) else v for v in arr.tolist()])


class FilterInputs:
    """Everything about (dataset, signals) a recipe is applied against, computed once.

    Holds the signals aligned to the dataset's rows, label codes, and lazily the text hashes (for
    dedupe) and each condition's mask (memoised by text), so re-applying recipes is cheap.
    """

    def __init__(self, ds: TextDataset, signals: pd.DataFrame | None = None):
        self.ds = ds
        self.n = len(ds)
        self.row_ids = ds.row_ids
        self.signals = align_signals(ds, signals)
        labels = ds.labels
        self.classes: list[str] = sorted(labels.dropna().unique().tolist())
        cat = pd.Categorical(labels.astype(object), categories=self.classes)
        self.label_codes = cat.codes.astype(np.int32)  # -1 = missing
        self.signal_names = signal_names(self.signals)
        self._cond_cache: dict[str, np.ndarray] = {}
        self._group_cache: dict[str, np.ndarray] = {}
        self._rank_cache: dict[tuple, np.ndarray] = {}
        self._arrays: dict[str, object] = {}

    @cached_property
    def id_index(self) -> pd.Index:
        return _id_keys(self.row_ids)

    def prepare(self) -> FilterInputs:
        """Compute now what recipes would otherwise compute on first use (row-id index, suggestions,
        duplicate groups, score arrays), so the first recipe is as fast as the next; returns self."""
        self.id_index.get_indexer(["\x00"])  # builds the index and its hash table once
        if self.signals is not None:
            for name in self.signal_names:
                if is_label_signal(name) and self.suggestion_column(name) is not None:
                    self.suggestions(name)
                self.score(name)
                self.flag(name)
                if f"{name}_group" in self.signals.columns:
                    self.group_codes(name)
        self.random_rank(0)
        return self

    def positions(self, ids: Sequence) -> tuple[np.ndarray, list]:
        """Positions of ``ids`` in the dataset and the ids that are not in it."""
        keys = [str(i) for i in ids]
        pos = self.id_index.get_indexer(keys)
        missing = [i for i, p in zip(ids, pos, strict=True) if p < 0]
        return pos[pos >= 0].astype(np.int64), missing

    # columns usable in conditions: the dataset's own, then the signals'
    def columns(self) -> list[str]:
        cols = [c for c in self.ds.frame.columns]
        if self.signals is not None:
            cols += [c for c in self.signals.columns if c not in cols]
        return cols

    def column(self, name: str) -> pd.Series:
        f = self.ds.frame
        if name in f.columns:
            return f[name]
        if self.signals is not None and name in self.signals.columns:
            return self.signals[name]
        meta = f"meta_{name}"
        if name in CANONICAL and meta in f.columns:
            return f[meta]
        raise DataError(unknown_message("column", name, self.columns()))

    def condition_mask(self, text: str) -> np.ndarray:
        hit = self._cond_cache.get(text)
        if hit is None:
            cond = parse_condition(text)
            mask = np.ones(self.n, dtype=bool)
            for cl in cond.clauses:
                mask &= eval_clause(self.column(cl.column).reset_index(drop=True), cl)
            hit = self._cond_cache[text] = mask
        return hit

    def score(self, signal: str) -> np.ndarray | None:
        col = f"{signal}_score"
        if self.signals is None or col not in self.signals.columns:
            return None
        hit = self._arrays.get(col)
        if hit is None:
            hit = self._arrays[col] = pd.to_numeric(self.signals[col], errors="coerce").to_numpy(dtype=np.float64)
        return hit

    def flag(self, signal: str) -> np.ndarray | None:
        col = f"is_{signal}_issue"
        if self.signals is None or col not in self.signals.columns:
            return None
        hit = self._arrays.get(col)
        if hit is None:
            hit = self._arrays[col] = self.signals[col].fillna(False).to_numpy(dtype=bool)
        return hit

    def suggestion_column(self, signal: str | None = None) -> str | None:
        """The suggested-label column for ``signal``: ``<signal>__suggested_label`` (a non-default label
        signal's), else the plain ``suggested_label``."""
        sig = self.signals
        if sig is None:
            return None
        for col in ([f"{signal}__suggested_label"] if signal else []) + ["suggested_label"]:
            if col in sig.columns:
                return col
        return None

    def suggestions(self, signal: str | None = None) -> tuple[np.ndarray, list[str], np.ndarray]:
        """(codes into the suggested labels, those labels sorted, probabilities) from the signals frame."""
        col = self.suggestion_column(signal)
        if col is None:
            raise DataError("a relabel rule needs the 'suggested_label' column the label signal produces; "
                            "compute the label signal, or use the drop action")
        hit = self._arrays.get(f"__suggestions:{col}")
        if hit is not None:
            return hit
        sig = self.signals
        lab = sig[col].astype("string")
        lab = lab.where(lab.str.strip().ne(""))
        cat = pd.Categorical(lab, categories=sorted(lab.dropna().unique().tolist()))
        pcol = col + "_prob"
        if pcol in sig.columns:
            prob = pd.to_numeric(sig[pcol], errors="coerce").fillna(0.0).to_numpy(dtype=np.float64)
        else:
            prob = np.ones(self.n, dtype=np.float64)
        hit = self._arrays[f"__suggestions:{col}"] = (cat.codes.astype(np.int64), list(cat.categories), prob)
        return hit

    def group_codes(self, signal: str) -> np.ndarray:
        """Duplicate groups for ``signal``: its ``<signal>_group`` column when the frame has one
        (-1 / missing = no group), else the exact-duplicate groups of the texts (as the profile counts them)."""
        hit = self._group_cache.get(signal)
        if hit is not None:
            return hit
        col = f"{signal}_group"
        if self.signals is not None and col in self.signals.columns:
            g = self.signals[col]
            codes, _ = pd.factorize(g.where(g.astype("string") != "-1"), use_na_sentinel=True)
            out = codes.astype(np.int64)
        else:
            out = exact_duplicate_codes(self.ds.texts)  # the exact_duplicate signal's rule, empties apart
        self._group_cache[signal] = out
        return out

    def random_rank(self, seed: int) -> np.ndarray:
        """A seeded pseudo-random key per row from its row_id alone (so it does not depend on row order)."""
        key = ("random", int(seed))
        hit = self._rank_cache.get(key)
        if hit is None:
            hk = hashlib.blake2b(str(seed).encode(), digest_size=8).hexdigest()
            ids = np.asarray(self.row_ids)
            if ids.dtype.kind in "iu":  # integer ids hash as numbers: 1M rows in milliseconds
                hit = pd.util.hash_array(ids.astype(np.int64) ^ np.int64(int(hk, 16) & 0x7FFFFFFFFFFFFFFF))
            else:
                hit = pd.util.hash_array(self.id_index.to_numpy(dtype=object), hash_key=hk)
            self._rank_cache[key] = hit
        return hit


def unknown_message(what: str, name: str, available: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(available), n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    shown = ", ".join(f"'{a}'" for a in list(available)[:20]) + (" ..." if len(available) > 20 else "")
    return f"the recipe names {what} '{name}', which does not exist{hint} (available: {shown or 'none'})"


def align_signals(ds: TextDataset, signals: pd.DataFrame | None) -> pd.DataFrame | None:
    """The signals rows in the dataset's row order (matched by row_id); extra signal rows are ignored."""
    if signals is None:
        return None
    if not isinstance(signals, pd.DataFrame):
        raise DataError("signals must be a table (a wide frame with row_id and <signal>_score columns)")
    if "row_id" not in signals.columns:
        raise DataError("the signals table has no row_id column; compute the signals again")
    ids = ds.row_ids
    sig_ids = signals["row_id"].to_numpy()
    if len(sig_ids) == len(ids) and sig_ids.dtype == ids.dtype and np.array_equal(sig_ids, ids):
        return signals.reset_index(drop=True)
    keys = _id_keys(sig_ids)
    if not keys.is_unique:
        raise DataError("the signals table repeats row_ids; compute the signals again")
    pos = keys.get_indexer(_id_keys(ids))
    if (pos < 0).any():
        n_miss = int((pos < 0).sum())
        raise DataError(f"the signals do not cover {n_miss:,} of the dataset's {len(ids):,} rows (computed on "
                        "other data?); compute the signals for this dataset again")
    return signals.iloc[pos].reset_index(drop=True)
