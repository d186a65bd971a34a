"""Which single-byte code page a file that is not UTF-8 was written in, judged from the letters each
language uses (dq_core/data/decoding.py asks).

Each candidate code page decodes the lines that hold bytes >= 0x80, and the reading is scored: every
letter beyond ASCII is weighed by how often the language that fits its line best uses it (a Russian
line read in cp1251 is made of о, е, а, и...; the same bytes read in koi8-r make words of Ю, Х, Ь), and a
word that no language writes (scripts mixed in one word, "пРИВЕТ", a symbol or control code between two
letters) costs far more. The best reading wins; the guess is called uncertain below 20 letters beyond
ASCII, or when another page's different reading scores within a factor of about 150 of it.

Why not charset-normalizer alone: on files of a few KB its single-byte guesses are noise (cp1250 for
French, cp1252 for Hebrew), and its language tables hold only each language's 26 commonest letters.
It is still asked about multi-byte code pages (Shift-JIS, GBK, EUC-KR, Big5), which it recognises well.
"""

from __future__ import annotations

import codecs
import functools
import itertools
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

import numpy as np

# The candidates, commonest first (a tie goes to the earlier one), and what each is for. latin-1 differs
# from cp1252 only where cp1252 has printable characters and latin-1 control codes, so it is last.
CODE_PAGES = {
    "cp1252": "Western European", "cp1250": "Central European", "cp1251": "Cyrillic", "cp1253": "Greek",
    "cp1254": "Turkish", "cp1255": "Hebrew", "cp1256": "Arabic", "cp1257": "Baltic",
    "iso8859-15": "Western European", "iso8859-2": "Central European", "koi8-r": "Cyrillic",
    "iso8859-5": "Cyrillic", "iso8859-7": "Greek", "iso8859-8": "Hebrew", "iso8859-6": "Arabic",
    "cp866": "Cyrillic, DOS", "cp850": "Western European, DOS", "mac-roman": "Western European, Mac",
    "latin-1": "Western European",
}
MIN_LETTERS = 20  # fewer letters beyond ASCII than this: the guess is called uncertain
MARGIN = 5.0  # nats (a likelihood ratio of about 150): a rival reading closer than this ties
PRUNE = 60.0  # nats behind the best on the first kilobyte: that page is not read further

