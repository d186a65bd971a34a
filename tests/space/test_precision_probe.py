"""The half-precision probe: which precision wins (known timings), the closeness gate, the stored choice,
and that CPUs keep their rule. The CUDA timings themselves are measured by bench/gpu_embed_check.py."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from dq_core.space import embed_model, precision_probe


class FakeClock:
    """A clock that the work advances by a known duration per precision."""

    def __init__(self, durations: dict[str, float]):
        self.t, self.durations = 0.0, durations

    def __call__(self) -> float:
        return self.t

    def run(self, name: str) -> None:
        self.t += self.durations[name]


@pytest.mark.parametrize(("durations", "expected"), [
    ({"float32": 1.0, "float16": 0.5, "bfloat16": 0.8}, "float16"),  # clearly faster: the fastest half
    ({"float32": 1.0, "float16": 0.95, "bfloat16": 0.97}, "float32"),  # within MIN_GAIN: not a gain
    ({"float32": 1.0, "float16": 1.4, "bfloat16": 1.2}, "float32"),  # slower, as bf16 fine-tuning on an H100
])
def test_pick_faster_keeps_a_half_only_when_it_is_faster(durations, expected):
    clock = FakeClock(durations)
    got = precision_probe.pick_faster(clock.run, "float32", ["float16", "bfloat16"], clock=clock)
    assert got == expected


@pytest.mark.parametrize(("durations", "expected"), [
    # within TIE of each other: the one closer to float32 wins, as float16 (0.999999) over bfloat16 (0.9998)
    ({"float32": 1.0, "float16": 0.66, "bfloat16": 0.64}, "float16"),
    # clearly faster beats closer
    ({"float32": 1.0, "float16": 0.80, "bfloat16": 0.50}, "bfloat16"),
    # a tie but the closer one is no gain over float32: the faster one that is a gain
    ({"float32": 1.0, "float16": 0.93, "bfloat16": 0.89}, "bfloat16"),
])
def test_pick_faster_breaks_ties_by_closeness(durations, expected):
    clock = FakeClock(durations)
    got = precision_probe.pick_faster(clock.run, "float32", ["float16", "bfloat16"], clock=clock,
                                      closeness={"float16": 0.999999, "bfloat16": 0.9998})
    assert got == expected


def test_min_cosine():
    a = np.array([[1.0, 0.0], [0.0, 2.0]])
    assert precision_probe.min_cosine(a, a * 3) == pytest.approx(1.0)
    assert precision_probe.min_cosine(a, np.array([[1.0, 1.0], [0.0, 1.0]])) == pytest.approx(2 ** -0.5)


def test_measure_on_real_model_and_the_closeness_gate(monkeypatch):
    texts = precision_probe.probe_texts(24)
    assert texts == precision_probe.probe_texts(24) and len({len(t.split()) for t in texts}) > 10
    texts = texts[::3]  # 8 of them, short to long: half precisions run slowly on a CPU
    # each precision's model loaded once for both measures below (a load is most of a measure's time here)
    monkeypatch.setattr(precision_probe, "load_model", functools.lru_cache(maxsize=None)(precision_probe.load_model))
    got = precision_probe.measure_embed_precision(None, "cpu", texts)
    assert got in ("float32", "float16", "bfloat16")
    monkeypatch.setattr(precision_probe, "MIN_COSINE", 1.01)  # nothing is that close: float32, unmeasured
    monkeypatch.setattr(precision_probe, "pick_faster", lambda *a, **k: pytest.fail("timed a rejected half"))
    assert precision_probe.measure_embed_precision(None, "cpu", texts) == "float32"


def test_the_choice_is_measured_once_and_stored(tmp_path, monkeypatch):
    monkeypatch.setenv("DQ_HOME", str(tmp_path))
    monkeypatch.setattr(precision_probe, "_CHOICES", {})
    calls = []

    def measure(model, device):
        calls.append(device)
        return "float16"

    assert precision_probe.embed_precision(None, "cpu", measure) == "float16"
    assert precision_probe.embed_precision(None, "cpu", measure) == "float16"
    monkeypatch.setattr(precision_probe, "_CHOICES", {})  # a new process reads the stored choice
    assert precision_probe.embed_precision(None, "cpu", measure) == "float16"
    assert calls == ["cpu"]
    stored = json.loads((tmp_path / "cache" / "precision_probe.json").read_text())
    assert list(stored.values()) == ["float16"]


def test_cpu_keeps_its_rule_and_float16_has_its_own_cache_key(monkeypatch):
    monkeypatch.setattr(precision_probe, "embed_precision", lambda *a: pytest.fail("probed on a CPU"))
    assert precision_probe.resolve_precision(None, None, "cpu") == embed_model.default_precision("cpu")
    assert precision_probe.resolve_precision(None, "float32", "cpu") == "float32"
    keys = {embed_model.cache_key(None, p, "cpu") for p in embed_model.PRECISIONS}
    assert len(keys) == 3 and embed_model.cache_key(None, "float16", "cpu").endswith("-fp16")


def test_explicit_precision_skips_the_probe_on_cuda(monkeypatch):
    monkeypatch.setattr(precision_probe, "embed_precision", lambda *a: "float16")
    monkeypatch.delenv("DQ_EMBED_PRECISION", raising=False)
    assert precision_probe.resolve_precision(None, None, "cuda") == "float16"
    assert precision_probe.resolve_precision(None, "float32", "cuda") == "float32"
    monkeypatch.setenv("DQ_EMBED_PRECISION", "float32")
    assert precision_probe.resolve_precision(None, None, "cuda") == "float32"
