"""Fine-tune a local Hugging Face encoder (default: the bundled all-MiniLM-L6-v2) as a text classifier.

Uses ``transformers.Trainer`` (with accelerate) and a TrainerCallback that reports steps, epochs, ETA
and the train/validation loss curves. Only local folders, ``trust_remote_code`` off, safetensors only:
a model folder cannot run code on this machine. Dynamic padding; fp16/bf16 on CUDA when present.
"""

from __future__ import annotations

import errno
import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dq_core.data import assets
from dq_core.errors import DataError
from dq_core.training.config import TrainConfig
from dq_core.training.progress import Cancelled, NullReporter, Reporter

# --------------------------------------------------------------------------- model folder checks

def resolve_model_folder(model: str | os.PathLike | None) -> Path:
    """The bundled backbone for None/"default", else a local folder that must exist."""
    if model is None or str(model).strip() in ("", "default", "all-MiniLM-L6-v2"):
        return assets.default_model_path()
    p = Path(str(model)).expanduser()
    if not p.exists():
        raise DataError(f"model folder '{model}' does not exist; give a local Hugging Face model folder "
                        "(downloads are not made at training time)")
    if not p.is_dir():
        raise DataError(f"'{model}' is a file; give the folder that holds config.json and the weights")
    return p.resolve()


def check_model_folder(model: str | os.PathLike | None, *, max_length: int | None = None):
    """Validate a backbone folder; returns (folder, config). DataError says what is wrong and how to fix it."""
    from transformers import AutoConfig
    from transformers.models.auto.modeling_auto import MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING

    folder = resolve_model_folder(model)
    if not (folder / "config.json").exists():
        raise DataError(f"'{folder.name}' is not a Hugging Face model folder (no config.json inside)")
    if not any(folder.glob("*.safetensors")):
        raise DataError(f"'{folder.name}' has no .safetensors weights; only safetensors are loaded "
                        "(pickled .bin weights can run code). Re-save the model with safe_serialization")
    try:
        config = AutoConfig.from_pretrained(str(folder), trust_remote_code=False, local_files_only=True)
    except Exception as exc:  # noqa: BLE001 - ValueError for unknown/remote-code types, OSError for bad JSON
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise DataError(f"'{folder.name}' cannot be loaded as a model without remote code ({first})") from None
    if type(config) not in MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING:
        raise DataError(f"'{folder.name}' (model type '{config.model_type}') is not a classifier backbone: "
                        "transformers has no sequence-classification head for it; choose an encoder such as "
                        "BERT, MiniLM, RoBERTa or DeBERTa")
    limit = getattr(config, "max_position_embeddings", None)
    if max_length and limit and max_length > limit:
        raise DataError(f"max length {max_length} is above what '{folder.name}' supports ({limit} tokens)")
    if not any((folder / f).exists() for f in ("tokenizer.json", "vocab.txt", "tokenizer_config.json",
                                               "spiece.model", "vocab.json")):
        raise DataError(f"'{folder.name}' has no tokenizer files; save the tokenizer next to the model")
    return folder, config


