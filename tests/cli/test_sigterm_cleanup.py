"""SIGTERM unwinds a `dq` command like Ctrl-C: its temporary folders and files are removed, it says
`error: terminated (SIGTERM)` and exits 143 (issue 22: `dq advise` left an empty temp folder behind)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from dq_core.cli import Terminated, _sigterm_unwinds
from tests.cli_helpers import ROOT
from tests.train_helpers import tiny_frame


def test_sigterm_of_dq_advise_removes_its_temp_folder(tmp_path):
    """A real `dq advise --trainer transformer` process, signalled while its fine-tune folder exists."""
    data = tmp_path / "tiny.csv"
    tiny_frame(60).to_csv(data, index=False)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "dq_core", "advise", str(data), "--trainer", "transformer",
                             "--text-col", "text", "--label-col", "label", "--out", str(tmp_path / "advice.json")],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while not any(p.name.startswith("dq-advise-") for p in tmp.iterdir()):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "dq advise made no temp folder in 300 s"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert [p.name for p in tmp.iterdir() if p.name.startswith("dq-advise-")] == []
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert [ln for ln in err.splitlines() if ln.startswith("error: ")] == ["error: terminated (SIGTERM)"], err
    assert "Traceback" not in err
    assert not (tmp_path / "advice.json").exists()


def test_sigterm_raises_terminated_so_temporary_folders_are_removed(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated), _sigterm_unwinds():
        with tempfile.TemporaryDirectory(dir=tmp_path) as work:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises at the next bytecode
    assert not os.path.exists(work)
    assert signal.getsignal(signal.SIGTERM) is before  # the handler is the caller's again
