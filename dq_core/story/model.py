"""The story as plain data: each section is a dict of figures (JSON-able), None when its inputs were not given."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Story:
    title: str
    summary: str
    provenance: dict
    data: dict
    reference: dict | None = None
    shift: dict | None = None
    coverage: dict | None = None  # coverage of the reference and the map's summary (needs both sides' vectors)
    issues: dict | None = None
    recipe: dict | None = None
    advice: dict | None = None
    runs: dict | None = None
    notes: list[str] = field(default_factory=list)  # what the story could not show, and why
    # run name -> EvaluationResult, for the HTML's confusion and reliability figures (the report's own); the
    # figures they draw are in ``runs``, so the JSON leaves them out
    evaluations: dict = field(default_factory=dict, repr=False)
    # the map's points (viz/coverage.plot_sample of map_frame, at most coverage.MAP_POINTS): drawn by the HTML,
    # summarised in ``coverage["map"]``; the JSON leaves the points out (it holds figures, not a plot)
    map_points: object = field(default=None, repr=False)

    def to_dict(self) -> dict:
        from dq_core.util.jsonsafe import to_jsonable

        return to_jsonable({"format": "dq-story", "version": 1, "title": self.title, "summary": self.summary,
                            "notes": list(self.notes), "data": self.data, "reference": self.reference,
                            "shift": self.shift, "coverage": self.coverage, "issues": self.issues, "recipe": self.recipe,
                            "advice": self.advice, "runs": self.runs, "provenance": self.provenance})
