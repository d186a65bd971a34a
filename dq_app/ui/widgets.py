"""Common widgets: error boundaries, metric cards, row viewers, progress bars fed by dq_core."""

from __future__ import annotations

import contextlib
import traceback

import pandas as pd
import streamlit as st

from dq_core.errors import DataError
from dq_core.util.progress import Progress, fraction
from dq_core.util.wording import format_number as fmt_num  # noqa: F401 - the pages' name for the one number format


@contextlib.contextmanager
def user_errors(what: str = "That"):
    """Show DataError as a clear message, and any other bug as a short error, keeping the app alive.

    The page goes on rendering what it can; nothing in session state is touched.
    """
    try:
        yield
    except DataError as exc:
        st.error(str(exc), icon="⚠️")
    except Exception as exc:  # noqa: BLE001 - last line of defence for the page
        # st.stop()/st.rerun() signal with exceptions: let them pass.
        if type(exc).__name__ in ("StopException", "RerunException"):
            raise
        st.error(f"{what} failed unexpectedly ({type(exc).__name__}: {exc}). Your data is unchanged; "
                 "please report this with the details below.", icon="🛑")
        with st.expander("Details"):
            st.code("".join(traceback.format_exception(exc))[-4000:])


def show_rows(frame: pd.DataFrame, *, key: str, height: int = 300, columns: list[str] | None = None) -> None:
    """A read-only table of rows (text first) with a row count caption."""
    cols = columns or [c for c in ("row_id", "text", "label", "split") if c in frame.columns]
    st.caption(f"{len(frame):,} rows")
    st.dataframe(frame[cols], hide_index=True, width="stretch", height=height, key=key)


def bar_progress(bar) -> Progress:
    """A dq_core progress callback that moves ``bar`` (an ``st.progress``) and names the step under way."""

    def cb(message: str, done: float | None = None, total: float = 1.0) -> None:
        bar.progress(fraction(done or 0.0, total), text=f"{message}…")

    return cb


def pair_caption(ds, ref, *, without_reference: str = "") -> None:
    """The line under a page's title naming the active dataset and reference, the same on every page."""
    reference = f" · reference **{ref.name}** — {len(ref):,} rows" if ref is not None else without_reference
    st.caption(f"**{ds.name}** — {len(ds):,} rows{reference}")
