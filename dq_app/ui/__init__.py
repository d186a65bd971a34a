"""Streamlit helpers shared by the pages: session state, caching wrappers, common widgets."""
