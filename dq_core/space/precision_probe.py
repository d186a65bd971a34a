"""Half precision on a GPU only where it measures faster and stays close to float32.

Why a probe and not a rule: on an H100, bf16 fine-tuning of MiniLM at batch 32 ran slower than fp32
(1,192 vs 1,410 samples/s; docs/benchmarks.md, "GPU"): for a small model at a small batch, mixed precision does not pay
everywhere. So on CUDA the automatic precision is chosen once by timing the candidates on the device
(alternating rounds), keeping a half precision only when it is at least ``MIN_GAIN`` faster and its
vectors have cosine >= ``MIN_COSINE`` to float32's. The choice is remembered per model and GPU in the
workspace (``DQ_HOME``/cache/precision_probe.json), so every process (job workers included) uses the
same precision, hence the same cache key. CPUs keep the rule in ``embed_model.default_precision``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from dq_core import settings
from dq_core.space.embed_model import best_device, check_precision, load_model, resolve_model

MIN_COSINE = 0.999
MIN_GAIN = 1.10  # timings on a shared machine wobble by a few percent: a smaller gain is not a gain
TIE = 1.05  # two halves this close in time are a tie, settled by closeness to float32
HALVES = ("float16", "bfloat16")
_CHOICES: dict[tuple[str, str], str] = {}


def pick_faster(run: Callable[[str], None], baseline: str, candidates: list[str], *, rounds: int = 3,
                min_gain: float = MIN_GAIN, clock: Callable[[], float] = time.perf_counter,
                closeness: dict[str, float] | None = None, tie: float = TIE) -> str:
    """The candidate whose median time over alternating rounds beats ``baseline``'s by ``min_gain``
    (the fastest such), else ``baseline``. ``run(name)`` does one timed unit of work, synchronised.
    Candidates within ``tie`` of the fastest count as equally fast; among them the one with the highest
    ``closeness`` (cosine to the baseline's output) wins."""
    names = [baseline, *candidates]
    times: dict[str, list[float]] = {n: [] for n in names}
    for n in names:  # warm-up: first calls allocate and pick kernels
        run(n)
    for r in range(rounds):
        for n in (names if r % 2 == 0 else names[::-1]):
            t0 = clock()
            run(n)
            times[n].append(clock() - t0)
    med = {n: float(np.median(v)) for n, v in times.items()}
    best = min(candidates, key=med.get, default=None)
    if best is None or med[best] * min_gain > med[baseline]:
        return baseline
    if closeness:
        # timings of two halves on a short probe differ by a few percent run to run; closeness does not
        ties = [c for c in candidates if med[c] <= med[best] * tie and med[c] * min_gain <= med[baseline]]
        best = max(ties, key=lambda c: (closeness.get(c, 0.0), -med[c]))
    return best


def min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return float(np.einsum("ij,ij->i", a, b).min())


def probe_texts(n: int = 1024, seed: int = 0) -> list[str]:
    """Deterministic sentences of 3 to 120 words, so the choice does not depend on one dataset."""
    words = ("the flight was delayed again and the crew said nothing about when we would leave so I "
             "asked for a refund but customer service kept me on hold for an hour great seats bad food "
             "new phone camera battery update broke apps festival tickets sold out cars drive themselves "
             "quarterback footballs report league fans angry weather rain sun city night music").split()
    rng = np.random.default_rng(seed)
    lens = rng.integers(3, 121, size=n)
    return [" ".join(rng.choice(words, size=k)) for k in lens]


def _store_path() -> Path:
    return settings.get("DQ_HOME") / "cache" / "precision_probe.json"


def _stored() -> dict:
    try:
        data = json.loads(_store_path().read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError, RecursionError):
        return {}


def embed_precision(model: str | None, device: str, measure: Callable[[str | None, str], str] | None = None) -> str:
    """float32 or the half precision the probe chose for ``model`` on this CUDA ``device``."""
    import torch

    name = resolve_model(model)
    gpu = torch.cuda.get_device_name(torch.device(device)) if device.startswith("cuda") else device
    key = f"embed|{name}|{gpu}|torch {torch.__version__}"
    if key in _CHOICES:
        return _CHOICES[key]
    stored = _stored().get(key)
    if stored not in (None, "float32", *HALVES):
        stored = None
    choice = stored or (measure or measure_embed_precision)(model, device)
    _CHOICES[key] = choice
    if stored is None:
        from dq_core.data.writers import atomic_write_text

        data = _stored()
        data[key] = choice
        try:
            atomic_write_text(_store_path(), json.dumps(data, indent=1))
        except OSError:
            pass  # a read-only workspace: the probe runs again in the next process
    return choice


def measure_embed_precision(model: str | None, device: str, texts: list[str] | None = None) -> str:
    """Time float32 and the half precisions on ``texts`` (default: ``probe_texts()``) and choose."""
    import torch

    from dq_core.space import embed_pipeline as pipeline

    texts = texts or probe_texts()
    ref_model = load_model(model, device, "float32")
    limit = pipeline.max_length(ref_model)
    prep = pipeline.prepare_chunk(ref_model.tokenizer, texts, limit=limit, batch_size=512, pin=False)
    dev = torch.device(device)
    order = np.concatenate([pos for pos, _ in prep.batches])
    models = {"float32": ref_model}
    candidates = [h for h in HALVES if h != "bfloat16" or dev.type != "cuda" or torch.cuda.is_bf16_supported()]

    def vectors(p: str) -> np.ndarray:
        out = torch.cat([pipeline.forward(models[p], f, dev) for _, f in prep.batches])
        return out.cpu().numpy()[np.argsort(order)]

    ref = vectors("float32")
    close = {}
    for p in candidates:
        models[p] = load_model(model, device, p)
        cos = min_cosine(vectors(p), ref)
        if cos >= MIN_COSINE:
            close[p] = cos
    if not close:
        return "float32"

    def run(p: str) -> None:
        for _, f in prep.batches:
            pipeline.forward(models[p], f, dev)
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    # On an H100 (docs/benchmarks.md, "GPU") float16 ran 1.58x and bfloat16 1.43x float32 end to end, with min cosines
    # 0.999999 and 0.99981: a tie on the probe's short texts goes to the closer one.
    return pick_faster(run, "float32", list(close), closeness=close)


def resolve_precision(model: str | None, precision: str | None, device: str | None) -> str:
    """``check_precision``, except that "auto" on CUDA (no ``DQ_EMBED_PRECISION``) asks the probe."""
    p = check_precision(precision, device)
    dev = device or best_device()
    if precision in (None, "auto") and settings.get("DQ_EMBED_PRECISION") == "auto" and dev.startswith("cuda"):
        return embed_precision(model, dev)
    return p
