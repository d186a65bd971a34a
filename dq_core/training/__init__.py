"""Training on a (filtered) dataset and evaluating on a test set fixed before filtering.

``config``    TrainConfig: every setting of a run, validated, JSON round-trip
``splits``    test / validation / train splits (test fixed before any filtering), the training-row cap
``balancing`` optional oversampling / word-level perturbation of the train split
``baseline``  logistic regression on cached sentence embeddings
``finetune``  Hugging Face Trainer fine-tuning of a local model folder
``evaluate``  metrics on test predictions and the paired bootstrap between two runs
``runner``    one run end to end: data -> splits -> train -> evaluate -> files in the run directory
``recipe``    the one place that turns a FilterRecipe into a keep mask + relabel map

torch/transformers are imported lazily inside the functions that need them.
"""
