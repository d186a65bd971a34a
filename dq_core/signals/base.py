"""The signal contract: a frozen dataclass of parameters, called on a shared context, returning one shape.

A signal's ``key`` is its name plus its non-default parameters (Lilac's rule), so two parameterisations
never collide in a cache or a column. Signals never mutate the context's data; the context computes the
expensive shared inputs (embeddings, the kNN graph, out-of-sample probabilities) once, lazily.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

REGISTRY: dict[str, type[Signal]] = {}


@dataclass(frozen=True)
class SignalResult:
    """What every signal returns. ``scores`` in [0, 1], low = suspicious; ``is_issue`` the flag."""

    scores: np.ndarray
    is_issue: np.ndarray
    summary: dict
    info: dict = field(default_factory=dict)
    reasons: np.ndarray | None = None  # object array of short strings, "" where nothing to say
    columns: dict[str, np.ndarray] = field(default_factory=dict)  # extra per-row columns (suggested_label…)

    def __post_init__(self):
        s = np.asarray(self.scores, dtype=np.float64)
        s = np.clip(np.nan_to_num(s, nan=1.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
        object.__setattr__(self, "scores", s)
        object.__setattr__(self, "is_issue", np.asarray(self.is_issue, dtype=bool))
        if len(self.is_issue) != len(s):
            raise ValueError(f"{len(s)} scores but {len(self.is_issue)} flags")

    @property
    def n_issues(self) -> int:
        return int(self.is_issue.sum())


class Signal:
    """Base of every signal: subclasses are ``@dataclass(frozen=True)`` with parameters as fields."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    requires: ClassVar[frozenset[str]] = frozenset()

    def params(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    def non_default_params(self) -> dict:
        out = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            default = f.default if f.default is not dataclasses.MISSING else (
                f.default_factory() if f.default_factory is not dataclasses.MISSING else dataclasses.MISSING)
            v = getattr(self, f.name)
            if v != default:
                out[f.name] = v
        return out

    @property
    def key(self) -> str:
        extra = self.non_default_params()
        if not extra:
            return self.name
        return self.name + "(" + ",".join(f"{k}={v}" for k, v in sorted(extra.items())) + ")"

    @property
    def column(self) -> str:
        """Column stem in the wide frame: the key made identifier-safe (``label`` stays ``label``)."""
        return re.sub(r"_+", "_", re.sub(r"[^0-9A-Za-z]+", "_", self.key)).strip("_")

    def __call__(self, ctx) -> SignalResult:  # pragma: no cover - abstract
        raise NotImplementedError


def register(cls: type[Signal]) -> type[Signal]:
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    REGISTRY[cls.name] = cls
    return cls


def summarize(is_issue: np.ndarray, **extra) -> dict:
    n = len(is_issue)
    k = int(np.asarray(is_issue).sum())
    return {"n_issues": k, "share": k / n if n else 0.0, **extra}
