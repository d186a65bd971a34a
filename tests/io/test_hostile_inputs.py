"""Every hostile input through every command that reads data: exit 0, or exit 2 with one ``error:`` line;
never a traceback, and the source byte-identical afterwards.

The corpus: tests/data/hostile/ (small text files, committed) plus the big, binary and special inputs that
tests/data/make_hostile.py builds at test time (Parquet bombs, FIFOs, symlink loops, a device, datasets
folders pointing outside themselves). Commands run in-process through ``dq_core.cli.main`` (fast); a
handful run as real subprocesses at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dq_core.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
sys.path.insert(0, str(DATA))
import make_hostile  # noqa: E402

SMALL = sorted(make_hostile.small_inputs())
SPECIAL = ["good.parquet", "truncated.parquet", "random_bytes.parquet", "parquet_named_csv.csv",
           "random_bytes.csv", "very_long_cell.csv", "deep_100k.json", "deep_line.jsonl", "bomb_3m_rows.parquet",
           "list_labels.parquet", "category_text.parquet", "nested_text.parquet", "binary_text.parquet",
           "wide_3000_columns.csv", "fifo.csv", "symlink_loop.csv", "device.csv", "symlink_to_good.parquet",
           "dangling_symlink.csv", "folder_named_csv", "empty_folder", "long_name.csv", "nul_in_path.csv",
           "missing.csv", "hf_good/", "hf_symlink_out/", "hf_state_escape/", "hf_split_escape/",
           "hf_damaged_arrow/", "hf_bad_state/"]
RECIPE = {"format": "dq-filter-recipe", "version": 1, "name": "hostile",
          "signals": [{"signal": "exact_duplicate", "action": "dedupe", "use_flag": True},
                      {"signal": "junk", "action": "drop", "use_flag": True}],
          "signal_settings": {"signals": ["junk", "pii", "exact_duplicate"], "seed": 0}}

# Known answers: the exit code every command must give, and a word of the error where it is refused.
EXPECT: dict[str, tuple[int, str]] = {
    "empty.csv": (2, "empty"), "whitespace_only.csv": (2, "empty"), "header_only.csv": (2, "no data rows"),
    "bom_utf8.csv": (0, ""), "utf16_bom.csv": (0, ""), "utf16_no_bom.csv": (2, "binary"), "cr_only.csv": (0, ""),
    "crlf.csv": (0, ""), "mixed_line_ends.csv": (0, ""), "shift_jis_small.csv": (0, ""),
    "mixed_utf8_cp1252.csv": (0, ""), "latin1_small.csv": (0, ""), "nul_in_middle.csv": (2, "binary"),
    "ragged_more_fields.csv": (2, "fields"), "duplicate_header.csv": (2, "duplicate column"),
    "empty_header_name.csv": (2, "empty name"), "one_column.csv": (2, "label"),
    "labels_1_and_1.0.csv": (0, ""), "metadata_named_text.csv": (0, ""), "meta_text_collision.csv": (0, ""),
    "all_labels_missing.csv": (2, "missing"), "deep_100k.json": (2, "deep"), "deep_line.jsonl": (2, "deep"),
    "json_scalar.json": (2, "not a list of records"), "json_empty_list.json": (2, "no records"),
    "jsonl_bad_line.jsonl": (2, "line 3"), "jsonl_non_object.jsonl": (2, "line 2"),
    "json_list_labels.json": (2, "single label"), "list_labels.parquet": (2, "single label"),
    "json_1_and_1.0.json": (0, ""), "not_a_table.xlsx": (2, "unsupported extension"),
    "no_extension": (2, "unsupported extension"), "good.parquet": (0, ""), "truncated.parquet": (2, "Parquet"),
    "random_bytes.parquet": (2, "Parquet"), "parquet_named_csv.csv": (2, "binary"),
    "bomb_3m_rows.parquet": (2, "DQ_MAX_ROWS"), "category_text.parquet": (0, ""),
    "nested_text.parquet": (2, "nested"), "wide_3000_columns.csv": (0, ""), "fifo.csv": (2, "not a regular file"),
    "symlink_loop.csv": (2, "loop"), "device.csv": (2, "not a regular file"), "symlink_to_good.parquet": (0, ""),
    "dangling_symlink.csv": (2, "does not exist"), "folder_named_csv": (2, "not a datasets"),
    "empty_folder": (2, "not a datasets"), "long_name.csv": (2, "too long"), "nul_in_path.csv": (2, "NUL"),
    "missing.csv": (2, "does not exist"), "hf_good/": (0, ""), "hf_symlink_out/": (2, "points outside"),
    "hf_state_escape/": (2, "points outside"), "hf_split_escape/": (2, "points outside"),
    "hf_damaged_arrow/": (2, "damaged"), "hf_bad_state/": (2, "damaged"), "semicolon_separated.csv": (0, ""),
}

# Where one command answers differently: six copies of one text dedupe to a single row, which removes a class;
# in the two-row semicolon file the default recipe drops the only "neg" row (a one-word text is junk).
EXPECT_FOR = {("category_text.parquet", "filter"): (2, "removes every row of class"),
              ("semicolon_separated.csv", "filter"): (2, "removes every row of class")}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, str]:
    paths = {name: str(DATA / "hostile" / name) for name in SMALL}
    paths.update(make_hostile.build_special(tmp_path_factory.mktemp("special")))
    return paths


@pytest.fixture(scope="module")
def recipe(tmp_path_factory) -> str:
    p = tmp_path_factory.mktemp("recipe") / "hostile.json"
    p.write_text(json.dumps(RECIPE))
    return str(p)


@pytest.fixture(autouse=True)
def _workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("DQ_HOME", str(tmp_path / "ws"))


def digest(path: str) -> str:
    """Content of a file, or of every file under a folder (symlink targets included); stable for the
    special inputs that cannot be read (FIFO, device, loop, missing)."""
    h = hashlib.blake2b(digest_size=16)
    p = Path(path)
    try:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                h.update(str(f.relative_to(p)).encode())
                if f.is_file():
                    h.update(f.read_bytes())
        elif p.is_file():
            h.update(p.read_bytes())
        else:
            h.update(repr(os.lstat(p).st_mode).encode())
    except (OSError, ValueError):
        h.update(b"unreadable")
    return h.hexdigest()


def commands(path: str, out: Path, recipe: str) -> dict[str, list[str]]:
    return {"profile": ["profile", path],
            "signals": ["signals", path, "--signals", "junk,pii,exact_duplicate", "--out", str(out / "sig.csv")],
            "filter": ["filter", path, "--recipe", recipe, "--out", str(out / "clean.csv"),
                       "--log", str(out / "removed.csv")]}


def check_contract(rc: int, err: str, name: str, command: str) -> None:
    assert "Traceback" not in err, f"{name} / {command}: traceback\n{err}"
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert rc in (0, 2), f"{name} / {command}: exit {rc}\n{err}"
    if rc == 2:
        assert len(errors) == 1, f"{name} / {command}: expected one error line\n{err}"
        assert "SECRET-CONTENT" not in err, f"{name} / {command}: the message echoes file contents"
    else:
        assert not errors, err


@pytest.mark.parametrize("name", [*SMALL, *SPECIAL])
def test_every_command_keeps_the_contract(name, corpus, recipe, tmp_path, capsys):
    path = corpus[name]
    before = digest(path)
    for command, argv in commands(path, tmp_path, recipe).items():
        rc = main(argv)
        err = capsys.readouterr().err
        check_contract(rc, err, name, command)
        if name in EXPECT:
            want_rc, word = EXPECT_FOR.get((name, command), EXPECT[name])
            assert rc == want_rc, f"{name} / {command}: exit {rc}, expected {want_rc}\n{err}"
            assert word.lower() in err.lower(), f"{name} / {command}: '{word}' not in\n{err}"
    assert digest(path) == before, f"{name}: the source changed"


def test_the_corpus_is_big_enough(corpus):
    assert len(corpus) >= 60
    assert set(SPECIAL) <= set(corpus)


def test_numbers_that_are_equal_are_one_class(corpus, capsys):
    for name in ("labels_1_and_1.0.csv", "json_1_and_1.0.json"):
        assert main(["profile", corpus[name]]) == 0
        counts = json.loads(capsys.readouterr().out)["class_counts"]
        assert set(counts) == {"1", "2"}, (name, counts)


def test_small_shift_jis_file_is_decoded(corpus, capsys):
    assert main(["profile", corpus["shift_jis_small.csv"]]) == 0
    counts = json.loads(capsys.readouterr().out)["class_counts"]
    assert set(counts) == {"良い", "悪い"}


def test_mixed_encodings_are_decoded_per_line():
    from dq_core.data.io import read_table_bytes

    raw = read_table_bytes((DATA / "hostile" / "mixed_utf8_cp1252.csv").read_bytes(), "m.csv")
    assert raw.frame["text"].tolist() == ["café crème brûlée", "na\xefve façade", "déjà vu again",
                                          "soupçon of doubt"]
    assert any("mixes encodings" in n for n in raw.notes)


def test_metadata_named_text_is_kept(corpus):
    from dq_core.data.io import load_dataset

    ds, _ = load_dataset(corpus["meta_text_collision.csv"], text_col="body", label_col="label")
    assert ds.texts.tolist() == ["hello there", "bye for now"]
    # The file's own meta_text column keeps its name; the metadata "text" moves aside, overwriting nothing.
    assert ds.frame["meta_text"].tolist() == ["meta meta one", "meta meta two"]
    assert ds.frame["meta_meta_text"].tolist() == ["meta one", "meta two"]


def test_cr_only_rows_are_split(corpus, capsys):
    assert main(["profile", corpus["cr_only.csv"]]) == 0
    assert json.loads(capsys.readouterr().out)["n_rows"] == 4


def test_limits_are_configurable(corpus, monkeypatch, capsys):
    monkeypatch.setenv("DQ_MAX_ROWS", "3")
    assert main(["profile", corpus["crlf.csv"]]) == 2
    assert "DQ_MAX_ROWS" in capsys.readouterr().err
    monkeypatch.setenv("DQ_MAX_ROWS", "lots")
    assert main(["profile", corpus["crlf.csv"]]) == 2
    assert "positive whole number" in capsys.readouterr().err
    monkeypatch.delenv("DQ_MAX_ROWS")
    monkeypatch.setenv("DQ_MAX_COLUMNS", "100")
    assert main(["profile", corpus["wide_3000_columns.csv"]]) == 2
    assert "DQ_MAX_COLUMNS" in capsys.readouterr().err
    monkeypatch.setenv("DQ_MAX_BYTES", "1000")
    assert main(["profile", corpus["very_long_cell.csv"]]) == 2
    assert "DQ_MAX_BYTES" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["fifo.csv", "symlink_loop.csv", "hf_symlink_out/", "nul_in_path.csv",
                                  "crlf.csv"])
def test_real_subprocess(name, corpus, recipe, tmp_path):
    """The same contract through the installed entry point (no in-process state, a real FIFO open)."""
    want_rc, word = EXPECT.get(name, (0, ""))
    for argv in commands(corpus[name], tmp_path, recipe).values():
        if "\x00" in corpus[name]:
            continue  # the OS refuses NUL in argv before dq runs; covered in-process above
        proc = subprocess.run([sys.executable, "-m", "dq_core.cli", *argv], capture_output=True, text=True,
                              timeout=120, env={**os.environ, "DQ_HOME": str(tmp_path / "ws")})
        check_contract(proc.returncode, proc.stderr, name, argv[0])
        assert proc.returncode == want_rc and word.lower() in proc.stderr.lower(), proc.stderr


HOSTILE_RECIPES = {
    "nested_100k.json": b'{"format": "dq-filter-recipe", "version": 1, "name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "number_309_digits.json": (b'{"format": "dq-filter-recipe", "version": 1, "name": "x", "signals": [{"signal": '
                               b'"junk", "action": "drop", "threshold": ' + b"9" * 309 + b', "use_flag": false}]}'),
    "empty.json": b"",
    "binary.json": bytes(range(256)),
    "not_a_recipe.json": b'{"hello": "world"}',
}


@pytest.mark.parametrize("name", [*HOSTILE_RECIPES, "fifo"])
def test_hostile_recipes_and_signal_files(name, corpus, tmp_path, capsys):
    """A recipe or a signals file is input too: refused with one line, never a hang or a traceback."""
    path = tmp_path / name
    if name == "fifo":
        os.mkfifo(path)
    else:
        path.write_bytes(HOSTILE_RECIPES[name])
    data = corpus["crlf.csv"]
    runs = [["filter", data, "--recipe", str(path), "--out", str(tmp_path / "c.csv")],
            ["filter", data, "--recipe", "default", "--signals", str(path), "--out", str(tmp_path / "c.csv")],
            ["train", data, "--trainer", "baseline", "--recipe", str(path), "--out", str(tmp_path / "run")]]
    for argv in runs:
        if name != "fifo" and "--signals" in argv:
            continue
        rc = main(argv)
        err = capsys.readouterr().err
        check_contract(rc, err, name, argv[0])
        assert rc == 2
    assert not (tmp_path / "c.csv").exists()
