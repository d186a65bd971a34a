"""The Streamlit dashboard over dq_core: the entry script (app.py, and serve.py behind security headers),
the page scripts (app_pages/) and their widgets and figures (ui/). Every number comes from dq_core; this
package holds no computation of its own. ``dq app`` finds it with importlib.resources."""