# Per script, each language: (share of its letters that are beyond ASCII, those letters commonest first).
# Written out by hand from letter-frequency tables; the order matters more than the exact shares.
LANGUAGES: dict[str, dict[str, tuple[float, str]]] = {
    "LATIN": {
        "English": (0.0005, "éïèçñöüáà"), "French": (0.035, "éàèêçôâîûùëïœüÿæ"),
        "German": (0.018, "üäßöé"), "Spanish": (0.03, "óíáéñúü"), "Portuguese": (0.045, "ãçéáêóíõâúàô"),
        "Italian": (0.012, "àèùòìéóí"), "Catalan": (0.03, "éàèçóíòúïü"), "Dutch": (0.004, "ëéïèöüóáê"),
        "Danish": (0.03, "åøæéó"), "Norwegian": (0.03, "åøæéóò"), "Swedish": (0.045, "äåöé"),
        "Finnish": (0.045, "äöåšž"), "Icelandic": (0.14, "ðáíþóæýöéú"), "Irish": (0.05, "áíéóú"),
        "Welsh": (0.01, "âŵêŷîôû"), "Czech": (0.15, "íáéěýčřžšůúňťďó"),
        "Slovak": (0.12, "áíýéčžšúľôňťďäóĺŕ"), "Polish": (0.07, "łęąóżśćńź"),
        "Hungarian": (0.11, "éáöóőíüúű"), "Slovene": (0.025, "čšž"), "Croatian, Bosnian": (0.03, "čšćžđ"),
        "Romanian": (0.08, "ăîșțâşţ"), "Albanian": (0.08, "ëç"), "Turkish": (0.12, "ıüşçğöİâî"),
        "Lithuanian": (0.07, "ėšųžąįūčę"), "Latvian": (0.12, "āēīšūžčņļķģ"),
        "Estonian": (0.04, "äõüöšž"), "Maltese": (0.04, "ħżċġàèìòù"), "Esperanto": (0.02, "ŭĝĉŝĵĥ"),
    },
    "CYRILLIC": {
        "Russian": (1.0, "оеаинтсрвлкмдпугяызьбйчхжшюцщэфъё"),
        "Ukrainian": (1.0, "оаніирвтесклудмпзяьбгйчхцїжшюєщфґ"),
        "Belarusian": (1.0, "аонеірсктлвядмпузыьбгчйшхжцэюёўф"),
        "Bulgarian": (1.0, "аиоентрсвлкдпмзгяъубчцйжщхшюьф"),
        "Serbian": (1.0, "аиоенрсуткјвдмплгзбцшчћжхњљђџф"),
        "Macedonian": (1.0, "аоеинтрсвлкдпмзјгубчцшжњхќфѓљџѕ"),
    },
    "GREEK": {"Greek": (1.0, "ατοιενρσκηπςυμλίόάγέδήωχθύβφξζώψϊΐϋΰ")},
    "HEBREW": {"Hebrew": (1.0, "יוהלרבתמאשנעםדקחפסכגטצןזךףץ")},
    "ARABIC": {
        "Arabic": (1.0, "اليمونرتبةعدسفهكقأحجشطصىخإثذزضظغءآؤئ"),
        # Written in cp1256, Persian and Urdu use its Arabic yeh 'ي' for their own 'ی' (it has no other).
        "Persian": (1.0, "ایيردنهومتبسلکشزفگعخقجآپحطصچژثذضظغءئ"),
        "Urdu": (1.0, "ایيکہےنرمتوسلدبپجٹغشعفقچحڈڑںگھضذثظصزژطخآءئؤ"),
    },
}
# The Latin languages' ASCII letters, commonest first: they tell Spanish 'niño' from Polish 'nińo'.
ASCII_ORDER = {
    "English": "etaoinshrdlcumwfgypbvkjxqz", "French": "esaitnrulodcmpvqfbghjxyzwk",
    "German": "enisratdhulcgmobwfkzpvjyxq", "Spanish": "eaosrnidlctumpbgvyqhfzjxkw",
    "Portuguese": "aeosridmntcuplvgqbfhjzxkwy", "Italian": "eaionlrtscdupmvghfbqzjkwxy",
    "Catalan": "easirlntocdumpgvbqfhxjzykw", "Dutch": "enatirodslghvkmubpwjzcfxyq",
    "Danish": "erntaisdlogmkfvubhpjycwzxq", "Norwegian": "erntsilakodgmvfupbhjycwzxq",
    "Swedish": "eanrtslidomkgvhfupbcjyxwzq", "Finnish": "aitneslokumvrjhpydgbcfwzxq",
    "Icelandic": "anriestulgmkfhvodjpbyxcwzq", "Irish": "aihnrtsecldgmobufpvxjkqwyz",
    "Welsh": "yadnerliwoghfctsubmpjkvzxq", "Czech": "oeantivslrkdupmchzyjbgfxwq",
    "Slovak": "oaenirvtslkdmpuchjbzygfxwq", "Polish": "aioeznrwsctkydpmuljgbhfxvq",
    "Hungarian": "eatlsnkrizomgybvdhupjfcxwq", "Slovene": "eaionrsljtvkdpmuzbghcfyxwq",
    "Croatian, Bosnian": "aioenjrstuklvdmpgzbchfyxwq", "Romanian": "eiarntulcosdpmfvgbzhjkxywq",
    "Albanian": "eitarnsohmkulpdgjvfbzcqyxw", "Turkish": "aeinrlkdmytsuobzghcpvfjwxq",
    "Lithuanian": "iasoretnukmlpvdjgbyzcfhxwq", "Latvian": "aiestrnuolkmdpvjzgbcfhywxq",
    "Estonian": "aiestlunokrdmvgpjhbfcywzxq", "Maltese": "aieltnrmskgojdbfuhpvzqxcwy",
    "Esperanto": "aioenlsrtkmujdpvgcbfzhxywq",
}
# Every character beyond ASCII is paid for in every reading (each reading decodes the same bytes), so a
# page cannot win by reading letters as symbols: a letter costs what its language says, a symbol or mark
# standing apart LOG_SYMBOL, a letter its line's language does not use LOG_OUTSIDE, and a character no
# text holds where it stands LOG_BROKEN.
LOG_SYMBOL = math.log(1e-3)
LOG_OUTSIDE = math.log(1e-4)
LOG_BROKEN = math.log(1e-6)
# Punctuation that may stand between two letters: apostrophes, hyphens and dashes, the Catalan middle dot,
# Hebrew geresh and gershayim.
IN_WORD_PUNCTUATION = "’‘ʼ‐‑–—·׳״"
# Signs that may touch a word on one side: quotes, ¿¡, ellipsis, Arabic punctuation, units and marks
# written after a word ("m²", "nº", "Apple™", "25°C"). Any other sign glued to a word ("¶νθρωπος") is not text.
TOUCHING = IN_WORD_PUNCTUATION + "«»‹›„“”‚¿¡…•†‡%‰°™®©€£$¢¥²³¹ªºµ،؛؟"
NOT_LETTERS = "ªºµ"  # letters to Unicode, symbols in text ("1ª", "5 µm")
_WORD = re.compile(rf"[^\W\d_{NOT_LETTERS}]+")
_UNIT = re.compile(rb'[^\n"\t]+')  # a line or a quoted field is in one language
# Characters beyond ASCII that are not letters: \w is letters, digits and letter-like numbers ('²'), so
# those numbers and the letters that are symbols in text are named too.
_OTHER = re.compile(rf"[^\x00-\x7f\w]|[²³¹¼½¾{NOT_LETTERS}]")


