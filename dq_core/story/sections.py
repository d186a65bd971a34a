"""The data sections of the story, each from the very function its `dq` command uses, so the figures agree:
data at a glance (`dq profile`), shift (`dq shift`), issues per signal (`dq signals` / Clean's counts and
ranking) and the recipe (`dq filter`, said by ``recipe_in_words``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dq_core.data.dataset import TextDataset

N_EXAMPLES = 5  # example rows shown per signal: a handful, enough to see what a signal means
EXAMPLE_CHARS = 300  # a long text is cut: the story is read, not searched


def data_section(ds: TextDataset) -> dict:
    """Rows, classes, balance, lengths, empties and duplicates: `dq profile`'s figures (compute_profile)."""
    from dq_core.metrics.profile import compute_profile

    return {"name": ds.name, "fingerprint": ds.fingerprint, **compute_profile(ds).to_dict()}


def shift_section(ds: TextDataset, ref: TextDataset, *, embeddings=None, workspace=None,
                  progress=None, seed: int = 0) -> dict:
    """`dq shift`'s result with its defaults (ShiftConfig()); without embeddings the embedding view and the
    domain classifier are skipped, the label, length and vocabulary views stand."""
    from dq_core.metrics.shift import ShiftConfig, compute_shift

    ds_emb, ref_emb = embeddings if embeddings is not None else (None, None)
    if ds_emb is None or ref_emb is None:  # the embedding view compares two sets of vectors: both or neither
        ds_emb = ref_emb = None
    result = compute_shift(ds, ref, config=ShiftConfig(seed=seed), ds_embeddings=ds_emb, ref_embeddings=ref_emb,
                           workspace=workspace, progress=progress)
    full = result.to_dict(top_bins=5)
    views = [{"view": name, "title": v.get("title"), "js": v.get("js"), "js_ci": v.get("js_ci"),
              "p_value": v.get("p_value"), "verdict": v.get("verdict"), "skipped": v.get("skipped"),
              "top_bins": [b.get("bin") for b in (v.get("bins") or [])[:5]]}
             for name, v in full["views"].items()]
    return {"views": views, "drifting_views": full.get("drifting_views"),
            "domain_classifier_auc": full.get("domain_classifier_auc"), "notes": full.get("notes"),
            "detail": full}


def signal_title(key: str) -> str:
    """A signal's title as its class gives it ("Junk text"), the key itself for one not registered."""
    from dq_core.signals import REGISTRY

    cls = REGISTRY.get(key)
    return cls.title if cls is not None and cls.title else key.replace("_", " ")


def _example_rows(ds: TextDataset, positions: np.ndarray) -> list[dict]:
    texts, labels, ids = ds.texts, ds.labels, ds.row_ids
    out = []
    for p in positions[:N_EXAMPLES]:
        text = "" if pd.isna(texts.iloc[p]) else str(texts.iloc[p])
        out.append({"row_id": str(ids[p]), "label": None if pd.isna(labels.iloc[p]) else str(labels.iloc[p]),
                    "text": text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS] + "…"})
    return out


def issues_section(ds: TextDataset, signals: pd.DataFrame) -> dict:
    """Per signal: rows flagged (of every row) and a handful of them, most suspicious first (signals/flagged's
    ranking, the Clean page's order). ``signals`` is the wide frame `dq signals --out` writes."""
    from dq_core.filtering.inputs import align_signals, signal_names
    from dq_core.signals.flagged import rank_suspicious

    frame = align_signals(ds, signals)
    per_signal = []
    any_flag = np.zeros(len(ds), dtype=bool)
    for name in signal_names(frame):
        col = f"is_{name}_issue"
        if col not in frame.columns:
            continue
        flagged = frame[col].fillna(False).astype(bool).to_numpy()
        any_flag |= flagged
        score = f"{name}_score"
        order = rank_suspicious(frame, flagged, columns=[score] if score in frame.columns else [])
        per_signal.append({"signal": name, "title": signal_title(name), "n_flagged": int(flagged.sum()),
                           "share": float(flagged.sum() / max(len(ds), 1)), "examples": _example_rows(ds, order)})
    return {"n_rows": len(ds), "n_flagged_any": int(any_flag.sum()), "signals": per_signal}


def recipe_section(ds: TextDataset, recipe, signals: pd.DataFrame | None) -> dict:
    """The recipe applied exactly as `dq filter` applies it (FilterInputs + apply_prepared, strict), in words
    (recipe_in_words) with its counts (removal_summary) and the rows per class before and after."""
    from dq_core.filtering import FilterInputs, apply_prepared, removal_summary
    from dq_core.filtering.rule_counts import class_rows, recipe_in_words

    inputs = FilterInputs(ds, signals)
    result = apply_prepared(inputs, recipe, strict=True)
    after = pd.Series(result.final_labels()[result.keep_mask]).dropna().astype(str).value_counts()
    before = class_rows(inputs)
    classes = list(before) + [c for c in after.index if c not in before]
    return {"name": recipe.name, "fingerprint": recipe.fingerprint, "in_words": recipe_in_words(result),
            "summary": removal_summary(result),
            "classes": [{"class": c, "before": int(before.get(c, 0)), "after": int(after.get(c, 0))}
                        for c in classes],
            "dropped_by_rule": _dropped_by_rule(result), "notes": list(result.notes)}


def _dropped_by_rule(result) -> dict[str, int]:
    """Rows each rule removed first (a removal counts once): what "mostly junk and duplicates" is said from."""
    from dq_core.filtering.rule_counts import count_rules

    out: dict[str, int] = {}
    for c in count_rules(result):
        if c.removes_new:
            key = signal_title(c.signal) if c.signal else c.rule
            out[key] = out.get(key, 0) + int(c.removes_new)
    return out
