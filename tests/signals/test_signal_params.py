"""Signal parameters are checked against their kinds and ranges when a signal is built, from the CLI
(``--signals 'label(k=abc)'``) and from code alike."""

from __future__ import annotations

import pytest

from dq_core.cli import main
from dq_core.errors import DataError
from dq_core.signals import REGISTRY, get_signal, parse_signal_spec


@pytest.mark.parametrize(("spec", "word"), [
    ("label(k=abc)", "whole number"), ("near_duplicate(threshold=1e308)", "out of range"),
    ("near_duplicate(threshold=-0.1)", "out of range"), ("near_duplicate(threshold=nan)", "out of range"),
    ("label(C=inf)", "out of range"), ("label(folds=1)", "at least 2 folds"), ("outlier(k=0)", "out of range"),
    ("junk(min_letter_share=2)", "out of range"), ("label(nope=1)", "no parameter"),
    ("label(weight=true)", "must be a number"), ("leakage(threshold=abc)", "must be a number"),
    ("annotator_agreement(min_agreement=1.5)", "out of range"),
])
def test_bad_parameters_are_refused(spec, word):
    with pytest.raises(DataError, match=word):
        parse_signal_spec(spec)


def test_every_default_is_within_its_range():
    for name, cls in REGISTRY.items():
        sig = get_signal(name)
        for k, (lo, hi) in cls.ranges.items():
            assert lo <= getattr(sig, k) <= hi, (name, k)


def test_cli_gives_one_error_line(tmp_path, dq_env, capsys):
    data = tmp_path / "a.csv"
    data.write_text("text,label\nhello there,pos\nbad day,neg\n")
    for spec in ("label(k=abc)", "near_duplicate(threshold=1e308)"):
        assert main(["signals", str(data), "--signals", spec, "--out", str(tmp_path / "o.csv")]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert not (tmp_path / "o.csv").exists()
