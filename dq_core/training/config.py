"""TrainConfig: every setting of a run in one frozen dataclass, validated with fix-it messages.

Defaults are chosen so the transformer finishes on the tweets demo in under three minutes on a
2-core CPU: a stratified cap of 3,000 training rows, max length 64, one epoch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace

from dq_core.errors import DataError

TRAINERS = ("baseline", "transformer")
TEST_SOURCES = ("auto", "split", "reference", "holdout", "external")
BALANCING = ("none", "oversample", "augment")

DEFAULT_MAX_TRAIN_ROWS = {"transformer": 3000, "baseline": 0}  # 0 = no cap


@dataclass(frozen=True)
class TrainConfig:
    trainer: str = "transformer"
    name: str = ""
    # --- model (transformer)
    model: str | None = None  # None = bundled all-MiniLM-L6-v2; else a local HF model folder
    learning_rate: float = 1e-4
    batch_size: int = 16
    epochs: float = 1.0
    max_steps: int = 0  # > 0 overrides epochs (tests, quick demos)
    max_length: int = 64
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    seed: int = 0
    early_stopping_patience: int = 0  # evaluations without val-loss improvement; 0 = off
    evals_per_epoch: int = 4  # validation-loss points per epoch (the live validation curve)
    class_weights: bool = False
    mixed_precision: str = "auto"  # "auto": fp16/bf16 on CUDA, full precision elsewhere; "no"
    # --- baseline
    c: float = 1.0  # inverse L2 strength of the logistic regression
    embedding_model: str | None = None  # None = bundled model
    # --- data
    max_train_rows: int | None = None  # None = per-trainer default (DEFAULT_MAX_TRAIN_ROWS); 0 = no cap
    val_fraction: float = 0.1
    max_val_rows: int = 500
    test_source: str = "auto"  # auto: the user's test split if any, else a stored stratified holdout
    test_fraction: float = 0.2
    max_test_rows: int = 2000
    balancing: str = "none"
    balance_target: float = 0.5  # raise each class to at least this share of the largest class
    # --- filtering (a FilterRecipe plugs in here; see training/recipe.py)
    recipe: str | None = None  # a recipe file path or name, applied by the worker
    keep_row_ids: list | None = None  # rows to keep for training (None = all); test rows are never filtered
    relabel: dict = field(default_factory=dict)  # {row_id (as str): new label}
    slice_columns: list | None = None  # metadata columns to slice test metrics by (None = guess)
    cluster_slices: int = 6  # k of the embedding-cluster slice (baseline: free; transformer: needs embeddings)

    @property
    def effective_max_train_rows(self) -> int:
        return DEFAULT_MAX_TRAIN_ROWS.get(self.trainer, 0) if self.max_train_rows is None else self.max_train_rows

    def validate(self) -> TrainConfig:
        def need(ok: bool, msg: str) -> None:
            if not ok:
                raise DataError(msg)

        need(self.trainer in TRAINERS, f"unknown trainer '{self.trainer}'; use one of {', '.join(TRAINERS)}")
        need(1 <= self.batch_size <= 1024, f"batch size {self.batch_size} is out of range; use 1 to 1024")
        need(8 <= self.max_length <= 8192, f"max length {self.max_length} is out of range; use 8 to 8192 tokens")
        need(0 < self.learning_rate < 1, f"learning rate {self.learning_rate} is out of range; use e.g. 1e-5 to 1e-3")
        need(0 < self.epochs <= 100 or self.max_steps > 0,
             f"epochs {self.epochs} is out of range; use a value above 0 and up to 100")
        need(0 <= self.max_steps <= 1_000_000, f"max steps {self.max_steps} is out of range")
        need(0 <= self.weight_decay < 1, f"weight decay {self.weight_decay} is out of range; use 0 to <1")
        need(0 <= self.warmup_ratio < 1, f"warm-up ratio {self.warmup_ratio} is out of range; use 0 to <1")
        need(0 <= self.early_stopping_patience <= 100, "early-stopping patience must be 0 (off) to 100")
        need(1 <= self.evals_per_epoch <= 100, "evaluations per epoch must be 1 to 100")
        need(self.mixed_precision in ("auto", "no"), "mixed precision must be 'auto' or 'no'")
        need(self.c > 0, f"C {self.c} must be above 0")
        need(self.max_train_rows is None or self.max_train_rows >= 0,
             "max training rows must be 0 (no cap) or more")
        need(0 <= self.val_fraction <= 0.5, f"validation fraction {self.val_fraction} is out of range; use 0 to 0.5")
        need(self.max_val_rows >= 0, "max validation rows must be 0 or more")
        need(self.test_source in TEST_SOURCES, f"unknown test source '{self.test_source}'; use one of "
             f"{', '.join(TEST_SOURCES)}")
        need(0 < self.test_fraction < 0.9, f"test fraction {self.test_fraction} is out of range; use e.g. 0.2")
        need(self.max_test_rows >= 0, "max test rows must be 0 (no cap) or more")
        need(self.balancing in BALANCING, f"unknown balancing '{self.balancing}'; use one of {', '.join(BALANCING)}")
        need(0 < self.balance_target <= 1, "balance target must be in (0, 1]")
        need(self.early_stopping_patience == 0 or self.val_fraction > 0,
             "early stopping needs a validation split; set a validation fraction above 0")
        need(0 <= self.cluster_slices <= 50, "cluster slices must be 0 (off) to 50")
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise DataError(f"unknown training setting(s): {', '.join(unknown)}")
        return cls(**d)

    def with_(self, **changes) -> TrainConfig:
        return replace(self, **changes)
