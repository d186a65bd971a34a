"""Write the fixed inputs of the outputs check ONCE into a folder (refuses to overwrite).

    python bench/outputs_check/make_inputs.py [FOLDER]

FOLDER: $DQ_CHECK_INPUTS, else .dq-outputs-check/inputs under the current folder. snapshot.sh runs this
on first use, with the snapshot's REPO on PYTHONPATH (it reads the tweets demo through dq_core's own demo
loader). The files are then read-only and every snapshot checks them against MANIFEST.json: the before
and after snapshots are only comparable on the same inputs, so they are never regenerated in place.

Writes
  tweets_3k.csv          3,000 tweets-demo rows (seed 21), utf-8, comma CSV:
                         id (the demo's row_id), text, sentiment, confidence, topic
  tweets_ref_1k.parquet  1,000 other tweets-demo rows (same permutation, next 1,000), same columns
  heldout_tickets.csv    1,500 generated support-ticket rows, NOT a demo: utf-8-sig (BOM),
                         ';'-separated, columns ticket_id;message;category;agreement;channel
  MANIFEST.json          sha256 of each file
The SMS demo is used as `demo:sms_spam` directly (the CLI loads demos by name).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import random
import sys
from pathlib import Path

import numpy as np

DEFAULT_FOLDER = ".dq-outputs-check/inputs"


def tweets(out: Path) -> None:
    from dq_core.data.io import load_demo

    ds, _ = load_demo("tweets")
    f = ds.frame
    rng = np.random.default_rng(21)
    perm = rng.permutation(len(f))
    cols = {"row_id": "id", "text": "text", "label": "sentiment", "confidence": "confidence",
            "topic": "topic"}
    sub = f.iloc[np.sort(perm[:3000])][list(cols)].rename(columns=cols).reset_index(drop=True)
    ref = f.iloc[np.sort(perm[3000:4000])][list(cols)].rename(columns=cols).reset_index(drop=True)
    for frame in (sub, ref):
        frame["text"] = frame["text"].astype(object)
        frame["sentiment"] = frame["sentiment"].astype(object)
        frame["topic"] = frame["topic"].astype(object)
    sub.to_csv(out / "tweets_3k.csv", index=False, encoding="utf-8", quoting=csv.QUOTE_NONNUMERIC,
               lineterminator="\n")
    ref.to_parquet(out / "tweets_ref_1k.parquet", index=False)


# --------------------------------------------------------------------------- the held-out generated file

VOCAB = {
    "billing": ["invoice", "charged twice", "refund", "payment failed", "credit note", "VAT",
                "subscription fee", "overcharge", "billing cycle", "receipt", "direct debit", "promo code"],
    "technical": ["app crashes", "error 500", "cannot log in", "timeout", "sync broken", "update failed",
                  "blank screen", "API returns 404", "slow loading", "bluetooth pairing", "firmware",
                  "cache"],
    "shipping": ["parcel", "tracking number", "delivery late", "courier", "wrong address", "damaged box",
                 "customs", "lost package", "next-day delivery", "return label", "warehouse", "dispatch"],
    "account": ["password reset", "change email", "delete my account", "two-factor", "username", "profile",
                "locked out", "GDPR request", "merge accounts", "newsletter", "privacy settings",
                "verification"],
    "praise": ["thank you", "great service", "very helpful", "quick answer", "love the product", "five stars",
               "amazing support", "well done"],
}
SHARES = {"billing": 0.32, "technical": 0.30, "shipping": 0.20, "account": 0.15, "praise": 0.03}
FILLER = ["please", "asap", "again", "today", "since Monday", "for the third time", "as soon as possible",
          "kind regards", "hello team", "hi", "urgent", "not happy", "as discussed", "see attached", "thanks"]
NON_ASCII = ["Merci beaucoup, très rapide ! Facture réglée.",
             "Die Lieferung ist beschädigt, Grüße aus München",
             "¿Dónde está mi paquete? Llevo dos semanas esperando", "Оплата не прошла, помогите",
             "注文した商品がまだ届きません", "Paid €49.99 but charged £45 — why?",
             "naïve question: où est le reçu?", "Great service 👍👍 thank you!!",
             "Zażółć gęślą jaźń — konto zablokowane", "Κωδικός πρόσβασης δεν λειτουργεί"]
NON_ASCII_LABELS = ["billing", "shipping", "shipping", "billing", "shipping", "billing", "billing", "praise",
                    "account", "account"]
MOJIBAKE = ["CafÃ© order refund please, the invoice is wrong",
            "The app crashes when I open â€œSettingsâ€\x9d",
            "Ã¼ber slow delivery, parcel still in Köln", "Passwort Ã¤ndern funktioniert nicht",
            "donâ€™t charge me twice for the subscription"]
MOJIBAKE_LABELS = ["billing", "technical", "shipping", "account", "billing"]
PII = ["My email is jane.doe@example.com, please reset my password",
       "Call me back on +44 20 7946 0958 about the invoice",
       "Card 4111 1111 1111 1111 was charged twice",
       "IBAN DE89 3704 0044 0532 0130 00 for the refund please",
       "Ship to 221B Baker Street, London NW1 6XE, phone 020 7946 0000",
       "my SSN is 078-05-1120, why do you need it for the account?",
       "login from IP 192.168.1.23 blocked, user john.smith@corp.example.org",
       "text me at (555) 010-9999 when the parcel is dispatched"]
PII_LABELS = ["account", "billing", "billing", "billing", "shipping", "account", "technical", "shipping"]
JUNK = ["", "   ", "?", "ok", "https://example.com/ticket/123", "asdfghjkl", "!!!!!!!!", "....", "N/A",
        "<html><body>test</body></html>", "www.example.org", "1234567890"]
FORMULA = ["=SUM(A1:A9) shows the wrong invoice total", "+1 to the last ticket, app crashes again",
           "-5 stars, parcel never arrived", "@support please reset my password",
           "=HYPERLINK(\"http://evil.example\",\"refund\")"]
FORMULA_LABELS = ["billing", "technical", "shipping", "account", "billing"]
CHANNELS = ["email", "chat", "phone", "web"]


def _sentence(rng: random.Random, label: str) -> str:
    words = [rng.choice(VOCAB[label]) for _ in range(rng.randint(1, 3))]
    words += [rng.choice(FILLER) for _ in range(rng.randint(0, 3))]
    rng.shuffle(words)
    s = " ".join(words)
    return s[0].upper() + s[1:] + rng.choice([".", "!", "?", "", "..."])


def _text(rng: random.Random, label: str) -> str:
    r = rng.random()
    if r < 0.05:  # very long (several hundred words: beyond the model's 256 tokens)
        n = rng.randint(60, 140)
    elif r < 0.25:
        n = rng.randint(4, 12)
    else:
        n = rng.randint(1, 3)
    return " ".join(_sentence(rng, label) for _ in range(n))


def heldout(out: Path) -> None:
    rng = random.Random(2121)
    labels = list(SHARES)
    weights = [SHARES[k] for k in labels]
    rows: list[list] = []

    def add(text, label, agreement=None):
        if agreement is None:
            agreement = round(rng.choice([1.0, 1.0, 1.0, 0.67, 0.67, 0.5, 0.33, 0.75, 0.8]), 2)
        rows.append([text, label, agreement, rng.choice(CHANNELS)])

    for _ in range(1290):
        lab = rng.choices(labels, weights)[0]
        add(_text(rng, lab), lab)
    for t, lab in zip(NON_ASCII, NON_ASCII_LABELS, strict=True):
        add(t, lab)
    for t, lab in zip(MOJIBAKE, MOJIBAKE_LABELS, strict=True):
        add(t, lab)
    for t, lab in zip(PII, PII_LABELS, strict=True):
        add(t, lab)
    for t in JUNK:
        add(t, rng.choices(labels, weights)[0])
    for t, lab in zip(FORMULA, FORMULA_LABELS, strict=True):
        add(t, lab)
    # a few missing labels and missing agreement values
    for _ in range(6):
        lab = rng.choices(labels, weights)[0]
        add(_text(rng, lab), "", "")
    # label noise on 7% of the generated rows: a wrong class, agreement low
    for i in rng.sample(range(1290), 90):
        wrong = rng.choice([k for k in labels if k != rows[i][1]])
        rows[i][1] = wrong
        rows[i][2] = rng.choice([0.33, 0.5, 0.5])
    # exact copies, copies differing in case/whitespace, and conflicting copies (same text, other label)
    base = list(range(len(rows) - 1))
    while len(rows) < 1500:
        src = rows[rng.choice(base)]
        if not str(src[0]).strip():
            continue
        kind = rng.random()
        text = src[0]
        lab = src[1]
        if kind < 0.45:
            pass  # exact copy
        elif kind < 0.75:
            text = "  " + text.upper() + " " if rng.random() < 0.5 else text.replace(" ", "  ")
        else:
            lab = rng.choice([k for k in labels if k != src[1]]) if src[1] else lab
        rows.append([text, lab, src[2], rng.choice(CHANNELS)])
    rng.shuffle(rows)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    w.writerow(["ticket_id", "message", "category", "agreement", "channel"])
    for i, (text, lab, agr, ch) in enumerate(rows):
        w.writerow([f"TCK-{i * 7 + 1000:05d}", text, lab, agr, ch])
    (out / "heldout_tickets.csv").write_bytes(buf.getvalue().encode("utf-8-sig"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", nargs="?", type=Path,
                    default=Path(os.environ.get("DQ_CHECK_INPUTS") or DEFAULT_FOLDER),
                    help=f"where to write the inputs (default: $DQ_CHECK_INPUTS, else {DEFAULT_FOLDER})")
    out = ap.parse_args(argv).folder
    out.mkdir(parents=True, exist_ok=True)
    targets = ["tweets_3k.csv", "tweets_ref_1k.parquet", "heldout_tickets.csv", "MANIFEST.json"]
    if any((out / t).exists() for t in targets):
        print(f"error: inputs already written in {out}; they are fixed, never regenerated (to start over, "
              "delete the folder and take every snapshot again)", file=sys.stderr)
        return 1
    tweets(out)
    heldout(out)
    manifest = {t: hashlib.sha256((out / t).read_bytes()).hexdigest() for t in targets[:-1]}
    (out / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")
    for p in (out / "MANIFEST.json", *(out / t for t in targets[:-1])):
        (p).chmod(0o444)
    print(json.dumps(manifest, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
