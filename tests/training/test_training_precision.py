"""The fine-tune's precision probe, run on CPU (the same code times autocast on CUDA): it chooses from the
measured candidates, leaves weights and the random state as they were, and CPUs are not probed."""

from __future__ import annotations

import pytest
import torch

from dq_core.training import precision
from dq_core.training.config import TrainConfig
from dq_core.training.finetune import load_backbone, training_arguments

TEXTS = ["my flight was delayed", "great crew and seats", "lost my luggage again", "the camera is amazing",
         "tickets sold out", "wifi on board is slow", "smooth landing", "cancelled flight, no hotel"]


def test_measure_leaves_weights_and_rng_alone(monkeypatch):
    # one step per timed round: what is checked (weights, gradients, RNG untouched) holds for any number,
    # and bf16 autocast on a CPU is slow
    monkeypatch.setattr(precision, "PROBE_STEPS", 1)
    tok, net = load_backbone(None, ("neg", "pos"), max_length=32)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    torch.manual_seed(7)
    expected_next = torch.rand(3)
    torch.manual_seed(7)
    got = precision.measure(net, tok, TEXTS, batch_size=4, max_length=32, half="bf16", device=torch.device("cpu"))
    assert got in ("no", "bf16")
    assert torch.equal(torch.rand(3), expected_next)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert all(p.grad is None for p in net.parameters())
    monkeypatch.setattr(precision, "MIN_COSINE", 1.01)
    monkeypatch.setattr(precision, "pick_faster", lambda *a, **k: pytest.fail("timed a rejected precision"))
    assert precision.measure(net, tok, TEXTS, batch_size=4, max_length=32, half="bf16",
                             device=torch.device("cpu")) == "no"


def test_cpu_is_not_probed_and_arguments_follow_the_choice(tmp_path, monkeypatch):
    monkeypatch.setattr(precision, "measure", lambda *a, **k: pytest.fail("probed without CUDA"))
    if not torch.cuda.is_available():
        assert precision.choose_mixed_precision(None, None, TEXTS, batch_size=4, max_length=32) == "no"
    cfg = TrainConfig(trainer="transformer")
    assert precision.choose_mixed_precision(None, None, TEXTS, batch_size=4, max_length=32, mode="no") == "no"
    for mixed, flags in (("no", (False, False)), ("bf16", (True, False)), ("fp16", (False, True))):
        if mixed != "no" and not torch.cuda.is_available():
            continue  # transformers refuses fp16/bf16 arguments without a device that has them
        args = training_arguments(cfg, tmp_path, n_train=40, has_val=False, mixed=mixed)
        assert (args.bf16, args.fp16) == flags
