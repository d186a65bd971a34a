"""``streamlit run app.py`` in a checkout: the dashboard of dq_app/ (``dq app`` runs the same pages behind
security headers). Streamlit reads its settings from .streamlit/config.toml in the folder it starts in."""

from dq_app.app import main

main()
