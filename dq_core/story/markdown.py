"""The story as Markdown: every text from the data escaped with the report's md_escape."""

from __future__ import annotations

from dq_core.report.markdown import md_escape
from dq_core.story.model import Story
from dq_core.util.wording import format_number


def _table(head: list[str], rows: list[list]) -> list[str]:
    out = ["| " + " | ".join(md_escape(h) for h in head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(md_escape(format_number(v) if isinstance(v, float) else v) for v in r) + " |"
            for r in rows]
    return [*out, ""]


def _data(story: Story) -> list[str]:
    d = story.data
    out = ["## Data at a glance", ""]
    out += _table(["figure", "value"], [["rows", f"{d['n_rows']:,}"], ["classes", d["n_classes"]],
                                       ["class balance index", d["class_balance_index"]],
                                       ["imbalance ratio", d["imbalance_ratio"]], ["empty texts", d["n_empty"]],
                                       ["exact duplicate copies", d["n_exact_duplicates"]],
                                       ["conflicting duplicates", d["n_conflicting_duplicates"]],
                                       ["median words", d["text_length"]["words"].get("median")]])
    out += _table(["class", "rows"], [[k, f"{v:,}"] for k, v in d["class_counts"].items()])
    return out


def _shift(story: Story) -> list[str]:
    rows = [[v["view"], v["js"], "" if not v["js_ci"] else f"[{v['js_ci'][0]:.4f}, {v['js_ci'][1]:.4f}]",
             v["p_value"], v["skipped"] or v["verdict"]] for v in story.shift["views"]]
    return ["## Shift against the reference", "", *_table(["view", "JS", "interval", "p-value", "verdict"], rows)]


def _coverage(story: Story) -> list[str]:
    c, m = story.coverage, story.coverage["map"]
    out = ["## Coverage of the reference", ""]
    out += _table(["figure", "value", "what it means"],
                  [["reference coverage", f"{c['reference_coverage']:.1%}",
                    f"reference rows with a dataset row within cosine distance {c['radius']:.4f} ({c['radius_source']})"],
                   ["scene coverage", f"{c['scene_coverage']:.1%}", f"{c['scene_count']}. {c['scene_rule']}"],
                   ["sample coverage", f"{c['sample_coverage']:.1%}",
                    "how closely the dataset follows the reference's mix of scenes"]])
    under = [u for u in c["clusters"] if u["under_covered"]]
    if under:  # the map itself is the HTML's; here the scenes it would point at
        out += ["### Under-covered scenes", ""]
        out += _table(["scene", "dataset rows", "reference rows", "coverage ratio", "top terms"],
                      [[f"C{u['cluster']}", u["n_dataset"], u["n_reference"], u["coverage_ratio"],
                        ", ".join(u["top_terms"])] for u in under])
    return out + [md_escape(f"The map (in the HTML story): {m['n_shown']:,} of {m['n_points']:,} points; {m['how']}."), ""]


def _issues(story: Story) -> list[str]:
    out = ["## Issues found", ""]
    out += _table(["signal", "rows flagged", "share"],
                  [[f"{s['title']} ({s['signal']})", f"{s['n_flagged']:,}", f"{s['share']:.1%}"] for s in story.issues["signals"]])
    for s in story.issues["signals"]:
        if s["examples"]:
            out += [f"### {md_escape(s['title'])}: examples", ""]
            out += _table(["row_id", "label", "text"], [[e["row_id"], e["label"], e["text"]] for e in s["examples"]])
    return out


def _recipe(story: Story) -> list[str]:
    r = story.recipe
    out = ["## The recipe", "", *[f"- {md_escape(line)}" for line in r["in_words"]], ""]
    return out + _table(["class", "before", "after"], [[c["class"], c["before"], c["after"]] for c in r["classes"]])


def _runs(story: Story) -> list[str]:
    r = story.runs
    out = ["## Runs", ""]
    metrics = ["accuracy", "macro_f1", "weighted_f1", "ece"]
    out += _table(["run", *metrics, "test rows"], [[x["name"], *[x["headline"].get(m) for m in metrics], x["n_test"]]
                                                   for x in r["runs"]])
    out += [f"- {md_escape(d['sentence'])}" for d in r["differences"]]
    if r["apart"]:
        out += ["", "### Runs on another dataset (shown apart)", ""]
        out += _table(["run", *metrics], [[x["name"], *[x["headline"].get(m) for m in metrics]] for x in r["apart"]])
    return [*out, ""]


def _model(run: dict) -> str:
    return f"{run.get('trainer')}" + (f", {run['backbone']}" if run.get("backbone") else "") + \
        (f", seed {run['seed']}" if run.get("seed") is not None else "")


def markdown_lines(story: Story) -> list[str]:
    out = [f"# {md_escape(story.title)}", "", md_escape(story.summary), ""]
    out += [f"> note: {md_escape(n)}" for n in story.notes] + ([""] if story.notes else [])
    out += _data(story)
    for present, part in ((story.shift, _shift), (story.coverage, _coverage), (story.issues, _issues), (story.recipe, _recipe),
                          (story.runs, _runs)):
        if present:
            out += part(story)
    if story.advice:
        out += ["## The advisor's verdict", "", *[md_escape(s) for s in story.advice["verdict"]], ""]
    p = story.provenance
    out += ["## How the figures were computed", "",
            *_table(["what", "value"], [["generated", p["generated"]], ["seed", p["seed"]],
                                        ["embeddings", p["embeddings"]], ["signals", p["signals"]],
                                        *[[f"run {r['name']}", _model(r)] for r in p.get("runs", [])],
                                        *[[k, v or "not installed"] for k, v in p["versions"].items()]])]
    return out
