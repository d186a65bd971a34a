"""Size limits for loaded data, each overridable by an environment variable (README, "Limits")."""

from __future__ import annotations

import os

from dq_core.errors import DataError

# Size limits, each overridable by an environment variable (README, "Limits"): a small file can expand
# to gigabytes (a 37 KB Parquet file held 3M rows, 1.16 GB), so rows, columns and bytes after
# decompression are checked before the data is materialised where the format allows it.
LIMITS = {"DQ_MAX_ROWS": 2_000_000, "DQ_MAX_COLUMNS": 20_000, "DQ_MAX_BYTES": 1_000_000_000,
          "DQ_MAX_RESAMPLES": 20_000}  # bootstrap and permutation counts


def limit(name: str) -> int:
    """The limit ``name`` (a key of ``LIMITS``) from the environment, else its default."""
    raw = os.environ.get(name, "").strip().replace("_", "")
    if not raw:
        return LIMITS[name]
    if not raw.isdigit() or int(raw) < 1:
        raise DataError(f"{name}={os.environ[name]!r} must be a positive whole number")
    return int(raw)


def check_size(source: str, *, rows: int | None = None, columns: int | None = None,
               nbytes: int | None = None) -> None:
    """DataError naming the limit (and its variable) that ``rows`` / ``columns`` / ``nbytes`` exceed."""
    for value, var, what in ((rows, "DQ_MAX_ROWS", "rows"), (columns, "DQ_MAX_COLUMNS", "columns"),
                             (nbytes, "DQ_MAX_BYTES", "bytes of data")):
        if value is not None and value > limit(var):
            raise DataError(f"{source} has {value:,} {what}, over the limit of {limit(var):,}; load a sample "
                            f"of it, or raise the limit with {var}")
