"""The Clean page's widgets, one module per section; every number they show comes from dq_core.

``signals_view`` (signals at a glance, label noise, suspicious rows) and ``sandbox`` draw the first half;
``panel.render_filter_panel`` draws the filter half from ``controls``, ``before_after``, ``review``
(with label-next), ``compare`` (recipes side by side, save / load) and ``export``; ``cached`` holds its
st.cache_resource building blocks.
"""
