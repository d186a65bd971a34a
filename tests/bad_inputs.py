"""The malformed files under tests/data/, with the options to load them and the words their message needs.

Shared by the loader tests (DataError) and the CLI tests (exit 2, one ``error: ...`` line).
Each entry: (file name, {"text_col": ..., "label_col": ...}, words that must appear in the message).
"""

from __future__ import annotations

BAD_FILES: list[tuple[str, dict, tuple[str, ...]]] = [
    ("empty.csv", {}, ("empty.csv", "is empty")),
    ("header_only.csv", {}, ("header", "no data rows")),
    ("missing_text_column.csv", {}, ("could not guess the text column", "--text-col")),
    ("missing_text_column.csv", {"text_col": "text", "label_col": "label"},
     ("text column 'text' is not in the file", "'id'", "'label'")),
    ("misspelled_label_column.csv", {"label_col": "label"},
     ("label column 'label' is not in the file", "did you mean 'lable'")),
    ("all_labels_missing.csv", {}, ("every value in label column 'label' is missing",)),
    ("ragged_rows.csv", {}, ("line 3", "4 fields", "header has 2")),
    # every row one field longer than the header: pandas alone takes the first field as the index and
    # shifts the columns silently
    ("ragged_all_rows.csv", {}, ("line 2", "3 fields", "header has 2")),
    ("binary.csv", {}, ("binary", "not text")),
    ("unknown_extension.xlsx", {}, ("unsupported extension", "'.xlsx'")),
    ("duplicate_columns.csv", {}, ("duplicate column names", "'text'")),
    ("not_records.json", {}, ("not a list of records",)),
    ("nested_text.parquet", {}, ("'text'", "nested values", "not text")),
]

# Files that load, but with a note the user must see (page: st.warning/st.info; CLI: a stderr note).
NOTED_FILES: list[tuple[str, tuple[str, ...]]] = [
    ("one_class.csv", ("only one class", "'positive'")),
    ("latin1.csv", ("not valid utf-8", "read it as")),
]

GOOD_FILES = ["good.csv", "good.tsv", "good.json", "good.jsonl", "good.parquet"]


def cli_args(opts: dict) -> list[str]:
    out = []
    if opts.get("text_col"):
        out += ["--text-col", opts["text_col"]]
    if opts.get("label_col"):
        out += ["--label-col", opts["label_col"]]
    return out
