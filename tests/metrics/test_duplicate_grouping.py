"""Exact-duplicate grouping, by property: the documented rule, whatever the row order, the index, or what
ran before in this process.

These tests sit in tests/metrics on purpose: in the suite's normal order they run after tests/app, cli, data,
e2e, filtering and io, whose runs leave the process's Arrow memory pool in the state that makes a grouping
through pyarrow's utf8_split_whitespace lose a member (see the last test).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.metrics.profile import compute_profile, find_exact_duplicates
from dq_core.util.text import normalize_for_duplicates, normalize_text

# Every character Python's str.split() splits on (the rule's whitespace), from the whole code space.
WHITESPACE = "".join(c for c in map(chr, range(0x110000)) if c.isspace())
# Letters whose lower case needs care: dotted capital I (full mapping 'i' + U+0307), sigma (final form),
# Turkish dotless i, German sharp s and its capital, Cherokee, Georgian, fullwidth and title-case letters.
TRICKY = "İIıiΣσςßẞᏚꮪႠⴀＡａǅǆΐΰ" + "".join(chr(c) for c in (0x0130, 0x03A3, 0x1E9E, 0x2126, 0x212A, 0x212B))

texts_strategy = st.lists(
    st.one_of(
        st.none(),
        st.text(alphabet=st.one_of(st.sampled_from(WHITESPACE), st.sampled_from(TRICKY),
                                   st.sampled_from("aAbB"), st.characters(codec="utf-8")), max_size=12),
    ),
    min_size=0, max_size=30,
)


def reference_normalize(text: str | None) -> str:
    """The documented rule, written independently: split on the characters str.isspace() calls whitespace,
    lower-case each word with Python's full Unicode mapping (str.lower: 'İ' -> 'i' + U+0307, a final 'Σ' ->
    'ς'), join the words with one space. A missing text is ''."""
    if text is None:
        return ""
    words, word = [], []
    for ch in text:
        if ch.isspace():
            if word:
                words.append("".join(word))
                word = []
        else:
            word.append(ch)
    if word:
        words.append("".join(word))
    # Lower-casing word by word equals lower-casing the whole text: whitespace is neither cased nor
    # case-ignorable, so it ends the context of the final-sigma rule.
    return " ".join(w.lower() for w in words)


def reference_groups(texts: list[str | None]) -> tuple[int, int, list[set[int]]]:
    """(redundant copies, rows in groups, groups as position sets) by a dict of normalised texts."""
    by_text: dict[str, set[int]] = {}
    for i, t in enumerate(texts):
        n = reference_normalize(t)
        if n:
            by_text.setdefault(n, set()).add(i)
    groups = [g for g in by_text.values() if len(g) > 1]
    in_groups = sum(len(g) for g in groups)
    return in_groups - len(groups), in_groups, groups


def groups_of(codes: np.ndarray) -> list[set[int]]:
    out: dict[int, set[int]] = {}
    for i, c in enumerate(codes.tolist()):
        if c >= 0:
            out.setdefault(c, set()).add(i)
    return list(out.values())


def _series(texts: list[str | None], index=None) -> pd.Series:
    return pd.Series(texts, index=index, dtype="string")


def test_documented_case_mapping():
    assert normalize_text("İstanbul") == "i\u0307stanbul"  # full mapping, as str.lower
    assert normalize_text("ΟΔΟΣ") == "οδος"  # final sigma
    assert normalize_text("ΟΔΟΣ ΟΔΟΣ") == "οδος οδος"
    assert normalize_text("Straße  STRASSE") == "straße strasse"  # lower-casing is not case folding
    assert normalize_text("a\u00a0\u2003b\u3000\x1c c\u0085") == "a b c"
    assert normalize_text("\u200b") == "\u200b"  # zero-width space is not whitespace to str.split
    assert normalize_text(None) == "" and normalize_text("  \t\n") == ""


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=texts_strategy)
def test_normalisation_equals_the_reference_rule(texts):
    got = normalize_for_duplicates(_series(texts)).tolist()
    assert got == [reference_normalize(t) for t in texts]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=texts_strategy, data=st.data())
def test_grouping_equals_the_reference_and_ignores_order_and_index(texts, data):
    # duplicates made on purpose: copies with the case and the whitespace changed
    extra = [None if t is None else f"\u2003{t.upper()}\t" for t in data.draw(st.lists(st.sampled_from(texts)))
             ] if texts else []
    rows = texts + extra
    labels = pd.Series([str(i % 3) for i in range(len(rows))], dtype="string")
    d = find_exact_duplicates(_series(rows), labels)
    want_copies, want_in, want_groups = reference_groups(rows)
    assert (d.n_exact_duplicates, d.n_rows_in_groups) == (want_copies, want_in)
    assert sorted(map(sorted, groups_of(d.group_of_row))) == sorted(map(sorted, want_groups))

    perm = np.asarray(data.draw(st.permutations(range(len(rows)))), dtype=np.int64)
    index = pd.Index(data.draw(st.lists(st.integers(-10**9, 10**9), min_size=len(rows), max_size=len(rows),
                                        unique=True)))
    shuffled = _series([rows[i] for i in perm], index=index)
    d2 = find_exact_duplicates(shuffled, pd.Series(labels.to_numpy()[perm], index=index, dtype="string"))
    assert (d2.n_exact_duplicates, d2.n_rows_in_groups, d2.n_conflicting_duplicates) == (
        d.n_exact_duplicates, d.n_rows_in_groups, d.n_conflicting_duplicates)
    back = {frozenset(int(perm[i]) for i in g) for g in groups_of(d2.group_of_row)}
    assert back == {frozenset(g) for g in groups_of(d.group_of_row)}


def _profile_both_orders(seed: int) -> tuple[dict, dict]:
    rng = np.random.default_rng(seed)
    base = ["Hello world", "hello   WORLD ", "Flight delayed", "flight delayed", "FLIGHT  delayed", "unique one",
            "", "   ", "lost bag", "Lost bag", "ΟΔΟΣ", "οδος", "İ", "i\u0307", "x\u00a0y", "X  Y"]
    raw = pd.DataFrame({"text": base, "label": [("pos", "neg")[i % 2] for i in range(len(base))]})
    perm = rng.permutation(len(raw))
    mapping = ColumnMapping("text", "label")
    a = compute_profile(build_dataset(raw, mapping)).to_dict()
    b = compute_profile(build_dataset(raw.iloc[perm].reset_index(drop=True), mapping)).to_dict()
    return a, b


def test_grouping_holds_after_other_dq_core_work_in_this_process(page_app):
    """The same rows in two orders profile alike after signals, shift and a Streamlit AppTest have run in
    this process (the state a long test session or a long-lived server is in)."""
    from dq_core.data.io import load_demo
    from dq_core.metrics.shift.compute import compute_shift
    from dq_core.metrics.shift.config import ShiftConfig
    from dq_core.signals.runner import compute_signals, get_signal

    ds, ref = load_demo("tweets_airline")
    small = ds.subset(np.arange(len(ds)) < 200)
    small_ref = ref.subset(np.arange(len(ref)) < 150)
    compute_signals(small, [get_signal(n) for n in ("exact_duplicate", "junk", "pii")])
    compute_shift(small, small_ref, config=ShiftConfig(n_bootstrap=50, n_permutations=50))
    at = page_app("app_pages/overview.py", small, small_ref)
    at.run()
    assert not at.exception
    for seed in range(50):
        a, b = _profile_both_orders(seed)
        assert a == b
        assert a["n_exact_duplicates"] == 7  # A(2) B(3) C(2) Σ(2) İ(2) xy(2): 13 rows in 6 groups


def _dirty_arrow_pool(fill: int) -> None:
    """Leave Arrow's memory pool holding freed blocks full of ``fill``, as a long process leaves it."""
    import ctypes

    import pyarrow as pa

    blocks = []
    for size in (8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 4096):
        for _ in range(8):
            buf = pa.allocate_buffer(size)
            ctypes.memset(buf.address, fill, size)
            blocks.append(buf)
    del blocks


def test_grouping_ignores_what_the_memory_pool_held():
    """Why the rule is plain Python, made deterministic: pyarrow 26's utf8_split_whitespace reads the
    byte after the last string of its data buffer, and when that byte is >= 0x80 (stale memory behind
    utf8_lower's output) a trailing space stays in the last word: 'hello   WORLD ' becomes 'hello world '.
    The plain-Python rule reads no such memory."""
    texts = ["FLIGHT  delayed", "", "Flight delayed", "   ", "flight delayed", "unique one", "Lost bag",
             "Hello world", "lost bag", "hello   WORLD "]
    labels = pd.Series(["a"] * len(texts), dtype="string")
    for fill in (0xFF, 0x80, 0xE3, 0x20, 0x00) * 4:
        _dirty_arrow_pool(fill)
        assert normalize_for_duplicates(_series(texts)).iloc[-1] == "hello world"
        _dirty_arrow_pool(fill)
        assert find_exact_duplicates(_series(texts), labels).n_exact_duplicates == 4
