"""Size limits for loaded data, each overridable by an environment variable (README, "Limits")."""

from __future__ import annotations

from dq_core import settings
from dq_core.errors import DataError

# A small file can expand to gigabytes (a 37 KB Parquet file held 3M rows, 1.16 GB), so rows, columns
# and bytes after decompression are checked before the data is materialised where the format allows it.


def limit(name: str) -> int:
    """The limit ``name`` (``DQ_MAX_ROWS``, ``DQ_MAX_COLUMNS``, ``DQ_MAX_BYTES``, ``DQ_MAX_RESAMPLES``) in force."""
    return settings.get(name)


def check_size(source: str, *, rows: int | None = None, columns: int | None = None,
               nbytes: int | None = None) -> None:
    """DataError naming the limit (and its variable) that ``rows`` / ``columns`` / ``nbytes`` exceed."""
    for value, var, what in ((rows, "DQ_MAX_ROWS", "rows"), (columns, "DQ_MAX_COLUMNS", "columns"),
                             (nbytes, "DQ_MAX_BYTES", "bytes of data")):
        if value is not None and value > limit(var):
            raise DataError(f"{source} has {value:,} {what}, over the limit of {limit(var):,}; load a sample "
                            f"of it, or raise the limit with {var}")
