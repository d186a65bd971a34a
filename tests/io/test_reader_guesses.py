"""What the loader guesses from a file's content: the agreement column of a CSV (whose columns are all
strings) and the legacy code page of a file that is not UTF-8."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from dq_core.data.io import load_dataset
from dq_core.data.readers import decode_bytes

# --------------------------------------------------------------------------- agreement column


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "text": [f"review number {i} of the flight" for i in range(12)],
        "label": ["positive", "negative", "neutral"] * 4,
        "confidence": [0.5, 0.66, 0.75, 0.8, 0.9, 1.0, 0.33, 0.4, 0.7, None, 0.95, 0.6],
    })


@pytest.mark.parametrize("ext", [".csv", ".tsv", ".parquet"])
def test_numeric_confidence_column_is_the_agreement_in_every_format(tmp_path, ext):
    path = tmp_path / f"reviews{ext}"
    if ext == ".parquet":
        _frame().to_parquet(path, index=False)
    else:
        _frame().to_csv(path, index=False, sep="\t" if ext == ".tsv" else ",")
    ds, _ = load_dataset(str(path))
    assert ds.mapping.agreement == "confidence"
    assert pd.to_numeric(ds.frame["confidence"], errors="coerce").iloc[:3].tolist() == [0.5, 0.66, 0.75]


def test_csv_and_parquet_of_the_same_frame_guess_the_same_agreement(tmp_path):
    _frame().to_csv(tmp_path / "a.csv", index=False)
    _frame().to_parquet(tmp_path / "a.parquet", index=False)
    from_csv, _ = load_dataset(str(tmp_path / "a.csv"))
    from_parquet, _ = load_dataset(str(tmp_path / "a.parquet"))
    assert from_csv.mapping.agreement == from_parquet.mapping.agreement == "confidence"


def test_confidence_column_of_words_is_not_the_agreement(tmp_path):
    frame = _frame().assign(confidence=["high", "low", "medium", "high", "low", "0.5"] * 2)
    frame.to_csv(tmp_path / "worded.csv", index=False)
    ds, _ = load_dataset(str(tmp_path / "worded.csv"))
    assert ds.mapping.agreement is None
    assert "confidence" in ds.mapping.metadata  # still kept, as plain metadata


def test_agreement_column_with_a_stray_word_is_still_the_agreement(tmp_path):
    values = [f"0.{i % 9 + 1}" for i in range(29)] + ["n/a"]  # 29 of 30 values are numbers
    frame = pd.DataFrame({"text": [f"row {i} text here" for i in range(30)], "label": ["a", "b", "c"] * 10,
                          "agreement": values})
    frame.to_csv(tmp_path / "stray.csv", index=False)
    ds, _ = load_dataset(str(tmp_path / "stray.csv"))
    assert ds.mapping.agreement == "agreement"


# --------------------------------------------------------------------------- legacy code pages

WESTERN = "row {i}: the café was naïve and the crème brûlée fine"
CZECH = "řádek {i}: Příliš žluťoučký kůň úpěl ďábelské ódy"
CZECH_NO_T_CARON = "řádek {i}: Včera jsem šel do města a koupil si nové boty, které se mi líbí, ale moc drahé"
RUSSIAN = "строка {i}: Съешь же ещё этих мягких французских булок"


def _legacy_csv(tmp_path, row: str, encoding: str, n: int = 150):
    text = "text,label\n" + "".join(f'"{row.format(i=i)}",pos\n' for i in range(n))
    data = text.encode(encoding)
    assert len(data) > 4096  # above the small-sample guard: the detector's guess decides
    path = tmp_path / f"{encoding}.csv"
    path.write_bytes(data)
    return path, data


def _encoding_in_note(notes) -> str:
    note = next(n for n in notes if "not valid UTF-8" in n)
    return re.search(r"read it as (\S+)$", note).group(1)


@pytest.mark.parametrize(("row", "encoding"), [(WESTERN, "latin-1"), (WESTERN, "cp1252"), (CZECH, "cp1250"),
                                               (CZECH_NO_T_CARON, "cp1250"), (RUSSIAN, "cp1251")],
                         ids=["latin-1", "cp1252", "cp1250", "cp1250-no-t-caron", "cp1251"])
def test_legacy_code_page_is_read_right_and_the_note_names_it(tmp_path, row, encoding):
    path, data = _legacy_csv(tmp_path, row, encoding)
    ds, _ = load_dataset(str(path))
    assert ds.texts.tolist()[:2] == [row.format(i=0), row.format(i=1)]
    used = _encoding_in_note(ds.notes)
    assert data.decode(used) == data.decode(encoding)  # the note names the code page actually used


def test_latin1_western_text_is_not_read_as_cp1250():
    data = ("text,label\n" + "".join(f'"{WESTERN.format(i=i)}",pos\n' for i in range(150))).encode("latin-1")
    text, notes = decode_bytes(data, "western.csv")
    assert "naïve" in text and "naďve" not in text
    assert notes == ["the file is not valid UTF-8; read it as cp1252"]


def test_each_row_in_its_own_western_language_is_read_as_cp1252():
    rows = ["Flygande bäckasiner söka hwila på mjuka tuvor", "één coördinatie, reünie, naïef",
            "la crème brûlée était naïve, à côté du château", "el niño comió jalapeños en la montaña",
            "não há ação sem coração", "Perché è così difficile? Più caffè"]
    text = "text,label\n" + "".join(f'"{rows[i % len(rows)]}",x\n' for i in range(120))
    decoded, notes = decode_bytes(text.encode("cp1252"), "mixed.csv")
    assert decoded == text
    assert notes == ["the file is not valid UTF-8; read it as cp1252"]
