"""Test / validation / train splits, with the test set fixed *before* any filtering.

Why the order matters: runs with and without a FilterRecipe must be scored on the same rows, so the
test set is chosen from the unfiltered dataset (the user's test split, a labelled reference, an
external test file, or a stratified held-out split stored in the workspace keyed by the dataset
fingerprint) and the recipe's keep mask / relabels only ever touch the rows left for training.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dq_core.data.dataset import TextDataset
from dq_core.data.workspace import Workspace, config_key
from dq_core.errors import DataError
from dq_core.training.config import TrainConfig
from dq_core.util.sampling import stratified_sample

TEST_SPLIT_NAMES = ("test", "testing", "heldout", "held_out", "holdout")
VAL_SPLIT_NAMES = ("validation", "valid", "val", "dev", "development", "eval")
HOLDOUT_SEED = 0  # fixed, independent of the training seed: changing the seed must not move the test set
TEXT_COLUMNS = ("row_id", "text", "label")


@dataclass(frozen=True)
class SplitPlan:
    train: pd.DataFrame  # row_id, text, label (+ metadata): filtered, relabelled, capped, maybe balanced
    val: pd.DataFrame
    test: pd.DataFrame
    labels: tuple[str, ...]  # the model's classes, sorted
    test_source: str  # "split" | "reference" | "external" | "holdout"
    test_key: str  # digest of the test rows; two runs with the same key were scored on the same rows
    counts: dict  # what happened to the rows, for the report

    def summary(self) -> dict:
        return {"labels": list(self.labels), "test_source": self.test_source, "test_key": self.test_key,
                "n_train": len(self.train), "n_val": len(self.val), "n_test": len(self.test),
                "train_class_counts": _class_counts(self.train), "test_class_counts": _class_counts(self.test),
                **self.counts}


def _class_counts(frame: pd.DataFrame) -> dict[str, int]:
    return {str(k): int(v) for k, v in frame["label"].value_counts().sort_index().items()}


def _ids_as_str(values) -> pd.Index:
    return pd.Index([str(v) for v in values])


def test_rows_key(frame: pd.DataFrame) -> str:
    h = hashlib.blake2b(digest_size=12)
    for col in TEXT_COLUMNS:
        h.update(pd.util.hash_pandas_object(frame[col].astype("string").fillna("\x00"), index=False)
                 .to_numpy().tobytes())
    return h.hexdigest()


def stratified_fraction(labels: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Positions of about ``fraction`` of each class (rounded), always leaving a class at least one row."""
    labels = np.asarray(labels, dtype=object)
    picked = []
    for c in sorted(set(labels.tolist())):
        pos = np.flatnonzero(labels == c)
        k = min(int(round(fraction * len(pos))), len(pos) - 1)
        if k > 0:
            picked.append(rng.permutation(pos)[:k])
    return np.sort(np.concatenate(picked)) if picked else np.zeros(0, dtype=np.int64)


def holdout_row_ids(ds: TextDataset, *, ws: Workspace, fraction: float, max_rows: int) -> list[str]:
    """The stratified held-out test rows of ``ds``: computed once, stored in the workspace, reused."""
    key = config_key("holdout", ds.fingerprint, fraction, max_rows, HOLDOUT_SEED)
    stored = ws.load_json("test_splits", key)
    if stored is not None and "row_ids" in stored:
        return [str(r) for r in stored["row_ids"]]
    labelled = ds.frame[ds.frame["label"].notna()]
    rng = np.random.default_rng(HOLDOUT_SEED)
    pos = stratified_fraction(labelled["label"].to_numpy(), fraction, rng)
    if max_rows and len(pos) > max_rows:
        pos = pos[stratified_sample(labelled["label"].to_numpy()[pos], max_rows, rng)]
    ids = [str(r) for r in labelled["row_id"].to_numpy()[pos]]
    ws.save_json("test_splits", key, {"dataset": ds.fingerprint, "fraction": fraction, "max_rows": max_rows,
                                      "seed": HOLDOUT_SEED, "row_ids": ids})
    return ids


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reset_index(drop=True).copy()
    out["text"] = out["text"].fillna("").astype(str)
    out["label"] = out["label"].astype(str)
    return out


def _split_values(ds: TextDataset) -> pd.Series | None:
    if not ds.has_split:
        return None
    return ds.frame["split"].astype("string").str.strip().str.lower()


