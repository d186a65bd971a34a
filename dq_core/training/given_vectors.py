"""The user's own vectors for the baseline: from `dq train --embeddings`, or stored with the dataset.

A dataset opened with the user's vectors (Load › Your vectors, a `dq compute` folder) is stored under a
fingerprint of its own with the vectors beside it (dq_core.space.given_store). A baseline run on such a
dataset trains and scores on those vectors, exactly as `dq train --embeddings` does, so the baseline sees
the vectors the signals, Coverage and Shift saw. Test rows from another set (the reference, an external test
set) need that set's vectors too, of the same width: without them the run stops and says what to do
rather than mixing the user's vectors with the model's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dq_core.data.dataset import TextDataset
from dq_core.data.workspace import Workspace
from dq_core.errors import DataError

# How to get out of a mismatch on the dashboard, where the dataset's vectors were given on Load.
USE_MODEL = ("or use the embedding model for both (Load › Your vectors › “Use the embedding model again”, "
             "or train the transformer, which fine-tunes on the texts)")


@dataclass(frozen=True)
class GivenVectors:
    """The user's own vectors (EmbeddingResults, rows in input order) for the dataset and, optionally, the
    reference and the external test set; looked up by row_id."""

    dataset: object
    ds_row_ids: tuple
    reference: object | None = None
    ref_row_ids: tuple = ()
    test: object | None = None
    test_row_ids: tuple = ()
    label: str = ""  # what the run's metrics say it trained on, e.g. "your own vectors (data.npy)"

    @property
    def description(self) -> str:
        name = str(getattr(self.dataset, "model_name", ""))
        return self.label or f"your own vectors ({name.removeprefix('given:') or 'file'})"

    def rows(self, frame: pd.DataFrame, source: str, what: str) -> np.ndarray:
        emb, ids = {"dataset": (self.dataset, self.ds_row_ids), "reference": (self.reference, self.ref_row_ids),
                    "external": (self.test, self.test_row_ids)}[source]
        if emb is None:
            flag = "--reference-embeddings" if source == "reference" else "--test-embeddings"
            raise DataError(f"the {what} rows come from the {source} set, which has no given vectors; pass "
                            f"{flag} FILE.npy (same model as --embeddings)")
        rid = frame["row_id"].astype(str).str.replace(r"#aug\d+$", "", regex=True)
        pos = pd.Index([str(r) for r in ids]).get_indexer(rid)
        if (pos < 0).any():
            raise DataError(f"{int((pos < 0).sum()):,} {what} rows have no given vector (augmented texts are new "
                            "texts); with your own vectors balance by oversampling or not at all")
        if emb.dim != self.dataset.dim:
            raise DataError(f"the {source} vectors have {emb.dim} dimensions and the dataset's {self.dataset.dim}; "
                            "embed both with the same model")
        return np.asarray(emb.vectors[pos], dtype=np.float32)


def vectors_record(ws: Workspace, ds: TextDataset | None) -> dict | None:
    """What a stored dataset carries of the user's own vectors (source, width, kind), or None (one stat)."""
    from dq_core.space.given_store import given_meta

    rec = given_meta(ws, ds.fingerprint) if ds is not None else None
    return rec if rec and rec.get("embeddings") else None


def vectors_label(rec: dict) -> str:
    src = rec.get("source") or "file"
    return f"vectors from `dq compute` output ({src})" if rec.get("kind") == "compute" else f"your own vectors ({src})"


def given_test_problem(ws: Workspace, ds: TextDataset, other: TextDataset | None, side: str) -> str | None:
    """Why a baseline on ``ds``'s own vectors cannot score test rows from ``other`` (the reference or an
    external test set, named by ``side``): no vectors given for it, or vectors of another width. None when
    it can, or when ``ds`` has no vectors of the user's (then the model embeds both)."""
    rec = vectors_record(ws, ds)
    if rec is None or other is None:
        return None
    theirs = vectors_record(ws, other)
    if theirs is None:
        return (f"the test rows come from the {side}, which has no vectors of your own, while the baseline trains "
                f"on {vectors_label(rec)}; give the {side}'s vectors too (same model, Load › Your vectors), "
                + USE_MODEL)
    if theirs.get("dim") != rec.get("dim"):
        return (f"the {side}'s vectors have {theirs.get('dim')} dimensions and the dataset's {rec.get('dim')}, so "
                f"they come from different models; give the {side}'s vectors from the dataset's model "
                "(Load › Your vectors), " + USE_MODEL)
    return None


def stored_given(ws: Workspace, ds: TextDataset, *, reference: TextDataset | None = None,
                 external_test: TextDataset | None = None, test_source: str = "holdout") -> GivenVectors | None:
    """The vectors ``ds`` was stored with, as GivenVectors for the baseline; None when it has none.

    ``test_source`` (the split plan's) says where the test rows come from: the reference's or the external
    test set's vectors must be there too, of the same width, or this raises a DataError saying what to do.
    """
    from dq_core.space.embed_cache import EmbeddingResult
    from dq_core.space.given_store import load_given_embeddings

    rec = vectors_record(ws, ds)
    if rec is None:
        return None
    side = {"reference": ("reference", reference), "external": ("test set", external_test)}.get(test_source)
    if side is not None:
        problem = given_test_problem(ws, ds, side[1], side[0])
        if problem:
            raise DataError(problem)

    def load(d: TextDataset | None):
        got = load_given_embeddings(ws, d.fingerprint, len(d), d.name) if d is not None else None
        if got is None:
            return None
        vec, valid, meta = got
        return EmbeddingResult(vectors=vec, valid=valid, n_truncated=0, n_cached=len(d), n_computed=0,
                               model_name=meta.get("model_name") or f"given:{meta.get('source', '')}",
                               max_seq_length=0)

    ref = load(reference) if test_source == "reference" else None
    test = load(external_test) if test_source == "external" else None
    return GivenVectors(dataset=load(ds), ds_row_ids=tuple(ds.row_ids), reference=ref,
                        ref_row_ids=tuple(reference.row_ids) if ref is not None else (), test=test,
                        test_row_ids=tuple(external_test.row_ids) if test is not None else (),
                        label=vectors_label(rec))
