"""What the advisor found: one :class:`CandidateOutcome` per candidate recipe and the :class:`AdviceResult`
(JSON round trip, the table the page shows, the recommended recipe)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from dq_core.filtering import FilterRecipe
from dq_core.training.evaluate import METRICS, BootstrapResult
from dq_core.util.wording import sentence


@dataclass(frozen=True)
class CandidateOutcome:
    key: str
    title: str
    description: str
    recipe: dict
    n_rows: int
    n_kept: int
    n_relabelled: int
    n_repaired: int | None  # kept rows whose text a repair rule fixed (no candidate repairs yet: 0)
    accuracy: float | None
    macro_f1: float | None
    gain: dict[str, BootstrapResult] | None  # metric -> gain over no cleaning (None for no cleaning itself)
    notes: tuple[str, ...] = ()
    skipped: str | None = None  # why it was not evaluated

    def to_dict(self) -> dict:
        return {"key": self.key, "title": self.title, "description": self.description, "recipe": self.recipe,
                "n_rows": self.n_rows, "n_kept": self.n_kept, "n_dropped": self.n_rows - self.n_kept,
                "n_relabelled": self.n_relabelled, "n_repaired": self.n_repaired, "accuracy": self.accuracy,
                "macro_f1": self.macro_f1,
                "gain": None if self.gain is None else {m: b.to_dict() for m, b in self.gain.items()},
                "notes": list(self.notes), "skipped": self.skipped}


@dataclass(frozen=True)
class AdviceResult:
    dataset: str
    dataset_fingerprint: str
    n_rows: int
    classes: tuple[str, ...]
    trainer: str
    evaluated_on: str  # "folds" | "test"
    folds: int | None
    n_eval: int  # rows every candidate was scored on
    seed: int
    metric: str  # the gain that decides the recommendation
    confidence: float
    evaluation_note: str
    candidates: tuple[CandidateOutcome, ...]
    recommended: str | None  # a candidate key, or None: no cleaning pays measurably
    recommendation: str
    notes: tuple[str, ...] = ()
    repeats: int = 1  # fine-tunes per candidate (training randomness in the intervals when > 1)

    def candidate(self, key: str) -> CandidateOutcome:
        for c in self.candidates:
            if c.key == key:
                return c
        raise KeyError(key)

    @property
    def verdict(self) -> tuple[str, ...]:
        """The recommendation as sentences, each starting capitalised and ending with a full stop: the page
        bolds the first. Advice saved when it was one lowercase clause ("no cleaning pays ...: no candidate's
        ...") reads as one sentence."""
        return tuple(sentence(s) for s in re.split(r"(?<=\.)\s+", self.recommendation.strip()) if s)

    @property
    def notes_text(self) -> str:
        """How the figures were measured, then the notes (clauses for the CLI's warnings), as sentences."""
        return " ".join(sentence(s) for s in (self.evaluation_note, *self.notes) if s)

    def recommended_recipe(self) -> FilterRecipe | None:
        return None if self.recommended is None else FilterRecipe.from_dict(self.candidate(self.recommended).recipe)

    def table(self) -> pd.DataFrame:
        """One row per candidate: rows kept, relabelled, scores and the gains with their intervals."""
        rows = []
        for c in self.candidates:
            row = {"candidate": c.title, "kept": c.n_kept, "dropped": c.n_rows - c.n_kept,
                   "relabelled": c.n_relabelled, "repaired": c.n_repaired, "accuracy": c.accuracy,
                   "macro-F1": c.macro_f1}
            for m in METRICS:
                b = (c.gain or {}).get(m)
                row[f"Δ {m}"] = None if b is None else b.delta
                row[f"Δ {m} interval"] = "" if b is None else f"[{b.ci_low:+.3f}, {b.ci_high:+.3f}]"
            row["recommended"] = c.key == self.recommended
            row["note"] = c.skipped or "; ".join(c.notes)
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        return {"format": "dq-advice", "version": 1, "dataset": self.dataset,
                "dataset_fingerprint": self.dataset_fingerprint, "n_rows": self.n_rows,
                "classes": list(self.classes), "trainer": self.trainer, "evaluated_on": self.evaluated_on,
                "folds": self.folds, "n_eval": self.n_eval, "seed": self.seed, "metric": self.metric,
                "confidence": self.confidence, "evaluation_note": self.evaluation_note,
                "recommended": self.recommended, "recommendation": self.recommendation,
                "recommended_recipe": None if self.recommended is None else self.candidate(self.recommended).recipe,
                "candidates": [c.to_dict() for c in self.candidates], "notes": list(self.notes),
                "repeats": self.repeats}

    @classmethod
    def from_dict(cls, d: dict) -> AdviceResult:
        cands = []
        for c in d["candidates"]:
            gain = None if c["gain"] is None else {m: BootstrapResult(**{k: v for k, v in b.items()
                                                                          if k != "significant"})
                                                   for m, b in c["gain"].items()}
            cands.append(CandidateOutcome(key=c["key"], title=c["title"], description=c["description"],
                                          recipe=c["recipe"], n_rows=c["n_rows"], n_kept=c["n_kept"],
                                          n_relabelled=c["n_relabelled"], n_repaired=c["n_repaired"],
                                          accuracy=c["accuracy"], macro_f1=c["macro_f1"], gain=gain,
                                          notes=tuple(c["notes"]), skipped=c["skipped"]))
        return cls(dataset=d["dataset"], dataset_fingerprint=d["dataset_fingerprint"], n_rows=d["n_rows"],
                   classes=tuple(d["classes"]), trainer=d["trainer"], evaluated_on=d["evaluated_on"],
                   folds=d["folds"], n_eval=d["n_eval"], seed=d["seed"], metric=d["metric"],
                   confidence=d["confidence"], evaluation_note=d["evaluation_note"], candidates=tuple(cands),
                   recommended=d["recommended"], recommendation=d["recommendation"], notes=tuple(d["notes"]),
                   repeats=int(d.get("repeats", 1)))
