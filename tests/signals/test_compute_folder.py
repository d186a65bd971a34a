"""`dq compute` keyed by content, into its own folder only (issue 22).

Defects pinned here: stale results served after an input changed in place (one text, rows reversed) with
the same row count; a resume that would hash every input again; --out a user's folder (their
signals/part-00000.parquet overwritten) or inside the input folder; a manifest.json dq did not write (a
KeyError traceback); a refused run that left a manifest behind, so the corrected command was refused; a
Ray address that does not answer (minutes of retries after writing a manifest); a resume with --signals
refused as "other settings" (the plan held a tuple, the manifest a list).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import socket
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dq_core.errors import DataError
from dq_core.signals import compute_inputs
from dq_core.signals.batch import ComputeConfig, read_output
from dq_core.signals.batch_compute import compute
from dq_core.signals.compute_output import check_compute_output
from tests.cli_helpers import dq, dq_subprocess, error_line

# Two fast signals (one row-local, one global), three shards of 10 rows over two files of 15.
SIGNALS = ("exact_duplicate", "junk")
CONFIG = ComputeConfig(shard_rows=10, precision="float32", signals=SIGNALS)
CLI = ("--shard-rows", "10", "--precision", "float32", "--signals", ",".join(SIGNALS))


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    from dq_core.data.io import load_demo

    f = load_demo("sms_spam")[0].frame.drop_duplicates("text")
    return f.iloc[:30][["text", "label"]].reset_index(drop=True)


def write_inputs(d: Path, rows: pd.DataFrame) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    rows.iloc[:15].to_parquet(d / "a.parquet")
    rows.iloc[15:].to_parquet(d / "b.parquet")
    return d


@pytest.fixture(scope="module")
def computed(rows, tmp_path_factory) -> dict:
    """A finished compute; tests copy it (inputs and output) rather than compute again."""
    d = tmp_path_factory.mktemp("cf")
    data = write_inputs(d / "in", rows)
    summary = compute(str(data), d / "out", CONFIG)
    assert summary["state"] == "done" and summary["shards"] == 3
    return {"data": data, "out": d / "out"}


@pytest.fixture
def copy(computed, tmp_path) -> dict:
    """The finished compute re-created in tmp_path: the inputs copied, the output computed from them once
    (a copied output would name the original inputs)."""
    data = tmp_path / "in"
    shutil.copytree(computed["data"], data)
    out = tmp_path / "out"
    compute(str(data), out, CONFIG)
    return {"data": data, "out": out}


def mtimes(out: Path) -> dict[str, int]:
    return {f"{sub}/{p.name}": p.stat().st_mtime_ns for sub in ("embeddings", "rows")
            for p in sorted((out / sub).iterdir())}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def same_outputs(a: Path, b: Path) -> None:
    for what in ("embeddings", "rows", "signals"):
        fa, fb = read_output(a, what), read_output(b, what)
        assert list(fa.columns) == list(fb.columns), what
        for c in fa.columns:
            if c == "embedding":
                np.testing.assert_allclose(np.stack(fa[c]), np.stack(fb[c]), atol=1e-5)
            else:
                assert fa[c].astype(str).tolist() == fb[c].astype(str).tolist(), f"{what}.{c}"


# --------------------------------------------------------------------------- stale results


@pytest.mark.parametrize("change", ["one_text_changed", "rows_reversed"])
def test_changed_input_recomputes_the_shards_it_feeds(copy, tmp_path, change):
    """Stale results: an input rewritten with the same row count (one text changed, or its rows reversed)
    used to be served from the old shards, exit 0. Now the shards that read b.parquet (rows 15-29: shards
    1 and 2) are computed again, shard 0 (a.parquet only) is kept, and the result equals a fresh compute."""
    data, out = copy["data"], copy["out"]
    b = pd.read_parquet(data / "b.parquet")
    if change == "one_text_changed":
        b.iloc[2, b.columns.get_loc("text")] = "a completely different message about the weather"
    else:
        b = b.iloc[::-1].reset_index(drop=True)
    b.to_parquet(data / "b.parquet")
    before = mtimes(out)
    with pytest.raises(DataError, match=r"'b.parquet' changed since 'out' was computed.*run `dq compute` again"):
        check_compute_output(out)  # the dashboard refuses it until it is computed again
    r = dq("compute", data, "--out", out, *CLI)
    assert r.returncode == 0, r.stderr
    assert "note: inputs changed since the last run: 2 of 3 shards are computed again" in r.stderr
    after = mtimes(out)
    assert after["embeddings/part-00000.parquet"] == before["embeddings/part-00000.parquet"]
    assert after["rows/part-00000.parquet"] == before["rows/part-00000.parquet"]
    for name in ("embeddings/part-00001.parquet", "embeddings/part-00002.parquet", "rows/part-00002.parquet"):
        assert after[name] != before[name], name
    fresh = tmp_path / "fresh"
    compute(str(data), fresh, CONFIG)
    same_outputs(out, fresh)
    assert check_compute_output(out).n_rows == 30


def test_a_file_added_to_the_data_folder_adds_its_shard(copy, rows):
    """A new file sorts after the others: the shards before it are kept, its rows get a new shard."""
    data, out = copy["data"], copy["out"]
    rows.iloc[:5].assign(text=lambda f: f["text"] + " again").to_parquet(data / "c.parquet")
    before = mtimes(out)
    assert compute(str(data), out, CONFIG)["n_rows"] == 35
    after = mtimes(out)
    assert {k: after[k] for k in before} == before and "embeddings/part-00003.parquet" in after
    assert check_compute_output(out).n_rows == 35


def test_a_column_added_that_is_not_read_keeps_every_shard(copy):
    """A column the compute does not read is not part of the fingerprint: nothing is computed again."""
    data, out = copy["data"], copy["out"]
    fps = json.loads((out / "manifest.json").read_text())["plan"]["fingerprints"]
    pd.read_parquet(data / "a.parquet").assign(source="sms").to_parquet(data / "a.parquet")
    before = mtimes(out)
    assert compute(str(data), out, CONFIG)["state"] == "done"
    assert mtimes(out) == before
    assert json.loads((out / "manifest.json").read_text())["plan"]["fingerprints"] == fps
    check_compute_output(out)


def test_a_column_added_that_changes_the_guessed_columns_is_refused(rows, tmp_path):
    """A changed schema that moves the guessed text column: refused, saying which columns were read and
    how to read the same ones; the folder is left as it was."""
    data = tmp_path / "in"
    data.mkdir()
    rows.rename(columns={"text": "message"}).to_parquet(data / "m.parquet")
    out = tmp_path / "out"
    r = dq("compute", data, "--out", out, *CLI)
    assert r.returncode == 0, r.stderr
    manifest = digest(out / "manifest.json")
    frame = pd.read_parquet(data / "m.parquet")
    frame.insert(0, "text", ["x" * 5] * len(frame))
    frame.to_parquet(data / "m.parquet")
    line = error_line(dq("compute", data, "--out", out, *CLI))
    assert "the inputs' columns changed" in line and "text 'message'" in line and "text 'text'" in line
    assert "--text-col" in line
    assert digest(out / "manifest.json") == manifest
    r = dq("compute", data, "--out", out, "--text-col", "message", *CLI)  # what the message says to do
    assert r.returncode == 0 and "note: inputs changed" not in r.stderr, r.stderr


def test_resume_does_not_hash_unchanged_inputs_again(rows, tmp_path, monkeypatch):
    """A resume at 10M rows must not read every input again: fingerprints are remembered in
    fingerprints.json by path and stats; only a file whose stats changed is hashed again."""
    data = write_inputs(tmp_path / "in", rows)
    out = tmp_path / "out"
    assert compute(str(data), out, CONFIG, stop_after=1)["state"] == "interrupted"
    cache = json.loads((out / compute_inputs.FINGERPRINTS).read_text())["files"]
    assert sorted(Path(f).name for f in cache) == ["a.parquet", "b.parquet"]
    hashed: list[str] = []
    real = compute_inputs.file_fingerprint

    def counting(path, columns):
        hashed.append(Path(path).name)
        return real(path, columns)

    monkeypatch.setattr(compute_inputs, "file_fingerprint", counting)
    assert compute(str(data), out, CONFIG, stop_after=1)["state"] == "interrupted"
    assert hashed == []  # both remembered
    st = (data / "b.parquet").stat()
    os.utime(data / "b.parquet", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # touched, content the same
    before = mtimes(out)
    assert compute(str(data), out, CONFIG)["state"] == "done"
    assert hashed == ["b.parquet"]  # the touched file only; same content, so no shard is redone
    assert all(mtimes(out)[k] == v for k, v in before.items())
    assert json.loads((out / compute_inputs.FINGERPRINTS).read_text())["files"].keys() == cache.keys()


def test_an_input_written_during_the_compute_is_not_called_done(rows, tmp_path, monkeypatch):
    """An input that changes while the compute reads it: no "done" manifest vouching for mixed rows."""
    from dq_core.signals import batch_compute

    data = write_inputs(tmp_path / "in", rows)
    out = tmp_path / "out"
    real = batch_compute.run_global

    def rewrite_then_run(plan, out_, **kw):
        pd.read_parquet(data / "a.parquet").iloc[::-1].to_parquet(data / "a.parquet")
        return real(plan, out_, **kw)

    monkeypatch.setattr(batch_compute, "run_global", rewrite_then_run)
    with pytest.raises(DataError, match="'.*a.parquet' changed while dq compute read it"):
        compute(str(data), out, CONFIG)
    assert json.loads((out / "manifest.json").read_text())["state"] != "done"
    monkeypatch.setattr(batch_compute, "run_global", real)
    assert compute(str(data), out, CONFIG)["state"] == "done"
    check_compute_output(out)


def test_resume_with_signals_is_not_refused_as_other_settings(rows, tmp_path):
    """--signals made the plan hold a tuple and the manifest a list: every resume was "other settings"."""
    data = write_inputs(tmp_path / "in", rows)
    out = tmp_path / "out"
    assert dq("compute", data, "--out", out, *CLI).returncode == 0
    r = dq("compute", data, "--out", out, *CLI)
    assert r.returncode == 0, r.stderr


# --------------------------------------------------------------------------- foreign and nested folders


@pytest.mark.parametrize("content", ["signals/part-00000.parquet", "notes.txt"])
def test_a_folder_that_is_not_a_compute_is_refused_untouched(rows, tmp_path, content):
    """`dq compute --out F` overwrote a user's F/signals/part-00000.parquet: a non-empty folder without
    dq's manifest is refused, as `dq train` refuses a folder that is not a run."""
    data = write_inputs(tmp_path / "in", rows)
    out = tmp_path / "mine"
    (out / content).parent.mkdir(parents=True, exist_ok=True)
    rows.iloc[:3].to_parquet(out / content) if content.endswith(".parquet") else (out / content).write_text("mine")
    kept = digest(out / content)
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    line = error_line(dq("compute", data, "--out", out, *CLI))
    assert "not empty and is not a dq compute output" in line and "nothing in it was touched" in line
    assert digest(out / content) == kept
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == before


