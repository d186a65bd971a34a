"""The embedding thread tuner: all threads on an idle machine, measured choice only under contention."""

from __future__ import annotations

import time

import pytest
import torch

from dq_core.space.embed_threads import ThreadTuner


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_an_idle_machine_never_probes_one_thread(two_threads, monkeypatch):
    monkeypatch.delenv("DQ_EMBED_THREADS", raising=False)
    monkeypatch.setattr(ThreadTuner, "contended", staticmethod(lambda: False))
    tuner = ThreadTuner("cpu")
    used = [tuner.run(lambda: torch.get_num_threads(), 10) for _ in range(30)]
    assert set(used) == {2}


def test_under_contention_the_faster_setting_wins(two_threads, monkeypatch):
    monkeypatch.delenv("DQ_EMBED_THREADS", raising=False)
    monkeypatch.setattr(ThreadTuner, "contended", staticmethod(lambda: True))
    tuner = ThreadTuner("cpu")

    def work():  # pretend 1 thread is faster, as on an overloaded machine
        time.sleep(0.02 if torch.get_num_threads() == 2 else 0.001)
        return torch.get_num_threads()

    used = [tuner.run(work, 10) for _ in range(ThreadTuner.RETUNE_EVERY)]
    assert used[:2] == [2, 1]  # probes both
    assert set(used[2:]) == {1}  # then keeps the faster
    tuner.restore()
    assert torch.get_num_threads() == 2


def test_a_pinned_count_is_kept(two_threads, monkeypatch):
    monkeypatch.setenv("DQ_EMBED_THREADS", "1")
    tuner = ThreadTuner("cpu")
    assert {tuner.run(lambda: torch.get_num_threads(), 10) for _ in range(5)} == {1}
