"""Junk text: empty, too short, too long, mostly non-letters, repeated characters, URL-only, mojibake.

Each kind has a severity (the row's score is the lowest severity it hits), so "empty" ranks above
"too long". Vectorised pandas string operations: 100k rows take well under a second.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dq_core.signals.base import Signal, SignalResult, register, summarize

URL_RE = r"(?:https?://|www\.)\S+"
# Typical UTF-8-read-as-cp1252/latin-1 sequences ("Ã©", "â€™", "Â "), the replacement char, C1 controls.
MOJIBAKE_RE = "Ã[\x80-\xbf\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u017e\u0178\xa1-\xbf]|â€|Â[\xa0-\xbf]|ï»¿|\ufffd|[\x80-\x9f]"

SEVERITY = {  # score given to a row of each kind (lower = worse)
    "empty": 0.0, "url_only": 0.1, "mojibake": 0.2, "too_short": 0.25, "non_letters": 0.25,
    "repeated_chars": 0.35, "too_long": 0.4,
}


def junk_kinds(texts: pd.Series, *, min_chars: int, max_chars: int, min_letter_share: float,
               max_run: int) -> pd.DataFrame:
    """One bool column per junk kind."""
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
    # One stray replacement character in a fine sentence is not junk; a text riddled with them is.
    n_bad = t.str.count(MOJIBAKE_RE)
    mojibake = n_bad.ge(3) | (n_bad.ge(1) & (n_bad / visible.str.len().clip(lower=1)).ge(0.05))
    return pd.DataFrame({
        "empty": empty.to_numpy(),
        "too_short": (~empty & ~url_only & n_chars.lt(min_chars)).to_numpy(),
        "too_long": n_chars.gt(max_chars).to_numpy(),
        "non_letters": non_letters.to_numpy(),
        "repeated_chars": repeated.to_numpy(),
        "url_only": url_only.to_numpy(),
        "mojibake": mojibake.to_numpy(),
    })


@register
@dataclass(frozen=True)
class JunkSignal(Signal):
    min_chars: int = 5
    max_chars: int = 5000
    min_letter_share: float = 0.3
    max_run: int = 10  # ten identical characters in a row ("!!!!!!!!!!"); "soooo" is just a tweet

    name = "junk"
    title = "Junk text"
    description = ("Empty, shorter than min_chars, longer than max_chars, mostly non-letters, long runs of "
                   "one character, only a URL, or mojibake (3+ broken-encoding sequences, or 5% of the text).")
    requires = frozenset({"text"})

    def __call__(self, ctx) -> SignalResult:
        kinds = junk_kinds(ctx.texts, min_chars=self.min_chars, max_chars=self.max_chars,
                           min_letter_share=self.min_letter_share, max_run=self.max_run)
        arr = kinds.to_numpy()
        sev = np.array([SEVERITY[c] for c in kinds.columns])
        scores = np.where(arr, sev[None, :], 1.0).min(axis=1)
        issue = arr.any(axis=1)
        names = np.array(kinds.columns)
        per_row = np.array([",".join(names[r].tolist()) for r in arr], dtype=object)
        reasons = np.array([f"junk: {k.replace(',', ', ')}" if k else "" for k in per_row], dtype=object)
        counts = {c: int(kinds[c].sum()) for c in kinds.columns}
        return SignalResult(scores, issue, summarize(issue, by_kind=counts), reasons=reasons,
                            columns={"junk_kinds": per_row})
