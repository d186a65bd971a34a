"""The Report page: one run's evaluation, and two runs compared with the paired bootstrap."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from dq_core.data.workspace import Workspace
from tests.train_helpers import random_predictions, tiny_dataset, write_run

APP = str(Path(__file__).resolve().parents[2] / "dq_app" / "app.py")
LABELS = ("neg", "neu", "pos")


def _open_report(ws: Workspace) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["ds"] = ws.save_dataset(tiny_dataset(30))
    at.run()
    at.switch_page("app_pages/report.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_no_runs_points_to_train(dq_env):
    at = _open_report(Workspace.default())
    assert any("No finished run" in i.value for i in at.info)


def test_one_run_then_two_compared(dq_env):
    ws = Workspace.default()
    y, pa = random_predictions(200, LABELS, seed=1, skill=0.5)
    t = np.array([LABELS.index(v) for v in y])
    pb = np.full((200, 3), 0.1)
    pb[np.arange(200), t] = 0.8  # the second run is right everywhere
    texts = [f"<script>x()</script> {i}" for i in range(200)]
    a = write_run(ws.runs_dir() / "20250101-000000-aaaaaa", labels=LABELS, y_true=y, proba=pa, name="all rows",
                  texts=texts, history=[{"step": 1, "loss": 1.0}, {"step": 2, "loss": 0.8, "eval_loss": 0.9}])
    b = write_run(ws.runs_dir() / "20250102-000000-bbbbbb", labels=LABELS, y_true=y, proba=pb, name="filtered",
                  texts=texts)
    at = _open_report(ws)
    assert at.multiselect(key="rp_runs").value == [b.name]  # newest first
    acc = next(m for m in at.metric if m.label == "Accuracy")
    assert acc.value == "1.000"
    assert len(at.get("plotly_chart")) >= 2

    at.multiselect(key="rp_runs").set_value([a.name, b.name]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Δ filtered" in d.value.columns for d in at.dataframe)
    text = " ".join(m.value for m in at.markdown)
    assert "paired bootstrap" in text and "a real difference" in text
    assert len(at.tabs) == 2


def test_the_comparison_table_shows_counts_whole(dq_env):
    """The page showed `n_train 3539.0000 / +475.0000`: counts read as the reports write them, rates keep .4f."""
    ws = Workspace.default()
    y, p = random_predictions(50, LABELS, seed=3)
    write_run(ws.runs_dir() / "20250101-000000-aaaaaa", labels=LABELS, y_true=y, proba=p, name="all", n_train=3539)
    write_run(ws.runs_dir() / "20250102-000000-bbbbbb", labels=LABELS, y_true=y, proba=p, name="clean",
              n_train=4014)
    at = _open_report(ws)
    at.multiselect(key="rp_runs").set_value(["20250101-000000-aaaaaa", "20250102-000000-bbbbbb"]).run()
    assert not at.exception, [e.value for e in at.exception]
    table = next(d.value for d in at.dataframe if "Δ clean" in d.value.columns)
    assert table.loc["n_train"].tolist() == ["3,539", "4,014", "+475"]
    assert table.loc["n_test"].tolist() == ["50", "50", "+0"]
    acc = table.loc["accuracy"].tolist()
    assert acc[0] == acc[1] and len(acc[0].split(".")[1]) == 4 and acc[2] == "+0.0000"
