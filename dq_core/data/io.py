"""One entry point for loading: ``load_dataset`` (a path, ``demo:NAME`` or ``hf:NAME``), the bundled demos
and column mapping. The format readers live in ``readers`` and the writers in ``writers``; their public
names are re-exported here because callers import them from ``dq_core.data.io``.

Demos: ``demo:tweets``, ``demo:sms_spam``, ``demo:tweets_airline``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dq_core.data import assets
from dq_core.data.codepages import text_encoding
from dq_core.data.dataset import (
    ColumnMapping,
    TextDataset,
    _missing_column_message,
    build_dataset,
    guess_mapping,
)
from dq_core.data.decoding import ignored_encoding_note
from dq_core.data.readers import (
    TABLE_EXTENSIONS,
    RawTable,
    data_dir,
    decode_bytes,
    list_data_files,
    read_delimited,
    read_hf_disk,
    read_hf_hub,
    read_json_records,
    read_jsonl,
    read_parquet_bytes,
    read_path,
    read_table_bytes,
    resolve_in_data_dir,
    with_note,
)
from dq_core.data.writers import (
    atomic_write_bytes,
    atomic_write_text,
    frame_to_bytes,
    neutralize_formula,
    write_frame,
)
from dq_core.errors import DataError

__all__ = [
    "DEMOS", "TABLE_EXTENSIONS", "TWEET_TOPICS", "RawTable", "atomic_write_bytes", "atomic_write_text",
    "data_dir", "decode_bytes", "frame_to_bytes", "list_data_files", "load_dataset", "load_demo",
    "mapping_for", "neutralize_formula", "read_delimited", "read_hf_disk", "read_hf_hub",
    "read_json_records", "read_jsonl", "read_parquet_bytes", "read_path", "read_table_bytes",
    "resolve_in_data_dir", "tweet_topics", "write_frame",
]

DEMOS = {
    "tweets": "CrowdFlower Twitter sentiment (38k tweets, 3 classes, crowd confidence kept)",
    "sms_spam": "SMS Spam Collection (5.6k messages, ham/spam)",
    "tweets_airline": "Tweets preset: airline tweets as the dataset, the other topics as the reference",
}


# --------------------------------------------------------------------------- demos

TWEET_TOPICS = {
    # Keyword rules for the tweets corpus, which ships without a topic column; checked in order.
    "airlines": r"@united|@americanair|@usairways|@southwestair|@jetblue|@virginamerica|\bflight|airline",
    "driverless cars": r"driverless|self-driving|self driving|autonomous|google car|robot car",
    "deflategate": r"deflategate|deflate|patriots|brady|belichick",
    "coachella": r"coachella",
    "apple": r"apple|iphone|\bipad|\bmac\b|\bios\b|itunes|watch",
}


def tweet_topics(texts: pd.Series) -> pd.Series:
    lower = texts.fillna("").str.lower()
    topic = pd.Series("other", index=texts.index, dtype=object)
    assigned = pd.Series(False, index=texts.index)
    for name, pattern in TWEET_TOPICS.items():
        hit = lower.str.contains(pattern, regex=True) & ~assigned
        topic[hit] = name
        assigned |= hit
    return topic.astype("string")


def _demo_tweets() -> tuple[RawTable, ColumnMapping]:
    raw = read_table_bytes(assets.tweets_csv_path().read_bytes(), "tweets.csv")
    frame = raw.frame
    frame["confidence"] = pd.to_numeric(frame["confidence"], errors="coerce")
    frame["topic"] = tweet_topics(frame["text"])
    mapping = ColumnMapping(text="text", label="sentiment", metadata=("confidence", "topic"),
                            agreement="confidence")
    return RawTable(frame, "demo:tweets", (*raw.notes, "topic derived from keywords (airlines, driverless "
                                           "cars, deflategate, coachella, apple, other)")), mapping


def _demo_sms() -> tuple[RawTable, ColumnMapping]:
    data = assets.sms_spam_tsv_path().read_bytes()
    text, notes = decode_bytes(data, "SMSSpamCollection.tsv")
    # The file has no header and unquoted text, so read it line by line rather than as CSV.
    rows = [line.split("\t", 1) for line in text.splitlines() if "\t" in line]
    frame = pd.DataFrame(rows, columns=["label", "text"])
    return RawTable(frame, "demo:sms_spam", tuple(notes)), ColumnMapping(text="text", label="label")


def load_demo(name: str) -> tuple[TextDataset, TextDataset | None]:
    """A demo dataset and, for presets, its reference."""
    if name == "tweets":
        raw, mapping = _demo_tweets()
        return build_dataset(raw.frame, mapping, name="demo:tweets", source=raw.source, notes=raw.notes), None
    if name == "sms_spam":
        raw, mapping = _demo_sms()
        return build_dataset(raw.frame, mapping, name="demo:sms_spam", source=raw.source, notes=raw.notes), None
    if name == "tweets_airline":
        full, _ = load_demo("tweets")
        is_air = (full.frame["topic"] == "airlines").to_numpy()
        return (full.subset(is_air, name="demo:tweets (airlines)"),
                full.subset(~is_air, name="demo:tweets (other topics)"))
    raise DataError(f"unknown demo '{name}'; choose one of: {', '.join('demo:' + d for d in DEMOS)}")


# --------------------------------------------------------------------------- one entry point for the CLI

def load_dataset(spec: str, *, text_col: str | None = None, label_col: str | None = None,
                 id_col: str | None = None, agreement_col: str | None = None, split_col: str | None = None,
                 require_labels: bool = True, warn=None, encoding: str | None = None,
                 ) -> tuple[TextDataset, TextDataset | None]:
    """Load ``spec`` (a path, ``demo:NAME`` or ``hf:NAME``) and map its columns.

    Missing column names are guessed and each guess is passed to ``warn`` (the CLI prints it to stderr).
    ``encoding`` (a codec name; None or 'auto' to guess) reads a text file; an unknown name is refused
    before anything is read. Returns the dataset and, for demo presets, a bundled reference.
    """
    text_encoding(encoding)
    if spec.startswith("demo:"):
        ds, ref = load_demo(spec.split(":", 1)[1])
        if text_col or label_col or agreement_col or split_col:
            raise DataError("demo datasets come with their column mapping; drop --text-col/--label-col/"
                            "--agreement-col/--split-col")
        note = ignored_encoding_note(encoding, "demos")
        if note and warn:
            warn(note)
        return ds, ref
    if spec.startswith("hf:"):
        raw = with_note(read_hf_hub(spec[3:]), ignored_encoding_note(encoding, "Hub datasets"))
    else:
        raw = read_path(spec, encoding)
    mapping = mapping_for(raw.frame, text_col=text_col, label_col=label_col, id_col=id_col, warn=warn,
                          label_optional=not require_labels, agreement_col=agreement_col, split_col=split_col)
    return build_dataset(raw.frame, mapping, name=Path(spec).name, source=spec, notes=raw.notes,
                         require_labels=require_labels), None


def mapping_for(frame: pd.DataFrame, *, text_col: str | None, label_col: str | None,
                id_col: str | None = None, warn=None, label_optional: bool = False,
                agreement_col: str | None = None, split_col: str | None = None) -> ColumnMapping:
    """Map columns: the user's choices first, guesses for the rest (each guess passed to ``warn``).

    With ``label_optional`` (a reference set) a frame without the label column, or without anything
    label-like, is read as unlabelled instead of failing.
    """
    # The user's columns go into the guess so only the missing roles are guessed (an unguessable label
    # must not drop the guessed text, or the error names the wrong column), and an unlabelled
    # reference (require_labels=False) is read as unlabelled rather than rejected.
    cols = [str(c) for c in frame.columns]
    unlabelled = label_optional and label_col is not None and label_col not in cols
    guess = guess_mapping(frame, text=text_col, label=None if unlabelled else label_col)
    g = guess.mapping
    text = g.text if g else guess.text
    if text is None or (g is None and not label_optional):
        role = "text" if text is None else "label"
        raise DataError(f"could not guess the {role} column; pass --{role}-col NAME "
                        f"(columns: {', '.join(cols[:12])})")
    label = "" if g is None or unlabelled else g.label
    if warn:
        if not text_col:
            warn(f"guessed text column '{text}' (pass --text-col to choose)")
        if label and not label_col:
            warn(f"guessed label column '{label}' (pass --label-col to choose)")
        if not label:
            warn("no label column found: read as unlabelled (text-only views still work)")
    used = {text, label, id_col}
    meta = tuple(c for c in frame.columns if c not in used)
    agreement = g.agreement if g and g.agreement in meta else None
    if agreement_col is not None:
        agreement = _checked_agreement(frame, agreement_col, meta)
    split = g.split if g and g.split in meta else None
    if split_col is not None:
        split = _checked_split(frame, split_col, meta, agreement=agreement_col)
        agreement = None if agreement == split else agreement  # a guess yields to the user's choice
    meta = tuple(c for c in meta if c != split)
    return ColumnMapping(text=text, label=label, id=id_col, split=split, metadata=meta, agreement=agreement)


def _checked_split(frame: pd.DataFrame, col: str, meta: tuple, *, agreement: str | None) -> str:
    """The user's --split-col, refused with what to do when it is missing or already has another role."""
    if col not in frame.columns:
        raise DataError(_missing_column_message("split", col, [str(c) for c in frame.columns]))
    if col not in meta or col == agreement:
        raise DataError(f"--split-col '{col}' is already the text, label, id or agreement column; name another "
                        "column")
    return col


def _checked_agreement(frame: pd.DataFrame, col: str, meta: tuple) -> str:
    """The user's --agreement-col, refused with what to do when it is missing, taken or not numeric."""
    if col not in frame.columns:
        raise DataError(f"--agreement-col '{col}' is not a column (columns: {', '.join(map(str, frame.columns[:12]))})")
    if col not in meta:
        raise DataError(f"--agreement-col '{col}' is already the text, label or id column; name another column")
    values = pd.to_numeric(frame[col], errors="coerce")
    if values.notna().sum() == 0:
        raise DataError(f"--agreement-col '{col}' holds no numbers; it must be a per-row share in [0, 1] "
                        "(e.g. the fraction of annotators who chose the label)")
    return col
