"""build_story: every section whose inputs are given, from the dq_core functions the commands use."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dq_core.data.dataset import TextDataset
from dq_core.errors import DataError
from dq_core.story.model import Story
from dq_core.story.sections import data_section, issues_section, recipe_section, shift_section


def advice_section(path, ds: TextDataset) -> tuple[dict | None, str]:
    """The advisor's verdict from ADVICE.json (training/advisor_job.read_advice); (None, why) when the file is
    unreadable or was written for another dataset."""
    from dq_core.training.advisor_job import read_advice

    advice = read_advice(path)
    if advice is None:
        raise DataError(f"--advice '{path}' is not an advice file dq advise wrote; give its ADVICE.json")
    if advice.dataset_fingerprint != ds.fingerprint:
        return None, (f"the advice in '{path}' was computed on another dataset ('{advice.dataset}', "
                      f"{advice.n_rows:,} rows) than DATA; it is left out")
    return {"verdict": list(advice.verdict), "recommended": advice.recommended, "metric": advice.metric,
            "how": advice.notes_text, "candidates": [c.to_dict() for c in advice.candidates]}, ""


def _signals_for(ds, ref, recipe, signals, embeddings, workspace, progress):
    """The signals frame: the one given, else (for a recipe that needs them, or when embeddings are given)
    the workspace cache's, computed as `dq filter` computes them; None when neither."""
    if signals is not None:
        return signals
    if recipe is None and embeddings is None:
        return None
    if recipe is not None and not recipe.needs_signals and embeddings is None:
        return None
    from dq_core.filtering import load_or_compute_signals

    emb, ref_emb = embeddings if embeddings is not None else (None, None)
    return load_or_compute_signals(ds, ref, workspace=workspace,
                                   settings=recipe.signal_settings if recipe is not None else None,
                                   embeddings=emb.vectors if emb is not None else None,
                                   reference_embeddings=ref_emb.vectors if ref_emb is not None else None,
                                   progress=progress)


def build_story(ds: TextDataset, ref: TextDataset | None = None, *, recipe=None, runs: Sequence = (),
                advice=None, signals: pd.DataFrame | None = None, embeddings=None, workspace=None,
                progress=None, seed: int = 0) -> Story:
    """The story of ``ds``. ``recipe`` a FilterRecipe; ``runs`` run folders (the first is the baseline);
    ``advice`` an ADVICE.json path; ``signals`` the wide frame `dq signals` writes; ``embeddings`` a pair
    (dataset, reference) of EmbeddingResult-likes (either may be None). Bad input raises DataError before
    anything is written: the caller writes the story only once it is whole."""
    from dq_core.story.coverage import story_embeddings
    from dq_core.story.provenance import provenance
    from dq_core.story.runs import runs_section
    from dq_core.story.summary import summary_paragraph

    if embeddings is not None and all(e is None for e in embeddings):
        embeddings = None
    run_part, evaluations = runs_section(list(runs), ds, seed=seed) if runs else (None, {})  # fails first
    sig = _signals_for(ds, ref, recipe, signals, embeddings, workspace, progress)
    story = Story(title=f"The story of {ds.name}", summary="", provenance={}, data=data_section(ds))
    vectors, vectors_from = story_embeddings(ds, ref, embeddings, workspace)
    if ref is not None:
        story.reference = data_section(ref)
        story.shift = shift_section(ds, ref, embeddings=vectors, workspace=workspace, seed=seed)
        _add_coverage(story, ds, ref, vectors, workspace, seed)
    if sig is not None:
        story.issues = issues_section(ds, sig)
    if recipe is not None:
        story.recipe = recipe_section(ds, recipe, sig)
        story.notes += [f"recipe: {n}" for n in story.recipe["notes"]]  # e.g. a rule whose signal is missing
    if advice is not None:
        story.advice, why = advice_section(advice, ds)
        if why:
            story.notes.append(why)
    story.runs, story.evaluations = run_part, evaluations
    if run_part:
        story.notes += run_part["notes"]
    story.provenance = provenance(seed=seed, embeddings=vectors_from, signals=_said_signals(signals, sig),
                                  inputs={"dataset": ds.name, "reference": ref.name if ref is not None else None,
                                          "recipe": recipe.name if recipe is not None else None,
                                          "runs": [str(r) for r in runs], "advice": str(advice) if advice else None})
    story.provenance["runs"] = [{k: r.get(k) for k in ("name", "trainer", "backbone", "seed")}
                                for r in (run_part or {}).get("runs", []) + (run_part or {}).get("apart", [])]
    story.summary = summary_paragraph(story)
    return story


def _add_coverage(story: Story, ds, ref, vectors, workspace, seed: int) -> None:
    """The coverage section and its map when both sides have vectors, else a line saying how to get them."""
    from dq_core.story.coverage import NO_VECTORS, coverage_section

    if vectors is None or vectors[0] is None or vectors[1] is None:
        story.notes.append(NO_VECTORS)
        return
    story.coverage, story.map_points = coverage_section(ds, ref, *vectors, workspace=workspace, seed=seed)


def _said_signals(given, used) -> str:
    if given is not None:
        return "given (--signals)"
    return "the workspace cache (computed when missing)" if used is not None else "none"
