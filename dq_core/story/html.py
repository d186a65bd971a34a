"""The story as one self-contained HTML page, rendered from ``templates/story.html.j2``.

Autoescaping is on: every text from the data is escaped by the template. plotly.js is read from the
installed plotly package and inlined once; every figure is written without it (include_plotlyjs=False)
and draws with that one copy, so the page needs no network and stays near the bundle's size.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

from dq_core.story.model import Story
from dq_core.util.wording import format_number

TEMPLATES = Path(__file__).with_name("templates")


@functools.cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True,
                             lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["num"] = lambda v: format_number(v) if isinstance(v, float) else v
    return env.get_template("story.html.j2")


@functools.cache
def plotly_bundle() -> str:
    """plotly.min.js as the installed plotly package ships it (the same version the figures are made with)."""
    import plotly

    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text(encoding="utf-8")


def _plot(fig, height: int = 320) -> str:
    fig.update_layout(height=height, margin={"l": 40, "r": 20, "t": 40, "b": 40})
    return fig.to_html(include_plotlyjs=False, full_html=False, config={"displaylogo": False})


def _svg(fig):
    """The figure with its WebGL scatters drawn as SVG ones: a story is printed to PDF and opened where WebGL
    may be missing (headless browsers, locked-down machines); a map of at most MAP_POINTS draws fast in SVG."""
    import plotly.graph_objects as go

    traces = [go.Scatter({k: v for k, v in t.to_plotly_json().items() if k != "type"}) if t.type == "scattergl"
              else t for t in fig.data]
    return go.Figure(traces, layout=fig.layout)


def _figures(story: Story) -> dict[str, str]:
    import plotly.graph_objects as go

    figs = {}
    counts = story.data["class_counts"]
    figs["balance"] = _plot(go.Figure(go.Bar(x=list(counts), y=list(counts.values())),
                                      layout={"title": "Rows per class"}))
    if story.recipe:
        cls = story.recipe["classes"]
        names = [c["class"] for c in cls]
        figs["recipe"] = _plot(go.Figure([go.Bar(name="before", x=names, y=[c["before"] for c in cls]),
                                          go.Bar(name="after", x=names, y=[c["after"] for c in cls])],
                                         layout={"title": "Rows per class before and after the recipe"}))
    if story.shift:
        views = [v for v in story.shift["views"] if v["js"] is not None and v["js_ci"]]
        if views:
            figs["shift"] = _plot(go.Figure(go.Bar(
                x=[v["view"] for v in views], y=[v["js"] for v in views],
                error_y={"type": "data", "symmetric": False,
                         "array": [max(v["js_ci"][1] - v["js"], 0) for v in views],
                         "arrayminus": [max(v["js"] - v["js_ci"][0], 0) for v in views]}),
                layout={"title": "JS divergence per view, with its bootstrap interval"}))
    if story.coverage and story.map_points is not None:  # the Coverage page's map, its own figure
        from dq_core.viz.coverage import coverage_map

        figs["map"] = _plot(_svg(coverage_map(story.map_points, title="Dataset and reference on the map")), 560)
    from dq_core.viz import training as vt

    for i, run in enumerate((story.runs or {}).get("runs", [])):
        ev = story.evaluations.get(run["name"])
        if ev is not None:  # the training report's own figures
            figs[f"confusion_{i}"] = _plot(vt.confusion_matrix_figure(ev))
            figs[f"reliability_{i}"] = _plot(vt.reliability_figure(ev))
    return figs


def render_html(story: Story) -> str:
    return _template().render(story=story, figures=_figures(story), plotly_js=plotly_bundle(),
                              metrics=("accuracy", "macro_f1", "weighted_f1", "ece"))
