"""Per-row signals: one file per signal, a small registry, and ``run_signals`` -> a wide frame.

Importing this package registers every signal; heavy libraries (scikit-learn, cleanlab, torch)
are imported lazily inside the signals that need them.
"""

from dq_core.signals import annotators, duplicates, junk, label, leakage, outlier, pii  # noqa: F401 (registration)
from dq_core.signals.base import REGISTRY, Signal, SignalResult, register
from dq_core.signals.context import SignalContext
from dq_core.signals.runner import (
    DEFAULT_SIGNALS,
    SignalReport,
    compute_signals,
    default_signals,
    find_signal_key,
    get_signal,
    load_cached_report,
    parse_signal_spec,
    run_signals,
)

__all__ = ["REGISTRY", "DEFAULT_SIGNALS", "Signal", "SignalContext", "SignalReport", "SignalResult", "compute_signals",
           "default_signals", "find_signal_key", "get_signal", "load_cached_report", "parse_signal_spec", "register",
           "run_signals"]
