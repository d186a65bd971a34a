"""Bootstrap and permutation counts are bounded (DQ_MAX_RESAMPLES): an unbounded --bootstrap ran for hours."""

from __future__ import annotations

import pytest

from dq_core.cli import main
from dq_core.errors import DataError
from dq_core.metrics.shift import ShiftConfig


@pytest.mark.parametrize("field", ["n_bootstrap", "n_permutations"])
def test_counts_are_bounded(field, monkeypatch):
    assert getattr(ShiftConfig(**{field: 20_000}), field) == 20_000
    with pytest.raises(DataError, match="DQ_MAX_RESAMPLES"):
        ShiftConfig(**{field: 20_001})
    with pytest.raises(DataError, match="between 0 and"):
        ShiftConfig(**{field: -1})
    monkeypatch.setenv("DQ_MAX_RESAMPLES", "50")
    with pytest.raises(DataError, match="between 0 and 50"):
        ShiftConfig(**{field: 51})


def test_cli_bootstrap_limit_is_one_error_line(tmp_path, dq_env, capsys):
    data = tmp_path / "a.csv"
    data.write_text("text,label\nhello there,pos\nbad day,neg\n")
    assert main(["shift", str(data), "--reference", str(data), "--no-embeddings", "--bootstrap", "10000000000"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("error:") == 1 and "DQ_MAX_RESAMPLES" in err
