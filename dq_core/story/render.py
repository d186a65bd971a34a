"""The story written out: JSON (the figures), Markdown and a self-contained HTML page; write_story picks the
format from the output's extension and writes atomically (a failed render leaves no half-written file)."""

from __future__ import annotations

from pathlib import Path

from dq_core.errors import DataError
from dq_core.story.model import Story

STORY_FORMATS = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md", ".json": "json"}


def story_format(out: str | Path) -> str:
    """The format ``out``'s extension names; DataError naming the ones there are otherwise."""
    ext = Path(out).suffix.lower()
    if ext not in STORY_FORMATS:
        raise DataError(f"--out '{out}' has an unsupported extension '{ext}'; use .html, .md or .json")
    return STORY_FORMATS[ext]


def story_json(story: Story) -> str:
    from dq_core.util.jsonsafe import dumps_json

    return dumps_json(story.to_dict()) + "\n"


def story_markdown(story: Story) -> str:
    from dq_core.story.markdown import markdown_lines

    return "\n".join(markdown_lines(story)) + "\n"


def story_html(story: Story) -> str:
    from dq_core.story.html import render_html

    return render_html(story)


def write_story(story: Story, out: str | Path) -> str:
    """Write ``story`` to ``out`` in the format its extension names; returns the format."""
    from dq_core.data.writers import atomic_write_text

    fmt = story_format(out)
    text = {"html": story_html, "md": story_markdown, "json": story_json}[fmt](story)
    atomic_write_text(out, text)
    return fmt
