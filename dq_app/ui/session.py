"""Which workspace a browser session works in: the server's shared one, or a private scratch space.

One server has one workspace (``DQ_HOME``): every browser session sees the same stored datasets ("Recent"),
recipes, review decisions and runs. A session in *scratch mode* works in ``DQ_HOME/sessions/<key>/``
instead, so its uploads, recipes, decisions and runs stay its own, while ``cache/`` (embeddings, maps,
signals) is a link to the shared cache: every cache entry is keyed by the content it was computed from, so
a session can only hit entries for data it holds itself, and nothing is embedded twice.

Scratch mode is on for every session with ``DQ_SESSION_SCRATCH=1``, or per session with the sidebar
toggle. The key is a random 128-bit token kept in session state and in the URL (``?scratch=<key>``), so a
browser reload comes back to the same space; whoever has the link has the space, like any ``?ds=`` link.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import streamlit as st

from dq_core import settings
from dq_core.data.workspace import Workspace, home

PARAM = "scratch"
_KEY = "_dq_scratch_key"  # session state: the token, or "" once the user turned scratch mode off
_TOGGLE = "_dq_scratch_toggle"
_TOKEN = re.compile(r"[0-9a-f]{32}")
SESSIONS = "sessions"


def forced() -> bool:
    """``DQ_SESSION_SCRATCH=1``: every session gets its own scratch space, the toggle is locked on."""
    return settings.get("DQ_SESSION_SCRATCH")


def shared_workspace() -> Workspace:
    return Workspace(home())


def _valid(token: object) -> bool:
    # Only our own token shape: a crafted ?scratch=../.. can never name a folder outside sessions/.
    return isinstance(token, str) and _TOKEN.fullmatch(token) is not None


def scratch_key() -> str | None:
    """This session's scratch token, or None in the shared workspace (kept in the URL for reloads)."""
    key = st.session_state.get(_KEY)
    if key is None:  # first run of this session: the link may carry a space, or the server forces one
        from_url = st.query_params.get(PARAM)
        key = from_url if _valid(from_url) else (secrets.token_hex(16) if forced() else "")
        st.session_state[_KEY] = key
    if forced() and not key:
        key = st.session_state[_KEY] = secrets.token_hex(16)
    if key and st.query_params.get(PARAM) != key:
        st.query_params[PARAM] = key  # page switches drop the query string; a reload needs the key
    elif not key and PARAM in st.query_params:
        del st.query_params[PARAM]
    return key or None


def scratch_workspace(key: str) -> Workspace:
    """``DQ_HOME/sessions/<key>/`` with ``cache/`` linked to the shared cache."""
    if not _valid(key):
        raise ValueError("not a scratch key")
    shared = home()
    root = shared / SESSIONS / key
    if not root.is_dir():
        (shared / "cache").mkdir(parents=True, exist_ok=True)
        root.mkdir(parents=True, exist_ok=True)
        try:
            # Relative, so moving DQ_HOME keeps the link; where links are not allowed (Windows without
            # developer mode) the space keeps a private cache: correct, only slower.
            (root / "cache").symlink_to(Path("..", "..", "cache"), target_is_directory=True)
        except OSError:
            pass
    return Workspace(root)


def workspace() -> Workspace:
    """The workspace this browser session reads and writes."""
    key = scratch_key()
    return scratch_workspace(key) if key else shared_workspace()


def _toggled() -> None:
    """Switch spaces, taking the active dataset and reference along into a new scratch space (never back
    out of one: that would publish a private upload)."""
    on = bool(st.session_state.get(_TOGGLE))
    old = workspace()
    ids = {k: st.session_state.get(k) or st.query_params.get(k) for k in ("ds", "ref")}
    st.session_state[_KEY] = secrets.token_hex(16) if on else ""
    new = workspace()
    for k, ds_id in ids.items():
        if not ds_id:
            continue
        try:
            if on:
                new.save_dataset(old.load_dataset(ds_id))
                continue
            new.load_dataset(ds_id)  # still there in the shared workspace: keep it active
        except Exception:  # noqa: BLE001 - whatever is wrong with it, the dataset is not open in the new space
            st.session_state[k] = None
            if k in st.query_params:
                del st.query_params[k]


def sidebar() -> None:
    """The sidebar note saying whose data this is, and the scratch-mode toggle."""
    key = scratch_key()
    st.toggle("Private scratch space", value=bool(key), key=_TOGGLE, on_change=_toggled, disabled=forced(),
              help="Uploads, recipes, review decisions and runs of this browser session go to a space of "
                   "its own; computed caches stay shared. The key is in the link: a reload keeps the space.")
    if key:
        st.caption("🔒 Private scratch space: what you load, decide and train here is seen only through "
                   "this link. Caches are shared, keyed by content.")
    else:
        st.caption("👥 Shared workspace: everyone using this server sees the same stored datasets, recipes, "
                   "decisions and runs. Turn on a private scratch space, or run your own server with "
                   "DQ_HOME set to a folder of your own.")
