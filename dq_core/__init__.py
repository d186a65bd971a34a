"""dq_core: the data-quality library behind the dq dashboard and CLI.

Never imports streamlit (tests/test_imports.py enforces it); heavy libraries (torch,
sentence-transformers, umap) are imported lazily inside the functions that need them.
"""

from dq_core.errors import DataError

__all__ = ["DataError"]
__version__ = "0.1.0"
