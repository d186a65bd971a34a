"""Small hand-built data for the filtering tests and the filter panel page script.

A labelled dataset with planted exact duplicates, a conflicting duplicate pair, junk rows and metadata
(confidence, topic); a reference set; a signals frame in the wide format of dq_core.signals
(``row_id``, ``<name>_score``, ``is_<name>_issue``, ``suggested_label``, ``suggested_label_prob``) whose
values are known, and synthetic unit vectors clustered by topic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dq_core.data.dataset import ColumnMapping, TextDataset, build_dataset
from dq_core.util.text import exact_duplicate_codes

CLASSES = ("negative", "neutral", "positive")
TOPICS = ("airline", "phone", "food", "music")
WORDS = {
    "negative": ["awful", "late", "broken", "rude", "terrible", "worst"],
    "neutral": ["okay", "arrived", "normal", "average", "standard", "plain"],
    "positive": ["great", "lovely", "fast", "friendly", "best", "amazing"],
}
NOUNS = {"airline": ["flight", "gate", "crew"], "phone": ["battery", "screen", "app"],
         "food": ["pizza", "soup", "cake"], "music": ["song", "album", "concert"]}


def make_frame(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        label = CLASSES[i % 3] if i % 7 else "positive"  # positive is the largest class
        topic = TOPICS[int(rng.integers(0, len(TOPICS)))]
        words = rng.choice(WORDS[label], size=int(rng.integers(2, 6))).tolist()
        noun = NOUNS[topic][int(rng.integers(0, 3))]
        rows.append({"text": f"the {noun} was {' '.join(words)} number {i}", "label": label,
                     "confidence": round(float(rng.uniform(0.3, 1.0)), 3), "topic": topic})
    f = pd.DataFrame(rows)
    # planted: three copies of one text (same label), a conflicting pair, junk, a formula-looking text
    f.loc[5, ["text", "label"]] = ["the flight was late and rude", "negative"]
    f.loc[6, ["text", "label"]] = ["The flight was late  and rude", "negative"]
    f.loc[7, ["text", "label"]] = ["the flight was late and rude", "negative"]
    f.loc[10, ["text", "label"]] = ["same words different labels", "positive"]
    f.loc[11, ["text", "label"]] = ["same words different labels", "negative"]
    f.loc[12, "text"] = "   "
    f.loc[13, "text"] = "!!!!"
    f.loc[14, "text"] = "=HYPERLINK(\"http://evil.example\",\"click\")"
    f.loc[15, "text"] = "+1 great flight"
    return f


def make_dataset(n: int = 120, seed: int = 0) -> TextDataset:
    mapping = ColumnMapping(text="text", label="label", metadata=("confidence", "topic"), agreement=None)
    return build_dataset(make_frame(n, seed), mapping, name="filter-test")


def make_reference(n: int = 80, seed: int = 1) -> TextDataset:
    f = make_frame(n, seed)
    f["text"] = f["text"].str.replace("number", "ref", regex=False)
    f.loc[f.index % 4 == 0, "topic"] = "music"
    mapping = ColumnMapping(text="text", label="label", metadata=("confidence", "topic"))
    return build_dataset(f, mapping, name="filter-test-ref")


def make_signals(ds: TextDataset, seed: int = 0) -> pd.DataFrame:
    """A wide signals frame with known flags (planted rows flagged) and seeded scores."""
    rng = np.random.default_rng(seed)
    n = len(ds)
    f = ds.frame
    texts = f["text"].fillna("")
    labels = f["label"].astype(str).to_numpy()
    # label signal: every 9th row is a label issue; a confident suggestion on every other one of those
    label_score = rng.uniform(0.3, 1.0, n)
    is_label = np.zeros(n, dtype=bool)
    is_label[np.arange(3, n, 9)] = True
    label_score[is_label] = rng.uniform(0.0, 0.2, is_label.sum())
    suggested = labels.copy()
    prob = rng.uniform(0.5, 0.99, n)
    for j, p in enumerate(np.flatnonzero(is_label)):
        suggested[p] = CLASSES[(CLASSES.index(labels[p]) + 1) % 3]
        prob[p] = 0.9 if j % 2 == 0 else 0.4
    # exact duplicates: every member of a normalised-text group is flagged
    h = exact_duplicate_codes(texts)
    empty = texts.str.strip().eq("").to_numpy()
    is_dup = h >= 0
    groups = pd.DataFrame({"h": h, "l": labels})[is_dup].groupby("h")["l"].nunique()
    conflicting = np.isin(h, groups[groups > 1].index) & is_dup
    junk = empty | texts.str.fullmatch(r"[^A-Za-z]*").to_numpy()
    outlier = rng.uniform(0.2, 1.0, n)
    outlier[[20, 21]] = [0.01, 0.02]
    pii = texts.str.contains("http", regex=False).to_numpy()
    return pd.DataFrame({
        "row_id": ds.row_ids,
        "label_score": label_score, "is_label_issue": is_label,
        "suggested_label": suggested, "suggested_label_prob": prob,
        "exact_duplicate_score": np.where(is_dup, 0.0, 1.0), "is_exact_duplicate_issue": is_dup,
        "conflicting_label_score": np.where(conflicting, 0.0, 1.0), "is_conflicting_label_issue": conflicting,
        "junk_score": np.where(junk, 0.0, 1.0), "is_junk_issue": junk,
        "outlier_score": outlier, "is_outlier_issue": outlier < 0.05,
        "pii_score": np.where(pii, 0.0, 1.0), "is_pii_issue": pii,
        "reasons": np.where(is_label, "given label disagrees with the out-of-sample prediction", ""),
    })


class Embedded:
    """EmbeddingResult-like: ``vectors`` and ``valid``."""

    def __init__(self, vectors: np.ndarray, valid: np.ndarray):
        self.vectors = vectors
        self.valid = valid


def make_embeddings(ds: TextDataset, seed: int = 0, dim: int = 16) -> Embedded:
    """Unit vectors around one centre per (topic, class) (empty texts get zeros and valid=False).

    Every 9th row from row 3 sits with the *next* class: its given label is the planted mistake a
    label signal should find (the same rows make_signals flags).
    """
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(123).normal(size=(len(TOPICS), len(CLASSES), dim))
    topic = ds.frame["topic"].astype(str).map({t: i for i, t in enumerate(TOPICS)}).fillna(0).astype(int).to_numpy()
    cls = ds.labels.astype(str).map({c: i for i, c in enumerate(CLASSES)}).fillna(0).astype(int).to_numpy()
    flip = np.zeros(len(ds), dtype=bool)
    flip[np.arange(3, len(ds), 9)] = True
    cls = np.where(flip, (cls + 1) % len(CLASSES), cls)
    x = 0.7 * centres[topic, cls] + 0.5 * rng.normal(size=(len(ds), dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    valid = ~ds.texts.fillna("").str.strip().eq("").to_numpy()
    x[~valid] = 0
    return Embedded(x.astype(np.float32), valid)


def page_signals(ds: TextDataset, ref: TextDataset, emb: Embedded, ref_emb: Embedded, workspace) -> pd.DataFrame:
    """The signals the test page shows: dq_core.signals.run_signals on the synthetic embeddings when the
    signals module is there (DQ_FILTER_PAGE_SIGNALS=handmade forces the hand-built frame)."""
    import os

    if os.environ.get("DQ_FILTER_PAGE_SIGNALS") != "handmade":
        try:
            from dq_core.signals import run_signals
        except ImportError:
            run_signals = None
        if run_signals is not None:
            return run_signals(ds, embeddings=emb.vectors, reference=ref, reference_embeddings=ref_emb.vectors,
                               workspace=workspace)
    return make_signals(ds)
