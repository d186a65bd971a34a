"""The first floor: data in, one canonical form out, and the workspace that keeps it.

``dataset`` (TextDataset, ColumnMapping, the column guesses, ``holds_numbers``), ``io`` (``load_dataset``:
a path, ``demo:NAME`` or ``hf:NAME``), ``reference`` (a reference cut from the dataset's own rows: by
column values or by split), ``readers`` and ``codepages`` (formats and encodings, every failure a
DataError saying what to do), ``writers`` and ``outputs`` (atomic writes; no command writes over what it
reads), ``paths`` (the data folder and confinement to it), ``limits`` (size limits), ``assets`` (the bundled
model and demo corpora), ``workspace`` (DQ_HOME: stored datasets, caches, recipes, runs). Imports only
``dq_core.util``, ``errors`` and ``settings``.
"""
