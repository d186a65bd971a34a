"""One JSON-safe conversion for everything dq_core writes (metrics, caches, reports, CLI output).

The rule, everywhere: numpy scalars become Python numbers, arrays become lists, paths become strings,
dict keys become strings, and a non-finite float (NaN, inf) becomes null, because bare NaN is not JSON
(jq, JSON.parse and most readers reject it) and a metric that is undefined reads naturally as null.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np


def to_native(v: Any) -> Any:
    """A numpy scalar as the matching Python scalar; anything else unchanged."""
    return v.item() if isinstance(v, np.generic) else v


def to_jsonable(o: Any) -> Any:
    """``o`` with every container walked and every leaf made JSON-safe by the module's rule."""
    if isinstance(o, dict):
        return {str(k): to_jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in o]
    if isinstance(o, np.ndarray):
        return to_jsonable(o.tolist())
    if isinstance(o, np.generic):
        o = o.item()
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, (str, int, bool)) or o is None:
        return o
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "to_dict"):
        return to_jsonable(o.to_dict())
    return str(o)


def dumps_json(o: Any, *, indent: int | None = 2, sort_keys: bool = False, ensure_ascii: bool = True) -> str:
    """``json.dumps`` of ``to_jsonable(o)``: the one way dq_core writes JSON (files, cache keys, fingerprints);
    refuses NaN so nothing invalid can slip through."""
    return json.dumps(to_jsonable(o), indent=indent, allow_nan=False, sort_keys=sort_keys, ensure_ascii=ensure_ascii)
