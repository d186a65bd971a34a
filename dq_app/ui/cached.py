"""st.cache_data wrappers over dq_core: keyed by dataset fingerprint, so reruns are instant."""

from __future__ import annotations

import streamlit as st

from dq_core.data.dataset import TextDataset
from dq_core.metrics.profile import ProfileResult, compute_profile


@st.cache_data(max_entries=32, show_spinner="Profiling…", hash_funcs={TextDataset: lambda d: d.fingerprint})
def profile(ds: TextDataset) -> ProfileResult:
    return compute_profile(ds)
