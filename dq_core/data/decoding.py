"""A text file's bytes to text, with notes on what was decided: the encoding the user chose, else a
byte-order mark, UTF-8, UTF-8 with a few broken bytes, UTF-8 and cp1252 lines pasted together, a multi-byte
code page charset-normalizer recognises, and last the single-byte code page whose reading is most like
text in some language (codepages.py).

The note on a guessed code page names the page used; when the guess is uncertain (too few letters beyond
ASCII to judge from, or another page reads the file about as well) it says so and how to choose another:
the same words on the command line and on the Load page.
"""

from __future__ import annotations

import codecs
import re

from dq_core.data.codepages import (
    CODE_PAGES,
    MIN_LETTERS,
    CodePageGuess,
    describe,
    guess_code_page,
    multibyte,
    text_encoding,
)
from dq_core.errors import DataError
from dq_core.util.wording import counted

HOW_TO_CHOOSE = "choose its encoding (--encoding NAME on the command line, Encoding on the Load page)"


def decode_bytes(data: bytes, source: str, encoding: str | None = None) -> tuple[str, list[str]]:
    """Text of a file's bytes and notes on how it was read; ``encoding`` (a codec name) overrides the guess."""
    if not data.strip():
        raise DataError(f"{source} is empty; pick a file with a header row and data rows")
    encoding = text_encoding(encoding)
    if encoding is not None:
        return _decode_as(data, source, encoding)
    head = data[:8192]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
        hint = " (UTF-16 without a byte-order mark? choose the encoding utf-16-le or utf-16-be)" if (
            head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4) else ""
        raise DataError(f"{source} looks like a binary file, not text; export it as CSV/TSV/JSON/Parquet{hint}")
    for bom, enc in ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"),
                     (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            text = data.decode(enc, errors="replace")  # a broken unit (an odd last byte) is one replaced character
            n_bad = text.count("\ufffd") - data.decode(enc, errors="ignore").count("\ufffd")
            return text, ([f"the file is {enc} with a byte-order mark, but {n_bad} undecodable byte sequences were "
                           "replaced by \ufffd"] if n_bad else [])
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # UTF-8's mark; the rest is read as any file is (a broken byte included)
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    # Mostly UTF-8 with a few broken bytes (common in scraped text, e.g. the tweets demo): keep UTF-8
    # and replace the broken bytes, since re-reading everything in a legacy code page garbles the rest.
    # A legacy-encoded file (latin-1, cp1252) instead has its high bytes inside words ("caf\xe9s").
    replaced = data.decode("utf-8", errors="replace")
    n_bad = replaced.count("\ufffd")
    if n_bad <= max(1, len(data) // 100) and not _high_bytes_inside_words(data):
        return replaced, [f"the file is not valid UTF-8: {n_bad} undecodable byte sequences were replaced by \ufffd"]
    mixed = _decode_per_line(data)
    if mixed is not None:
        return mixed
    return _decode_legacy(data)


def _decode_as(data: bytes, source: str, encoding: str) -> tuple[str, list[str]]:
    """The file read in the encoding the user chose; a byte that is no character there is refused."""
    try:
        text = data.decode(encoding)
    except UnicodeError as exc:
        at = getattr(exc, "start", None)
        where = f"byte 0x{data[at]:02x} at offset {at:,}" if isinstance(at, int) and at < len(data) else "a byte"
        raise DataError(f"{source} cannot be read as {encoding}: {where} is not a character in it; pick "
                        "another encoding, or auto to guess") from None
    if "\x00" in text[:8192]:
        raise DataError(f"{source} holds NUL characters when read as {encoding}: a binary file, or text in "
                        "another encoding (UTF-16 or UTF-32?)")
    text = text.removeprefix("\ufeff")  # a byte-order mark is not part of the first column's name
    if codecs.lookup(encoding).name != "utf-8" and not data.isascii() and _is_utf8(data):
        return text, [f"the file is valid UTF-8 but was read as {encoding}, as chosen; if its text looks "
                      "wrong, choose utf-8 or auto"]
    return text, [f"read as {encoding}, as chosen"]


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decode_legacy(data: bytes) -> tuple[str, list[str]]:
    """A file in a legacy code page: a multi-byte one charset-normalizer recognises (Shift-JIS, GBK, EUC-KR,
    Big5), unless a single-byte page reads 20 letters or more as words of a language (CJK text read in a
    single-byte page has about one broken character for every two letters); else the best single-byte
    reading."""
    guess = guess_code_page(data)
    mb = _multibyte_encoding(data)
    if mb and not guess.reads_as_text and not _inside_latin_words(data.decode(mb, errors="replace")):
        # A few letters can read as words in a single-byte page too ('東京' in Shift-JIS is 'УМЛЮ' in
        # cp866, 'Привет' in koi8-r valid Shift-JIS): then the multi-byte reading is kept but called uncertain.
        rival = guess.encoding if guess.clean and guess.letters else None
        return _read_as(data, mb, code_page_note(mb, rival=rival))
    return _read_as(data, guess.encoding, code_page_note(guess.encoding, guess))


def _inside_latin_words(text: str) -> bool:
    """Whether most words holding a character beyond ASCII also hold ASCII letters: a German 'schön'
    read as Big5 is 'sch霵'. Japanese glues a Latin letter to kana now and then ('Tシャツ'), but in a
    file truly in a multi-byte page most such words are CJK alone, so then the multi-byte reading is kept."""
    words = [w for w in _LETTER_RUN.findall(text) if not w.isascii()]
    glued = sum(1 for w in words if _ASCII_LETTER.search(w))
    return 2 * glued > len(words)


_LETTER_RUN = re.compile(r"[^\W\d_]+")
_ASCII_LETTER = re.compile(r"[A-Za-z]")


def _read_as(data: bytes, encoding: str, note: str) -> tuple[str, list[str]]:
    """The guessed page judged the first lines; a byte further on that is no character in it is replaced."""
    try:
        return data.decode(encoding), [note]
    except UnicodeDecodeError:
        text = data.decode(encoding, errors="replace")
        return text, [note, f"{counted(text.count(chr(0xFFFD)), 'byte')} that {encoding} does not define were "
                            "replaced by \ufffd"]


def code_page_note(encoding: str, guess: CodePageGuess | None = None, *, rival: str | None = None) -> str:
    """What the loader says about a guessed code page: the page used and, when the guess is uncertain,
    why and how to choose another. ``guess`` is the single-byte guess the page came from (None for a
    multi-byte page, whose ``rival`` is a single-byte page that reads the file as words too)."""
    note = f"the file is not valid UTF-8; read it as {encoding}"
    why = []
    if guess is not None:
        rival = guess.rival
        if guess.letters < MIN_LETTERS:
            why.append(f"only {counted(guess.letters, 'letter')} beyond ASCII to judge from" if guess.letters else
                       "no letters beyond ASCII to judge from")
        elif not guess.reads_as_text:
            why.append(f"no code page reads it as words of a language ({counted(guess.broken, 'character')} "
                       "out of place)")
    if rival:
        why.append(f"{describe(rival)} reads it about as well")
    if not why:
        return note
    others = [p for p in dict.fromkeys([rival or "", "cp1252", "cp1250", "cp1251"]) if p and p != encoding][:3]
    return (f"{note} ({CODE_PAGES.get(encoding, 'multi-byte')}), but the guess is uncertain: {'; '.join(why)}. "
            f"If the text looks wrong, {HOW_TO_CHOOSE}, e.g. {', '.join(others)}")


def _multibyte_encoding(data: bytes) -> str | None:
    """charset-normalizer's code page when it is a multi-byte one (its single-byte guesses are not used)."""
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:200_000]).best()
    except Exception:  # noqa: BLE001 - detection is best effort
        return None
    return best.encoding if best is not None and multibyte(best.encoding) else None


