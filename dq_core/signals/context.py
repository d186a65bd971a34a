"""SignalContext: the shared, lazily computed inputs every signal reads.

Embeddings, the kNN graph, reference neighbours and the K-fold out-of-sample probabilities are each
computed at most once per context, on first use, so a run of ten signals pays for one search and one
cross-validation. Signals only read from it.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from dq_core.data.dataset import TextDataset
from dq_core.data.workspace import Workspace, config_key
from dq_core.errors import DataError
from dq_core.space.neighbors import GRAPH_K as NEIGHBORS_GRAPH_K
from dq_core.util.cores import usable_cores
from dq_core.util.progress import Progress, fraction

# One graph serves every signal (and Coverage: same width, same cache entry); near duplicates and
# outliers read its first 10 columns, the label signal all 30.
GRAPH_K = NEIGHBORS_GRAPH_K
OOF_VERSION = 2  # bump when the K-fold classifier changes, so cached probabilities are not reused
FOLDS_MESSAGE = "out-of-sample probabilities"  # what kfold_probabilities' progress says it is doing


@dataclass(frozen=True)
class OofResult:
    """K-fold out-of-sample class probabilities from logistic regression on the embeddings (or the user's own:
    then ``n_folds`` is 0)."""

    probs: np.ndarray  # (n, k) rows sum to 1; unlabelled rows get the fold models' average
    classes: tuple[str, ...]
    n_folds: int
    class_counts: np.ndarray  # labelled rows per class
    unreliable: tuple[str, ...]  # classes too small for a trustworthy out-of-sample estimate


class SignalContext:
    """Dataset + shared inputs. Pass ``embeddings`` to skip the model (and ``knn``, a self-graph of them, to
    skip the search); everything else is computed lazily, once."""

    def __init__(self, ds: TextDataset, *, embeddings: np.ndarray | None = None,
                 reference: TextDataset | None = None, reference_embeddings: np.ndarray | None = None,
                 model: str | None = None, workspace: Workspace | None = None, seed: int = 0,
                 progress: Progress | None = None, graph_k: int = GRAPH_K, knn=None,
                 pred_probs: np.ndarray | None = None):
        self.ds = ds
        self.reference = reference
        self.model = model
        self.workspace = workspace
        self.seed = int(seed)
        self.graph_k = graph_k
        self._progress = progress
        self._given_emb = embeddings
        self._given_ref_emb = reference_embeddings
        self._knn = knn  # a precomputed self-graph (neighbors.KnnResult) of these embeddings, if any
        # The user's own out-of-sample class probabilities (sorted class order): they replace the K-fold
        # logistic regression wherever the label signal would read it.
        if pred_probs is None and workspace is not None:
            from dq_core.space.given_store import load_given_pred_probs

            # A dataset stored with the user's probabilities (Load page): its fingerprint already says so.
            pred_probs = load_given_pred_probs(workspace, ds.fingerprint, len(ds))
        self._pred_probs = pred_probs
        self._oof: dict[tuple, OofResult] = {}
        self._memo: dict[str, object] = {}
        self.timings: dict[str, float] = {}  # seconds spent on shared inputs (graph, folds, embeddings)
        if embeddings is not None and len(embeddings) != len(ds):
            raise DataError(f"{len(embeddings)} embedding rows for {len(ds)} dataset rows")
        if reference is not None and reference_embeddings is not None and len(reference_embeddings) != len(reference):
            raise DataError(f"{len(reference_embeddings)} reference embedding rows for {len(reference)} rows")
        if pred_probs is not None and np.shape(pred_probs) != (len(ds), len(ds.classes)):
            raise DataError(f"pred_probs has shape {np.shape(pred_probs)}; expected ({len(ds)}, {len(ds.classes)}): "
                            "one row per dataset row, one column per class in sorted order")

    # ------------------------------------------------------------ basics
    def __len__(self) -> int:
        return len(self.ds)

    def rng(self, key: str) -> np.random.Generator:
        """A fresh Generator per signal key: results do not depend on which signals ran before."""
        salt = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "little")
        return np.random.default_rng([self.seed, salt])

    def progress(self, message: str, fraction: float = 0.0) -> None:
        if self._progress is not None:
            self._progress(message, float(fraction))

    def _counted(self, message: str, done: float | None = None, total: float = 1.0) -> None:
        """A :class:`Progress` for the shared inputs' jobs, which count (texts, folds): passed on as the
        fraction done, the one form the context reports in."""
        self.progress(message, fraction(done or 0.0, total))

    def _timed(self, what: str, fn: Callable[[], object]):
        t0 = time.perf_counter()
        out = fn()
        self.timings[what] = round(self.timings.get(what, 0.0) + time.perf_counter() - t0, 3)
        return out

    def memo(self, key: str, fn: Callable[[], object]):
        """Compute-once storage for intermediate results several signals share."""
        if key not in self._memo:
            self._memo[key] = fn()
        return self._memo[key]

    @cached_property
    def texts(self) -> pd.Series:
        return self.ds.texts

    @cached_property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.ds.classes)

    @cached_property
    def label_codes(self) -> np.ndarray:
        """Class index per row, -1 where the label is missing."""
        lab = self.ds.labels.astype("string")
        codes = pd.Categorical(lab, categories=list(self.classes)).codes
        return np.asarray(codes, dtype=np.int64)

    def available(self) -> set[str]:
        """What this context can provide (``embeddings`` is assumed computable; it fails loudly if not)."""
        out = {"embeddings", "text"}
        if len(self.classes) >= 2:
            out.add("labels")
        if self.reference is not None and len(self.reference):
            out.add("reference")
        if len(self.ds.mapping.annotators) >= 2:
            out.add("annotators")
        return out

    # ------------------------------------------------------------ embeddings + neighbours
    @cached_property
    def _embedding_pair(self) -> tuple[np.ndarray, np.ndarray]:
        if self._given_emb is not None:
            v = np.ascontiguousarray(self._given_emb, dtype=np.float32)
            return v, np.linalg.norm(v, axis=1) > 0
        from dq_core.space.embed import embed_dataset

        self.progress("embedding texts", 0.0)
        res = self._timed("embeddings", lambda: embed_dataset(
            self.ds, model=self.model, workspace=self.workspace,
            progress=lambda _message, done=None, total=1.0: self._counted("embedding texts", done, total)))
        return res.vectors, res.valid

    @property
    def embeddings(self) -> np.ndarray:
        return self._embedding_pair[0]

    @property
    def valid(self) -> np.ndarray:
        """False for rows without an embedding (empty texts get a zero vector)."""
        return self._embedding_pair[1]

    def knn(self, k: int):
        """The shared self-graph (neighbours exclude the row itself), first ``k`` columns."""
        from dq_core.space.neighbors import KnnResult, find_neighbors

        n = len(self.ds)
        if n < 2:
            raise DataError("nearest-neighbour signals need at least 2 rows")
        k = min(k, n - 1)
        if self._knn is None or self._knn.k < k:
            self.progress("nearest-neighbour graph", 0.0)
            emb = self.embeddings
            self._knn = self._timed("knn graph", lambda: find_neighbors(
                emb, k=min(max(k, self.graph_k), n - 1), seed=self.seed, workspace=self.workspace))
        g = self._knn
        return KnnResult(g.indices[:, :k], g.distances[:, :k], g.exact)

    @cached_property
    def reference_embeddings(self) -> np.ndarray:
        if self.reference is None:
            raise DataError("no reference/test rows were given; load a reference first")
        if self._given_ref_emb is not None:
            ref = np.ascontiguousarray(self._given_ref_emb, dtype=np.float32)
            if ref.shape[1] != self.embeddings.shape[1]:
                raise DataError(f"the reference embeddings have {ref.shape[1]} dimensions and the dataset's "
                                f"{self.embeddings.shape[1]}; embed both with the same model")
            return ref
        from dq_core.space.embed import embed_dataset

        self.progress("embedding reference texts", 0.0)
        ref = embed_dataset(self.reference, model=self.model, workspace=self.workspace).vectors
        if self._given_emb is not None and ref.shape[1] != self.embeddings.shape[1]:
            raise DataError(f"the given embeddings have {self.embeddings.shape[1]} dimensions but the model embeds "
                            f"the reference in {ref.shape[1]}; pass the reference's vectors from the same model "
                            "too (--reference-embeddings FILE.npy)")
        return ref

    def nearest_reference(self):
        """For each dataset row, its nearest reference row (cosine)."""
        from dq_core.space.neighbors import find_neighbors

        ref_emb, emb = self.reference_embeddings, self.embeddings
        return self.memo("nearest_reference", lambda: self._timed("reference neighbours", lambda: find_neighbors(
            ref_emb, emb, k=1, seed=self.seed, workspace=self.workspace)))

    # ------------------------------------------------------------ out-of-sample probabilities
    def oof_probabilities(self, *, folds: int = 5, C: float = 1.0, min_class_rows: int = 10) -> OofResult:
        key = (folds, float(C), min_class_rows)
        if key not in self._oof:
            self._oof[key] = self._compute_oof(folds, C, min_class_rows)
        return self._oof[key]

    def _compute_oof(self, folds: int, C: float, min_class_rows: int) -> OofResult:
        codes = self.label_codes
        k = len(self.classes)
        if k < 2:
            raise DataError("label checks need at least two classes; this dataset has "
                            f"{k} ({', '.join(self.classes) or 'none'})")
        counts = np.bincount(codes[codes >= 0], minlength=k)
        if self._pred_probs is not None:
            probs = np.asarray(self._pred_probs, dtype=np.float64)
            return self._oof_result(probs, counts, 0, min_class_rows)
        X = self.embeddings
        cache_key = None
        ws = self.workspace
        if ws is not None:
            from dq_core.util.fingerprint import array_fingerprint

            cache_key = config_key("oof", OOF_VERSION, array_fingerprint(X), array_fingerprint(codes), folds, C, self.seed)
            hit = ws.load_array("oof", cache_key)
            if hit is not None and hit.shape == (len(codes), k):
                return self._oof_result(hit, counts, folds, min_class_rows)
        probs = self._timed("out-of-sample folds", lambda: kfold_probabilities(
            X, codes, k, folds=folds, C=C, seed=self.seed, progress=self._counted))
        if ws is not None and cache_key is not None:
            ws.save_array("oof", cache_key, probs)
        return self._oof_result(probs, counts, folds, min_class_rows)

    def _oof_result(self, probs, counts, folds, min_class_rows) -> OofResult:
        unreliable = tuple(c for c, m in zip(self.classes, counts, strict=True) if m < min_class_rows)
        return OofResult(probs=probs, classes=self.classes, n_folds=folds, class_counts=counts,
                         unreliable=unreliable)


def kfold_probabilities(X: np.ndarray, codes: np.ndarray, k: int, *, folds: int = 5, C: float = 1.0,
                        seed: int = 0, progress: Progress | None = None) -> np.ndarray:
    """Out-of-sample P(class | x) for labelled rows (``codes >= 0``); unlabelled rows get the mean of the folds.

    Stratified folds; a class missing from a training fold (1-2 row classes) gets probability 0 from
    that fold's model rather than crashing, and its rows are reported as unreliable by the caller.
    ``progress(FOLDS_MESSAGE, done, total)`` counts the folds fitted.
    """
    lab = np.flatnonzero(codes >= 0)
    unl = np.flatnonzero(codes < 0)
    y = codes[lab]
    splits = _fold_splits(lab, y, folds, seed)
    results = _fit_folds(lambda split, start: _fit_fold(X, y, lab, unl, k, C, split, start), splits, progress)
    probs = np.zeros((len(codes), k), dtype=np.float64)
    unl_sum = np.zeros((len(unl), k))
    for te, p_te, p_unl, _m in results:
        probs[lab[te]] = p_te
        unl_sum += p_unl
    if len(unl):
        probs[unl] = unl_sum / len(splits)
    return probs


def _fold_splits(lab: np.ndarray, y: np.ndarray, folds: int, seed: int) -> list:
    """(train, test) positions into ``lab`` per fold: stratified by ``y`` when some class fills every fold."""
    from sklearn.model_selection import StratifiedKFold

    n_splits = int(min(folds, len(lab)))
    if n_splits < 2:
        raise DataError("label checks need at least two labelled rows")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "least populated class has only 1 member": handled in _fit_fold
        if np.bincount(y).max() >= n_splits:
            return list(StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(lab, y))
        # every class is smaller than the fold count: plain shuffled folds
        from sklearn.model_selection import KFold

        return list(KFold(n_splits, shuffle=True, random_state=seed).split(lab))


def _fit_fold(X: np.ndarray, y: np.ndarray, lab: np.ndarray, unl: np.ndarray, k: int, C: float, split,
              start) -> tuple:
    """One fold: (its test positions into ``lab``, their probabilities, the unlabelled rows' probabilities,
    the fitted model or None). ``start``: a model to warm-start from when it saw the same classes."""
    import copy

    from sklearn.linear_model import LogisticRegression

    tr, te = split
    ytr = y[tr]
    present = np.unique(ytr)
    p_te = np.zeros((len(te), k))
    p_unl = np.zeros((len(unl), k))
    if len(present) == 1:
        p_te[:, present[0]] = 1.0
        p_unl[:, present[0]] = 1.0
        return te, p_te, p_unl, None
    if start is not None and np.array_equal(start.classes_, present):
        m = copy.deepcopy(start)  # warm start: L-BFGS begins at the first fold's solution
    else:
        m = LogisticRegression(C=C, max_iter=1000, warm_start=True)
    m.fit(X[lab[tr]], ytr)
    p_te[:, m.classes_] = m.predict_proba(X[lab[te]])
    if len(unl):
        p_unl[:, m.classes_] = m.predict_proba(X[unl])
    return te, p_te, p_unl, m


def _fit_folds(fit_fold: Callable, splits: list, progress: Progress | None) -> list:
    """``fit_fold(split, start)`` for every split, in order: the first from zero, the rest from its model.

    The folds share 3/4 of their rows and the loss is strictly convex, so L-BFGS started at the first
    fold's solution reaches the same optimum in about half the iterations; the later folds, independent
    of each other then, run two at a time. One BLAS thread per fit: these matrices are small, and on a
    shared 2-core machine a multi-threaded BLAS was measured 8x slower (threads spinning against other
    processes); numpy and sklearn's loss release the GIL, so two fits in two threads use both cores.
    """
    from threadpoolctl import threadpool_limits

    workers = min(2, usable_cores(), len(splits) - 1)
    # catch_warnings is process-wide and not thread-safe: entered once here, around every fit
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning on near-separable folds
        first = fit_fold(splits[0], None)
        results = [first]
        if progress:
            progress(FOLDS_MESSAGE, 1, len(splits))
        if workers > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(workers) as pool:
                for i, res in enumerate(pool.map(lambda sp: fit_fold(sp, first[3]), splits[1:])):
                    results.append(res)
                    if progress:  # called from this thread only: page progress bars are not thread-safe
                        progress(FOLDS_MESSAGE, i + 2, len(splits))
        else:
            for i, sp in enumerate(splits[1:]):
                results.append(fit_fold(sp, first[3]))
                if progress:
                    progress(FOLDS_MESSAGE, i + 2, len(splits))
    return results
