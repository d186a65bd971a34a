"""Junk text: empty, too short, too long, mostly non-letters, repeated characters, URL-only, mojibake.

Each kind has a severity (the row's score is the lowest severity it hits), so "empty" ranks above
"too long". Vectorised pandas string operations, except the mojibake check, which reads only the texts
holding a non-ASCII character (~50k tweets/s on 2 cores; bench/bench_detectors.py).

Mojibake is text decoded with the wrong codec ("CafÃ©", "ÐžÑ‚Ð»Ð¸Ñ‡Ð½Ñ‹Ð¹", "Î— Î¸Î¬Î»Î±ÏƒÏƒÎ±").
``ftfy``'s badness heuristic (``ftfy.badness.is_bad``) finds it in any script, and clean Cyrillic, Greek,
CJK, Arabic, accented Latin or emoji stay unflagged; a text riddled with replacement characters or C1
control characters (a lossy decode: 3 or more, or 5% of the text) counts too. Only texts with a
non-ASCII character are looked at. The repair ``ftfy.fix_text`` proposes (encoding fixes only: quotes,
character widths, ligatures, HTML entities and line breaks are left alone) is the ``mojibake_fixed_text``
column, for a recipe that repairs rather than drops. (The regex before knew only Latin-1 patterns and
missed UTF-8 Greek, Arabic, Polish, Vietnamese or Korean read as cp1252; see bench/bench_detectors.py.)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dq_core.signals.base import Signal, SignalResult, register, summarize

URL_RE = r"(?:https?://|www\.)\S+"
# Signs of a lossy decode: the replacement character and C1 control characters.
LOSSY_RE = "[\ufffd\x80-\x9f]"
# ftfy.fix_text, limited to encoding repairs: typographic quotes, full-width characters, ligatures, HTML
# entities and line breaks are the writer's, not damage.
FIX_CONFIG = {"uncurl_quotes": False, "fix_character_width": False, "fix_latin_ligatures": False,
              "unescape_html": False, "fix_line_breaks": False}

SEVERITY = {  # score given to a row of each kind (lower = worse)
    "empty": 0.0, "url_only": 0.1, "mojibake": 0.2, "too_short": 0.25, "non_letters": 0.25,
    "repeated_chars": 0.35, "too_long": 0.4,
}


def find_mojibake(texts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Per row: is it mojibake, and ftfy's repair where that changes the text (else None)."""
    import ftfy
    from ftfy.badness import is_bad

    t = texts.fillna("").astype(str)
    flag = np.zeros(len(t), dtype=bool)
    fixed = np.full(len(t), None, dtype=object)
    n_lossy = t.str.count(LOSSY_RE)
    visible = t.str.replace(r"\s+", "", regex=True).str.len().clip(lower=1)
    # One stray replacement character in a fine sentence is not junk; a text riddled with them is.
    lossy = (n_lossy.ge(3) | (n_lossy.ge(1) & (n_lossy / visible).ge(0.05))).to_numpy()
    for pos in np.flatnonzero(t.str.contains(r"[^\x00-\x7f]", regex=True).to_numpy()):
        text = t.iat[pos]
        if lossy[pos] or is_bad(text):
            flag[pos] = True
            repaired = ftfy.fix_text(text, **FIX_CONFIG)
            if repaired != text:
                fixed[pos] = repaired
    return flag, fixed


def junk_kinds(texts: pd.Series, *, min_chars: int, max_chars: int, min_letter_share: float,
               max_run: int, mojibake: np.ndarray | None = None) -> pd.DataFrame:
    """One bool column per junk kind (``mojibake``: the :func:`find_mojibake` flags, if already found)."""
    t = texts.fillna("").astype(str)
    stripped = t.str.strip()
    n_chars = stripped.str.len()
    empty = n_chars.eq(0)
    no_urls = t.str.replace(URL_RE, " ", regex=True).str.strip()
    url_only = ~empty & t.str.contains(URL_RE, regex=True) & no_urls.str.len().lt(3)
    visible = no_urls.str.replace(r"\s+", "", regex=True)
    letters = visible.str.count(r"[^\W\d_]")
    letter_share = letters / visible.str.len().replace(0, np.nan)
    non_letters = ~empty & ~url_only & visible.str.len().ge(4) & letter_share.fillna(0).lt(min_letter_share)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "has match groups": the group is a backreference
        run = t.str.contains(r"(.)\1{" + str(max_run - 1) + ",}", regex=True)
    # One character making up most of a longer text ("aaaaaaa", "!!!!!!!!") counts too.
    dominant = visible.str.len().ge(12) & visible.map(lambda s: bool(s) and max(map(s.count, set(s))) / len(s) > 0.7)
    repeated = ~empty & (run | dominant.astype(bool))
    if mojibake is None:
        mojibake, _ = find_mojibake(t)
    return pd.DataFrame({
        "empty": empty.to_numpy(),
        "too_short": (~empty & ~url_only & n_chars.lt(min_chars)).to_numpy(),
        "too_long": n_chars.gt(max_chars).to_numpy(),
        "non_letters": non_letters.to_numpy(),
        "repeated_chars": repeated.to_numpy(),
        "url_only": url_only.to_numpy(),
        "mojibake": mojibake,
    })


@register
@dataclass(frozen=True)
class JunkSignal(Signal):
    min_chars: int = 5
    max_chars: int = 5000
    min_letter_share: float = 0.3
    max_run: int = 10  # ten identical characters in a row ("!!!!!!!!!!"); "soooo" is just a tweet

    ranges = {"min_chars": (0, 1_000_000), "max_chars": (1, 100_000_000), "min_letter_share": (0.0, 1.0), "max_run": (2, 1_000_000)}
    name = "junk"
    title = "Junk text"
    description = ("Empty, shorter than min_chars, longer than max_chars, mostly non-letters, long runs of "
                   "one character, only a URL, or mojibake (text decoded with the wrong codec, in any script, "
                   "found by ftfy; its repair is the mojibake_fixed_text column).")
    requires = frozenset({"text"})

    def __call__(self, ctx) -> SignalResult:
        mojibake, fixed = find_mojibake(ctx.texts)
        kinds = junk_kinds(ctx.texts, min_chars=self.min_chars, max_chars=self.max_chars,
                           min_letter_share=self.min_letter_share, max_run=self.max_run, mojibake=mojibake)
        arr = kinds.to_numpy()
        sev = np.array([SEVERITY[c] for c in kinds.columns])
        scores = np.where(arr, sev[None, :], 1.0).min(axis=1)
        issue = arr.any(axis=1)
        names = np.array(kinds.columns)
        per_row = np.array([",".join(names[r].tolist()) for r in arr], dtype=object)
        reasons = np.array([f"junk: {k.replace(',', ', ')}" if k else "" for k in per_row], dtype=object)
        counts = {c: int(kinds[c].sum()) for c in kinds.columns}
        return SignalResult(scores, issue, summarize(issue, by_kind=counts), reasons=reasons,
                            columns={"junk_kinds": per_row, "mojibake_fixed_text": fixed})
