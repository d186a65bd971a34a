"""TextDataset: a validated, canonical view of a text-classification table.

The canonical frame always has ``row_id``, ``text`` and ``label`` (label may be missing per row),
optionally ``split``, plus the user's metadata columns under their own names. Labels are strings:
numeric labels are categories, not numbers. A dataset is immutable in spirit: filtering returns
a new dataset or a mask, never edits this one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from dq_core.data.values import is_missing, labels_as_categories, replace_nul
from dq_core.errors import DataError

CANONICAL = ("row_id", "text", "label", "split")

_TEXT_NAMES = ("text", "sentence", "content", "body", "message", "review", "tweet", "document", "utterance",
               "comment", "query", "question", "title", "sms", "post")
_LABEL_NAMES = ("label", "labels", "class", "category", "target", "sentiment", "intent", "y", "tag",
                "gold", "topic", "emotion", "rating", "stars")
_ID_NAMES = ("id", "row_id", "uid", "uuid", "guid", "idx", "index", "example_id")
_SPLIT_NAMES = ("split", "subset", "partition", "fold", "set")


@dataclass(frozen=True)
class ColumnMapping:
    """Which source column plays which role. Only ``text`` and ``label`` are required."""

    text: str
    label: str
    id: str | None = None
    split: str | None = None
    metadata: tuple[str, ...] = ()
    annotators: tuple[str, ...] = ()  # two or more per-annotator label columns (annotation consistency)
    agreement: str | None = None  # a per-row agreement/confidence column, e.g. the tweets' "confidence"

    def to_dict(self) -> dict:
        return {"text": self.text, "label": self.label, "id": self.id, "split": self.split,
                "metadata": list(self.metadata), "annotators": list(self.annotators),
                "agreement": self.agreement}

    @classmethod
    def from_dict(cls, d: dict) -> ColumnMapping:
        return cls(text=d["text"], label=d["label"], id=d.get("id"), split=d.get("split"),
                   metadata=tuple(d.get("metadata") or ()), annotators=tuple(d.get("annotators") or ()),
                   agreement=d.get("agreement"))


@dataclass(frozen=True)
class MappingGuess:
    mapping: ColumnMapping | None
    reasons: tuple[str, ...]
    text: str | None = None  # the text column, also when only the label could not be guessed


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _is_texty(s: pd.Series) -> bool:
    return s.dtype == object or pd.api.types.is_string_dtype(s)


def guess_mapping(frame: pd.DataFrame, *, text: str | None = None, label: str | None = None) -> MappingGuess:
    """Guess text/label/id/split columns by name first, then by content.

    Text: a known name, else the string column with the longest mean length. Label: a known name, else
    the low-cardinality column (<= 50 distinct values and < half the rows). Everything else becomes
    metadata. ``text``/``label`` fix a role the user already chose, so only the rest is guessed.
    Returns ``mapping=None`` with reasons when no sensible guess exists.
    """
    cols = list(frame.columns)
    by_norm = {_norm(c): c for c in cols}
    reasons: list[str] = []
    # A role the user chose is kept even when another role cannot be guessed, so `dq profile F
    # --label-col X` works on a file whose label column has an unusual name.
    if text is None:
        text = _guess_text(frame, by_norm, label, reasons)
    if text is None:
        return MappingGuess(None, ("no column holds text; map the text column by hand",))
    if label is None:
        label = _guess_label(frame, by_norm, text, reasons)
    if label is None:
        return MappingGuess(None, (*reasons, "no column looks like a label; map the label column by hand"),
                            text=text)
    used = {text, label}
    id_col = _guess_id(frame, by_norm, used, reasons)
    split = _guess_split(frame, by_norm, used, reasons)
    agreement = _guess_agreement(frame, used, reasons)
    metadata = tuple(c for c in cols if c not in used)
    return MappingGuess(ColumnMapping(text=text, label=label, id=id_col, split=split, metadata=metadata,
                                      agreement=agreement), tuple(reasons), text=text)


def _by_name(by_norm: dict[str, str], names: tuple[str, ...], exclude: set) -> str | None:
    """The first column whose normalised name is in ``names`` (in their order), outside ``exclude``."""
    for n in names:
        c = by_norm.get(n)
        if c is not None and c not in exclude:
            return c
    return None


def _guess_text(frame: pd.DataFrame, by_norm: dict[str, str], label: str | None, reasons: list[str]) -> str | None:
    """The text column: a known name, else the string column with the longest mean length."""
    text = _by_name(by_norm, _TEXT_NAMES, {label})
    if text is not None:
        reasons.append(f"text column guessed as '{text}' (by name)")
        return text
    sample = frame.head(2000)
    # Columns named like a label/id/split, or holding numbers as strings (CSV ids), are not text:
    # a file without a text column must not get its label or id column guessed as the text.
    role_names = {*_LABEL_NAMES, *_ID_NAMES, *_SPLIT_NAMES}
    lengths = {c: sample[c].dropna().astype(str).str.len().mean() for c in frame.columns
               if c != label and _norm(c) not in role_names and _is_texty(sample[c])
               and not holds_numbers(sample[c])}
    lengths = {c: v for c, v in lengths.items() if pd.notna(v)}
    if not lengths:
        return None
    text = max(lengths, key=lengths.get)
    reasons.append(f"text column guessed as '{text}' (longest strings)")
    return text


def _guess_label(frame: pd.DataFrame, by_norm: dict[str, str], text: str, reasons: list[str]) -> str | None:
    """The label column: a known name, else the column with the fewest distinct values (2 to 50, and
    fewer than half the rows)."""
    label = _by_name(by_norm, _LABEL_NAMES, {text})
    if label is not None:
        reasons.append(f"label column guessed as '{label}' (by name)")
        return label
    n = len(frame)
    best = None
    for c in frame.columns:
        if c == text:
            continue
        k = _nunique(frame[c])
        if k is None:  # nested values (lists, dicts) are never labels
            continue
        if 2 <= k <= 50 and k < max(2, n / 2):
            if best is None or k < best[1]:
                best = (c, k)
    if not best:
        return None
    reasons.append(f"label column guessed as '{best[0]}' ({best[1]} distinct values)")
    return best[0]


def _guess_id(frame: pd.DataFrame, by_norm: dict[str, str], used: set, reasons: list[str]) -> str | None:
    """A column named like an id whose values are all distinct (added to ``used``)."""
    id_col = _by_name(by_norm, _ID_NAMES, used)
    if id_col is not None and _nunique(frame[id_col]) != len(frame):
        id_col = None
    if id_col:
        used.add(id_col)
        reasons.append(f"id column guessed as '{id_col}'")
    return id_col


def _guess_split(frame: pd.DataFrame, by_norm: dict[str, str], used: set, reasons: list[str]) -> str | None:
    """A column named like a split with at most 10 distinct values (added to ``used``)."""
    split = _by_name(by_norm, _SPLIT_NAMES, used)
    if split is not None:
        k = _nunique(frame[split])
        if k is None or k > 10:
            split = None
    if split:
        used.add(split)
        reasons.append(f"split column guessed as '{split}'")
    return split


def _guess_agreement(frame: pd.DataFrame, used: set, reasons: list[str]) -> str | None:
    """The last numeric column named like a per-row agreement or confidence (it stays metadata too)."""
    agreement = None
    for c in frame.columns:
        if c not in used and _norm(c) in ("confidence", "agreement", "annotatoragreement", "labelconfidence"):
            if holds_numbers(frame[c]):
                agreement = c
                reasons.append(f"'{c}' kept as the per-row agreement hint")
    return agreement


NUMBERS_SAMPLE = 2000  # values read to decide whether a column holds numbers (a guess, so it stays cheap)


def holds_numbers(s: pd.Series) -> bool:
    """Whether a column holds numbers: the one rule for the text and agreement guesses and the Load page's
    agreement picker. At least one non-missing value, and >= 90% of the first ``NUMBERS_SAMPLE`` of them
    parse as numbers.

    Decided on the values, not the dtype: the CSV/TSV reader keeps every column as strings, so a
    "confidence" column of floats has a string dtype there but a float dtype in Parquet or JSONL. The
    values are parsed the way the agreement's users read them (``pd.to_numeric(errors="coerce")``).
    """
    present = s.dropna().head(NUMBERS_SAMPLE)
    if len(present) == 0:
        return False
    try:
        parsed = pd.to_numeric(present, errors="coerce")
    except (TypeError, ValueError):  # nested values (lists, dicts) are not numbers
        return False
    return bool(parsed.notna().mean() >= 0.9)


def _nunique(s: pd.Series) -> int | None:
    """Distinct non-missing values, or None for unhashable (nested) values.

    ``Series.nunique`` raises TypeError on list columns (Parquet/HF list features); guessing a mapping
    skips such a column instead of failing.
    """
    try:
        return int(s.nunique(dropna=True))
    except TypeError:
        return None


def _check_text_column(s: pd.Series, name: str) -> pd.Series:
    """Coerce the text column to str, refusing nested values (lists, dicts, arrays)."""
    if isinstance(s.dtype, pd.CategoricalDtype):  # map() on a categorical stays categorical
        s = s.astype(object)
    non_null = s.dropna()
    if len(non_null):
        probe = non_null.iloc[: min(len(non_null), 1000)]
        nested = probe.map(lambda v: isinstance(v, (list, tuple, dict, set, np.ndarray)))
        if bool(nested.any()):
            raise DataError(
                f"column '{name}' holds nested values (lists or records), not text; choose a column of "
                "plain strings as the text column, or flatten it before loading"
            )
        if isinstance(probe.iloc[0], (bytes, bytearray)):
            raise DataError(f"column '{name}' holds binary values, not text; choose a column of strings")
    # Keep missing as missing (NA); everything else becomes its string form.
    if pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):  # already text: no per-row Python
        return s.astype("string")
    return s.map(lambda v: v if isinstance(v, str) else (None if is_missing(v) else str(v))).astype("string")


def content_fingerprint(frame: pd.DataFrame) -> str:
    """Stable hash of the canonical content (row order matters: row_id is positional by default)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(",".join(map(str, frame.columns)).encode())
    hashed = pd.util.hash_pandas_object(frame.astype("string").fillna("\x00<NA>"), index=False)
    h.update(hashed.to_numpy().tobytes())
    return h.hexdigest()