def _shares(mass: float, letters: str) -> dict[str, float]:
    """log share of each letter among all of a language's letters: ``mass`` spread over ``letters`` falling
    off geometrically with rank, the last about 150 times rarer than the first (as letter counts do: о
    and ъ in Russian, e and z in English)."""
    step = 5 / max(len(letters), 1)
    weights = [math.exp(-step * r) for r in range(len(letters))]
    total = sum(weights)
    return {c: math.log(mass * w / total) for c, w in zip(letters, weights, strict=True)}


_LOGS = {script: {name: _shares(mass, letters) for name, (mass, letters) in langs.items()}
         for script, langs in LANGUAGES.items()}
# Per script, each letter's log share in every language of the script (in LANGUAGES' order) as one vector,
# so a unit is scored under all of them at once.
_VECTORS = {script: {c: np.array([logs.get(c, LOG_OUTSIDE) for logs in by_name.values()])
                     for c in set().union(*by_name.values())} for script, by_name in _LOGS.items()}
_OUTSIDE = {script: np.full(len(by_name), LOG_OUTSIDE) for script, by_name in _LOGS.items()}
_ASCII_LOGS = [_shares(1 - mass, ASCII_ORDER[name]) for name, (mass, _) in LANGUAGES["LATIN"].items()]


@dataclass(frozen=True)
class Reading:
    """One code page's reading of the sample: its score (log-likelihood, higher is better), the letters
    beyond ASCII it holds, and how many characters no language writes there (0: every word reads as a
    word of its line's language)."""

    encoding: str
    score: float
    letters: int
    broken: int


@dataclass(frozen=True)
class CodePageGuess:
    """The code page to read a file in: ``letters`` beyond ASCII in its reading, ``broken`` characters that
    stand where no text holds them (0: every word reads as a word), ``rival`` another page whose different
    reading scores about as well (None when none does)."""

    encoding: str
    letters: int
    broken: int
    rival: str | None

    @property
    def clean(self) -> bool:
        return self.broken == 0

    @property
    def reads_as_text(self) -> bool:
        """Enough letters to judge from, and at most one character in ten standing where no language writes
        it (CJK text read in a single-byte page has about one for every two letters)."""
        return self.letters >= MIN_LETTERS and self.broken * 10 <= self.letters

    @property
    def certain(self) -> bool:
        return self.reads_as_text and self.rival is None


