"""Personal data in text: e-mail addresses, phone numbers, card numbers (Luhn-checked), IPs, URLs.

Regexes find candidates; numbers are then classified by their digits: 13-19 digits passing the Luhn
check with a card-like prefix are card numbers, 9-15 other digits are phone numbers. Each hit kind has a
severity (cards and e-mail addresses rank first); ``kinds`` chooses which kinds flag a row. URLs are
found and counted (summary, ``pii_kinds``) but do not flag by default: a third of the tweets carry a
short link, and a link is personal data only sometimes; add "url" to ``kinds`` to flag them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dq_core.errors import DataError
from dq_core.signals.base import Signal, SignalResult, register, summarize

KINDS = ("email", "phone", "card", "ip", "url")
SEVERITY = {"card": 0.0, "email": 0.1, "phone": 0.15, "ip": 0.3, "url": 0.6}

EMAIL_RE = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"
URL_RE = r"(?:https?://|www\.)[^\s<>\"']+"
IPV4_RE = r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.])"
NUMBER_RE = re.compile(r"(?<![\w.])\+?\(?\d[\d \-().]{6,24}\d(?![\w])")


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum every payment card number satisfies."""
    if not digits.isdigit() or len(digits) < 2:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def classify_number(candidate: str) -> str | None:
    digits = re.sub(r"\D", "", candidate)
    n = len(digits)
    if 13 <= n <= 19 and digits[0] in "23456" and not candidate.lstrip().startswith("+") and luhn_ok(digits):
        return "card"
    if 9 <= n <= 15:
        return "phone"
    return None


def find_pii(texts: pd.Series) -> pd.DataFrame:
    """Counts of each PII kind per row."""
    t = texts.fillna("").astype(str)
    out = pd.DataFrame(index=t.index)
    out["email"] = t.str.count(EMAIL_RE)
    out["url"] = t.str.count(URL_RE)
    no_url = t.str.replace(URL_RE, " ", regex=True).str.replace(EMAIL_RE, " ", regex=True)
    out["ip"] = no_url.str.count(IPV4_RE)
    phone = np.zeros(len(t), dtype=np.int64)
    card = np.zeros(len(t), dtype=np.int64)
    has_digits = no_url.str.count(r"\d").ge(9).to_numpy()
    no_ip = no_url.str.replace(IPV4_RE, " ", regex=True)
    for pos in np.flatnonzero(has_digits):
        for m in NUMBER_RE.finditer(no_ip.iat[pos]):
            kind = classify_number(m.group(0))
            if kind == "card":
                card[pos] += 1
            elif kind == "phone":
                phone[pos] += 1
    out["phone"] = phone
    out["card"] = card
    return out[list(KINDS)].reset_index(drop=True)


@register
@dataclass(frozen=True)
class PiiSignal(Signal):
    kinds: tuple[str, ...] = ("email", "phone", "card", "ip")

    name = "pii"
    title = "Personal data (PII)"
    description = ("E-mail addresses, phone numbers, Luhn-valid card numbers, IP addresses (URLs are counted, "
                   "and flag only when 'url' is among the kinds).")
    requires = frozenset({"text"})

    def __post_init__(self):
        kinds = self.kinds
        if isinstance(kinds, str):  # from the CLI: pii(kinds=email+phone)
            kinds = tuple(k.strip() for k in kinds.replace("|", "+").split("+") if k.strip())
        bad = [k for k in kinds if k not in KINDS]
        if bad:
            raise DataError(f"unknown PII kind(s) {', '.join(bad)}; use some of {', '.join(KINDS)}")
        object.__setattr__(self, "kinds", tuple(kinds))

    def __call__(self, ctx) -> SignalResult:
        counts = find_pii(ctx.texts)
        kinds = [k for k in KINDS if k in self.kinds]
        hit = counts[kinds].to_numpy() > 0
        sev = np.array([SEVERITY[k] for k in kinds])
        scores = np.where(hit, sev[None, :], 1.0).min(axis=1) if kinds else np.ones(len(counts))
        issue = hit.any(axis=1) if kinds else np.zeros(len(counts), dtype=bool)
        found = counts[list(KINDS)].to_numpy() > 0
        names = np.array(KINDS)
        per_row = np.array([",".join(names[r].tolist()) for r in found], dtype=object)
        flagged_names = np.array(kinds)
        reasons = np.array([f"pii: {', '.join(flagged_names[r].tolist())}" if r.any() else "" for r in hit],
                           dtype=object)
        by_kind = {k: int((counts[k] > 0).sum()) for k in KINDS}
        return SignalResult(scores, issue, summarize(issue, rows_by_kind=by_kind), reasons=reasons,
                            columns={"pii_kinds": per_row})
