"""The dashboard's pages: one list, and the path each page is opened by.

Streamlit resolves a page path against the folder of the script it runs. That script is dq_app/app.py
under ``dq app`` and the root app.py under ``streamlit run app.py``; absolute paths name the same page
from both.
"""

from __future__ import annotations

from pathlib import Path

# The page scripts live in app_pages/, not pages/: Streamlit auto-registers a folder named pages/ beside the
# entry script as a legacy multipage app, and a browser opening or reloading a sub-page URL (/coverage?ds=...)
# then ran the page outside the navigation, without the sidebar or the active dataset.
PAGE_DIR = Path(__file__).resolve().parent.parent / "app_pages"

PAGES = [  # (page name, title, icon), in the order of the navigation
    ("load", "Load", "📂"),
    ("overview", "Overview", "📊"),
    ("coverage", "Coverage", "🗺️"),
    ("shift", "Shift", "📐"),
    ("clean", "Clean", "🧽"),
    ("train", "Train", "🏋️"),
    ("report", "Report", "📝"),
]


def page(name: str) -> str:
    """The script of page ``name`` ("load", "overview", ...), for st.Page, st.page_link and st.switch_page."""
    if name not in {n for n, _, _ in PAGES}:
        raise ValueError(f"no page named {name!r}")
    return str(PAGE_DIR / f"{name}.py")
