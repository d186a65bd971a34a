"""How every figure of the story was computed: versions, date, seed, the embedding model, the inputs."""

from __future__ import annotations

import datetime as _dt
from importlib import metadata

PACKAGES = ("dq-dashboard", "torch", "transformers", "sentence-transformers", "cleanlab", "scikit-learn",
            "pandas", "numpy", "plotly")


def package_versions() -> dict[str, str | None]:
    """Installed versions, read from the package metadata (no import: torch is not loaded for this)."""
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    if out.get("dq-dashboard") is None:  # a source checkout that was not pip-installed
        import dq_core

        out["dq-dashboard"] = dq_core.__version__
    return out


def provenance(*, seed: int, embeddings: str, signals: str, inputs: dict) -> dict:
    return {"generated": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "seed": seed,
            "embeddings": embeddings, "signals": signals, "inputs": inputs, "versions": package_versions()}
