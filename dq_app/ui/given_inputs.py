"""The Load page's "Your vectors" tab and its "dq compute output" source: the user's own embeddings and
class probabilities, and a `dq compute` folder opened with its vectors and signals.

Every check is dq_core's (dq_core.space.given: the same as `--embeddings` / `--pred-probs`;
dq_core.signals.compute_output for a compute folder). An accepted file makes the active dataset a stored
dataset of its own that carries the arrays (dq_core.space.given_store), so Coverage, Shift, Clean and the
baseline read them through the usual embedding path, and no cache mixes them with the model's vectors.
"""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from dq_app.ui import navigation, state
from dq_core import settings
from dq_core.data import io as dqio
from dq_core.data.dataset import TextDataset
from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.space.given import (
    attach_given,
    given_record,
    load_embeddings_file,
    load_pred_probs_file,
    model_dimension,
    subset_with_given,
    without_given,
)
from dq_core.util.wording import counted


@contextmanager
def _file(key: str, label: str, types: list[str]):
    """The chosen file as a local path (an upload goes to a temporary file with its own name), or None.

    Yields (path, shown name); the temporary copy is removed when the block ends."""
    c1, c2 = st.columns(2)
    up = c1.file_uploader(label, type=types, key=key)
    typed = c2.text_input("…or a path inside the data folder", key=f"{key}_path",
                          placeholder=f"vectors/my_file.{types[0]}")
    if up is not None:
        with tempfile.TemporaryDirectory(prefix="dq-given-") as tmp:
            path = Path(tmp) / Path(up.name).name
            path.write_bytes(up.getvalue())
            yield path, up.name
        return
    if typed.strip():
        path = dqio.resolve_in_data_dir(typed.strip(), dqio.data_dir())
        yield path, path.name
        return
    yield None, None


def describe(rec: dict | None) -> str:
    """One line saying what the dataset carries of the user's own."""
    if not rec:
        return ""
    def named(name: object) -> str:  # a file name when one was recorded, never an empty code span
        return f" `{name}`" if str(name or "").strip() else ""

    parts = []
    if rec.get("embeddings"):
        parts.append(f"vectors from `dq compute` output{named(rec.get('source'))} ({rec['dim']}-d)"
                     if rec.get("kind") == "compute" else f"your own vectors{named(rec.get('source'))} ({rec['dim']}-d)")
    if rec.get("pred_probs"):
        parts.append(f"your own class probabilities{named(rec.get('pred_probs_source'))}")
    return " and ".join(parts)


def subset(ds: TextDataset, mask, *, name: str) -> TextDataset:
    """A part of the dataset (the Reference tab's splits) that keeps the user's own vectors, if it has them."""
    return subset_with_given(ds, mask, workspace=state.workspace(), name=name)


def sidebar_note(ds: TextDataset | None, ref: TextDataset | None, ws: Workspace) -> None:
    """A sidebar line when the active data carries vectors or probabilities the user gave."""
    for side, d in (("Dataset", ds), ("Reference", ref)):
        line = describe(given_record(d, ws)) if d is not None else ""
        if line:
            st.caption(f"🧭 {side}: {line}, not the embedding model's.")
    if ds is not None and (clash := width_clash(ds, ref, ws)):
        st.warning(clash)


def width_clash(ds: TextDataset, ref: TextDataset | None, ws: Workspace) -> str | None:
    """What to do when the dataset's and the reference's vectors cannot be compared (one side given, the
    other the model's, of another width): e.g. after a new reference was picked for a dataset with vectors."""
    if ref is None:
        return None
    (a, a_src), (b, b_src) = _other_width(ds, ws), _other_width(ref, ws)
    if a is None or b is None or a == b:
        return None
    return (f"The dataset's vectors ({a_src}, {a}-d) and the reference's ({b_src}, {b}-d) cannot be compared: "
            "give the other side's vectors on Load › Your vectors, or use the embedding model for both.")


