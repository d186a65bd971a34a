"""Plotly figures, and the tables shown beside them, built from dq_core's result objects, one module per page
(``overview``, ``coverage``, ``shift``, ``signals``, ``training``) and the colours and layout they share
(``style``). No streamlit here: the pages and the exported reports draw the same figures.
"""
