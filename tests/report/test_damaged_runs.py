"""`dq report` on damaged run folders: one `error:` line (or a report without the damaged part), never a
traceback; Markdown reports never carry a link from the data."""

from __future__ import annotations

import json

import pytest

from dq_core.cli import main
from dq_core.report.markdown import md_escape
from tests.train_helpers import random_predictions, write_run

LABELS = ("neg", "pos")


def _metrics(d, **change):
    m = json.loads((d / "metrics.json").read_text())
    (d / "metrics.json").write_text(json.dumps({**m, **change}))


DAMAGE = {
    "metrics_not_a_record": (lambda d: (d / "metrics.json").write_text("[]"), 2),
    "metrics_empty": (lambda d: (d / "metrics.json").write_text(""), 2),
    "metrics_per_class_a_list": (lambda d: _metrics(d, per_class=[1, 2]), 2),
    "metrics_ragged_confusion": (lambda d: _metrics(d, confusion_matrix=[[1, 2], [3]]), 2),
    "metrics_nested_100k": (lambda d: (d / "metrics.json").write_text("[" * 100_000 + "]" * 100_000), 2),
    "config_a_list": (lambda d: (d / "config.json").write_text("[1]"), 0),
    "status_a_list": (lambda d: (d / "status.json").write_text("[1]"), 0),
    "history_garbage": (lambda d: (d / "history.jsonl").write_text("{not json\n[1]\n"), 0),
    "predictions_truncated": (lambda d: (d / "predictions.parquet").write_bytes(b"PAR1 cut"), 0),
}


@pytest.mark.parametrize("kind", list(DAMAGE))
@pytest.mark.parametrize("fmt", ["md", "html", "json"])
def test_damaged_run_folder(kind, fmt, tmp_path, capsys):
    y, proba = random_predictions(40, LABELS, seed=0)
    run = write_run(tmp_path / kind, labels=LABELS, y_true=y, proba=proba)
    damage, want = DAMAGE[kind]
    damage(run)
    rc = main(["report", str(run), "--format", fmt, "--out", str(tmp_path / f"r.{fmt}")])
    err = capsys.readouterr().err
    assert rc == want and "Traceback" not in err
    assert len([ln for ln in err.splitlines() if ln.startswith("error:")]) == (1 if want else 0)


def test_markdown_escapes_links_from_the_data():
    s = md_escape("[x](javascript:alert(1)) ![img](http://e/x.png) a|b `c` <b>")
    assert "[x](" not in s and "![img](" not in s and "<b>" not in s
    assert s == "\\[x\\](javascript:alert(1)) !\\[img\\](http://e/x.png) a\\|b \\`c\\` &lt;b&gt;"