def load_backbone(model: str | os.PathLike | None, labels: tuple[str, ...], *, max_length: int | None = None):
    """(tokenizer, model) with a fresh classification head of len(labels) outputs and id2label set."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder, _ = check_model_folder(model, max_length=max_length)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # weight-loading bars are noise in a run log / the CLI's stderr
    id2label = {i: lab for i, lab in enumerate(labels)}
    # transformers 5 prints a "LOAD REPORT" table flagging the classifier head as MISSING: expected (the
    # head is new, that is what fine-tuning trains) and alarming in a user's run log, so loading is quiet.
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        tok = AutoTokenizer.from_pretrained(str(folder), trust_remote_code=False, local_files_only=True)
        net = AutoModelForSequenceClassification.from_pretrained(
            str(folder), num_labels=len(labels), id2label=id2label, label2id={v: k for k, v in id2label.items()},
            trust_remote_code=False, use_safetensors=True, local_files_only=True, ignore_mismatched_sizes=True,
            dtype=torch.float32)
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - any loading failure is a bad folder for the user
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise DataError(f"could not load '{folder.name}' as a classifier: {first}") from None
    finally:
        hf_logging.set_verbosity(verbosity)
    net.config.problem_type = "single_label_classification"
    return tok, net


# --------------------------------------------------------------------------- data

class EncodedTexts:
    """A map-style dataset of tokenised rows (no padding: the collator pads each batch to its longest)."""

    def __init__(self, encodings: dict[str, list], labels: np.ndarray | None = None):
        self.enc = encodings
        self.labels = labels
        self.n = len(next(iter(encodings.values())))

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict:
        item = {k: v[i] for k, v in self.enc.items()}
        if self.labels is not None:
            item["labels"] = int(self.labels[i])
        return item


def encode(tokenizer, texts: list[str], labels: np.ndarray | None, max_length: int) -> EncodedTexts:
    enc = tokenizer([str(t) for t in texts], truncation=True, max_length=max_length, padding=False)
    enc = {k: v for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
    return EncodedTexts(enc, labels)


def label_ids(frame: pd.DataFrame, labels: tuple[str, ...]) -> np.ndarray:
    index = {lab: i for i, lab in enumerate(labels)}
    return np.array([index[str(v)] for v in frame["label"]], dtype=np.int64)


def class_weight_vector(y: np.ndarray, k: int) -> np.ndarray:
    """'balanced' weights n / (k * n_c) for label ids 0..k-1; 0 for a label absent from ``y``."""
    from sklearn.utils.class_weight import compute_class_weight

    present = np.unique(y)
    w = np.zeros(k)
    if len(present):
        # scikit-learn divides by the classes present in y; the loss takes a weight for each of the k labels
        w[present] = compute_class_weight("balanced", classes=present, y=y) * len(present) / k
    return w


# --------------------------------------------------------------------------- trainer pieces

def _progress_callback(reporter: Reporter, *, span: tuple[float, float], n_test: int, min_interval: float = 1.0):
    from transformers import TrainerCallback

    class ProgressCallback(TrainerCallback):
        """Writes step/epoch/ETA at most once a second, and every logged loss as a history point."""

        def __init__(self):
            self.t0 = None
            self.last = 0.0

        def on_train_begin(self, args, state, control, **kw):
            self.t0 = time.monotonic()
            reporter.update(phase="training", step=0, total_steps=state.max_steps, epoch=0.0,
                            message=f"training: {state.max_steps} steps")

        def on_step_end(self, args, state, control, **kw):
            if reporter.should_stop():
                control.should_training_stop = True
            now = time.monotonic()
            if now - self.last < min_interval and state.global_step < state.max_steps:
                return
            self.last = now
            frac = state.global_step / max(1, state.max_steps)
            per_step = (now - self.t0) / max(1, state.global_step)
            remaining = per_step * (state.max_steps - state.global_step)
            # Test inference runs about 3x faster per row than a training step's rows.
            remaining += per_step / max(1, args.per_device_train_batch_size) * n_test / 3
            lo, hi = span
            reporter.update(progress=lo + (hi - lo) * frac, step=state.global_step, total_steps=state.max_steps,
                            epoch=round(state.epoch or 0.0, 4), eta_seconds=round(remaining, 1),
                            message=f"training: step {state.global_step}/{state.max_steps}, "
                                    f"epoch {state.epoch or 0:.2f}")

        def on_log(self, args, state, control, logs=None, **kw):
            logs = logs or {}
            rec = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 4)}
            for key in ("loss", "eval_loss", "learning_rate", "grad_norm", "eval_accuracy"):
                if key in logs and logs[key] is not None:
                    rec[key] = float(logs[key])
            if len(rec) > 2:
                reporter.history(rec)
                reporter.log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                      for k, v in rec.items()))

    return ProgressCallback()


def training_arguments(cfg: TrainConfig, out_dir: Path, *, n_train: int, has_val: bool):
    import torch
    from transformers import TrainingArguments

    steps_per_epoch = max(1, math.ceil(n_train / cfg.batch_size))
    total = cfg.max_steps if cfg.max_steps > 0 else max(1, math.ceil(steps_per_epoch * cfg.epochs))
    eval_steps = max(1, min(total, steps_per_epoch // cfg.evals_per_epoch or 1))
    if cfg.max_steps > 0:
        eval_steps = max(1, min(eval_steps, total // cfg.evals_per_epoch or 1))
    cuda = torch.cuda.is_available()
    bf16 = bool(cuda and cfg.mixed_precision == "auto" and torch.cuda.is_bf16_supported())
    fp16 = bool(cuda and cfg.mixed_precision == "auto" and not bf16)
    early = cfg.early_stopping_patience > 0 and has_val
    return TrainingArguments(
        output_dir=str(out_dir),
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=max(cfg.batch_size, 32),
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps if cfg.max_steps > 0 else -1,
        learning_rate=cfg.learning_rate,
        weight_decay=cfg.weight_decay,
        warmup_steps=cfg.warmup_ratio,  # a float in [0, 1) is a ratio of the total steps in transformers 5
        lr_scheduler_type="linear",
        seed=cfg.seed,
        data_seed=cfg.seed,
        eval_strategy="steps" if has_val else "no",
        eval_steps=eval_steps if has_val else None,
        logging_strategy="steps",
        logging_steps=max(1, total // 100),
        logging_first_step=True,
        save_strategy="steps" if early else "no",
        save_steps=eval_steps,
        save_total_limit=1 if early else None,
        save_only_model=True,
        load_best_model_at_end=early,
        metric_for_best_model="eval_loss" if early else None,
        greater_is_better=False if early else None,
        report_to="none",
        disable_tqdm=True,
        fp16=fp16,
        bf16=bf16,
        dataloader_pin_memory=cuda,
        dataloader_num_workers=0,
    )


@dataclass
class FineTuneResult:
    trainer: object
    model: object
    tokenizer: object
    labels: tuple[str, ...]
    train_metrics: dict  # train_runtime, train_samples_per_second, ... as Trainer reports them
    stopped_early: bool


def fine_tune(train: pd.DataFrame, val: pd.DataFrame, labels: tuple[str, ...], cfg: TrainConfig, *,
              work_dir: Path, reporter: Reporter | None = None, span: tuple[float, float] = (0.05, 0.85),
              n_test: int = 0, extra_callbacks: list | None = None) -> FineTuneResult:
    """Train on ``train`` (row_id, text, label), evaluating the loss on ``val`` during training."""
    import torch
    from transformers import DataCollatorWithPadding, EarlyStoppingCallback, PrinterCallback, Trainer

    reporter = reporter or NullReporter()
    reporter.update(phase="loading model", message="loading the backbone and tokenising")
    tok, net = load_backbone(cfg.model, labels, max_length=cfg.max_length)
    y_train = label_ids(train, labels)
    train_ds = encode(tok, train["text"].tolist(), y_train, cfg.max_length)
    has_val = len(val) > 0
    val_ds = None
    if has_val:
        order = np.argsort(val["text"].str.len().to_numpy(), kind="stable")  # less padding per batch
        v = val.iloc[order]
        val_ds = encode(tok, v["text"].tolist(), label_ids(v, labels), cfg.max_length)
    if reporter.should_stop():
        raise Cancelled()

    loss_fn = None
    if cfg.class_weights:
        weights = torch.tensor(class_weight_vector(y_train, len(labels)), dtype=torch.float32)

        def loss_fn(outputs, targets, num_items_in_batch=None):
            logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]
            return torch.nn.functional.cross_entropy(logits.float(), targets, weight=weights.to(logits.device))

    args = training_arguments(cfg, work_dir, n_train=len(train_ds), has_val=has_val)
    callbacks = [_progress_callback(reporter, span=span, n_test=n_test), *(extra_callbacks or [])]
    if args.load_best_model_at_end:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=cfg.early_stopping_patience))
    trainer = Trainer(model=net, args=args, train_dataset=train_ds, eval_dataset=val_ds,
                      data_collator=DataCollatorWithPadding(tok), processing_class=tok,
                      compute_loss_func=loss_fn, callbacks=callbacks)
    # Our callback reports every log; the Trainer's printer would write dicts to stdout (the CLI's JSON).
    trainer.remove_callback(PrinterCallback)
    out = trainer.train()
    if reporter.should_stop():
        raise Cancelled()
    metrics = dict(out.metrics)
    stopped_early = bool(args.load_best_model_at_end and trainer.state.global_step < trainer.state.max_steps)
    return FineTuneResult(trainer=trainer, model=trainer.model, tokenizer=tok, labels=labels,
                          train_metrics=metrics, stopped_early=stopped_early)


def predict_proba(result: FineTuneResult, texts: list[str], *, max_length: int, reporter: Reporter | None = None,
                  span: tuple[float, float] = (0.85, 0.97), batch_size: int = 64) -> np.ndarray:
    """Class probabilities in ``result.labels`` order; rows are run shortest-first then put back in order."""
    import torch
    from transformers import DataCollatorWithPadding

    reporter = reporter or NullReporter()
    model = result.model
    model.eval()
    device = next(model.parameters()).device
    collate = DataCollatorWithPadding(result.tokenizer)
    order = np.argsort([len(str(t)) for t in texts], kind="stable")
    ds = encode(result.tokenizer, [texts[i] for i in order], None, max_length)
    out = np.zeros((len(texts), len(result.labels)), dtype=np.float64)
    last = 0.0
    with torch.inference_mode():
        for start in range(0, len(ds), batch_size):
            batch = collate([ds[i] for i in range(start, min(start + batch_size, len(ds)))])
            batch = {k: v.to(device) for k, v in batch.items()}
            logits = model(**batch).logits.float()
            out[order[start:start + len(logits)]] = torch.softmax(logits, dim=-1).cpu().numpy()
            if reporter.should_stop():
                raise Cancelled()
            now = time.monotonic()
            if now - last > 1.0:
                last = now
                frac = min(1.0, (start + batch_size) / max(1, len(ds)))
                lo, hi = span
                reporter.update(progress=lo + (hi - lo) * frac, phase="testing",
                                message=f"predicting the test set: {min(start + batch_size, len(ds))}/{len(ds)}")
    return out


def export_model(result: FineTuneResult, folder: Path) -> Path:
    """Save a folder that ``transformers.pipeline("text-classification", model=folder)`` loads.

    Written next to the target then renamed, so a full disk leaves no half-written model behind.
    """
    folder = Path(folder)
    tmp = folder.with_name(f".{folder.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        result.model.save_pretrained(str(tmp), safe_serialization=True)
        result.tokenizer.save_pretrained(str(tmp))
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DataError(f"the disk is full while saving the model to {folder.parent}; free some space "
                            "and run again") from None
        raise
    return folder
