"""Small readers over a Streamlit AppTest tree, shared by the tests in tests/app/."""

from __future__ import annotations

import json


def metrics(at) -> list[tuple[str, str]]:
    return [(m.label, m.value) for m in at.metric]


def metric(at, label_prefix: str, nth: int = 0) -> str:
    """The value of the nth metric whose label starts with ``label_prefix``."""
    found = [v for lab, v in metrics(at) if lab.startswith(label_prefix)]
    assert len(found) > nth, f"no metric {label_prefix!r} #{nth} in {metrics(at)}"
    return found[nth]


def as_number(value: str) -> float:
    return float(value.replace(",", ""))


def plotly_figures(at) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def assert_no_exception(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def airline_pair(n: int):
    """``n`` random rows of each side of the tweets_airline demo (dataset seed 0, reference seed 1)."""
    from dq_core.data.io import load_demo

    ds, ref = load_demo("tweets_airline")
    return random_rows(ds, n, 0), random_rows(ref, n, 1)


def random_rows(ds, n: int, seed: int, *, name: str | None = None):
    import numpy as np

    keep = np.zeros(len(ds), dtype=bool)
    keep[np.random.default_rng(seed).choice(len(ds), n, replace=False)] = True
    return ds.subset(keep, name=name)
