"""dq-dashboard entry script: navigation and the sidebar. No logic here; pages do the work.

``dq app`` serves it through serve.py (security headers); ``streamlit run app.py`` in a checkout runs the root
app.py, which calls ``main()``.
"""

from __future__ import annotations

import streamlit as st

from dq_app.ui import embedding_task, given_inputs, navigation, session, state
from dq_core import settings


def main() -> None:
    st.set_page_config(page_title="dq-dashboard", page_icon="🧹", layout="wide")
    # Compile umap-learn's numba code (15-30 s once per process) in a background thread of the server
    # process now, so the Coverage page's first map does not wait for it. DQ_WARM_UMAP=0 turns it off.
    if settings.get("DQ_WARM_UMAP"):
        from dq_core.space.projection import warm_umap_in_background

        warm_umap_in_background()

    given_inputs.open_on_start()  # `dq app --open DIR`: a dq compute output instead of the demo
    state.ensure_default_dataset()
    ds_id, _ = state.active_ids()
    pages = [st.Page(navigation.page(name), title=t, icon=i,
                     default=(name == "overview" and bool(ds_id)) or (name == "load" and not ds_id))
             for name, t, i in navigation.PAGES]
    nav = st.navigation(pages)
    state.keep_query_params()

    ds = state.active_dataset()
    ref = state.active_reference()
    # Coverage, Shift, Clean and the baseline all need the sentence embeddings: start them now, in the
    # background, so the first of those pages waits only for what is left (DQ_PREFETCH_EMBEDDINGS=0: off).
    if ds is not None:
        embedding_task.prefetch(ds, ref, state.workspace())

    _sidebar(ds, ref)
    nav.run()


def _sidebar(ds, ref) -> None:
    """The active dataset and reference, their embeddings' state, and whose workspace this is."""
    with st.sidebar:
        if err := st.session_state.get("_dq_link_error"):
            st.warning(f"{err} Showing the bundled demo; open your data on **Load**.")
        if err := st.session_state.get("_dq_default_error"):
            st.warning(f"The bundled demo could not be opened: {err}")
        if ds is None:
            st.info("No dataset loaded.")
        else:
            st.markdown(f"**Dataset**  \n{ds.name}  \n{len(ds):,} rows · {len(ds.classes)} classes")
            if ref is not None:
                st.markdown(f"**Reference**  \n{ref.name}  \n{len(ref):,} rows")
            else:
                st.caption("No reference set (choose one on Load).")
            given_inputs.sidebar_note(ds, ref, state.workspace())
            embedding_task.sidebar_status(ds, ref, state.workspace())
        session.sidebar()  # says the workspace is shared by everyone on this server, or private


if __name__ == "__main__":  # run by Streamlit as its script (dq app, streamlit run dq_app/app.py)
    main()
