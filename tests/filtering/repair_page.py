"""A tiny page for AppTest: the Clean page's filter panel over the CSV named by DQ_REPAIR_DATA, with the
junk signal computed through the workspace cache exactly as `dq filter` computes it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

from dq_app.ui.clean.panel import render_filter_panel  # noqa: E402
from dq_core.data.io import load_dataset  # noqa: E402
from dq_core.data.workspace import Workspace  # noqa: E402
from dq_core.filtering import load_or_compute_signals  # noqa: E402

SETTINGS = {"signals": ["junk"], "seed": 0}

ds, _ = load_dataset(os.environ["DQ_REPAIR_DATA"])
ws = Workspace.default()
signals = load_or_compute_signals(ds, workspace=ws, settings=SETTINGS)
render_filter_panel(ds, None, signals, signal_keys=SETTINGS["signals"], seed=SETTINGS["seed"], workspace=ws)
