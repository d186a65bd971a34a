"""The Clean page's "Signal settings": which signals and their parameters, kept per dataset across page switches.

Streamlit drops a widget's state whenever a run does not draw it (any page switch), and warns when a widget
is given a default *and* a value through session state. So the widgets take no defaults: :func:`signal_settings`
writes their keys before they are drawn — the values this session chose for this dataset (by fingerprint),
else the signals' own defaults — and keeps what the user set, per dataset, after reading them (the same
pattern as the working recipe in ui/clean/working.py).
"""

from __future__ import annotations

import streamlit as st

from dq_core.data.dataset import TextDataset
from dq_core.signals import DEFAULT_SIGNALS, REGISTRY, get_signal
from dq_core.signals.label import METHODS as LABEL_METHODS

MEMORY = "cl_settings_by_ds"  # {dataset fingerprint: {widget key: value}}
SHOWN = "cl_settings_for"  # the dataset whose settings the widgets hold now


def defaults() -> dict:
    """Every settings widget's key and its starting value: the signals' own defaults."""
    near, outlier, label, junk, pii = (get_signal(n) for n in ("near_duplicate", "outlier", "label", "junk", "pii"))
    return {"cl_signals": list(DEFAULT_SIGNALS), "cl_seed": 0, "cl_near_thr": float(near.threshold),
            "cl_out_z": float(outlier.z_threshold), "cl_label_method": label.method,
            "cl_min_chars": int(junk.min_chars), "cl_phone_region": pii.region}


def prepare(ds: TextDataset) -> None:
    """Fill the widget keys before they are drawn: another dataset gets its remembered (or default) values;
    the same dataset gets back only what a page switch dropped."""
    ss = st.session_state
    start = {**defaults(), **ss.get(MEMORY, {}).get(ds.fingerprint, {})}
    # another dataset replaces the values; the same one (or a first visit, whose keys a link may have set)
    # only fills what is missing
    switched = ss.get(SHOWN) not in (None, ds.fingerprint)
    for k, v in start.items():
        if switched or k not in ss:
            ss[k] = list(v) if isinstance(v, list) else v
    ss[SHOWN] = ds.fingerprint


def remember(ds: TextDataset) -> None:
    ss = st.session_state
    ss.setdefault(MEMORY, {})[ds.fingerprint] = {k: ss[k] for k in defaults() if k in ss}


def signal_settings(ds: TextDataset) -> tuple[list, int]:
    """The settings expander; returns the configured signals and the seed."""
    near, pii = get_signal("near_duplicate"), get_signal("pii")
    prepare(ds)
    with st.expander("Signal settings", expanded=False):
        c1, c2, c3 = st.columns(3)
        names = c1.multiselect("Signals", list(DEFAULT_SIGNALS), key="cl_signals",
                               format_func=lambda n: REGISTRY[n].title or n)
        seed = int(c1.number_input("Seed (folds, approximate search)", min_value=0, max_value=2**31 - 1,
                                   key="cl_seed"))
        thr = c2.slider("Near-duplicate threshold (cosine distance)", min_value=0.0, max_value=0.2, step=0.01,
                        key="cl_near_thr",
                        help=f"Rows within this cosine distance of another row are near duplicates "
                             f"({near.threshold:g} ≈ cosine similarity ≥ {1 - near.threshold:g}). Also used for "
                             "near duplicates with mixed labels (conflicting_label) and leakage.")
        z = c2.slider("Outlier threshold (robust z of the kNN distance)", min_value=2.0, max_value=6.0, step=0.5,
                      key="cl_out_z")
        method = c3.selectbox("Label-issue method", LABEL_METHODS, key="cl_label_method",
                              help="combined (default): K-fold logistic regression on embeddings averaged with "
                                   "the neighbours' labels; cleanlab: confident learning on the logistic "
                                   "regression alone; knn: plain 10-nearest-neighbour disagreement.")
        min_chars = int(c3.number_input("Junk: shortest acceptable text (chars)", min_value=1, max_value=100,
                                        key="cl_min_chars"))
        region = c3.text_input("PII: phone region", max_chars=2, key="cl_phone_region",
                               help="Two-letter country code whose national phone formats the texts use (US, GB, "
                                    "DE, FR, IN, BR, JP, ...). Numbers in the international +CC form are found "
                                    "whatever the region.").strip() or pii.region
    remember(ds)
    params = {
        "near_duplicate": {"threshold": thr}, "conflicting_label": {"threshold": thr}, "leakage": {"threshold": thr},
        "outlier": {"z_threshold": z}, "label": {"method": method}, "junk": {"min_chars": min_chars},
        "pii": {"region": region},
    }
    return [get_signal(n, **params.get(n, {})) for n in names], seed
