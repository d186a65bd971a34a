"""Embedding space: sentence vectors and what is computed on them once and shared by metrics and signals.

``embed`` (vectors from a per-text disk cache; ``embed_model``, ``embed_pipeline``, ``embed_threads`` and
``precision_probe`` load the model, feed it and choose threads and precision), ``embed_cache`` (the caches and
the EmbeddingResult they hold), ``embed_pair`` (a dataset and its reference embedded in planned, counted
passes), ``given`` and ``given_store`` (vectors and probabilities a user brings), ``neighbors`` and
``cell_search`` (the one nearest-neighbour graph), ``clusters`` (joint clusters of dataset and reference),
``projection`` (2-D maps: PCA and UMAP).
"""
