"""What a recipe did to a dataset: :class:`RecipeResult` (keep mask, final labels, repaired texts, and per rule
the rows it selected, dropped, relabelled or repaired), with the reasons per row and the filtered dataset.
:mod:`.apply` builds it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd

from dq_core.data.dataset import TextDataset
from dq_core.errors import DataError
from dq_core.filtering.recipe import FilterRecipe
from dq_core.util.jsonsafe import to_native


@dataclass(frozen=True, eq=False)
class RecipeResult:
    """What a recipe does to a dataset. Everything is per row position of the dataset it was applied to."""

    keep_mask: np.ndarray  # bool (n,)
    label_codes: np.ndarray  # int32 (n,) final label per row (-1 missing), codes into ``classes``
    classes: tuple[str, ...]  # the dataset's classes, then any new class a relabel introduced
    original_codes: np.ndarray  # int32 (n,)
    row_ids: np.ndarray
    rule_names: tuple[str, ...]  # one per rule that can drop or relabel, in recipe order
    drop_hits: tuple[np.ndarray, ...]  # per rule: rows it asked to drop (bool (n,))
    relabel_hits: tuple[np.ndarray, ...]  # per rule: rows it relabelled
    manual_drop: np.ndarray
    manual_keep: np.ndarray  # kept by a decision (keep or relabel) whatever the rules said
    recipe: FilterRecipe
    notes: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()  # why this result must not be exported (no rows left, a class gone)
    dataset_fingerprint: str = ""
    repair_hits: tuple[np.ndarray, ...] = ()  # per rule (as rule_names): rows whose text it repaired
    # {position: (text before, text after)} for every row a repair rule repaired (kept or dropped later)
    text_repairs: dict[int, tuple[str, str]] = field(default_factory=dict)
    # per rule (as rule_names): its step (RULE_STEPS), the signal it reads (None for other rules) and the rows
    # its own test selects (a dedupe rule: the rows of the duplicate groups it touches)
    rule_kinds: tuple[str, ...] = ()
    rule_signals: tuple[str | None, ...] = ()
    select_hits: tuple[np.ndarray, ...] = ()
    # per dedupe rule index: the redundant copies in its groups before any rule, as it grouped the texts
    # (repaired ones included) and as the texts were loaded (what the Overview counts)
    dedupe_copies: dict[int, tuple[int, int]] = field(default_factory=dict)

    # ------------------------------------------------------------ counts
    @property
    def n_rows(self) -> int:
        return int(len(self.keep_mask))

    @property
    def n_kept(self) -> int:
        return int(self.keep_mask.sum())

    @property
    def n_dropped(self) -> int:
        return self.n_rows - self.n_kept

    @cached_property
    def relabelled_mask(self) -> np.ndarray:
        return self.keep_mask & (self.label_codes != self.original_codes)

    @property
    def n_relabelled(self) -> int:
        return int(self.relabelled_mask.sum())

    @cached_property
    def relabels(self) -> dict:
        """{row_id: new label} for kept rows whose label changed."""
        pos = np.flatnonzero(self.relabelled_mask)
        return {to_native(self.row_ids[p]): self.classes[self.label_codes[p]] for p in pos}

    @cached_property
    def repaired_mask(self) -> np.ndarray:
        """Kept rows whose text a repair rule replaced (a dropped row's repair goes nowhere)."""
        m = np.zeros(self.n_rows, dtype=bool)
        if self.text_repairs:
            m[np.fromiter(self.text_repairs, dtype=np.int64)] = True
        return m & self.keep_mask

    @property
    def n_repaired(self) -> int:
        return int(self.repaired_mask.sum())

    @cached_property
    def repairs(self) -> dict:
        """{row_id: (text before, text after)} for kept rows whose text was repaired."""
        return {to_native(self.row_ids[p]): self.text_repairs[int(p)] for p in np.flatnonzero(self.repaired_mask)}

    def final_texts(self, ds: TextDataset) -> np.ndarray:
        """Object array of every row's text after the recipe's repairs (``ds``: the dataset it was applied to)."""
        if len(ds) != self.n_rows:
            raise DataError("the recipe result is for another dataset (different number of rows)")
        texts = ds.texts.to_numpy(dtype=object, copy=True)
        for p in np.flatnonzero(self.repaired_mask):
            texts[p] = self.text_repairs[int(p)][1]
        return texts

    def filtered_dataset(self, ds: TextDataset, *, name: str | None = None) -> TextDataset:
        """``ds`` as the recipe leaves it: the kept rows, with final labels and repaired texts (what
        `dq filter` writes and a run trains on)."""
        texts = self.final_texts(ds)
        frame = ds.frame.copy()
        if self.text_repairs:
            frame["text"] = pd.Series(texts, index=frame.index).astype(ds.frame["text"].dtype)
        frame["label"] = pd.Series(self.final_labels(), index=frame.index).astype("string")
        out = replace(ds, frame=frame)
        return out.subset(self.keep_mask, name=name or f"{ds.name} (filtered)")

    @property
    def kept_row_ids(self) -> np.ndarray:
        return self.row_ids[self.keep_mask]

    def final_labels(self) -> np.ndarray:
        """Object array of final labels per row (None where missing), for every row (kept or not)."""
        cls = np.array([*self.classes, None], dtype=object)
        return cls[np.where(self.label_codes >= 0, self.label_codes, len(self.classes))]

    # ------------------------------------------------------------ reasons
    def reasons_at(self, positions: Sequence[int]) -> list[str]:
        """Why each row at ``positions`` was dropped, relabelled or repaired ('' for untouched rows)."""
        out = []
        for p in positions:
            parts = []
            if self.manual_drop[p]:
                parts.append("manual decision: drop")
            if self.manual_keep[p] and self.relabelled_mask[p] and \
                    not any(r[p] for r in self.relabel_hits):
                parts.append("manual decision: relabel")
            if not self.keep_mask[p] and not self.manual_drop[p]:
                parts += [n for n, d in zip(self.rule_names, self.drop_hits, strict=True) if d[p]]
            if self.relabelled_mask[p]:
                parts += [f"relabel: {n}" for n, r in zip(self.rule_names, self.relabel_hits, strict=True) if r[p]]
            if self.repaired_mask[p]:
                parts.append("repaired: mojibake")
            out.append("; ".join(parts))
        return out

    @cached_property
    def reasons(self) -> dict:
        """{row_id: why} for every dropped, relabelled or repaired row (built on first use)."""
        pos = self.touched_positions()
        return {to_native(self.row_ids[p]): r for p, r in zip(pos, self.reasons_at(pos), strict=True)}

    def touched_positions(self) -> np.ndarray:
        return np.flatnonzero(~self.keep_mask | self.relabelled_mask | self.repaired_mask)

    def check(self) -> RecipeResult:
        """Raise DataError when the result must not be used (no rows left, a class removed); else self."""
        if self.problems:
            raise DataError(" ".join(self.problems))
        return self
