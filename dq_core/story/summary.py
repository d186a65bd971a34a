"""The summary paragraph: plain sentences written from the story's figures, honest about what they show (an
interval that spans 0 is no gain, a lower score is a loss, no run means the cleaning was not measured)."""

from __future__ import annotations

from dq_core.util.wording import counted

MAIN_METRIC = "accuracy"  # the headline the summary states; the runs section lists the rest


def _data_sentence(data: dict) -> str:
    s = (f"The data has {counted(data['n_rows'], 'row')} in {counted(data['n_classes'], 'class', 'classes')}"
         f" ({counted(data['n_exact_duplicates'], 'exact duplicate copy', 'exact duplicate copies')}, "
         f"{counted(data['n_empty'], 'empty text')}).")
    return s


def _recipe_sentence(recipe: dict) -> str:
    s = recipe["summary"]
    n, dropped = s["n_rows"], s["n_dropped"]
    text = f"{dropped:,} rows ({dropped / max(n, 1):.1%}) were removed"
    top = sorted(recipe["dropped_by_rule"].items(), key=lambda kv: -kv[1])[:2]
    if top:
        text += ", mostly " + " and ".join(k.lower() for k, _ in top)
    if s["n_relabelled"]:
        text += f", and {counted(s['n_relabelled'], 'row')} relabelled"
    return text


def _points(x: float) -> str:
    return f"{x * 100:+.1f}"


def _runs_sentence(runs: dict) -> str:
    listed = runs["runs"]
    if not listed:
        return "No run trained on this data was given, so whether the cleaning pays is not measured."
    if len(listed) == 1:
        acc = listed[0]["headline"].get(MAIN_METRIC)
        return (f"One run ('{listed[0]['name']}') scored {acc:.1%} {MAIN_METRIC}; with a single run there is "
                "nothing to compare it with.")
    diff = next((d for d in runs["differences"] if d["metric"] == MAIN_METRIC and d["run"] == listed[-1]["name"]),
                None)
    first, last = listed[0], listed[-1]
    a, b = first["headline"][MAIN_METRIC], last["headline"][MAIN_METRIC]
    # The runs record their own recipe; the story does not claim the last one used this one.
    who = f"'{last['name']}'"
    s = f"{who} scored {b:.1%} {MAIN_METRIC} against {a:.1%} for '{first['name']}', {_points(b - a)} points"
    if diff is None or diff.get("ci_low") is None:
        return s + "; the runs share no test rows, so the difference cannot be tested."
    lo, hi = diff["ci_low"], diff["ci_high"]
    s += f", {diff.get('confidence', 0.95):.0%} interval [{_points(lo)}, {_points(hi)}]"
    if lo > 0:
        return s + ": a real gain."
    if hi < 0:
        return s + ": a real loss — this cleaning did not pay."
    return s + ": the interval includes 0, so the difference is not distinguishable from noise."


def summary_paragraph(story) -> str:
    parts = [_data_sentence(story.data)]
    if story.issues:
        i = story.issues
        parts.append(f"The quality signals flag {i['n_flagged_any']:,} rows "
                     f"({i['n_flagged_any'] / max(i['n_rows'], 1):.1%}).")
    if story.shift:
        drifting = story.shift.get("drifting_views") or []
        parts.append("Against the reference, " + (f"the {', '.join(drifting)} view{'s' if len(drifting) > 1 else ''} "
                                                   f"drift{'' if len(drifting) > 1 else 's'}." if drifting
                                                   else "no view drifts."))
    if story.coverage:
        c = story.coverage
        parts.append(f"The data covers {c['reference_coverage']:.1%} of the reference's rows within the radius; "
                     f"{c['scene_count']}.")
    runs = story.runs or {"runs": [], "apart": [], "differences": []}
    if story.recipe:
        run_part = _runs_sentence(runs)
        parts.append(_recipe_sentence(story.recipe) + ("; " + run_part if runs["runs"] else ". " + run_part))
    else:
        parts.append(_runs_sentence(runs))
    if runs["apart"]:
        parts.append(f"{counted(len(runs['apart']), 'run')} trained on another dataset "
                     f"{'is' if len(runs['apart']) == 1 else 'are'} shown apart.")
    if story.advice:
        parts.append(f"The advisor: {story.advice['verdict'][0]}" if story.advice.get("verdict") else "")
    return " ".join(p[0].upper() + p[1:] for p in parts if p)
