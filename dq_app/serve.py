"""The dashboard (app.py) behind security headers: what ``dq app`` runs (``streamlit run dq_app/serve.py``).

Streamlit's config has no option for response headers, but a script holding an ``st.App`` is served as an
ASGI app with our middleware in front of Streamlit's own. Every HTTP response gets:

- ``Content-Security-Policy: frame-ancestors 'self'`` and ``X-Frame-Options: SAMEORIGIN``: no other site
  can frame the dashboard (clickjacking); its own component iframes still load. ``DQ_FRAME_ANCESTORS``
  (a space-separated CSP source list, e.g. ``'self' https://intranet.example``) allows named embedders.
- ``object-src 'none'; base-uri 'self'`` in the same policy, ``X-Content-Type-Options: nosniff`` and
  ``Referrer-Policy: same-origin``. No ``script-src``: Streamlit's frontend and its chart libraries need
  inline styles and ``eval``-style code, and a policy that breaks the page protects nothing.
"""

from __future__ import annotations

import streamlit as st
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware

from dq_core import settings


def security_headers() -> dict[str, str]:
    ancestors = settings.get("DQ_FRAME_ANCESTORS")
    headers = {"Content-Security-Policy": f"frame-ancestors {ancestors}; object-src 'none'; base-uri 'self'",
               "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
    if ancestors == "'self'":  # X-Frame-Options cannot name other origins: only CSP speaks for a list
        headers["X-Frame-Options"] = "SAMEORIGIN"
    return headers


class SecurityHeaders:
    """Pure ASGI middleware (no response buffering): adds the headers to every HTTP response start."""

    def __init__(self, app) -> None:
        self.app = app
        self.headers = security_headers()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


# A relative path resolves against this script's folder: dq_app/app.py, in a checkout or site-packages.
app = st.App("app.py", middleware=[Middleware(SecurityHeaders)])
