"""Known answers for the CSV separator: commas unless the header has none and another separator fits."""

from __future__ import annotations

import pytest

from dq_core.data.readers import read_table_bytes, sniff_separator


@pytest.mark.parametrize(("text", "sep"), [
    ("text,label\nhello,pos\nbye,neg\n", ","),
    ("text;label\nhello;pos\nbye;neg\n", ";"),
    ("text\tlabel\nhello\tpos\nbye\tneg\n", "\t"),
    ("text|label\nhello|pos\nbye|neg\n", "|"),
    # a comma header is never second-guessed, whatever the texts hold
    ('text,label\n"a; b; c; d",pos\n"e; f",neg\n', ","),
    # quoted semicolons inside a semicolon file
    ('text;label\n"one; two";pos\n"three";neg\n', ";"),
    # no separator fits: stays a comma (the one-column message then asks for the label column)
    ("just text\nhello there\n", ","),
    # a header with a semicolon but rows that do not split evenly: not a semicolon file
    ("text;label\nhello;pos;extra\nbye\n", ","),
])
def test_sniff_separator(text, sep):
    assert sniff_separator(text) == sep


def test_semicolon_file_loads_with_a_note():
    raw = read_table_bytes("text;label\nCafé au lait;pos\n\"Bof; non\";neg\n".encode(), "excel_export.csv")
    assert list(raw.frame.columns) == ["text", "label"]
    assert raw.frame["text"].tolist() == ["Café au lait", "Bof; non"]
    assert any("semicolons" in n for n in raw.notes)


def test_comma_file_has_no_separator_note():
    raw = read_table_bytes(b"text,label\nhello,pos\n", "plain.csv")
    assert not any("separated" in n for n in raw.notes)
