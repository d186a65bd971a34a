"""Widgets of the Load page: pick a source, read it, map its columns."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dq_core.data import io as dqio
from dq_core.data.codepages import CODE_PAGES, text_encoding
from dq_core.data.dataset import ColumnMapping, guess_mapping, holds_numbers

SOURCES = ("Demo", "Upload", "Data folder", "Hugging Face Hub")
COMPUTE = "dq compute output"  # a `dq compute --out` folder: the dataset only (ui.given_inputs opens it)
NONE = "(none)"


# The Encoding choices: auto first (the default), then the code pages the guess knows, then any codec.
AUTO = "auto (guess)"
OTHER = "other…"
ENCODINGS = (AUTO, "utf-8", "cp1252", "cp1250", "iso8859-2", "cp1251", "koi8-r", "iso8859-5", "cp1253", "cp1254",
             "cp1255", "cp1256", "cp1257", "latin-1", OTHER)


@st.cache_data(max_entries=8, show_spinner="Reading the file…")
def _read_bytes(data: bytes, filename: str, encoding: str | None = None) -> dqio.RawTable:
    return dqio.read_table_bytes(data, filename, encoding)


@st.cache_data(max_entries=8, show_spinner="Reading from the data folder…")
def _read_path(path: str, mtime: float, encoding: str | None = None) -> dqio.RawTable:
    return dqio.read_path(path, encoding)  # mtime (and the encoding) in the key: re-read when either changes


def encoding_choice(key: str) -> str | None:
    """The Encoding box of a file source: None for auto (UTF-8, else a guessed code page), else a codec name
    (the command line's --encoding). An unknown name raises DataError, which the page shows."""
    choice = st.selectbox("Encoding", ENCODINGS, key=f"{key}_encoding",
                          format_func=lambda e: f"{e} — {CODE_PAGES[e]}" if e in CODE_PAGES else e,
                          help="How the file's bytes become text. Auto reads UTF-8, else guesses the code page "
                               "(a note names it, and says when the guess is uncertain). Parquet files and "
                               "datasets folders store Unicode: the choice is ignored for them.")
    if choice == OTHER:
        choice = st.text_input("Encoding name", key=f"{key}_encoding_other",
                               placeholder="a Python codec name, e.g. cp866, mac-roman, utf-16-le")
    return text_encoding(choice)


@st.cache_data(max_entries=4, show_spinner="Loading from the Hugging Face Hub…")
def _read_hub(name: str, split: str | None) -> dqio.RawTable:
    return dqio.read_hf_hub(name, split=split)


def pick_source(key: str, *, allow_demo: bool = True, allow_compute: bool = False) -> tuple[str, object] | None:
    """Source widgets. Returns ("demo", name), ("raw", RawTable) or ("compute", None) (the caller draws that
    source's widgets), or None while nothing is chosen.

    Raises DataError for unreadable input; the caller shows it.
    """
    sources = (SOURCES if allow_demo else SOURCES[1:]) + ((COMPUTE,) if allow_compute else ())
    kind = st.radio("Source", sources, horizontal=True, key=f"{key}_source")
    if kind == COMPUTE:
        return ("compute", None)
    if kind == "Demo":
        names = list(dqio.DEMOS)
        name = st.selectbox("Demo dataset", names, format_func=lambda n: f"demo:{n} — {dqio.DEMOS[n]}",
                            key=f"{key}_demo")
        return ("demo", name)
    if kind == "Upload":
        up = st.file_uploader("CSV, TSV, JSON (records), JSONL or Parquet",
                              type=[e.lstrip(".") for e in dqio.TABLE_EXTENSIONS], key=f"{key}_upload")
        encoding = encoding_choice(key)
        if up is None:
            return None
        return ("raw", _read_bytes(up.getvalue(), up.name, encoding))
    if kind == "Data folder":
        root = dqio.data_dir()
        files = dqio.list_data_files(root)
        st.caption(f"Files under the data folder `{root}` (set `DQ_DATA_DIR` to change it).")
        typed = st.text_input("Path inside the data folder", key=f"{key}_path",
                              placeholder=files[0] if files else "my_data.csv")
        if files:
            picked = st.selectbox("…or pick one", [NONE, *files], key=f"{key}_pick")
            if not typed and picked != NONE:
                typed = picked
        encoding = encoding_choice(key)
        if not typed:
            if not files:
                st.info(f"The data folder `{root}` has no readable files yet.")
            return None
        path = dqio.resolve_in_data_dir(typed.strip(), root)
        return ("raw", _read_path(str(path), path.stat().st_mtime, encoding))
    name = st.text_input("Dataset name on the Hub", key=f"{key}_hub", placeholder="e.g. imdb or user/dataset")
    split = st.text_input("Split (optional)", key=f"{key}_hub_split", placeholder="train")
    if not name.strip():
        st.caption("Needs internet access to the Hub. Offline, use `save_to_disk` elsewhere and load the folder.")
        return None
    if not st.button("Fetch from the Hub", key=f"{key}_hub_go"):
        return st.session_state.get(f"{key}_hub_raw")
    raw = ("raw", _read_hub(name.strip(), split.strip() or None))
    st.session_state[f"{key}_hub_raw"] = raw
    return raw


def mapping_widgets(frame: pd.DataFrame, key: str, *, label_optional: bool = False) -> ColumnMapping | None:
    """Column-mapping widgets pre-filled with guesses; shows the reasons for each guess."""
    guess = guess_mapping(frame)
    g = guess.mapping
    cols = [str(c) for c in frame.columns]
    for r in guess.reasons:
        st.caption(f"• {r}")

    def idx(options, value):
        return options.index(value) if value in options else 0

    c1, c2, c3, c4 = st.columns(4)
    # When only the label could not be guessed, the guessed text column is still pre-selected.
    text = c1.selectbox("Text column", cols, index=idx(cols, guess.text), key=f"{key}_text")
    label_opts = ([NONE] if label_optional else []) + cols
    label = c2.selectbox("Label column", label_opts, index=idx(label_opts, g.label if g else NONE),
                         key=f"{key}_label")
    opt = [NONE, *cols]
    id_col = c3.selectbox("Id column (optional)", opt, index=idx(opt, g.id if g else NONE), key=f"{key}_id")
    split = c4.selectbox("Split column (optional)", opt, index=idx(opt, g.split if g else NONE),
                         key=f"{key}_split")
    used = {text, label, id_col, split}
    rest = [c for c in cols if c not in used]
    with st.expander("Metadata, annotator and agreement columns"):
        metadata = st.multiselect("Metadata columns to keep", rest,
                                  default=[c for c in (g.metadata if g else ()) if c in rest], key=f"{key}_meta")
        annotators = st.multiselect("Per-annotator label columns (two or more)", rest, key=f"{key}_ann")
        numeric = [c for c in rest if holds_numbers(frame[c])]
        agr_opts = [NONE, *numeric]
        agreement = st.selectbox("Per-row agreement / confidence column", agr_opts,
                                 index=idx(agr_opts, g.agreement if g else NONE), key=f"{key}_agr")
    if label == NONE:
        # An unlabelled reference: keep a label column of missing values.
        label = None
    none = lambda v: None if v in (NONE, None) else v  # noqa: E731
    return ColumnMapping(text=text, label=label or "", id=none(id_col), split=none(split),
                         metadata=tuple(metadata), annotators=tuple(annotators), agreement=none(agreement))


def preview(frame: pd.DataFrame, notes: tuple[str, ...]) -> None:
    for n in notes:
        st.info(n, icon="ℹ️")
    st.caption(f"{len(frame):,} rows × {len(frame.columns)} columns — first rows:")
    st.dataframe(frame.head(20).astype(str), hide_index=True, width="stretch", height=240)