def test_a_linked_part_folder_is_refused(copy, tmp_path):
    """A compute folder whose embeddings/ is a link to another folder: writing through it would write
    outside --out."""
    elsewhere = tmp_path / "elsewhere"
    (copy["out"] / "embeddings").rename(elsewhere)
    (copy["out"] / "embeddings").symlink_to(elsewhere)
    before = mtimes(copy["out"])
    line = error_line(dq("compute", copy["data"], "--out", copy["out"], *CLI))
    assert "is a symbolic link; dq compute writes only inside --out" in line
    assert mtimes(copy["out"]) == before


def test_a_compute_of_other_inputs_is_refused(computed, rows, tmp_path):
    data = write_inputs(tmp_path / "other", rows.iloc[::-1].reset_index(drop=True))
    out = tmp_path / "out"
    shutil.copytree(computed["out"], out)
    line = error_line(dq("compute", data, "--out", out, *CLI))
    assert "holds a dq compute of other inputs" in line and "another --out" in line


@pytest.mark.parametrize("layout", ["out_is_the_input_folder", "out_inside_the_input_folder",
                                    "out_holds_the_input_file", "recursive_glob_reaches_out"])
def test_out_inside_the_input_is_refused(rows, tmp_path, layout):
    """`dq compute dir/ --out dir` was accepted, and its resume read its own part files as input."""
    d = write_inputs(tmp_path / "in", rows)
    data, out = {"out_is_the_input_folder": (d, d),
                 "out_inside_the_input_folder": (d, d / "signals_out"),
                 "out_holds_the_input_file": (d / "a.parquet", d),
                 "recursive_glob_reaches_out": (f"{d}/**/*.parquet", d / "deep" / "out")}[layout]
    before = sorted(p.name for p in d.rglob("*"))
    line = error_line(dq("compute", data, "--out", out, *CLI))
    # the command line's one input/output rule (dq_core/commands/file_options.py) says it first; the
    # compute folder's own check (the pattern case, and the library path) says it otherwise
    assert "--out" in line and any(s in line for s in ("is the same file as DATA", "lies inside the folder of DATA",
                                                       "is a folder holding DATA", "the pattern")), line
    assert sorted(p.name for p in d.rglob("*")) == before


