"""Text from the data made safe inside Markdown: one home for the reports, the model card and the dataset card."""

from __future__ import annotations

import html
import re

_MD_SPECIAL = re.compile(r"([\\`|\[\]])")


def md_escape(value) -> str:
    """Safe inside a Markdown table cell: HTML-escaped, one line, and every character that could start a
    link, an image or code (backslash, backtick, pipe, brackets) backslash-escaped, so ``[x](javascript:...)`` in the data renders as
    text, never as a link."""
    s = html.escape(str(value), quote=False)
    return _MD_SPECIAL.sub(r"\\\1", s).replace("\r", " ").replace("\n", " ")