@dataclass(frozen=True)
class TextDataset:
    """Canonical frame + the mapping it came from. Build with :func:`build_dataset`."""

    frame: pd.DataFrame
    mapping: ColumnMapping
    name: str = "dataset"
    source: str = ""
    notes: tuple[str, ...] = ()
    fingerprint: str = field(default="")

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def texts(self) -> pd.Series:
        return self.frame["text"]

    @property
    def labels(self) -> pd.Series:
        return self.frame["label"]

    @property
    def row_ids(self) -> np.ndarray:
        return self.frame["row_id"].to_numpy()

    @property
    def has_split(self) -> bool:
        return "split" in self.frame.columns

    @property
    def metadata_columns(self) -> list[str]:
        return [c for c in self.frame.columns if c not in CANONICAL]

    @property
    def classes(self) -> list[str]:
        return sorted(self.frame["label"].dropna().unique().tolist())

    def subset(self, mask: np.ndarray | pd.Series, *, name: str | None = None) -> TextDataset:
        """A new dataset of the rows where ``mask`` is true; row_ids are kept."""
        m = np.asarray(mask, dtype=bool)
        frame = self.frame.loc[m].reset_index(drop=True)
        return replace(self, frame=frame, name=name or self.name, fingerprint=content_fingerprint(frame))

    def with_labels(self, labels: pd.Series | np.ndarray, *, name: str | None = None) -> TextDataset:
        frame = self.frame.copy()
        frame["label"] = pd.Series(np.asarray(labels, dtype=object), index=frame.index).astype("string")
        return replace(self, frame=frame, name=name or self.name, fingerprint=content_fingerprint(frame))


