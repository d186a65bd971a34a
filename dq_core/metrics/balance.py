"""Class balance figures: counts, shares, balance index, imbalance ratio, normalised entropy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

RARE_SHARE_OF_UNIFORM = 0.10  # a class under 10% of the uniform share 1/C is flagged as rare


@dataclass(frozen=True)
class BalanceResult:
    n_rows: int
    n_labelled: int
    n_missing_labels: int
    class_counts: dict[str, int]  # sorted by count, descending
    class_shares: dict[str, float]
    n_classes: int
    class_balance_index: float  # 1 - sum_c (n_c/N - 1/C)^2; 1 when perfectly balanced
    imbalance_ratio: float  # largest / smallest class; 1 when balanced, nan with no classes
    normalized_entropy: float  # H(labels) / log(C); 1 when balanced, 0 with one class
    rare_classes: tuple[str, ...]

    def to_dict(self) -> dict:
        return {
            "n_rows": self.n_rows, "n_labelled": self.n_labelled, "n_missing_labels": self.n_missing_labels,
            "n_classes": self.n_classes, "class_counts": dict(self.class_counts),
            "class_shares": dict(self.class_shares), "class_balance_index": self.class_balance_index,
            "imbalance_ratio": self.imbalance_ratio, "normalized_entropy": self.normalized_entropy,
            "rare_classes": list(self.rare_classes),
        }

    @property
    def uniform_share(self) -> float:
        """Each class's share if every class held as many rows, 1/C (nan without classes)."""
        return 1 / self.n_classes if self.n_classes else float("nan")


def compute_class_balance(labels: pd.Series | np.ndarray | list) -> BalanceResult:
    s = pd.Series(labels, dtype="string")
    counts = s.dropna().value_counts()
    return compute_class_balance_from_counts({str(c): int(v) for c, v in counts.items()},
                                             n_missing=int(s.isna().sum()))


def compute_class_balance_from_counts(counts: Mapping[str, int], *, n_missing: int = 0) -> BalanceResult:
    """The balance figures from class counts (a class with a zero count is an absent class).

    The what-if panel recounts a filtered dataset's classes with one bincount and calls this, so the
    Clean page and the Overview share one formula.
    """
    # Largest first, ties broken by label name, so the result does not depend on row order.
    items = sorted(((str(c), int(v)) for c, v in counts.items() if v > 0), key=lambda kv: (-kv[1], kv[0]))
    n = sum(v for _, v in items)
    k = len(items)
    class_counts = dict(items)
    shares = {c: v / n for c, v in class_counts.items()} if n else {}
    p = np.array(list(shares.values()), dtype=float)
    if k == 0:
        cbi, ratio, ent = float("nan"), float("nan"), float("nan")
    else:
        cbi = float(1.0 - np.sum((p - 1.0 / k) ** 2))
        ratio = float(items[0][1] / items[-1][1])
        ent = float(-(p * np.log(p)).sum() / np.log(k)) if k > 1 else 0.0
    rare = tuple(c for c, sh in shares.items() if k > 1 and sh < RARE_SHARE_OF_UNIFORM / k)
    return BalanceResult(n_rows=n + int(n_missing), n_labelled=n, n_missing_labels=int(n_missing),
                         class_counts=class_counts, class_shares=shares, n_classes=k,
                         class_balance_index=cbi, imbalance_ratio=ratio, normalized_entropy=ent,
                         rare_classes=rare)
