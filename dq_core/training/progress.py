"""How a trainer reports progress without knowing who listens (a run directory, a CLI, nothing)."""

from __future__ import annotations

from typing import Protocol


class Cancelled(Exception):  # noqa: N818 - a signal, not an error
    """Raised inside a run when the user asked to cancel it."""


class Reporter(Protocol):
    def update(self, **fields) -> None:
        """progress (0..1 overall), step, total_steps, epoch, phase, message: any subset."""

    def history(self, record: dict) -> None:
        """One point of the loss curves: step, epoch, and loss / eval_loss / learning_rate."""

    def log(self, message: str) -> None: ...

    def should_stop(self) -> bool:
        """True once a cancel was requested; trainers stop at the next step."""


class NullReporter:
    def update(self, **fields) -> None:
        pass

    def history(self, record: dict) -> None:
        pass

    def log(self, message: str) -> None:
        pass

    def should_stop(self) -> bool:
        return False

    def check(self) -> None:
        if self.should_stop():
            raise Cancelled()