def build_dataset(raw: pd.DataFrame, mapping: ColumnMapping, *, name: str = "dataset", source: str = "",
                  notes: tuple[str, ...] = (), require_labels: bool = True) -> TextDataset:
    """Validate ``raw`` against ``mapping`` and build the canonical dataset.

    Raises DataError with a fix-it message for: no rows, missing columns (with a close-match hint),
    duplicate roles, nested text, non-unique ids, and (when ``require_labels``) no labels at all. Every
    change made to a value on the way (labels stripped or merged, missing texts read as '', NUL
    characters replaced) is said in ``notes``.
    """
    raw = _checked_raw(raw, mapping, require_labels=require_labels)
    notes = list(notes)
    frame = pd.DataFrame(_canonical_columns(raw, mapping, notes), index=raw.index).reset_index(drop=True)
    nul = replace_nul(frame)
    if nul:
        notes.append(nul)
    n_labelled = int(frame["label"].notna().sum())
    if require_labels and n_labelled == 0:
        raise DataError(f"every value in label column '{mapping.label}' is missing; map the column that "
                        "holds the labels")
    if 0 < n_labelled < len(frame):
        notes.append(f"{len(frame) - n_labelled} rows have no label")
    n_classes = frame["label"].nunique(dropna=True)
    if n_classes == 1:
        notes.append(f"only one class ('{frame['label'].dropna().iloc[0]}') is present: balance and label "
                     "checks need at least two")
    return TextDataset(frame=frame, mapping=mapping, name=name, source=source, notes=tuple(notes),
                       fingerprint=content_fingerprint(frame))


