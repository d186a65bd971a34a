"""Parsing the plotly selection event of the Coverage map, in the shapes Streamlit sends."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dq_app.ui.map_selection import selected_positions, with_selection


def test_points_with_customdata_as_an_object_keyed_by_column():
    # what Streamlit 1.67 sends for a Scattergl trace with 2-d numeric customdata (seen in the browser)
    event = {"points": [{"curve_number": 1, "point_index": 0, "customdata": {"0": 2008, "1": 1, "2": 0}},
                        {"curve_number": 0, "point_index": 3, "customdata": {"0": 7, "1": 0, "2": 2}},
                        {"curve_number": 0, "point_index": 4, "customdata": {"0": 7, "1": 0, "2": 2}}],
             "box": [], "lasso": []}
    assert selected_positions(event).tolist() == [7, 2008]


def test_lists_numbers_and_junk():
    event = {"points": [{"customdata": [5, 0, 1]}, {"customdata": 9}, {"customdata": None}, {"x": 1},
                        {"customdata": {"a": 1}}, {"customdata": "x"}]}
    assert selected_positions(event).tolist() == [5, 9]
    assert selected_positions(None).tolist() == []
    assert selected_positions({"points": []}).tolist() == []


def test_with_selection_marks_the_points_on_each_trace():
    fig = go.Figure([go.Scattergl(x=[0, 1, 2], y=[0, 1, 2], customdata=np.array([[4, 0, 0], [5, 0, 0], [6, 0, 1]])),
                     go.Scattergl(x=[3], y=[3], customdata=np.array([[7, 1, 0]])),
                     go.Scattergl(x=[9], y=[9])])
    out = with_selection(fig, np.array([5, 7]))
    assert list(out.data[0].selectedpoints) == [1] and list(out.data[1].selectedpoints) == [0]
    assert out.data[2].selectedpoints is None and fig.data[0].selectedpoints is None  # the original is untouched