def _other_width(d: TextDataset, ws: Workspace) -> tuple[int | None, str]:
    """The width the other side's vectors have (given, cached, or the model's) and where it comes from."""
    rec = given_record(d, ws)
    if rec and rec.get("embeddings"):
        return rec.get("dim"), "your vectors"
    return model_dimension(), "the embedding model's"


def _check_widths(ds_dim: int | None, ref_dim: int | None, current: TextDataset, ref: TextDataset | None,
                  ws: Workspace) -> None:
    """Vectors compared with each other must have one width: say which side to give when they do not."""
    if ref is None or (ds_dim is not None and ref_dim is not None):
        return  # both given: load_embeddings_file checked the reference's width against the dataset's
    if ds_dim is not None:
        other, what = _other_width(ref, ws)
        if other is not None and other != ds_dim:
            raise DataError(f"your vectors have {ds_dim} dimensions but the reference's ({what}) have {other}; "
                            "give the reference's vectors too (same model), or clear the reference")
    if ref_dim is not None:
        other, what = _other_width(current, ws)
        if other is not None and other != ref_dim:
            raise DataError(f"the reference's vectors have {ref_dim} dimensions but the dataset's ({what}) have "
                            f"{other}; give the dataset's vectors too (same model)")


def vectors_tab(current: TextDataset, ref: TextDataset | None, ws: Workspace) -> None:
    st.caption("Bring your own vectors and predictions, as `dq signals --embeddings FILE.npy --pred-probs FILE` "
               "takes them: Coverage, Shift, Clean and the baseline then use your vectors instead of embedding "
               "the texts, and the label signal your out-of-sample probabilities instead of its K-fold classifier.")
    rec = given_record(current, ws)
    ref_rec = given_record(ref, ws) if ref is not None else None
    if rec or ref_rec:
        for side, r in (("dataset", rec), ("reference", ref_rec)):
            if r:
                st.info(f"The active {side} uses {describe(r)}, not the embedding model's.", icon="🧭")
        if st.button("Use the embedding model again", key="gv_drop"):
            state.store_and_activate(without_given(current, ws), without_given(ref, ws) if ref is not None else None)
            st.rerun()
    st.markdown("**Vectors** — a `numpy.save` float32 or float16 array, one row per dataset row in the "
                "dataset's order (all-zero rows count as rows without a vector); e.g. `dq embed DATA --out FILE.npy` "
                "or your own model's.")
    ref_ctx = _file("gv_ref_emb", f"Reference vectors ({len(ref):,} rows)", ["npy"]) if ref is not None else _none()
    with (_file("gv_emb", f"Dataset vectors ({len(current):,} rows)", ["npy"]) as (emb_path, emb_name),
          ref_ctx as (ref_path, ref_name)):
        classes = current.classes
        if len(classes) >= 2:
            st.markdown(f"**Class probabilities** — out-of-sample, from your own model (as cleanlab takes them): "
                        f"one row per dataset row, one column per class in this order: `{', '.join(classes)}` "
                        "(.npy, or .csv whose header names the classes).")
            probs_ctx = _file("gv_probs", "Probabilities (.npy or .csv)", ["npy", "csv"])
        else:
            st.caption("Class probabilities need a labelled dataset with at least two classes.")
            probs_ctx = _none()
        with probs_ctx as (probs_path, probs_name):
            if not st.button("Use these files", type="primary", key="gv_apply",
                             disabled=emb_path is None and ref_path is None and probs_path is None):
                return
            emb = load_embeddings_file(emb_path, len(current), what="Vectors file") if emb_path else None
            ref_emb = None
            if ref_path is not None:
                ref_emb = load_embeddings_file(ref_path, len(ref), dim=emb.dim if emb is not None else None,
                                               what="Reference vectors file", rows_of="the reference")
            _check_widths(emb.dim if emb else None, ref_emb.dim if ref_emb else None, current, ref, ws)
            probs = (load_pred_probs_file(probs_path, len(current), tuple(classes), what="Probabilities file",
                                          row_ids=current.row_ids)
                     if probs_path else None)
            new_ds = current
            if emb is not None or probs is not None:
                new_ds = attach_given(current, workspace=ws, embeddings=emb, pred_probs=probs, source=emb_name or "",
                                      pred_probs_source=probs_name or "")
            new_ref = attach_given(ref, workspace=ws, embeddings=ref_emb, source=ref_name) if ref_emb else ref
            state.store_and_activate(new_ds, new_ref)
    st.toast("Your files are in use: " + describe(given_record(new_ds, ws)))
    st.rerun()


