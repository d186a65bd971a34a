"""The dashboard's page scripts; Streamlit runs each one as a script (see app.py), none is imported."""
