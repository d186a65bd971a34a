"""The `dq` CLI as a user runs it: the JSON contract, exit codes and error lines (in-process through\n`dq_core.cli.main`; a few through the real process, see tests/cli_helpers.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dq_core.data.io import load_dataset, load_demo
from dq_core.metrics.profile import compute_profile
from tests.bad_inputs import BAD_FILES, NOTED_FILES, cli_args
from tests.cli_helpers import dq, dq_subprocess

ROOT = Path(__file__).resolve().parents[2]
TEST_DATA = ROOT / "tests" / "data"

PROFILE_KEYS = {"n_rows", "n_classes", "class_counts", "class_balance_index", "imbalance_ratio",
                "normalized_entropy", "n_empty", "n_exact_duplicates", "n_conflicting_duplicates", "text_length"}
STAT_KEYS = {"min", "median", "mean", "p95", "max"}


def strict_json(text: str):
    """json.loads that refuses NaN/Infinity: the output must be JSON every tool can read."""
    def refuse(c):
        raise ValueError(f"non-standard JSON constant {c}")
    return json.loads(text, parse_constant=refuse)


def check_contract(out: dict) -> None:
    assert PROFILE_KEYS <= set(out), PROFILE_KEYS - set(out)
    assert set(out["text_length"]) == {"chars", "words"}
    for unit in ("chars", "words"):
        assert set(out["text_length"][unit]) == STAT_KEYS
    assert isinstance(out["n_rows"], int) and isinstance(out["class_counts"], dict)
    assert all(isinstance(k, str) and isinstance(v, int) for k, v in out["class_counts"].items())
    assert sum(out["class_counts"].values()) <= out["n_rows"]
    assert out["n_classes"] == len(out["class_counts"])


def as_cli_json(d: dict) -> dict:
    """A profile dict as the CLI prints it (NaN -> null), for exact comparison."""
    from dq_core.util.jsonsafe import dumps_json

    return json.loads(dumps_json(d))


def test_profile_demo_sms_spam():
    r = dq("profile", "demo:sms_spam")
    assert r.returncode == 0, r.stderr
    out = strict_json(r.stdout)
    check_contract(out)
    assert "reference" not in out
    assert out["n_rows"] == 5574
    assert out["class_counts"] == {"ham": 4827, "spam": 747}
    assert out["n_exact_duplicates"] > 0  # SMS spam has many repeated messages
    # the same numbers the Overview page shows: both come from compute_profile
    ds, _ = load_demo("sms_spam")
    assert out == as_cli_json(compute_profile(ds).to_dict())


def test_profile_demo_preset_includes_its_reference():
    r = dq("profile", "demo:tweets_airline")
    assert r.returncode == 0, r.stderr
    out = strict_json(r.stdout)
    check_contract(out)
    check_contract(out["reference"])
    ds, ref = load_demo("tweets_airline")
    assert out["n_rows"] == len(ds) and out["reference"]["n_rows"] == len(ref)
    assert out["n_rows"] + out["reference"]["n_rows"] == 38158
    assert out["reference"] == as_cli_json(compute_profile(ref).to_dict())


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    import csv

    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["message", "category"])
        w.writerows(rows)
    return path


ROWS = [("Cheap flights now!!", "spam"), ("cheap  FLIGHTS now!!", "ham"), ("see you at 5", "ham"),
        ("See you at 5", "ham"), ("   ", "ham"), ("win a prize today", "spam"), ("call me later", "ham")]


def test_profile_tmp_csv_known_numbers(tmp_path):
    path = write_csv(tmp_path / "mine.csv", ROWS)
    r = dq_subprocess("profile", str(path))  # the real process: exit 0, JSON on stdout, notes on stderr
    assert r.returncode == 0, r.stderr
    out = strict_json(r.stdout)
    check_contract(out)
    assert out["n_rows"] == 7
    assert out["class_counts"] == {"ham": 5, "spam": 2}
    assert out["n_empty"] == 1
    assert out["n_exact_duplicates"] == 2
    assert out["n_conflicting_duplicates"] == 2
    # the rows and groups behind the copies (the Overview and Clean name these figures the same way)
    assert out["n_rows_in_duplicate_groups"] - out["n_duplicate_groups"] == out["n_exact_duplicates"]
    assert out["imbalance_ratio"] == pytest.approx(2.5)
    assert out["class_balance_index"] == pytest.approx(1 - 2 * (5 / 7 - 0.5) ** 2)
    assert out["text_length"]["words"]["max"] == 4
    # the column guesses are said on stderr, the JSON on stdout stays clean
    assert "guessed text column 'message'" in r.stderr and "guessed label column 'category'" in r.stderr
    ds, _ = load_dataset(str(path))
    assert out == as_cli_json(compute_profile(ds).to_dict())


def test_profile_explicit_columns_and_reference(tmp_path):
    data = write_csv(tmp_path / "data.csv", ROWS)
    ref = tmp_path / "ref.csv"
    ref.write_text("message\nhello there\nbook a flight\nbook a  flight\n")  # unlabelled reference
    r = dq("profile", str(data), "--text-col", "message", "--label-col", "category", "--reference", str(ref))
    assert r.returncode == 0, r.stderr
    assert "guessed" not in r.stderr
    out = strict_json(r.stdout)  # the unlabelled reference's NaN balance figures are null, not NaN
    check_contract(out)
    check_contract(out["reference"])
    assert out["reference"]["n_rows"] == 3
    assert out["reference"]["n_classes"] == 0
    assert out["reference"]["class_balance_index"] is None
    assert out["reference"]["n_exact_duplicates"] == 1


def test_agreement_col_maps_a_column_the_name_guess_misses_and_bad_ones_are_refused(tmp_path):
    data = tmp_path / "voted.csv"
    data.write_text("message,category,share_agreeing,note\nhello there,ham,0.9,x\nwin a prize,spam,0.4,y\n"
                    "call me later,ham,,z\n")
    ds, _ = load_dataset(str(data), text_col="message", label_col="category")
    assert ds.mapping.agreement is None  # the name guess only knows confidence / agreement
    ds, _ = load_dataset(str(data), text_col="message", label_col="category", agreement_col="share_agreeing")
    assert ds.mapping.agreement == "share_agreeing"
    cols = ["--text-col", "message", "--label-col", "category"]
    for col, says in (("nope", "is not a column"), ("category", "already the text, label or id column"),
                      ("note", "holds no numbers")):
        r = dq("profile", str(data), *cols, "--agreement-col", col)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert _error_lines(r.stderr) and says in r.stderr, r.stderr
    r = dq("profile", "demo:sms_spam", "--agreement-col", "x")
    assert r.returncode == 2 and "--agreement-col" in r.stderr


def test_profile_save_to_disk_folder(hf_disk_dataset):
    r = dq("profile", str(hf_disk_dataset))
    assert r.returncode == 0, r.stderr
    out = strict_json(r.stdout)
    assert out["class_counts"] == {"negative": 3, "positive": 3}
    assert out["split_sizes"] == {"train": 4, "test": 2}


def _error_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("error: ")]


@pytest.mark.parametrize(("name", "opts", "words"), BAD_FILES,
                         ids=[f"{n}{'+' + '+'.join(o) if o else ''}" for n, o, _ in BAD_FILES])
def test_bad_files_exit_2_with_one_error_line(name, opts, words):
    r = dq("profile", str(TEST_DATA / name), *cli_args(opts))
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stdout == ""
    errors = _error_lines(r.stderr)
    assert len(errors) == 1, r.stderr
    for w in words:
        assert w.lower() in errors[0].lower()
    assert "Traceback" not in r.stderr
    # anything else on stderr is a `note:` (column guesses), never a stack
    assert all(ln.startswith(("error: ", "note: ")) for ln in r.stderr.splitlines()), r.stderr


@pytest.mark.parametrize(("name", "words"), NOTED_FILES, ids=[n for n, _ in NOTED_FILES])
def test_noted_files_exit_0_and_say_so(name, words):
    r = dq("profile", str(TEST_DATA / name))
    assert r.returncode == 0, r.stderr
    notes = " ".join(ln for ln in r.stderr.splitlines() if ln.startswith("note: ")).lower()
    for w in words:
        assert w.lower() in notes
    check_contract(strict_json(r.stdout))


def test_one_class_profile():
    r = dq("profile", str(TEST_DATA / "one_class.csv"))
    out = strict_json(r.stdout)
    assert out["n_classes"] == 1 and out["class_counts"] == {"positive": 6}
    assert out["normalized_entropy"] == 0.0


@pytest.mark.parametrize(("args", "words"), [
    (["profile", "no/such/file.csv"], ("does not exist",)),
    (["profile", "hf:imdb"], ("offline", "save_to_disk")),
    (["profile", "demo:nope"], ("unknown demo 'nope'",)),
    (["profile", "demo:sms_spam", "--reference", str(TEST_DATA / "binary.csv")], ("binary",)),
])
def test_other_bad_inputs(args, words):
    # a missing file through the real process: exit status 2 and one line, as a shell sees them
    r = (dq_subprocess if args == ["profile", "no/such/file.csv"] else dq)(*args)
    assert r.returncode == 2
    errors = _error_lines(r.stderr)
    assert len(errors) == 1 and all(w in errors[0] for w in words), r.stderr
    assert "Traceback" not in r.stderr


def test_debug_shows_the_traceback():
    r = dq_subprocess("--debug", "profile", str(TEST_DATA / "empty.csv"))  # the interpreter's own traceback
    assert r.returncode != 0
    assert "Traceback" in r.stderr and "DataError" in r.stderr


def test_help_lists_the_commands():
    r = dq("--help")
    assert r.returncode == 0
    assert "profile" in r.stdout and "app" in r.stdout