def _decode_per_line(data: bytes) -> tuple[str, list[str]] | None:
    """Files pasted together from UTF-8 and cp1252 parts: each line in the encoding it decodes in.

    Used only when some lines hold real UTF-8 multi-byte text and others are not UTF-8 at all; a file in
    one legacy code page has no valid multi-byte UTF-8 line and goes to detection instead.
    """
    lines = data.split(b"\n")
    utf8_lines = bad_lines = 0
    for line in lines:
        if not any(b >= 0x80 for b in line):
            continue
        try:
            line.decode("utf-8")
            utf8_lines += 1
        except UnicodeDecodeError:
            bad_lines += 1
    if not (utf8_lines and bad_lines):
        return None
    out = []
    for line in lines:
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(line.decode("cp1252", errors="replace"))
    return "\n".join(out), [f"the file mixes encodings: {utf8_lines:,} lines read as UTF-8 and {bad_lines:,} "
                            "lines as cp1252"]


def _high_bytes_inside_words(data: bytes) -> bool:
    hits = re.findall(rb"(?<=[A-Za-z])[\x80-\xff](?=[A-Za-z])", data[:500_000])
    highs = sum(1 for b in data[:500_000] if b >= 0x80)
    return highs > 0 and len(hits) / highs > 0.5


def ignored_encoding_note(encoding: str | None, what: str) -> str | None:
    """The note for an encoding chosen for a source that stores text as Unicode (Parquet, datasets)."""
    if text_encoding(encoding) is None:
        return None
    return f"the chosen encoding {encoding} is ignored: {what} store text as Unicode"
