"""The one fingerprint, the one JSON rule and the one progress fraction every folder uses."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dq_core.util.fingerprint import array_fingerprint, text_fingerprint
from dq_core.util.jsonsafe import dumps_json, to_jsonable, to_native


def test_array_fingerprint_follows_content_shape_and_dtype():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert array_fingerprint(a) == array_fingerprint(a.copy())
    assert array_fingerprint(a) == array_fingerprint(np.asfortranarray(a))  # layout is not content
    assert array_fingerprint(a) != array_fingerprint(a.reshape(4, 3))
    assert array_fingerprint(a) != array_fingerprint(a.astype(np.float64))
    b = a.copy()
    b[2, 3] += 1e-6
    assert array_fingerprint(a) != array_fingerprint(b)


def test_text_fingerprint_separates_parts():
    assert text_fingerprint("ab", "c") != text_fingerprint("a", "bc")
    assert text_fingerprint("x") == text_fingerprint(b"x")


def test_json_rule_nan_to_null_numpy_to_python():
    obj = {1: np.float32(0.5), "nan": float("nan"), "inf": np.float64(np.inf), "arr": np.array([1, 2]),
           "b": np.bool_(True), "p": Path("/tmp/x"), "t": (np.int64(3), None)}
    out = to_jsonable(obj)
    assert out == {"1": 0.5, "nan": None, "inf": None, "arr": [1, 2], "b": True, "p": "/tmp/x", "t": [3, None]}
    assert json.loads(dumps_json(obj)) == out
    assert to_native(np.int32(7)) == 7 and type(to_native(np.int32(7))) is int


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=5), c, max_size=4),
                    max_leaves=20))
def test_dumps_json_always_valid(obj):
    text = dumps_json(obj)
    back = json.loads(text)  # strict JSON: never NaN
    assert "NaN" not in text or isinstance(obj, str) or "NaN" in json.dumps(obj, allow_nan=True)
    if isinstance(obj, float):
        assert back == (obj if math.isfinite(obj) else None)


def test_dumps_json_refuses_nothing_it_cannot_convert():
    class Odd:
        def __str__(self):
            return "odd"

    assert json.loads(dumps_json({"x": Odd()})) == {"x": "odd"}
    with pytest.raises(TypeError):
        json.dumps({"x": Odd()})  # the plain library would have failed here


def test_progress_fraction_is_clamped_and_whole_when_nothing_was_left():
    from dq_core.util.progress import fraction

    assert fraction(3, 4) == 0.75 and fraction(0.25) == 0.25
    assert fraction(5, 4) == 1.0 and fraction(-1, 4) == 0.0
    assert fraction(0, 0) == 1.0
