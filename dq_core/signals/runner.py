"""Run a set of signals on one dataset and assemble the wide frame, cached in the workspace.

The wide frame has one row per dataset row: ``row_id``, ``label``, then per signal ``<key>_score`` and
``is_<key>_issue`` (cleanlab's names where the concept is the same), the signals' extra columns
(``suggested_label``, ``suggested_label_prob``, group ids, kinds), ``n_issues`` and ``reasons``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dq_core.data.dataset import TextDataset
from dq_core.data.workspace import Workspace, config_key
from dq_core.errors import DataError
from dq_core.signals.base import REGISTRY, Signal, SignalResult
from dq_core.signals.context import SignalContext
from dq_core.util.jsonsafe import to_jsonable
from dq_core.util.progress import Progress

SIGNALS_CACHE_VERSION = 3  # 2: phones by libphonenumber, mojibake by ftfy (+ mojibake_fixed_text); 3: duplicates by
# the plain-Python text rule (full Unicode lower-casing: "İ", final "Σ")
# Defaults in one place (Lilac's rule); order = column order in the wide frame.
DEFAULT_SIGNALS = ("label", "exact_duplicate", "near_duplicate", "conflicting_label", "outlier", "junk", "pii",
                   "leakage", "annotator_agreement")

WHY_MISSING = {
    "labels": "needs labels with at least two classes",
    "reference": "needs reference/test rows (choose a reference on Load, or --reference)",
    "annotators": "needs two or more annotator columns mapped (Load › annotator columns)",
}


def get_signal(name: str, **params) -> Signal:
    if name not in REGISTRY:
        raise DataError(f"unknown signal '{name}'; available: {', '.join(sorted(REGISTRY))}")
    try:
        return REGISTRY[name](**params)
    except TypeError as exc:
        raise DataError(f"bad parameters for signal '{name}': {exc}") from None


def default_signals() -> list[Signal]:
    return [get_signal(n) for n in DEFAULT_SIGNALS if n in REGISTRY]


def parse_signal_spec(spec: str) -> Signal:
    """``label`` or ``label(method=cleanlab,k=20)`` -> a signal (the key format, read back)."""
    spec = spec.strip()
    if "(" not in spec:
        return get_signal(spec)
    name, rest = spec.split("(", 1)
    if not rest.endswith(")") or rest.count("(") or rest.count(")") != 1:
        raise DataError(f"signal '{spec}' has unbalanced parentheses; write name(param=value,...)")
    params = {}
    for part in filter(None, rest[:-1].split(",")):
        if "=" not in part:
            raise DataError(f"bad signal parameter '{part}' in '{spec}'; use name=value")
        k, v = (x.strip() for x in part.split("=", 1))
        params[k] = _parse_value(v)
    return get_signal(name.strip(), **params)


def find_signal_key(keys: Iterable[str], name: str) -> str | None:
    """The key of signal ``name`` among ``keys`` (``label``, or ``label(method=knn)`` when parameterised):
    the plain name first, else the first parameterised one; None when absent."""
    keys = [str(k) for k in keys]
    if name in keys:
        return name
    return next((k for k in keys if k.split("(", 1)[0].strip() == name), None)


def _parse_value(v: str):
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    if v.lower() in ("true", "false"):
        return v.lower() == "true"
    return v


@dataclass(frozen=True)
class SignalReport:
    frame: pd.DataFrame
    summaries: dict[str, dict]  # signal key -> summary
    infos: dict[str, dict] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # signal key -> why it did not run
    titles: dict[str, str] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)  # signal key -> column stem
    timings: dict[str, float] = field(default_factory=dict)
    agreement_hint: dict | None = None
    from_cache: bool = False

    def score_column(self, key: str) -> str:
        return f"{self.columns[key]}_score"

    def issue_column(self, key: str) -> str:
        return f"is_{self.columns[key]}_issue"

    def to_dict(self) -> dict:
        return {"summaries": self.summaries, "infos": self.infos, "skipped": self.skipped, "titles": self.titles,
                "columns": self.columns, "timings": self.timings, "agreement_hint": self.agreement_hint}


def _cache_key(ds: TextDataset, signals: list[Signal], *, embeddings, model, reference, seed,
               pred_probs=None, reference_embeddings=None) -> str:
    from dq_core.util.fingerprint import array_fingerprint

    if embeddings is not None:
        emb = "given:" + array_fingerprint(np.ascontiguousarray(embeddings, dtype=np.float32))
    else:
        from dq_core.space.embed_model import model_key

        emb = model_key(model)
    ref = reference.fingerprint if reference is not None else None
    extra = []  # only when given, so the keys of earlier runs stay valid
    if pred_probs is not None:
        extra.append("pred_probs:" + array_fingerprint(np.ascontiguousarray(pred_probs, dtype=np.float64)))
    if reference_embeddings is not None and reference is not None:
        extra.append("ref_given:" + array_fingerprint(np.ascontiguousarray(reference_embeddings, dtype=np.float32)))
    return config_key("signals", SIGNALS_CACHE_VERSION, ds.fingerprint, [s.key for s in signals], emb, ref, seed,
                      ds.mapping.to_dict(), *extra)


def compute_signals(ds: TextDataset, signals: Iterable[Signal] | None = None, *,
                    embeddings: np.ndarray | None = None, reference: TextDataset | None = None,
                    reference_embeddings: np.ndarray | None = None, model: str | None = None,
                    workspace: Workspace | None = None, seed: int = 0, progress: Progress | None = None,
                    use_cache: bool = True, pred_probs: np.ndarray | None = None) -> SignalReport:
    """Run ``signals`` (default: every registered default) and assemble the report.

    With a ``workspace`` the report is cached under dataset fingerprint + signal keys + embedding
    source + reference + seed, so reopening the page or re-running the CLI is instant. ``pred_probs``
    (n_rows, n_classes, sorted class order) replaces the label signal's K-fold probabilities.
    """
    signals = list(signals) if signals is not None else default_signals()
    if not signals:
        raise DataError("no signals chosen")
    keys = [s.key for s in signals]
    if len(set(keys)) != len(keys):
        raise DataError(f"the same signal is listed twice: {keys}")
    key = None
    if workspace is not None:
        key = _cache_key(ds, signals, embeddings=embeddings, model=model, reference=reference, seed=seed,
                         pred_probs=pred_probs, reference_embeddings=reference_embeddings)
        if use_cache:
            hit = _load_report(workspace, key, len(ds), signals)
            if hit is not None:
                if progress:
                    progress("loaded from the workspace cache", 1.0)
                return hit

    n_sig = len(signals)
    state = {"i": 0}

    def sub_progress(msg: str, frac: float) -> None:
        if progress:
            progress(msg, min(1.0, (state["i"] + min(max(frac, 0.0), 1.0)) / n_sig))

    ctx = SignalContext(ds, embeddings=embeddings, reference=reference, reference_embeddings=reference_embeddings,
                        model=model, workspace=workspace, seed=seed, progress=sub_progress, pred_probs=pred_probs)
    available = ctx.available()
    results: dict[str, SignalResult] = {}
    skipped: dict[str, str] = {}
    timings: dict[str, float] = {}
    for i, sig in enumerate(signals):
        state["i"] = i
        missing = sorted(sig.requires - available)
        if missing:
            skipped[sig.key] = "; ".join(WHY_MISSING.get(m, f"needs {m}") for m in missing)
            continue
        sub_progress(f"{sig.title or sig.name}", 0.0)
        t0 = time.perf_counter()
        res = sig(ctx)
        timings[sig.key] = round(time.perf_counter() - t0, 3)
        if len(res.scores) != len(ds):
            raise RuntimeError(f"signal {sig.key} returned {len(res.scores)} scores for {len(ds)} rows")
        results[sig.key] = res
    if not results:
        raise DataError("none of the chosen signals can run on this data: "
                        + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
    timings.update({f"shared: {k}": v for k, v in ctx.timings.items()})
    by_key = {s.key: s for s in signals}
    frame = assemble_frame(ds, {k: (by_key[k], r) for k, r in results.items()})
    hint = None
    if "label" in results and ds.mapping.agreement:
        hint = _agreement_hint(ds, results["label"].scores)
    report = SignalReport(frame=frame, summaries={k: to_jsonable(r.summary) for k, r in results.items()},
                          infos={k: to_jsonable(r.info) for k, r in results.items()}, skipped=skipped,
                          titles={s.key: s.title or s.name for s in signals},
                          columns={s.key: s.column for s in signals}, timings=timings, agreement_hint=hint)
    if progress:
        progress("done", 1.0)
    if workspace is not None and key is not None:
        workspace.save_frame("signals", key, frame)
        workspace.save_json("signals", key, report.to_dict())
    return report


def load_cached_report(ds: TextDataset, signals: Iterable[Signal] | None = None, *, workspace: Workspace,
                       embeddings: np.ndarray | None = None, reference: TextDataset | None = None,
                       model: str | None = None, seed: int = 0) -> SignalReport | None:
    """The cached report for exactly this configuration, or None (never computes)."""
    signals = list(signals) if signals is not None else default_signals()
    key = _cache_key(ds, signals, embeddings=embeddings, model=model, reference=reference, seed=seed)
    return _load_report(workspace, key, len(ds), signals)


def _load_report(workspace: Workspace, key: str, n: int, signals: list[Signal]) -> SignalReport | None:
    frame = workspace.load_frame("signals", key)
    meta = workspace.load_json("signals", key)
    if frame is None or meta is None or len(frame) != n:
        return None
    # Titles are today's names for the signals (a cached report keeps the numbers, not an old title).
    titles = {**meta["titles"], **{s.key: s.title or s.name for s in signals}}
    return SignalReport(frame=frame, summaries=meta["summaries"], infos=meta["infos"], skipped=meta["skipped"],
                        titles=titles, columns=meta["columns"], timings=meta["timings"],
                        agreement_hint=meta.get("agreement_hint"), from_cache=True)


def run_signals(ds: TextDataset, signals: Iterable[Signal] | None = None, *, ref: TextDataset | None = None,
                **kwargs) -> pd.DataFrame:
    """The wide frame only (see compute_signals for the summaries and the cache); ``ref`` = ``reference``."""
    if ref is not None:
        kwargs.setdefault("reference", ref)
    return compute_signals(ds, signals, **kwargs).frame


def assemble_frame(ds: TextDataset, results: dict[str, tuple[Signal, SignalResult]]) -> pd.DataFrame:
    cols: dict[str, object] = {"row_id": ds.row_ids, "label": ds.labels.to_numpy(dtype=object, na_value=None)}
    extras: dict[str, object] = {}
    reasons = [[] for _ in range(len(ds))]
    n_issues = np.zeros(len(ds), dtype=np.int64)
    for _key, (sig, res) in results.items():
        cols[f"{sig.column}_score"] = res.scores.astype(np.float64)
        cols[f"is_{sig.column}_issue"] = res.is_issue
        n_issues += res.is_issue
        for name, values in res.columns.items():
            extras[name if sig.key == sig.name else f"{sig.column}__{name}"] = values
        if res.reasons is not None:
            for i in np.flatnonzero([bool(r) for r in res.reasons]):
                reasons[i].append(res.reasons[i])
    frame = pd.DataFrame({**cols, **extras})
    frame["n_issues"] = n_issues
    frame["reasons"] = ["; ".join(r) for r in reasons]
    return frame


def _agreement_hint(ds: TextDataset, label_scores: np.ndarray) -> dict | None:
    from dq_core.metrics.consistency import compare_with_agreement

    col = ds.mapping.agreement
    name = col if col in ds.frame.columns else f"meta_{col}"
    if name not in ds.frame.columns:
        return None
    return compare_with_agreement(label_scores, ds.frame[name], column=col).to_dict()


