"""The story a stakeholder gets (issue 23): one document from data to model, built from the same dq_core
figures the CLI prints and the pages show.

``build``      build_story: gathers every section whose inputs are given into a :class:`Story`
``sections``   data at a glance, shift, issues per signal, the recipe (each from the function its command uses)
``runs``       finished runs: metrics, the paired comparison, and whether each run trained on DATA
``summary``    the summary paragraph, written from the figures
``provenance`` how the figures were computed (versions, date, seed, model)
``render``     story_json / story_markdown / story_html and write_story (by the output's extension)
"""

from dq_core.story.build import build_story
from dq_core.story.model import Story
from dq_core.story.render import STORY_FORMATS, story_html, story_json, story_markdown, write_story

__all__ = ["STORY_FORMATS", "Story", "build_story", "story_html", "story_json", "story_markdown", "write_story"]