@contextmanager
def _none():
    yield None, None


# --------------------------------------------------------------------------- dq compute output folders

def _compute_folders(root: Path, limit: int = 50) -> list[str]:
    if not root.is_dir():
        return []
    found = sorted(str(p.parent.relative_to(root)) + "/" for depth in ("*", "*/*", "*/*/*")
                   for p in root.glob(f"{depth}/manifest.json"))
    return found[:limit]


def compute_source() -> None:
    """Pick a `dq compute --out` folder inside the data folder, check it, open it (rows, vectors, signals)."""
    from dq_core.signals.compute_output import check_compute_output, open_compute_output

    root = dqio.data_dir()
    st.caption(f"The --out folder of `dq compute DATA --out DIR`, inside the data folder `{root}`: the rows, "
               "their vectors and their signals open without computing them again.")
    typed = st.text_input("Output folder inside the data folder", key="ds_compute_path", placeholder="runs/big/")
    folders = _compute_folders(root)
    if folders:
        picked = st.selectbox("…or pick one", ["(none)", *folders], key="ds_compute_pick")
        if not typed and picked != "(none)":
            typed = picked
    if not typed.strip():
        return
    folder = dqio.resolve_in_data_dir(typed.strip(), root)
    co = check_compute_output(folder, inputs_under=root)
    summary = co.manifest.get("summary") or {}
    flagged = ", ".join(f"{k} {v.get('n_issues', 0):,}" for k, v in (summary.get("signals") or {}).items())
    st.success(f"`{folder.name}`: a finished compute of **{co.n_rows:,} rows** in {counted(len(co.plan.shards), 'shard')} "
               f"from {counted(len(co.plan.files), 'file')}; model {co.model}; text column `{co.plan.mapping['text']}`, "
               f"label column `{co.plan.mapping.get('label')}`.")
    if flagged:
        st.caption(f"Rows flagged by the signals that compare rows: {flagged}.")
    if st.button("Open this compute output", type="primary", key="open_compute"):
        with st.spinner("Reading the rows, vectors and signals…"):
            ds = open_compute_output(folder, workspace=state.workspace(), inputs_under=root)
            state.store_and_activate(ds, None)
        st.toast(f"Opened {ds.name} ({len(ds):,} rows) with its computed vectors and signals")
        state.switch_page(navigation.page("overview"))


@st.cache_resource(max_entries=4, show_spinner="Opening the dq compute output…")
def _opened(root: str, folder: str, stamp: float) -> tuple[str, str]:  # stamp: reopen when the manifest changes
    """Store the folder's dataset once per server process and workspace: (dataset id, its name)."""
    from dq_core.signals.compute_output import open_compute_output

    ds = open_compute_output(folder, workspace=Workspace(Path(root)))
    return ds.fingerprint[:16], ds.name


def open_on_start() -> None:
    """``DQ_OPEN`` (set by `dq app --open DIR`): a session that has no dataset yet opens that compute output."""
    folder = settings.get("DQ_OPEN")
    if not folder or state.active_ids()[0] or st.session_state.get("_dq_open_tried"):
        return
    st.session_state["_dq_open_tried"] = True
    try:
        manifest = folder / "manifest.json"
        ds_id, _ = _opened(str(state.workspace().root), str(folder), manifest.stat().st_mtime if manifest.exists() else 0.0)
    except DataError as exc:
        st.warning(f"The dq compute output given to `dq app --open` could not be opened: {exc}")
        return
    state.set_active(ds_id, None)