def test_out_beside_a_plain_glob_is_allowed(rows, tmp_path):
    """A glob that does not reach --out (no **) reads none of its part files: allowed."""
    d = write_inputs(tmp_path / "in", rows)
    r = dq("compute", f"{d}/*.parquet", "--out", d / "out", *CLI)
    assert r.returncode == 0, r.stderr
    assert dq("compute", f"{d}/*.parquet", "--out", d / "out", *CLI).returncode == 0  # resumes: same 30 rows
    assert len(read_output(d / "out")) == 30


# --------------------------------------------------------------------------- manifests dq did not write


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"plan": 5}', '{"state": "done"}',
                                  '{"plan": {"version": 2, "files": "a.parquet"}, "state": "done"}',
                                  "\udcff".encode("utf-8", "surrogateescape").decode("latin-1")])
def test_a_manifest_dq_did_not_write_is_refused_clearly(computed, tmp_path, text):
    """Any JSON (or none) in manifest.json gave a KeyError traceback: now one clear error, in the
    command and in the dashboard's check, and the folder is left alone."""
    out = tmp_path / "out"
    shutil.copytree(computed["out"], out)
    (out / "manifest.json").write_text(text, encoding="latin-1")
    line = error_line(dq("compute", computed["data"], "--out", out, *CLI))
    assert "is not a `dq compute` manifest" in line and "nothing in it was touched" in line
    assert (out / "manifest.json").read_text(encoding="latin-1") == text
    with pytest.raises(DataError, match="is not a `dq compute` manifest"):
        check_compute_output(out)
    r = dq("app", "--open", out)
    assert "is not a `dq compute` manifest" in error_line(r)


