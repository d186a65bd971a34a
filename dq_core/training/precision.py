"""The fine-tune's mixed precision on CUDA, chosen by measuring a few training steps on the device.

Why: bf16 is not always faster. On an H100, MiniLM at batch 32 trained at 1,192 samples/s with bf16
against 1,410 in fp32 (docs/benchmarks.md, "GPU"): the casts cost more than a small model's matmuls save. So "auto"
times forward + backward steps on a batch of the real training texts in fp32 and under autocast
(bf16 where the GPU supports it, else fp16), alternating, and keeps mixed precision only when it is at
least ``precision_probe.MIN_GAIN`` faster and the last hidden states stay within cosine 0.999 of fp32.
Off CUDA, and with ``mixed_precision="no"``, nothing is measured: training runs in full precision.
"""

from __future__ import annotations

import numpy as np

from dq_core.space.precision_probe import MIN_COSINE, min_cosine, pick_faster

PROBE_STEPS = 5  # training steps per timed round


def choose_mixed_precision(net, tok, texts: list[str], *, batch_size: int, max_length: int,
                           mode: str = "auto") -> str:
    """"bf16", "fp16" or "no" for ``transformers.TrainingArguments``."""
    import torch

    if mode != "auto" or not torch.cuda.is_available() or not texts:
        return "no"
    half = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return measure(net, tok, texts, batch_size=batch_size, max_length=max_length, half=half,
                   device=torch.device("cuda"))


def measure(net, tok, texts: list[str], *, batch_size: int, max_length: int, half: str, device) -> str:
    """Time fp32 against autocast ``half`` on one batch of ``texts``; weights and RNG are left as they were."""
    import torch

    rng = np.random.default_rng(0)
    pick = rng.choice(len(texts), size=min(batch_size, len(texts)), replace=False)
    batch = tok([texts[i] for i in pick], padding=True, truncation=True, max_length=max_length,
                return_tensors="pt")
    batch = {k: v.to(device) for k, v in batch.items()}
    labels = torch.zeros(len(pick), dtype=torch.long, device=device)
    dtype = torch.bfloat16 if half == "bf16" else torch.float16
    was_training = net.training
    net.to(device)
    devices = [device.index or 0] if device.type == "cuda" else []

    def hidden(kind: str) -> np.ndarray:
        with torch.no_grad(), torch.autocast(device.type, dtype=dtype, enabled=kind != "no"):
            out = net(**batch, output_hidden_states=True)
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (out.hidden_states[-1].float() * mask).sum(1) / mask.sum(1)
        return pooled.cpu().numpy()

    def run(kind: str) -> None:
        for _ in range(PROBE_STEPS):
            with torch.autocast(device.type, dtype=dtype, enabled=kind != "no"):
                loss = net(**batch, labels=labels).loss
            loss.float().backward()
            net.zero_grad(set_to_none=True)
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    with torch.random.fork_rng(devices=devices):  # dropout in the probe must not shift the run's seed
        net.eval()
        close = min_cosine(hidden(half), hidden("no")) >= MIN_COSINE
        net.train()
        choice = pick_faster(run, "no", [half]) if close else "no"
    net.zero_grad(set_to_none=True)
    net.train(was_training)
    return choice
