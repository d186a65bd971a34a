"""What-if figures: the Clean page's before/after panel, recomputed from a keep mask in milliseconds.

Everything that depends only on (dataset, reference, embeddings) is computed once into a
:class:`WhatIfContext`: label codes, word counts, a rows x vocabulary count matrix, joint-cluster
assignments and, for each reference row, a ranked list of its nearest dataset rows. A recipe's result
(keep mask + final labels) then only needs bincounts, one sparse mat-vec and a gather:

- class counts, balance index, imbalance ratio, normalised entropy: a bincount of final label codes;
- estimated noise ratio: confident learning's estimate (the label signal's own ``estimate_joint``) on the
  kept rows' label probabilities, held fixed; without them, the share of kept rows the label signal flags
  and the recipe did not relabel;
- reference coverage: a reference row is covered when its nearest *kept* dataset row lies within the
  radius; that is the first kept entry of its ranked list (rows whose whole list was dropped while still
  inside the radius are settled by an exact search over the kept rows, so the figure stays exact);
- scene / sample coverage: bincount of the kept rows' clusters against the reference's;
- JS per shift view (label, length, vocabulary, embedding clusters, metadata): the same bins as
  :mod:`dq_core.metrics.shift.views` builds from scratch on the filtered rows (pooled quantile length bins,
  the pooled top-V vocabulary, the merged metadata categories), recomputed from histograms.

A row a recipe repaired counts by its repaired text: in the length and vocabulary views always, in the
embedding figures when the context embedded the proposed repairs (:mod:`.repairs`).

The radius and the clusters are those of the unfiltered data, held fixed so before and after are measured
with one ruler. The count-based pieces are in :mod:`.counts`; they end in the metric modules' own
functions (balance, coverage, JS divergence, confident learning's joint), so the Clean page, the Overview
and the Coverage page share one formula each. The tests' oracle (tests/filtering/whatif_oracle.py) computes
the same figures the slow way (filter the data, call the metric functions), and the tests check both agree.

Modules: :mod:`.context` (WhatIfConfig, WhatIfContext, prepare_what_if: the precomputed context),
:mod:`.figures` (figures / figures_for, the before/after table), :mod:`.counts`, :mod:`.repairs`, :mod:`.build` (the context built on what the workspace holds). The names
other packages use are re-exported here.
"""

from __future__ import annotations

from dq_core.filtering.whatif.context import (
    WhatIfConfig,
    WhatIfContext,
    default_radius,
    noise_column,
    prepare_what_if,
)
from dq_core.filtering.whatif.figures import (
    FIGURE_DIRECTION,
    FIGURE_LABELS,
    JS_DIRECTION,
    WhatIfDelta,
    WhatIfFigures,
    figures,
    figures_for,
    what_if,
)

__all__ = [
    "FIGURE_DIRECTION", "FIGURE_LABELS", "JS_DIRECTION", "WhatIfConfig", "WhatIfContext", "WhatIfDelta",
    "WhatIfFigures", "default_radius", "figures", "figures_for", "noise_column", "prepare_what_if", "what_if",
]