def test_a_manifest_with_wrong_types_is_refused(computed, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(computed["out"], out)
    m = json.loads((out / "manifest.json").read_text())
    m["plan"]["config"]["signals"] = "junk"  # a string where dq writes a list
    (out / "manifest.json").write_text(json.dumps(m))
    assert "is not a `dq compute` manifest" in error_line(dq("compute", computed["data"], "--out", out, *CLI))


# --------------------------------------------------------------------------- nothing written when refused


@pytest.mark.parametrize("bad", [("--signals", "bogus"), ("--signals", "label(k=-3)"), ("--batch-size", "0"),
                                 ("--model", "/no/such/model"), ("--shard-rows", "0")])
def test_a_refused_run_writes_nothing(rows, tmp_path, bad):
    """A refused run used to leave a manifest, and the corrected command was then refused as "other
    settings". Every setting is checked first: no folder appears, and the corrected command runs."""
    data = write_inputs(tmp_path / "in", rows)
    out = tmp_path / "out"
    args = [a for a in CLI if a not in ("--signals", ",".join(SIGNALS))] if bad[0] == "--signals" else list(CLI)
    error_line(dq("compute", data, "--out", out, *args, *bad))
    assert not out.exists()
    r = dq("compute", data, "--out", out, *CLI)
    assert r.returncode == 0, r.stderr


def test_a_new_folder_is_removed_when_the_run_fails_before_any_shard(rows, tmp_path, monkeypatch):
    """Some faults show only while rows are read (ids repeated across files, a text column of lists, a model
    that does not load): the refused run once left manifest.json, fingerprints.json and empty part folders."""
    from dq_core.signals import batch_compute

    data = write_inputs(tmp_path / "in", rows)
    out, empty = tmp_path / "out", tmp_path / "empty"
    empty.mkdir()

    def fail(*_a, **_kw):
        raise DataError("the model would not load")

    monkeypatch.setattr(batch_compute, "run_local", fail)
    for folder in (out, empty):
        with pytest.raises(DataError, match="would not load"):
            compute(str(data), folder, ComputeConfig(shard_rows=15, precision="float32", signals=SIGNALS))
    assert not out.exists() and empty.is_dir() and not any(empty.iterdir())
    monkeypatch.undo()
    r = dq("compute", data, "--out", out, *CLI)
    assert r.returncode == 0, r.stderr


def test_a_compute_killed_before_its_first_shard_starts_over_with_new_settings(rows, tmp_path):
    """A run killed before its first shard (no cleanup runs) leaves only a manifest: the corrected command
    starts it over instead of refusing it as other settings."""
    from dq_core.signals.compute_folder import prepare, start

    data = write_inputs(tmp_path / "in", rows)
    out = tmp_path / "out"
    start(prepare(str(data), out, ComputeConfig(shard_rows=15, precision="float32", signals=SIGNALS)))
    assert (out / "manifest.json").is_file()
    r = dq("compute", data, "--out", out, *CLI)
    assert r.returncode == 0 and "finished no shard; starting it over" in r.stderr, r.stderr


# --------------------------------------------------------------------------- ray addresses that do not answer


def test_an_unreachable_ray_address_fails_at_once_and_writes_nothing(rows, tmp_path):
    """`--backend ray --address 127.0.0.1:1` retried for minutes after writing a manifest. The real
    command, in its own process (a hang would hit the timeout): exit 2, one `error:` line, no folder."""
    data = write_inputs(tmp_path / "in", rows)
    out = tmp_path / "out"
    r = dq_subprocess("compute", data, "--out", out, "--backend", "ray", "--address", "127.0.0.1:1", *CLI,
                      timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    line = [ln for ln in r.stderr.splitlines() if ln.startswith("error: ")][-1]
    if importlib.util.find_spec("ray") is not None:
        assert "no Ray cluster answers at '127.0.0.1:1'" in line and "nothing was written" in line
    else:
        assert "the ray backend needs Ray" in line
    assert not out.exists()


def _serve(reply: bytes | None) -> tuple[socket.socket, int]:
    """A local port that accepts connections and sends ``reply`` (None: says nothing)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)

    def loop():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            if reply is not None:
                conn.sendall(reply)
            threading.Timer(5, conn.close).start()

    threading.Thread(target=loop, daemon=True).start()
    return srv, srv.getsockname()[1]


@pytest.mark.parametrize("reply, message", [(None, "no Ray cluster answers at .*no answer"),
                                            (b"HTTP/1.1 400 Bad Request\r\n\r\n", "not as a Ray cluster does")])
def test_a_port_that_is_not_a_ray_cluster_is_refused_quickly(monkeypatch, reply, message):
    """A port that accepts connections but is no Ray server held ray.init for minutes: the gRPC greeting
    every Ray head sends is asked for, within ANSWER_TIMEOUT_S (shortened here)."""
    from dq_core.signals import batch_ray

    monkeypatch.setattr(batch_ray, "ANSWER_TIMEOUT_S", 0.5)
    srv, port = _serve(reply)
    try:
        with pytest.raises(DataError, match=message):
            batch_ray.check_reachable(f"ray://127.0.0.1:{port}", "--address")
    finally:
        srv.close()


def test_a_grpc_greeting_passes_the_reachability_check():
    """The first frame a gRPC (HTTP/2) server sends is SETTINGS: such a port passes."""
    from dq_core.signals import batch_ray

    srv, port = _serve(bytes.fromhex("000018040000000000"))
    try:
        batch_ray.check_reachable(f"127.0.0.1:{port}", "--address")
    finally:
        srv.close()


@pytest.mark.parametrize("seed", [-5, 10**30, True])
def test_a_library_compute_refuses_a_seed_out_of_range_before_writing(seed):
    """The command line's --seed is refused by its parser; ComputeConfig(seed=-5) from Python once wrote a
    manifest and then failed with a traceback deep in the signals."""
    from dq_core.errors import DataError
    from dq_core.signals.batch import ComputeConfig

    with pytest.raises(DataError, match="--seed must be a whole number"):
        ComputeConfig(seed=seed).validate()
