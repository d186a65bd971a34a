"""Short single-byte files read in the right code page, and the --encoding choice (issue 22).

The defect: files of 4 KB or less in cp1255 (Hebrew) or cp1251 (Cyrillic) were read as cp1252 ('שלום עולם'
-> 'ùìåí òåìí') and exported that way, with a note as the only sign, while the same texts in a 9-12 KB file
read right. The corpus tests/data/codepages/ (written by tests/data/make_codepages.py) holds short files in
fourteen code pages; each is loaded, exported as UTF-8 by `dq filter --out x.csv` and read back.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from dq_core.cli import build_parser
from dq_core.commands.common import load_inputs, load_test_set
from dq_core.data import codepages
from dq_core.data.io import load_dataset
from dq_core.data.readers import decode_bytes, read_path
from tests.cli_helpers import dq, error_line

DATA = Path(__file__).resolve().parents[1] / "data"
CORPUS = DATA / "codepages"
sys.path.insert(0, str(DATA))
import make_codepages  # noqa: E402

KEEP_ALL = {"format": "dq-filter-recipe", "version": 1, "name": "keep every row", "signals": []}


@pytest.fixture
def keep_all(tmp_path) -> str:
    path = tmp_path / "keep_all.json"
    path.write_text(json.dumps(KEEP_ALL))
    return str(path)


def _page_in_note(stderr: str) -> str:
    return re.search(r"read it as ([\w-]+)", stderr).group(1)


def _exported_texts(path: Path) -> list[str]:
    return pd.read_csv(path, keep_default_na=False)["text"].tolist()


# --------------------------------------------------------------------------- the corpus


def test_committed_corpus_is_what_the_generator_writes():
    committed = {p.name: p.read_bytes() for p in CORPUS.iterdir()}
    assert committed == make_codepages.files()
    assert all(len(data) <= 4096 for data in committed.values())
    pages = {enc for enc, _ in make_codepages.ALL.values()}
    assert len(pages) >= 10, pages


@pytest.mark.parametrize("name", sorted(make_codepages.ENOUGH))
def test_short_file_in_its_code_page_exports_the_same_texts(tmp_path, keep_all, name):
    """Issue 22: a file of 4 KB or less in cp1255/cp1251 (or any of the corpus' pages) with 20 letters or more
    beyond ASCII is read in its own code page, and `dq filter --out x.csv` writes the same texts as UTF-8."""
    encoding, rows = make_codepages.ENOUGH[name]
    data = (CORPUS / name).read_bytes()
    out = tmp_path / "clean.csv"
    r = dq("filter", str(CORPUS / name), "--recipe", keep_all, "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert _exported_texts(out) == [t for t, _ in rows]
    used = _page_in_note(r.stderr)
    assert data.decode(used) == data.decode(encoding)  # the note names a page that reads it this way
    assert "uncertain" not in r.stderr


def test_hebrew_and_cyrillic_read_the_same_in_a_short_and_a_long_file():
    """The short-file defect: 'שלום עולם' came back as 'ùìåí òåìí' from a 4 KB file and right from a 10 KB one."""
    for text, encoding in (("שלום עולם, מה שלומך היום?", "cp1255"), ("Привет, мир! Как дела сегодня?", "cp1251")):
        for n in (2, 400):
            data = ("text,label\n" + "".join(f'"{text}",{"ab"[i % 2]}\n' for i in range(n))).encode(encoding)
            decoded, notes = decode_bytes(data, "x.csv")
            assert decoded == data.decode(encoding), (encoding, n, notes)
            assert notes == [f"the file is not valid UTF-8; read it as {encoding}"]


@pytest.mark.parametrize("name", sorted(make_codepages.SHORT))
def test_too_few_letters_say_the_guess_is_uncertain_which_page_and_how_to_choose(name):
    r = dq("profile", str(CORPUS / name))
    assert r.returncode == 0, r.stderr
    note = next(line for line in r.stderr.splitlines() if "not valid UTF-8" in line)
    assert note.startswith("note: the file is not valid UTF-8; read it as ")
    assert "the guess is uncertain" in note
    assert "--encoding NAME" in note and "Encoding on the Load page" in note
    ds, _ = load_dataset(str(CORPUS / name))
    assert f"note: {ds.notes[0]}" == note  # one note, on the command line and on the Load page


def test_a_tie_between_two_pages_is_called_uncertain_and_names_the_other():
    # 'café' alone is the same in cp1252 and cp1250; 'crčme' or 'crème' is what tells them apart.
    text, notes = decode_bytes("text,label\ncafé crème,a\nbon,b\n".encode("cp1252"), "x.csv")
    assert "crème" in text
    assert "uncertain" in notes[0] and "cp1250 (Central European) reads it about as well" in notes[0]


def test_each_guessed_page_decodes_and_every_language_table_is_in_its_script():
    for page in codepages.CODE_PAGES:
        bytes(range(0x20, 0x7F)).decode(page)  # every candidate is a real codec and ASCII-compatible
    for script, languages in codepages.LANGUAGES.items():
        for name, (_, letters) in languages.items():
            assert len(set(letters)) == len(letters), name
            assert all(unicodedata.name(c).startswith(script) for c in letters), name
    assert set(codepages.ASCII_ORDER) == set(codepages.LANGUAGES["LATIN"])
    assert all(sorted(order) == [chr(c) for c in range(97, 123)] for order in codepages.ASCII_ORDER.values())


def test_multibyte_files_still_read_as_before():
    for text, encoding in (("本日は晴天なり,良い\n雨が降っています,悪い\n", "shift_jis"),
                           ("这家航空公司的服务很好,好\n今天天气很好,好\n", "gbk"),
                           ("서비스가 아주 좋았어요,좋음\n비행기가 세 시간 늦었어요,나쁨\n", "euc-kr")):
        body = "text,label\n" + text
        decoded, _ = decode_bytes(body.encode(encoding), "x.csv")
        assert decoded == body


@pytest.mark.parametrize("body", ["text,label\nSehr schön,pos\nNicht gut für mich,neg\nGanz gut,pos\n",
                                  "text,label\nTシャツ最高,良い\n本日は晴天なり,良い\n雨が降っています,悪い\n"])
def test_a_few_accents_in_latin_words_are_not_read_as_a_multibyte_page(body):
    """Two umlauts in a short German file were read as Big5 ('sch霵', 'f僡'): a multi-byte reading whose
    characters sit inside Latin words is no text; a Japanese file with one 'Tシャツ' still reads as Japanese."""
    encoding = "cp1252" if "schön" in body else "shift_jis"
    decoded, notes = decode_bytes(body.encode(encoding), "x.csv")
    assert decoded == body
    if encoding == "cp1252":
        assert "uncertain" in notes[0]  # two letters are too few to be sure


def test_koi8r_text_that_is_also_valid_shift_jis_reads_as_cyrillic():
    # charset-normalizer calls this file Shift-JIS; its koi8-r reading is Russian words.
    body = "text,label\n" + "".join(f'"{t}",{lab}\n' for t, lab in make_codepages.ENOUGH["koi8-r_russian.csv"][1])
    decoded, notes = decode_bytes(body.encode("koi8-r"), "x.csv")
    assert decoded == body and notes == ["the file is not valid UTF-8; read it as koi8-r"]


# --------------------------------------------------------------------------- --encoding


def test_encoding_option_overrides_the_guess(tmp_path, keep_all):
    """A short Arabic file the guess reads as Shift-JIS (uncertain) exports right with --encoding cp1256."""
    name = "short_cp1256.csv"
    out = tmp_path / "clean.csv"
    guessed = dq("profile", str(CORPUS / name))
    assert "uncertain" in guessed.stderr
    r = dq("filter", str(CORPUS / name), "--recipe", keep_all, "--out", str(out), "--encoding", "cp1256")
    assert r.returncode == 0, r.stderr
    assert _exported_texts(out) == [t for t, _ in make_codepages.SHORT[name][1]]
    assert "note: read as cp1256, as chosen" in r.stderr
    assert "not valid UTF-8" not in r.stderr


@pytest.mark.parametrize("name", ["nope", "base64", "rot13"])
def test_unknown_encoding_is_refused_naming_it(name):
    r = dq("profile", str(CORPUS / "cp1251_russian.csv"), "--encoding", name)
    assert r.returncode == 2
    assert error_line(r).startswith(f"error: unknown encoding '{name}'")
    assert "Traceback" not in r.stderr


# Every command that reads a data table: the option parses and an unknown codec exits 2 before any work.
COMMANDS = [
    ["profile", "{data}"], ["signals", "{data}", "--out", "{tmp}/s.csv"],
    ["filter", "{data}", "--out", "{tmp}/f.csv"], ["shift", "{data}", "--reference", "{data}"],
    ["coverage", "{data}", "--reference", "{data}"], ["embed", "{data}", "--out", "{tmp}/e.npy"],
    ["train", "{data}", "--trainer", "baseline", "--out", "{tmp}/run"],
    ["advise", "{data}", "--out", "{tmp}/a.json"],
    ["compute", "{tmp}/d.parquet", "--out", "{tmp}/c"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_every_command_that_reads_data_takes_encoding_and_refuses_an_unknown_one(tmp_path, argv):
    out = tmp_path / "out"
    out.mkdir()
    args = [a.format(data=CORPUS / "cp1251_russian.csv", tmp=out) for a in argv]
    assert build_parser(args).parse_args([*args, "--encoding", "cp1251"]).encoding == "cp1251"
    r = dq(*args, "--encoding", "no-such-codec")
    assert r.returncode == 2, r.stderr
    assert error_line(r).startswith("error: unknown encoding 'no-such-codec'")
    assert not list(out.iterdir())  # refused before anything was written


def _args(*argv):
    return build_parser(list(argv)).parse_args(list(argv))


def test_encoding_applies_to_the_reference_and_the_test_file(tmp_path):
    rows = (("Привет, как дела?", "a"), ("Всё хорошо, спасибо.", "b"))
    for name in ("data.csv", "ref.csv", "test.csv"):
        (tmp_path / name).write_bytes(make_codepages.text_of(name, rows).encode("koi8-r"))
    args = _args("advise", str(tmp_path / "data.csv"), "--reference", str(tmp_path / "ref.csv"), "--out", "a.json",
                 "--test", str(tmp_path / "test.csv"), "--encoding", "koi8-r")
    ds, ref = load_inputs(args)
    test = load_test_set(args)
    for side in (ds, ref, test):
        assert side.texts.tolist() == [t for t, _ in rows]


def test_encoding_is_ignored_with_a_note_for_parquet_and_datasets_folders(tmp_path, hf_disk_dataset):
    pd.DataFrame({"text": ["ein schöner Tag", "kein guter"], "label": ["a", "b"]}).to_parquet(tmp_path / "d.parquet")
    raw = read_path(tmp_path / "d.parquet", "cp1251")
    assert raw.frame["text"].tolist() == ["ein schöner Tag", "kein guter"]
    assert raw.notes == ("the chosen encoding cp1251 is ignored: Parquet files store text as Unicode",)
    assert read_path(hf_disk_dataset, "cp1251").notes[-1] == ("the chosen encoding cp1251 is ignored: datasets "
                                                              "folders store text as Unicode")
    r = dq("compute", str(tmp_path / "d.parquet"), "--out", str(tmp_path / "c"), "--encoding", "nope")
    assert r.returncode == 2 and "unknown encoding 'nope'" in r.stderr


def test_a_byte_the_chosen_encoding_does_not_have_is_refused():
    r = dq("profile", str(CORPUS / "cp1251_russian.csv"), "--encoding", "utf-8")
    assert r.returncode == 2
    assert re.match(r"error: cp1251_russian\.csv cannot be read as utf-8: byte 0x\w\w at offset \d+ is not a "
                    r"character in it; pick another encoding, or auto to guess$", error_line(r))


def test_chosen_encoding_on_a_utf8_file_says_so_and_a_bom_is_dropped(tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes("\ufefftext,label\nПривет,a\nПока,b\n".encode())
    text, notes = decode_bytes(path.read_bytes(), "u.csv", "utf-8")
    assert text.startswith("text,label") and notes == ["read as utf-8, as chosen"]
    _, notes = decode_bytes(path.read_bytes(), "u.csv", "cp1251")
    assert notes == ["the file is valid UTF-8 but was read as cp1251, as chosen; if its text looks wrong, "
                     "choose utf-8 or auto"]


def test_utf16_without_a_byte_order_mark_reads_with_the_encoding_and_the_refusal_says_how():
    data = "text,label\nhello there,pos\nbad day,neg\n".encode("utf-16-le")
    with pytest.raises(Exception, match="choose the encoding utf-16-le"):
        decode_bytes(data, "u.csv")
    text, _ = decode_bytes(data, "u.csv", "utf-16-le")
    assert text == "text,label\nhello there,pos\nbad day,neg\n"


def test_dq_embed_says_which_code_page_it_read(tmp_path):
    """dq embed printed none of the loader's notes: a file read in a guessed code page was embedded silently."""
    r = dq("embed", str(CORPUS / "short_cp1255.csv"), "--out", str(tmp_path / "v.npy"), "--no-cache",
           "--precision", "float32")
    assert r.returncode == 0, r.stderr
    assert "note: the file is not valid UTF-8; read it as cp1255 (Hebrew), but the guess is uncertain" in r.stderr