def describe(encoding: str) -> str:
    """'cp1251 (Cyrillic)' for a candidate, the codec name for any other."""
    what = CODE_PAGES.get(encoding)
    return f"{encoding} ({what})" if what else encoding


def guess_code_page(data: bytes) -> CodePageGuess:
    """The single-byte code page whose reading of ``data`` is most like text in some language.

    Every page reads the first kilobyte of lines with bytes >= 0x80; only the pages within PRUNE of the
    best go on to read the rest of the sample (a page that far behind on hundreds of letters does not
    catch up, and scoring every page on every line would cost seconds on a long file)."""
    units = _units(data)
    ascii_scores = [_ascii_scores(u) for u in units]
    head = next((i + 1 for i, size in enumerate(itertools.accumulate(map(len, units))) if size >= 1024),
                len(units))
    readings: dict[str, tuple[tuple[str, ...], Reading]] = {}
    seen: set[tuple[str, ...]] = set()
    for name in CODE_PAGES:
        try:
            texts = tuple(u.decode(name) for u in units)
        except UnicodeDecodeError:
            continue
        if texts in seen:  # the same text as a commoner page: one reading, under the commoner name
            continue
        seen.add(texts)
        readings[name] = texts, score_reading(name, texts[:head], ascii_scores[:head])
    top = max(r.score for _, r in readings.values())
    final = [_joined(r, score_reading(name, texts[head:], ascii_scores[head:]))
             for name, (texts, r) in readings.items() if top - r.score <= PRUNE]
    best = max(final, key=lambda r: r.score)  # the first of equals: the commoner page
    rivals = [r for r in final if r is not best and best.score - r.score < MARGIN]
    return CodePageGuess(best.encoding, best.letters, best.broken, rivals[0].encoding if rivals else None)


def _joined(a: Reading, b: Reading) -> Reading:
    return Reading(a.encoding, a.score + b.score, a.letters + b.letters, a.broken + b.broken)


def _units(data: bytes, limit: int = 8192) -> list[bytes]:
    """The lines and quoted fields that hold bytes >= 0x80 (the only ones whose reading differs), up to
    ``limit`` bytes of them."""
    out, size = [], 0
    for m in _UNIT.finditer(data, 0, 1_000_000):
        unit = m.group()
        if not unit.isascii():
            out.append(unit)
            size += len(unit)
            if size >= limit:
                break
    return out


def _ascii_scores(unit: bytes) -> np.ndarray:
    """Each Latin language's log-likelihood of the unit's ASCII letters (the same in every reading)."""
    counts = Counter(chr(b) for b in unit.lower() if 0x61 <= b <= 0x7A)
    return np.array([sum(n * logs[c] for c, n in counts.items()) for logs in _ASCII_LOGS])


def score_reading(encoding: str, texts: tuple[str, ...], ascii_scores: list[np.ndarray]) -> Reading:
    """Score a reading unit by unit (a line or a quoted field is in one language)."""
    score, letters, broken = 0.0, 0, 0
    for unit, ascii_part in zip(texts, ascii_scores, strict=True):
        s, n, b = _unit_score(unit, ascii_part)
        score, letters, broken = score + s, letters + n, broken + b
    return Reading(encoding, score, letters, broken)


