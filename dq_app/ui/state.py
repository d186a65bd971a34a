"""Which dataset and reference are active, kept in session state *and* the URL query string.

The query string (``?ds=<id>&ref=<id>``) is what brings a user back to the same data after a browser
reload or a server restart: both ids name Parquet copies in the workspace.
"""

from __future__ import annotations

import streamlit as st

from dq_app.ui import navigation
from dq_core import settings
from dq_core.data.dataset import TextDataset
from dq_core.data.workspace import Workspace
from dq_core.errors import DataError

DS = "ds"
REF = "ref"


def workspace() -> Workspace:
    """This browser session's workspace: the server's shared one or its private scratch space."""
    from dq_app.ui import session

    return session.workspace()


@st.cache_resource(max_entries=16, show_spinner=False)
def _load_stored(root: str, ds_id: str) -> TextDataset:
    return Workspace(root=__import__("pathlib").Path(root)).load_dataset(ds_id)


def load_stored(ds_id: str) -> TextDataset:
    ws = workspace()
    return _load_stored(str(ws.root), ds_id)


def _get(key: str) -> str | None:
    if key in st.session_state:
        return st.session_state[key]
    val = st.query_params.get(key) or None
    if val:
        # A page switch drops the query string: the session keeps what the link opened.
        st.session_state[key] = val
    return val


def active_ids() -> tuple[str | None, str | None]:
    return _get(DS), _get(REF)


def set_active(ds_id: str | None, ref_id: str | None) -> None:
    for key, val in ((DS, ds_id), (REF, ref_id)):
        st.session_state[key] = val
        if val:
            st.query_params[key] = val
        elif key in st.query_params:
            del st.query_params[key]


def keep_query_params() -> None:
    """Page switches drop the query string; put the active ids back so a reload lands on the same data."""
    ds_id, ref_id = active_ids()
    if ds_id and st.query_params.get(DS) != ds_id:
        st.query_params[DS] = ds_id
    if ref_id and st.query_params.get(REF) != ref_id:
        st.query_params[REF] = ref_id


def switch_page(page: str) -> None:
    """st.switch_page that keeps ``?ds=&ref=`` in the URL.

    st.switch_page clears the query string unless ``query_params`` is given (Streamlit 1.67); without
    them a browser reload after "Load demo" would fall back to the default demo.
    """
    ds_id, ref_id = active_ids()
    st.switch_page(page, query_params={k: v for k, v in ((DS, ds_id), (REF, ref_id)) if v})


def store_and_activate(ds: TextDataset, ref: TextDataset | None) -> tuple[str, str | None]:
    ws = workspace()
    ds_id = ws.save_dataset(ds)
    ref_id = ws.save_dataset(ref) if ref is not None else None
    set_active(ds_id, ref_id)
    return ds_id, ref_id


def ensure_default_dataset() -> None:
    """First visit with nothing chosen: open on the bundled demo so every page has real data to show."""
    ds_id, _ = active_ids()
    if ds_id and not st.session_state.get("_dq_default_tried"):
        # A link (?ds=...) to a dataset this workspace does not hold (another server, a cleared DQ_HOME, a
        # typo): say so once and open the demo, instead of a page with nothing on it.
        try:
            load_stored(ds_id)
            return
        except DataError as exc:
            st.session_state["_dq_link_error"] = f"The dataset in the link could not be opened ({exc})."
            set_active(None, None)
            ds_id = None
    if ds_id or st.session_state.get("_dq_default_tried"):
        return
    st.session_state["_dq_default_tried"] = True
    from dq_core.data.io import load_demo

    try:
        ds, ref = load_demo(settings.get("DQ_DEFAULT_DEMO"))
    except DataError as exc:
        st.session_state["_dq_default_error"] = str(exc)
        return
    store_and_activate(ds, ref)


def active_dataset() -> TextDataset | None:
    return _open_active("dataset")


def active_reference() -> TextDataset | None:
    return _open_active("reference")


def _open_active(side: str) -> TextDataset | None:
    """The stored dataset or reference named in the session (the link); one that cannot be opened is said
    once and let go (a dataset takes its reference with it)."""
    ds_id, ref_id = active_ids()
    wanted = ds_id if side == "dataset" else ref_id
    if not wanted:
        return None
    try:
        return load_stored(wanted)
    except DataError as exc:
        st.warning(f"The {side} in the link could not be opened: {exc}")
        set_active(None if side == "dataset" else ds_id, None)
        return None


def require_dataset() -> TextDataset:
    """The active dataset, or a pointer to the Load page and a stop."""
    ds = active_dataset()
    if ds is None:
        st.info("No dataset is loaded yet. Open **Load** to pick a file or a demo.")
        st.page_link(navigation.page("load"), label="Go to Load", icon="📂")
        st.stop()
    return ds


# --------------------------------------------------------------------------- widget values across pages

def restore_widgets(name: str, keys: list[str] | None = None) -> None:
    """Put back the remembered values of widgets whose state Streamlit dropped.

    Streamlit deletes a widget's state at the end of any run that does not draw it, so a page switch
    resets every control of the page left. :func:`remember_widgets` keeps a copy outside the widget keys;
    call this before the widgets are drawn (writing a widget's key is only allowed then).
    """
    memory = st.session_state.get(f"_dq_mem_{name}") or {}
    for k, v in memory.items():
        if (keys is None or k in keys) and k not in st.session_state:
            st.session_state[k] = v


def remember_widgets(name: str, keys: list[str]) -> None:
    """Remember the current values of these widget keys (those in session state) under ``name``."""
    ss = st.session_state
    ss[f"_dq_mem_{name}"] = {k: ss[k] for k in keys if k in ss}


def forget_widgets(name: str) -> None:
    st.session_state.pop(f"_dq_mem_{name}", None)
