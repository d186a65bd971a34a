"""The progress line's rate and ETA, with known answers."""

from __future__ import annotations

import pytest

from ui.progress_text import duration, progress_line, rate_and_eta


def test_rate_and_eta_from_the_start() -> None:
    assert rate_and_eta(12_288, 38_158, 30.0) == pytest.approx((409.6, 25_870 / 409.6))
    assert rate_and_eta(100, 100, 4.0) == (25.0, 0.0)
    assert rate_and_eta(0, 500, 12.0) == (None, None)
    assert rate_and_eta(5, 500, 0.0) == (None, None)


@pytest.mark.parametrize(("seconds", "text"), [(0, "0 s"), (44.6, "45 s"), (59.4, "59 s"), (63, "1 min 03 s"),
                                               (3599, "59 min 59 s"), (7500, "2 h 05 min")])
def test_duration(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_progress_line() -> None:
    # 12,288 texts in 30 s: 409.6/s, 25,870 left -> 63.2 s
    assert progress_line("Embedding", 12_288, 38_158, 30.0) == (
        "Embedding: 12,288 / 38,158 texts · 410 texts/s · ETA 1 min 03 s")
    assert progress_line("Embedding", 0, 2_000, 3.0) == "Embedding: 0 / 2,000 texts · loading the model…"
    assert progress_line("Embedding", 6, 12, 4.0) == "Embedding: 6 / 12 texts · 1.5 texts/s · ETA 4 s"