def _checked_raw(raw: pd.DataFrame, mapping: ColumnMapping, *, require_labels: bool) -> pd.DataFrame:
    """``raw`` with string column names, once every column the mapping names is there."""
    if raw is None or len(raw.columns) == 0:
        raise DataError("the file has no columns; check that it is a table with a header row")
    if len(raw) == 0:
        raise DataError("the file has a header but no data rows; add rows or pick another file")
    cols = [str(c) for c in raw.columns]
    raw = raw.set_axis(cols, axis=1)
    if not mapping.label and require_labels:
        raise DataError("no label column is mapped; choose the column that holds the labels")
    wanted = {"text": mapping.text, "label": mapping.label or None, "id": mapping.id, "split": mapping.split,
              "agreement": mapping.agreement}
    for role, col in [*wanted.items(), *[("metadata", c) for c in mapping.metadata],
                      *[("annotator", c) for c in mapping.annotators]]:
        if col is not None and col not in cols:
            raise DataError(_missing_column_message(role, col, cols))
    if mapping.label and mapping.text == mapping.label:
        raise DataError(f"'{mapping.text}' is mapped as both text and label; pick two different columns")
    return raw


def _row_ids(raw: pd.DataFrame, id_col: str | None) -> np.ndarray:
    if not id_col:
        return np.arange(len(raw), dtype=np.int64)
    ids = raw[id_col]
    if ids.isna().any():
        raise DataError(f"id column '{id_col}' has missing values; fill them or map no id column")
    if not ids.is_unique:
        dup = ids[ids.duplicated()].iloc[0]
        raise DataError(f"id column '{id_col}' is not unique (e.g. '{dup}' repeats); "
                        "map a unique column or none (row positions are used then)")
    return ids.to_numpy() if pd.api.types.is_integer_dtype(ids) else ids.astype(str).to_numpy()


def _canonical_columns(raw: pd.DataFrame, mapping: ColumnMapping, notes: list[str]) -> dict[str, object]:
    """row_id, text, label, split and the metadata columns (annotators as labels), notes appended."""
    # Columns are gathered in a dict and built in one go: inserting 10,000 metadata columns one by one
    # re-copied the frame each time (a 10,000-column CSV took minutes).
    frame: dict[str, object] = {"row_id": _row_ids(raw, mapping.id)}
    texts = _check_text_column(raw[mapping.text], mapping.text)
    n_missing = int(texts.isna().sum())
    if n_missing:
        # One rule for every format: a CSV cannot tell an empty field from a missing one, so a row without
        # text holds the empty text '' (dq treats both alike), and every export reads back the same.
        texts = texts.fillna("")
        notes.append(f"{n_missing:,} rows have no text (an empty or missing value): read as the empty text ''")
    frame["text"] = texts
    annotators = [c for c in dict.fromkeys(mapping.annotators)
                  if c not in (mapping.text, mapping.label, mapping.id, mapping.split)]
    label_cols = {c: (f"annotator column '{c}'", raw[c]) for c in annotators}
    if mapping.label:
        label_cols = {mapping.label: (f"label column '{mapping.label}'", raw[mapping.label]), **label_cols}
    labels, label_notes = labels_as_categories(label_cols)
    notes.extend(label_notes)
    # an unlabelled reference: text-only views (coverage, shift) still work
    frame["label"] = labels[mapping.label] if mapping.label else pd.Series(pd.NA, index=raw.index, dtype="string")
    if mapping.split:
        frame["split"] = raw[mapping.split].map(lambda v: None if is_missing(v) else str(v)).astype("string")
    extra = [*mapping.metadata, *mapping.annotators]
    if mapping.agreement:
        extra.append(mapping.agreement)
    for c in dict.fromkeys(extra):
        if c in (mapping.text, mapping.label, mapping.id, mapping.split):
            continue
        # A source column named like a canonical one (a metadata "text" next to the mapped "body") is kept
        # under meta_<name>, never over the canonical column or another metadata column.
        target = c if c not in CANONICAL else f"meta_{c}"
        while target in frame or (target != c and target in raw.columns):
            target = f"meta_{target}"
        frame[target] = labels[c] if c in labels else _metadata_values(raw[c])
    return frame


def _metadata_values(s: pd.Series):
    # A nullable integer column (integers with gaps, as the readers give them) stays one: to_numpy() would
    # make its values floats, and an export would write 3 as 3.0.
    if isinstance(s.dtype, pd.api.extensions.ExtensionDtype) and pd.api.types.is_integer_dtype(s.dtype):
        return s.array
    return s.to_numpy()


def _missing_column_message(role: str, col: str, cols: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(col, cols, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    shown = ", ".join(f"'{c}'" for c in cols[:12]) + (" ..." if len(cols) > 12 else "")
    return f"{role} column '{col}' is not in the file{hint} (columns: {shown})"
