"""The progress line's rate and ETA, with known answers: the rate is this run's, measured from its reports."""

from __future__ import annotations

import pytest

from dq_app.ui.progress_text import Counted, RateMeter, duration, progress_line


def test_the_rate_starts_with_the_first_work_not_with_the_task():
    """30 s loading the model, then 256 texts/s: the ETA is the texts left at 256/s, not at 1,024 / 42 s."""
    meter = RateMeter()
    meter.add(0.0, 0)  # the pass starts: texts counted, model loading
    assert meter.rate() is None
    meter.add(40.0, 512)  # the first group: the clock starts here
    assert meter.rate() is None
    meter.add(42.0, 1024)
    assert meter.rate() == pytest.approx(256.0)
    c = Counted(1024, 36_854, meter.rate())
    assert c.eta == pytest.approx((36_854 - 1024) / 256)  # 140 s; from the task's start it read 1,469 s
    assert progress_line("Embedding", c, unit="distinct texts") == (
        "Embedding: 1,024 / 36,854 distinct texts · 256 texts/s · ETA 2 min 20 s")


def test_the_rate_follows_the_last_minute():
    """100 texts/s for 100 s, then 50/s (longer texts): the rate over the last minute is 50/s."""
    meter = RateMeter(window=60.0)
    for t in range(1, 101):
        meter.add(float(t), 100 * t)
    for t in range(101, 201):
        meter.add(float(t), 10_000 + 50 * (t - 100))
    assert meter.rate() == pytest.approx(50.0)
    meter2 = RateMeter(window=60.0)
    for t in range(1, 31):  # less than a window of reports: all of them
        meter2.add(float(t), 100 * t)
    assert meter2.rate() == pytest.approx(100.0)


def test_no_eta_before_the_rate_is_measured():
    assert progress_line("Embedding", Counted(0, 2_000), unit="distinct texts") == (
        "Embedding: 0 / 2,000 distinct texts · loading the model…")
    assert progress_line("Embedding", Counted(512, 2_000), unit="distinct texts") == (
        "Embedding: 512 / 2,000 distinct texts · measuring the speed…")
    assert progress_line("Embedding", Counted(6, 12, 1.5)) == "Embedding: 6 / 12 texts · 1.5 texts/s · ETA 4 s"
    assert Counted(10, 10, 0.0).eta is None


@pytest.mark.parametrize(("seconds", "text"), [(0, "0 s"), (44.6, "45 s"), (59.4, "59 s"), (63, "1 min 03 s"),
                                               (3599, "59 min 59 s"), (7500, "2 h 05 min")])
def test_duration(seconds: float, text: str) -> None:
    assert duration(seconds) == text
