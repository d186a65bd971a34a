"""One exception type for every user-facing problem with input data or settings.

Pages show ``str(err)`` in ``st.error``; the CLI prints ``error: <msg>`` and exits 2. Messages
say what is wrong and how to fix it, so callers never need to add context.
"""


class DataError(ValueError):
    """Bad input the user can fix (file, column mapping, parameter)."""
