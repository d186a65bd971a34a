"""Which single-byte code page a file that is not UTF-8 was written in, when charset-normalizer's guess is
not to be trusted as it is (dq_core/data/readers.py asks)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter


def multibyte(encoding: str) -> bool:
    import codecs

    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return False
    return any(k in name for k in ("shift_jis", "cp932", "euc", "gb", "big5", "hz", "iso2022", "johab",
                                   "cp949", "cp950", "utf"))


# The letters beyond ASCII of the languages written in the single-byte Latin code pages (cp1252/latin-1/-9,
# cp1250/latin-2, cp1257, cp1254, latin-3/-8), lower case. Written out by hand: charset-normalizer's
# language tables hold only each language's 26 most frequent letters (no 'ï' for French, no 'ď' for Czech).
_ALPHABETS = (
    "àâæçéèêëîïôœùûüÿ",  # French
    "äöüß",  # German
    "áéíñóúü",  # Spanish
    "àáâãçéêíóôõú",  # Portuguese
    "àèéìíîòóùú",  # Italian
    "àçéèíïòóúü",  # Catalan
    "áéèëíïóöúü",  # Dutch
    "åæéøó",  # Danish, Norwegian
    "åäéö",  # Swedish
    "åäöšž",  # Finnish
    "áæðéíóöúýþ",  # Icelandic
    "áéíóú",  # Irish
    "âêîôûŵŷ",  # Welsh
    "áčďéěíňóřšťúůýž",  # Czech
    "áäčďéíĺľňóôŕšťúýž",  # Slovak
    "ąćęłńóśźż",  # Polish
    "áéíóöőúüű",  # Hungarian
    "čšž",  # Slovene
    "čćđšž",  # Croatian, Bosnian, Serbian in Latin letters
    "ăâîșşțţ",  # Romanian
    "çë",  # Albanian
    "çğıİöşü",  # Turkish ('İ' lower-cases to two characters, so it is listed as it is)
    "ąčęėįšųūž",  # Lithuanian
    "āčēģīķļņšūž",  # Latvian
    "äõöüšž",  # Estonian
    "àċèġħìòùż",  # Maltese
    "ĉĝĥĵŝŭ",  # Esperanto
)
# A byte >= 0x80 next to an ASCII letter or another such byte: inside a word ("caf\xe9"), not "\xa35" (£5).
_WORD_HIGH_BYTE = re.compile(rb"(?<=[A-Za-z\x80-\xff])[\x80-\xff]|[\x80-\xff](?=[A-Za-z\x80-\xff])")
_ALL_LANGUAGES = (1 << len(_ALPHABETS)) - 1


def latin_code_page(sample: bytes, results, guess: str) -> str:
    """The detector's single-byte guess, or the Latin code page that spells each line in one language.

    charset-normalizer ranks its matches by mess, then by language coherence, and keeps the order it
    tried them in on a tie: Western text whose accents are letters in both cp1250 and cp1252 ("naïve")
    ties, and cp1250 wins by name ("naďve"). Its coherence only knows each language's 26 commonest
    letters, so it cannot break the tie either. So its Latin matches (the ones it did not rule out as a
    mess) are tried commonest first (cp1252 first), and one replaces the match kept so far only when more
    of the file's lines and quoted fields read as words of a single language ("naïve crème" is French,
    "naďve crčme" is no language's). A Cyrillic, Greek, Hebrew or Arabic guess is kept as it is.
    """
    units = _accented_units(sample)
    names = _latin_matches(results, units)
    if guess not in names:
        return guess
    kept = names[0]
    for name in names[1:]:
        if _fits_better(name, kept, units):
            kept = name
    return kept


def _accented_units(sample: bytes) -> Counter:
    """How many lines or quoted fields hold each set of in-word bytes >= 0x80 (a row is in one language)."""
    units: Counter = Counter()
    for piece in re.split(rb'[\n"\t]', sample):
        found = _WORD_HIGH_BYTE.findall(piece)
        if found:
            units[frozenset(found)] += 1
    return units


def _latin_matches(results, units: Counter) -> list[str]:
    """The detector's single-byte matches that read the in-word bytes as mostly Latin letters and never
    as control codes, the commonest code pages first: cp1252 when the detector kept it (as a match or as
    one that decodes the same), the other Windows code pages (what Excel and Notepad save), ISO 8859, then
    Mac and DOS ones, each group in the detector's order."""
    names = [m.encoding for m in results if not multibyte(m.encoding)]
    if any("cp1252" in m.could_be_from_charset for m in results):
        names.insert(0, "cp1252")
    names = sorted(dict.fromkeys(names), key=lambda n: (n != "cp1252", not n.startswith("cp125"),
                                                        not n.startswith(("iso8859", "latin"))))
    seen = frozenset().union(*units)
    return [n for n in names if _reads_as_latin(n, seen)]


def _reads_as_latin(encoding: str, seen: frozenset) -> bool:
    chars = [_char(b, encoding) for b in seen]
    if any(c is None or unicodedata.category(c) == "Cc" for c in chars):
        return False
    letters = [c for c in chars if _is_letter(c)]
    return sum(map(_is_latin, letters)) >= len(letters) / 2


def _char(b: bytes, encoding: str) -> str | None:
    try:
        return b.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _is_latin(c: str) -> bool:
    return unicodedata.name(c, "").startswith("LATIN")


def _is_letter(c: str) -> bool:
    """A letter of some script: Unicode also calls 'ª', 'º' and 'µ' letters, but in text they are symbols."""
    return c.isalpha() and (ord(c) > 0xFF or _is_latin(c))


def _fits_better(name: str, kept: str, units: Counter) -> bool:
    """Whether more units read as one language in ``name`` than in ``kept``, judged on the bytes that are
    Latin letters in both. A byte that is a symbol in one of them ('¿' or 'ż') says nothing here: telling
    text from mess is the detector's job, and it kept both."""
    seen = frozenset().union(*units)
    a, b = _language_masks(name, seen), _language_masks(kept, seen)
    shared = a.keys() & b.keys()
    return _one_language_share(a, shared, units) > _one_language_share(b, shared, units)


def _language_masks(encoding: str, seen: frozenset) -> dict[bytes, int]:
    """Each byte that is a Latin letter in ``encoding``: a bit set of the alphabets that hold the letter."""
    out = {}
    for b in seen:
        c = _char(b, encoding)
        if c and _is_letter(c) and _is_latin(c):
            out[b] = sum(1 << i for i, abc in enumerate(_ALPHABETS) if c.lower() in abc or c in abc)
    return out


def _one_language_share(masks: dict[bytes, int], shared, units: Counter) -> float:
    """Share of the units with a ``shared`` byte whose letters all belong to one language's alphabet."""
    total = fit = 0
    for unit, n in units.items():
        common, any_letter = _ALL_LANGUAGES, False
        for b in unit & shared:
            common &= masks[b]
            any_letter = True
        if any_letter:
            total += n
            fit += n if common else 0
    return fit / total if total else 0.0