def choose_test_source(cfg: TrainConfig, ds: TextDataset, reference: TextDataset | None,
                       external: TextDataset | None) -> str:
    if cfg.test_source != "auto":
        return cfg.test_source
    if external is not None:
        return "external"
    split = _split_values(ds)
    if split is not None and bool(split.isin(TEST_SPLIT_NAMES).any()):
        return "split"
    return "holdout"


def make_splits(ds: TextDataset, cfg: TrainConfig, *, ws: Workspace, reference: TextDataset | None = None,
                external_test: TextDataset | None = None,
                keep_mask: np.ndarray | None = None, relabel: dict | None = None) -> SplitPlan:
    """Fix the test set on the unfiltered data, then filter/relabel/cap the rest into train + validation.

    ``keep_mask`` (bool per row of ``ds``) and ``cfg.keep_row_ids`` both restrict training rows;
    ``relabel`` / ``cfg.relabel`` map row_id -> new label. Neither touches the test set.
    """
    frame = ds.frame
    labelled = frame["label"].notna().to_numpy()
    source = choose_test_source(cfg, ds, reference, external_test)
    ids = _ids_as_str(frame["row_id"])
    split = _split_values(ds)
    test, in_test = _test_rows(ds, cfg, source, ids=ids, split=split, ws=ws, reference=reference,
                               external_test=external_test)
    pool_mask = labelled & ~in_test
    is_val_split = (split.isin(VAL_SPLIT_NAMES).fillna(False).to_numpy() if split is not None
                    else np.zeros(len(frame), dtype=bool))
    pool, n_filtered = _filtered_pool(frame, ids, pool_mask, cfg, keep_mask)
    pool, n_relabelled = _relabelled(pool, {**(cfg.relabel or {}), **(relabel or {})})
    if len(pool) == 0:
        raise DataError("no training rows are left after filtering; relax the recipe")

    rng = np.random.default_rng(cfg.seed)  # draws the validation rows, then the cap's rows
    val, train = _validation_split(pool, is_val_split[pool.index.to_numpy()], cfg, rng)
    n_before_cap = len(train)
    cap = cfg.effective_max_train_rows
    if cap and len(train) > cap:
        train = train.iloc[stratified_sample(train["label"].to_numpy(), cap, rng)]

    train_classes = sorted(train["label"].astype(str).unique().tolist())
    _check_classes(train_classes, test, frame, pool_mask, source)
    n_val_dropped = int((~val["label"].astype(str).isin(train_classes)).sum())
    val = val[val["label"].astype(str).isin(train_classes)]

    test = _canonical(test)
    counts = {"n_labelled": int(labelled.sum()), "n_pool": int(pool_mask.sum()), "n_filtered_out": n_filtered,
              "n_relabelled": n_relabelled, "n_capped_out": n_before_cap - len(train), "max_train_rows": cap,
              "n_val_dropped_unknown_class": n_val_dropped}
    return SplitPlan(train=_canonical(train), val=_canonical(val), test=test, labels=tuple(train_classes),
                     test_source=source, test_key=test_rows_key(test), counts=counts)


def _test_rows(ds: TextDataset, cfg: TrainConfig, source: str, *, ids: pd.Index, split: pd.Series | None,
               ws: Workspace, reference: TextDataset | None,
               external_test: TextDataset | None) -> tuple[pd.DataFrame, np.ndarray]:
    """(the labelled test rows from ``source``, which rows of ``ds`` they are: none for a reference or an
    external file). ``ids``: the row ids as strings; ``split``: the split column, normalised."""
    frame = ds.frame
    labelled = frame["label"].notna().to_numpy()
    in_test = np.zeros(len(frame), dtype=bool)
    if source == "split":
        if split is None or not bool(split.isin(TEST_SPLIT_NAMES).any()):
            raise DataError("the test source is the dataset's test split, but no row has a split named "
                            f"{' / '.join(TEST_SPLIT_NAMES[:2])}; choose the held-out split instead")
        in_test = split.isin(TEST_SPLIT_NAMES).fillna(False).to_numpy()
        test = frame[in_test & labelled]
    elif source == "reference":
        if reference is None:
            raise DataError("the test source is the reference, but no reference is set; load a labelled "
                            "reference or choose the held-out split")
        test = reference.frame[reference.frame["label"].notna()]
        if len(test) == 0:
            raise DataError("the reference has no labels, so it cannot be a test set; choose the held-out split")
    elif source == "external":
        if external_test is None:
            raise DataError("no test file was given (--test TEST)")
        test = external_test.frame[external_test.frame["label"].notna()]
        if len(test) == 0:
            raise DataError("the test file has no labelled rows")
    else:
        held = set(holdout_row_ids(ds, ws=ws, fraction=cfg.test_fraction, max_rows=cfg.max_test_rows))
        in_test = ids.isin(held)
        test = frame[in_test]
    if len(test) == 0:
        raise DataError("the test set is empty; the dataset needs more labelled rows")
    return test, in_test


