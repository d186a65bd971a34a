"""What a seed may be: the one rule for a recipe's seeds and the command line's ``--seed``."""

from __future__ import annotations

import numpy as np

from dq_core.errors import DataError

# numpy's legacy seeding and scikit-learn's random_state take 0 .. 2**32 - 1; a seed outside it would reach
# them and fail deep inside a computation (after minutes of embedding) instead of being refused up front.
SEED_MAX = 2**32 - 1


def check_seed(value, what: str) -> int:
    """``value`` as an int when it is a whole number in [0, SEED_MAX], else a DataError naming ``what``.

    A JSON ``true`` is a boolean, not the number 1, and ``2.0`` is not a whole-number seed: both refused."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or not 0 <= int(value) <= SEED_MAX:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise DataError(f"{what} must be a whole number from 0 to {SEED_MAX} (2**32 - 1), got {shown}")
    return int(value)


def seed_arg(text: str) -> int:
    """``--seed`` as an argparse type: the same rule, refused by the parser before anything is read."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number (seeds run from 0 to {SEED_MAX})") from None
    try:
        return check_seed(value, "the seed")
    except DataError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