def _unit_score(unit: str, ascii_part: np.ndarray) -> tuple[float, int, int]:
    """(log-likelihood, letters beyond ASCII, characters no language writes there) of one unit, each
    script's letters under that script's likeliest language; the ASCII letters are Latin (so every
    reading pays for them)."""
    symbols, broken = _other_characters(unit)
    per_script: dict[str, Counter] = {"LATIN": Counter()}
    n_letters = 0
    for word in _words(unit):
        if word.isascii():
            continue
        high = [c for c in word if not c.isascii()]
        n_letters += len(high)
        script = word_script(word)
        if script is None:
            broken += len(high)
        else:
            per_script.setdefault(script, Counter()).update(_lower(c) for c in high)
    score = symbols * LOG_SYMBOL + broken * LOG_BROKEN
    for script, counts in per_script.items():
        total = ascii_part if script == "LATIN" else 0.0
        vectors, outside = _VECTORS[script], _OUTSIDE[script]
        for c, n in counts.items():
            total = total + n * vectors.get(c, outside)
        score += float(np.max(total))
    return score, n_letters, broken


def _words(unit: str):
    """Runs of letters; a run holding a letter-like number ('²', '½') is cut there."""
    for m in _WORD.finditer(unit):
        w = m.group()
        if w.isalpha():
            yield w
        else:
            yield from "".join(c if c.isalpha() else " " for c in w).split()


def _lower(c: str) -> str:
    low = c.lower()
    return low if len(low) == 1 else c  # 'İ' lower-cases to two characters: the tables list it as it is


def word_script(word: str) -> str | None:
    """The script a word is written in, or None when no language writes it: scripts mixed, a script the
    tables do not know, or a case pattern of no word ('пРИВЕТ': only lower, UPPER or Capitalised)."""
    scripts = {_script(c) for c in word}
    if len(scripts) != 1:
        return None
    script = scripts.pop()
    if script not in LANGUAGES:
        return None
    upper = [c.isupper() for c in word if (c.isupper() or c.islower()) and c != "ß"]
    if len(upper) > 1 and any(upper[1:]) and not all(upper):
        return None
    return script


def _other_characters(unit: str) -> tuple[int, int]:
    """(signs standing where text holds them, characters no text holds where they stand) among the
    characters beyond ASCII that are not letters: a control code or unassigned code point anywhere, a sign
    between two letters ('sz³o', '‚Ì‚É') or glued to one ('¶νθρωπος'), a combining mark that does not
    follow a letter of its own script (a Hebrew point or an Arabic vowel sign after 'n')."""
    fine = broken = 0
    for m in _OTHER.finditer(unit):
        c = m.group()
        i = m.start()
        before = i > 0 and unit[i - 1].isalpha()
        after = i < len(unit) - 1 and unit[i + 1].isalpha()
        cat = unicodedata.category(c)
        if cat[0] == "M":
            j = i - 1
            while j >= 0 and unicodedata.category(unit[j])[0] == "M":  # shadda + fatha: marks stack
                j -= 1
            bad = not (j >= 0 and unit[j].isalpha() and _script(unit[j]) == _script(c))
        else:
            bad = cat in ("Cc", "Cn", "Co", "Cs") or (cat[0] in "SPNL" and cat != "Nd" and (
                (before and after and c not in IN_WORD_PUNCTUATION) or ((before or after) and c not in TOUCHING)))
        broken += bad
        fine += not bad
    return fine, broken


@functools.lru_cache(maxsize=4096)
def _script(c: str) -> str:
    return "LATIN" if c.isascii() else unicodedata.name(c, "?").split(" ")[0]


def multibyte(encoding: str) -> bool:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return False
    return any(k in name for k in ("shift_jis", "cp932", "euc", "gb", "big5", "hz", "iso2022", "johab",
                                   "cp949", "cp950", "utf"))


def text_encoding(name: str | None) -> str | None:
    """The user's encoding choice checked: None for 'guess' (no name, '' or 'auto'), else the name as given
    when Python has a text codec of that name; DataError naming it otherwise."""
    from dq_core.errors import DataError

    if name is None or not name.strip() or name.strip().lower() in ("auto", "auto (guess)"):
        return None
    name = name.strip()
    try:
        info = codecs.lookup(name)
    except LookupError:
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise DataError(f"unknown encoding '{name}'; give a text codec name such as utf-8, cp1252, cp1250, "
                        "cp1251, koi8-r or latin-1 (or auto to guess)")
    return name
