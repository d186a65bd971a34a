"""Personal data in text: e-mail addresses, phone numbers, card numbers (Luhn-checked), IPs, URLs.

- **Phone numbers**: Google's libphonenumber rules (the ``phonenumbers`` package): its matcher finds the
  numbers that are *valid* in their country's numbering plan (``Leniency.VALID``), written in the
  national form of ``region`` (default "US") or in the international ``+CC`` form of any country. Then
  four guards drop what the matcher takes for a phone but a reader would not: a match that is a date
  or is followed by a time ("24.02.2015 11" of "24.02.2015 11:30"), a match that is part of a larger
  number ("10.4155552671"), a match right after an identifier word ("Order #", "invoice", "serial",
  "ISBN", "ticket", "case no." ...) unless a word asking for a phone precedes it ("call claim number
  09066364311"), and a space-separated list of two-digit numbers not opening with a trunk
  prefix 0 or a "+" (score lists, "98 95 87 91 88"). Only texts holding 7 digits in a row (separators
  allowed between them) reach the matcher, found with one vectorised regex: 20k tweets take well under a
  second. (The rule before, "every run of 9-15 digits", flagged dates with times, order numbers, ISBNs,
  score lists and serial numbers; see bench/bench_detectors.py and docs/benchmarks.md.)
- **Cards**: 13-19 digits passing the Luhn check with a card-like prefix.
- **E-mail addresses, IPv4 addresses, URLs**: regexes.

Each hit kind has a severity (cards and e-mail addresses rank first); ``kinds`` chooses which kinds flag
a row. URLs are found and counted (summary, ``pii_kinds``) but do not flag by default: a third of the
tweets carry a short link, and a link is personal data only sometimes; add "url" to ``kinds`` to flag them.
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
DEFAULT_REGION = "US"  # the country whose national phone formats are read (international +CC forms always are)
REGION_ALIASES = {"UK": "GB"}  # what people type -> the ISO 3166 code libphonenumber uses

EMAIL_RE = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"
URL_RE = r"(?:https?://|www\.)[^\s<>\"']+"
IPV4_RE = r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.])"
NUMBER_RE = re.compile(r"(?<![\w.])\+?\(?\d[\d \-().]{6,24}\d(?![\w])")  # card candidates
# Seven digits with at most a few separators between each: the shortest phone number worth a look.
PHONE_PREFILTER_RE = r"\d(?:[ \-.()/\u00a0]{0,3}\d){6}"

_DAY, _MONTH, _YEAR = r"(?:0?[1-9]|[12]\d|3[01])", r"(?:0?[1-9]|1[0-2])", r"(?:19|20)\d\d"
DATE_RE = re.compile(rf"^(?:{_DAY}[./-]{_MONTH}[./-]{_YEAR}|{_MONTH}[./-]{_DAY}[./-]{_YEAR}|"
                     rf"{_YEAR}[./-]{_MONTH}[./-]{_DAY})(?!\d)")
# Words after which a number is an identifier, not a phone (English, German, French, Spanish/Portuguese).
ID_CONTEXT_RE = re.compile(
    r"(?:\b(?:order|invoice|inv|serial|s/?n|id|ref|reference|ticket|tracking|account|acct|isbn|issn|sku|upc|ean|"
    r"part|model|confirmation|booking|case|transaction|txn|receipt|policy|patent|version|ver|build|item|"
    r"product|customer|member|claim|shipment|parcel|kundennummer|kundennr|bestellnummer|bestellnr|"
    r"rechnungsnummer|rechnung|auftragsnummer|commande|facture|pedido|fatura|factura)\b"
    r"[\s:.#-]*(?:(?:number|num|no|nr|nº|n°)\b\.?[\s:.#-]*)?|#\s*)$", re.IGNORECASE)
# ... unless a word that asks for a phone comes first ("call claim number 09066364311").
PHONE_CONTEXT_RE = re.compile(r"\b(?:call|calling|phone|tel|telephone|ring|dial|mobile|cell|fax|whatsapp|sms|"
                              r"text me|reach me|contact|anruf|ruf|appelez|appeler|ligue|liga|llama|llame)\b",
                              re.IGNORECASE)
TWO_DIGIT_LIST_RE = re.compile(r"^\d{2}(?:\s+\d{2}){3,}$")


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


def is_card_number(candidate: str) -> bool:
    """13-19 digits, a card-like first digit, no leading "+", passing Luhn."""
    digits = re.sub(r"\D", "", candidate)
    return (13 <= len(digits) <= 19 and digits[0] in "23456" and not candidate.lstrip().startswith("+")
            and luhn_ok(digits))


def check_region(region) -> str:
    """``region`` as the upper-case ISO 3166 code libphonenumber knows ("us" -> "US", "UK" -> "GB")."""
    import phonenumbers

    code = str(region).strip().upper() if region is not None else ""
    code = REGION_ALIASES.get(code, code)
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise DataError(f"unknown phone region '{region}'; use a two-letter country code such as US, GB, DE, FR, "
                        "IN, BR or JP (the country whose national phone formats the texts use)")
    return code


def _is_phone_match(text: str, start: int, end: int, raw: str) -> bool:
    """The guards on one matcher hit (see the module docstring)."""
    if DATE_RE.match(raw) or re.match(r"\s?:\d", text[end:end + 3]):
        return False
    if re.search(r"\d[.,]$", text[max(0, start - 2):start]):
        return False  # the fraction of a decimal or the tail of a grouped number
    window = text[max(0, start - 40):start]
    if ID_CONTEXT_RE.search(window) and not PHONE_CONTEXT_RE.search(window):
        return False
    if TWO_DIGIT_LIST_RE.match(raw) and raw[0] != "0":
        return False
    return True


def find_phones(text: str, region: str = DEFAULT_REGION) -> list[str]:
    """The phone numbers in ``text`` (raw strings as written), valid in their numbering plan."""
    from phonenumbers import Leniency, PhoneNumberMatcher

    return [m.raw_string for m in PhoneNumberMatcher(text, region, leniency=Leniency.VALID)
            if _is_phone_match(text, m.start, m.end, m.raw_string)]


def _hide_cards(text: str) -> tuple[str, int]:
    """``text`` with its card numbers blanked out, and how many there were."""
    if sum(ch.isdigit() for ch in text) < 13:
        return text, 0
    n = 0

    def blank(m: re.Match) -> str:
        nonlocal n
        if is_card_number(m.group(0)):
            n += 1
            return " " * len(m.group(0))
        return m.group(0)

    return NUMBER_RE.sub(blank, text), n


def find_pii(texts: pd.Series, *, region: str = DEFAULT_REGION) -> pd.DataFrame:
    """Counts of each PII kind per row (phone numbers read with ``region``'s national formats)."""
    region = check_region(region)
    t = texts.fillna("").astype(str)
    out = pd.DataFrame(index=t.index)
    out["email"] = t.str.count(EMAIL_RE)
    out["url"] = t.str.count(URL_RE)
    no_url = t.str.replace(URL_RE, " ", regex=True).str.replace(EMAIL_RE, " ", regex=True)
    out["ip"] = no_url.str.count(IPV4_RE)
    phone = np.zeros(len(t), dtype=np.int64)
    card = np.zeros(len(t), dtype=np.int64)
    candidates = no_url.str.contains(PHONE_PREFILTER_RE, regex=True).to_numpy()
    no_ip = no_url.str.replace(IPV4_RE, " ", regex=True)
    for pos in np.flatnonzero(candidates):
        text, card[pos] = _hide_cards(no_ip.iat[pos])  # cards first: their digits are no phone
        phone[pos] = len(find_phones(text, region))
    out["phone"] = phone
    out["card"] = card
    return out[list(KINDS)].reset_index(drop=True)


@register
@dataclass(frozen=True)
class PiiSignal(Signal):
    kinds: tuple[str, ...] = ("email", "phone", "card", "ip")
    region: str = DEFAULT_REGION

    name = "pii"
    title = "Personal data (PII)"
    description = ("E-mail addresses, phone numbers valid in their numbering plan (national forms of `region`, "
                   "default US, and international +CC forms; not dates, times, order numbers, ISBNs or score "
                   "lists), Luhn-valid card numbers, IP addresses (URLs are counted, and flag only when 'url' "
                   "is among the kinds).")
    requires = frozenset({"text"})

    def __post_init__(self):
        kinds = self.kinds
        if isinstance(kinds, str):  # from the CLI: pii(kinds=email+phone)
            kinds = tuple(k.strip() for k in kinds.replace("|", "+").split("+") if k.strip())
        bad = [k for k in kinds if k not in KINDS]
        if bad:
            raise DataError(f"unknown PII kind(s) {', '.join(bad)}; use some of {', '.join(KINDS)}")
        object.__setattr__(self, "kinds", tuple(kinds))
        object.__setattr__(self, "region", check_region(self.region))

    def __call__(self, ctx) -> SignalResult:
        counts = find_pii(ctx.texts, region=self.region)
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
                            columns={"pii_kinds": per_row}, info={"phone_region": self.region})
