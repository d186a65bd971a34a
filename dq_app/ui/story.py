"""*Download the story* (issue 23): one button that builds the story with dq_core.story.build_story, then a
download button with it rendered as HTML, Markdown or JSON. Nothing is computed here: the page only gathers
the inputs (active dataset, reference, the Clean page's working recipe, the Report page's runs).

The story is built only on request (it may compute signals or the shift) and kept in session state with the
inputs it was built from; a change of any input hides the download until the user builds again, so a file
never describes other inputs than the page shows.
"""

from __future__ import annotations

import re
from dataclasses import replace

import streamlit as st

from dq_app.ui.widgets import bar_progress, user_errors
from dq_core.data.dataset import TextDataset
from dq_core.errors import DataError

FORMATS = {"HTML": ("html", "text/html"), "Markdown": ("md", "text/markdown"), "JSON": ("json", "application/json")}
RECIPE_KEY = "fp"  # the Clean page's filter panel key (ui/clean/panel.render_filter_panel's default)


def clean_recipe(ws, ds: TextDataset):
    """The Clean page's working recipe for ``ds`` when this session has one (what its controls describe, with
    the review decisions and the signal settings the panel records), else None."""
    from dq_core.filtering import DecisionStore, FilterRecipe, load_recipe, recipe_path

    ds_id = ws.save_dataset(ds)
    copy = (st.session_state.get(f"{RECIPE_KEY}_working") or {}).get(ds_id)
    if copy is None:
        return None
    folder = ws.recipes_dir(ds_id)
    recipe = FilterRecipe.from_dict(copy).with_decisions(DecisionStore(folder).decisions())
    saved = recipe_path(folder, "working")
    if saved.exists():
        try:  # the panel records the signals it used in the autosaved file, not in the session copy
            recipe = replace(recipe, signal_settings=load_recipe(saved).signal_settings)
        except DataError:
            pass
    return recipe


def file_stem(name: str) -> str:
    """The dataset's name as a safe file name part (a name may hold spaces, slashes or quotes)."""
    return re.sub(r"[^\w.-]+", "_", name).strip("._") or "dataset"


def _token(ds, ref, recipe, runs) -> tuple:
    return (ds.fingerprint, ref.fingerprint if ref is not None else None,
            recipe.fingerprint if recipe is not None else None, tuple(str(r) for r in runs))


def _render(story, fmt: str) -> str:
    from dq_core.story import story_html, story_json, story_markdown

    return {"html": story_html, "md": story_markdown, "json": story_json}[fmt](story)


def story_download(ds: TextDataset, ref: TextDataset | None, *, key: str, label: str, recipe=None,
                   runs=(), workspace=None) -> None:
    """The build button, then (once built for these inputs) the format choice and the download button."""
    from dq_core.story import build_story

    token = _token(ds, ref, recipe, runs)
    kept = st.session_state.get(f"{key}_built")
    if st.button(label, key=f"{key}_build", icon="📖"):
        kept = None
        with user_errors("Building the story"), st.spinner("Building the story…"):
            bar = st.progress(0.0, text="Building the story…")
            try:
                story = build_story(ds, ref, recipe=recipe, runs=list(runs), workspace=workspace,
                                    progress=bar_progress(bar))
            finally:
                bar.empty()
            kept = {"token": token, "story": story, "text": {}}
        st.session_state[f"{key}_built"] = kept
    if kept is None or kept["token"] != token:
        return
    choice = st.radio("Format", list(FORMATS), horizontal=True, key=f"{key}_fmt")
    fmt, mime = FORMATS[choice]
    if fmt not in kept["text"]:
        kept["text"][fmt] = _render(kept["story"], fmt)
    st.download_button(f"Download the story ({choice})", data=kept["text"][fmt], file_name=f"story-{file_stem(ds.name)}.{fmt}",
                       mime=mime, key=f"{key}_dl", icon="⬇️")
