"""The signal contract: a frozen dataclass of parameters, called on a shared context, returning one shape.

A signal's ``key`` is its name plus its non-default parameters (Lilac's rule), so two parameterisations
never collide in a cache or a column. Signals never mutate the context's data; the context computes the
expensive shared inputs (embeddings, the kNN graph, out-of-sample probabilities) once, lazily.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from dq_core.errors import DataError

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
    # Allowed closed range per numeric parameter, checked on construction (``register``): unchecked, an
    # out-of-range value runs silently (near_duplicate(threshold=1e308) would flag every row).
    ranges: ClassVar[dict[str, tuple[float, float]]] = {}

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
    """Add ``cls`` to the registry; its constructor then checks parameter types and ranges."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    init = cls.__init__

    @functools.wraps(init)
    def checked_init(self, *args, **kwargs):
        check_param_types(cls, kwargs)
        init(self, *args, **kwargs)
        check_param_ranges(self)

    cls.__init__ = checked_init  # type: ignore[method-assign]
    REGISTRY[cls.name] = cls
    return cls


# Word parameters (methods, regions) are left to the signal's own check, which lists the choices.
_KINDS = {"int": "a whole number", "float": "a number", "bool": "true or false"}


def check_param_types(cls: type[Signal], params: dict) -> None:
    """DataError when a parameter is unknown or of the wrong kind (``label(k=abc)``)."""
    fields = {f.name: str(f.type) for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for k, v in params.items():
        if k not in fields:
            raise DataError(f"bad parameters for signal '{cls.name}': no parameter '{k}'; its parameters: "
                            f"{', '.join(fields) or 'none'}")
        kind = fields[k].replace(" | None", "")
        if v is None and "None" in fields[k]:
            continue
        ok = {"int": isinstance(v, (int, np.integer)) and not isinstance(v, bool),
              "float": isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool),
              "bool": isinstance(v, (bool, np.bool_))}.get(kind, True)
        if not ok:
            raise DataError(f"bad parameters for signal '{cls.name}': {k}={str(v)[:40]!r} must be {_KINDS[kind]}")


def check_param_ranges(sig: Signal) -> None:
    for k, (lo, hi) in type(sig).ranges.items():
        v = getattr(sig, k)
        if v is None:
            continue
        # Compared as Python numbers, exact for ints of any size: np.isfinite fails on an int past 64 bits
        # (k=10**23 from a recipe). NaN fails every comparison; inf is refused even against an open bound.
        if (isinstance(v, float) and not math.isfinite(v)) or not lo <= v <= hi:
            shown = f"{v:g}" if isinstance(v, float) or abs(v) < 10**15 else f"{str(v)[:6]}... ({len(str(v))} digits)"
            raise DataError(f"signal '{sig.name}': {k}={shown} is out of range; use a value within [{lo:g}, {hi:g}]")


def summarize(is_issue: np.ndarray, **extra) -> dict:
    n = len(is_issue)
    k = int(np.asarray(is_issue).sum())
    return {"n_issues": k, "share": k / n if n else 0.0, **extra}
