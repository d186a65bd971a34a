"""A hub name with no network fails at once with what to do; huggingface_hub itself retried for about 90
seconds (a `dq compute --model no_such_model_dir` looked hung, then left a half-written folder)."""

from __future__ import annotations

import socket

import pytest

from dq_core.data import readers
from dq_core.errors import DataError
from dq_core.space.embed_model import resolve_model
from dq_core.util.hub import hub_unreachable


@pytest.fixture
def closed_hub(monkeypatch):
    """Online mode, and a Hub endpoint where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    return port


def test_a_hub_model_name_without_network_is_refused_saying_why(closed_hub):
    with pytest.raises(DataError, match="not a folder here.*needs internet.*does not answer"):
        resolve_model("no_such_model_dir")


def test_a_hub_dataset_without_network_is_refused_saying_why(closed_hub):
    with pytest.raises(DataError, match="cannot reach it.*save_to_disk"):
        readers.read_hf_hub("user/some_dataset")


def test_a_listening_endpoint_counts_as_reachable(monkeypatch):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
        assert hub_unreachable() is None


def test_offline_mode_keeps_a_hub_name_for_the_local_cache(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert resolve_model("sentence-transformers/all-MiniLM-L6-v2") == "sentence-transformers/all-MiniLM-L6-v2"


def test_a_name_lookup_that_hangs_is_cut_at_the_timeout(monkeypatch):
    """With no reachable name server getaddrinfo waited out the resolver's retries (70 s in a CI run)."""
    import time

    monkeypatch.setenv("HF_ENDPOINT", "https://hub.example")
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: time.sleep(30))
    start = time.monotonic()
    assert "takes longer than" in hub_unreachable(timeout=0.5)
    assert time.monotonic() - start < 5