def _filtered_pool(frame: pd.DataFrame, ids: pd.Index, pool_mask: np.ndarray, cfg: TrainConfig,
                   keep_mask: np.ndarray | None) -> tuple[pd.DataFrame, int]:
    """(the training pool's rows the keep mask and ``cfg.keep_row_ids`` keep, how many of the pool they drop).
    Only rows outside the test set are ever dropped or relabelled."""
    keep = np.ones(len(frame), dtype=bool)
    if keep_mask is not None:
        keep_mask = np.asarray(keep_mask, dtype=bool)
        if keep_mask.shape != (len(frame),):
            raise DataError(f"the keep mask has {keep_mask.shape[0]} entries but the dataset has {len(frame)} rows")
        keep &= keep_mask
    if cfg.keep_row_ids is not None:
        keep &= ids.isin(_ids_as_str(cfg.keep_row_ids))
    return frame[pool_mask & keep].copy(), int((pool_mask & ~keep).sum())


def _relabelled(pool: pd.DataFrame, relabel: dict) -> tuple[pd.DataFrame, int]:
    """(``pool`` with the labels ``relabel`` (row_id -> label) gives, how many labels that changed)."""
    relabels = {str(k): str(v) for k, v in relabel.items()}
    if not relabels:
        return pool, 0
    pid = pool["row_id"].astype(str)
    hit = pid.isin(relabels.keys()).to_numpy()
    new = pid[hit].map(relabels)
    changed = new.to_numpy() != pool["label"].astype(str).to_numpy()[hit]
    pool.loc[hit, "label"] = new.to_numpy()
    return pool, int(changed.sum())


def _validation_split(pool: pd.DataFrame, pool_val: np.ndarray, cfg: TrainConfig,
                      rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(validation, train) from the pool: the dataset's own validation split when it has one (``pool_val``),
    else a stratified ``cfg.val_fraction``; at most ``cfg.max_val_rows`` validation rows."""
    if pool_val.any():
        val = pool[pool_val]
        train = pool[~pool_val]
        if cfg.max_val_rows and len(val) > cfg.max_val_rows:
            val = val.iloc[stratified_sample(val["label"].to_numpy(), cfg.max_val_rows, rng)]
        return val, train
    if cfg.val_fraction > 0:
        vpos = stratified_fraction(pool["label"].to_numpy(), cfg.val_fraction, rng)
        if cfg.max_val_rows and len(vpos) > cfg.max_val_rows:
            vpos = vpos[stratified_sample(pool["label"].to_numpy()[vpos], cfg.max_val_rows, rng)]
        vmask = np.zeros(len(pool), dtype=bool)
        vmask[vpos] = True
        return pool[vmask], pool[~vmask]
    return pool.iloc[:0], pool


def _check_classes(train_classes: list[str], test: pd.DataFrame, frame: pd.DataFrame, pool_mask: np.ndarray,
                   source: str) -> None:
    """DataError unless the training rows hold two classes or more and every test class."""
    if len(train_classes) < 2:
        only = f" (only '{train_classes[0]}')" if train_classes else ""
        raise DataError(f"training needs at least two classes, but the training rows hold {len(train_classes)}"
                        f"{only}; relax the recipe or check the labels")
    test_classes = set(test["label"].astype(str).unique().tolist())
    missing = sorted(test_classes - set(train_classes))
    unknown = sorted(test_classes - set(frame.loc[pool_mask, "label"].astype(str)))
    if unknown:  # not a filtering matter: the two label sets differ
        raise DataError(f"label mismatch: the test set ({source}) has class{'es' if len(unknown) > 1 else ''} "
                        f"{', '.join(repr(u) for u in unknown)} that no training row of the dataset has "
                        f"(dataset classes: {', '.join(repr(c) for c in sorted(set(frame['label'].dropna().astype(str))))}); "
                        "choose a test set with the dataset's labels, or map the labels first")
    if missing:
        raise DataError(f"class{'es' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)} "
                        "ha" + ("ve" if len(missing) > 1 else "s") + " test rows but no training rows (the "
                        "recipe or the cap removed them all); keep some rows of that class")
