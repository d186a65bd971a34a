"""The filter panel's controls: signal rules, class rules, conditions and row sets <-> a FilterRecipe.

The widgets describe a recipe; :func:`controls` reads them back into one, and :func:`set_controls` puts a
recipe (the autosaved working one, a saved one, an upload) into them.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dq_core.errors import DataError
from dq_core.filtering import (
    DEFAULT_RELABEL_PROB,
    SIGNAL_ACTION_HELP,
    ClassRule,
    ConditionRule,
    FilterInputs,
    FilterRecipe,
    RowSet,
    SignalRule,
    class_rows,
    is_label_signal,
    iter_signal_flag_counts,
    parse_condition,
    signal_actions,
)

WORKING = "working"  # the autosaved recipe the controls describe
SIGNAL_ORDER = ("exact_duplicate", "conflicting_label", "junk", "label", "near_duplicate", "outlier", "pii",
                "leakage")
CLASS_ACTIONS = ["keep", "drop", "cap", "relabel"]


def default_action(name: str) -> str:
    if "duplicate" in name:
        return "dedupe"
    if is_label_signal(name):
        return "relabel_or_drop"
    return "drop"


def ordered_signals(names: list[str]) -> list[str]:
    first = [s for s in SIGNAL_ORDER if s in names]
    return first + [s for s in names if s not in first]


def set_controls(key: str, recipe: FilterRecipe, inputs: FilterInputs) -> None:
    """Put a recipe into the widgets' session state (before they are drawn)."""
    ss = st.session_state
    rules = {r.signal: r for r in recipe.signals}
    for name in inputs.signal_names:
        r = rules.get(name)
        ss[f"{key}_on_{name}"] = bool(r and r.enabled)
        ss[f"{key}_act_{name}"] = r.action if r else default_action(name)
        has_score = inputs.score(name) is not None
        has_flag = inputs.flag(name) is not None
        ss[f"{key}_thr_{name}"] = float(r.threshold or 0.0) if (r and has_score) else 0.0
        ss[f"{key}_flag_{name}"] = bool(r.use_flag) if r else has_flag
        if not has_flag:
            ss[f"{key}_flag_{name}"] = False
        ss[f"{key}_minp_{name}"] = float(r.min_prob) if r else DEFAULT_RELABEL_PROB
    ss[f"{key}_class_base"] = class_frame(recipe, inputs)
    ss[f"{key}_class_v"] = ss.get(f"{key}_class_v", 0) + 1
    ss[f"{key}_drop_where"] = "\n".join(c.where for c in recipe.conditions if c.action == "drop")
    ss[f"{key}_keep_where"] = "\n".join(c.where for c in recipe.conditions if c.action == "keep_only")
    # Rules for signals not computed now stay in the recipe as they are (not lost on the next autosave).
    ss[f"{key}_hidden_rules"] = [r.to_dict() for r in recipe.signals if r.signal not in inputs.signal_names]
    ss[f"{key}_rowsets_loaded"] = [r.to_dict() for r in recipe.row_sets]
    for k in [k for k in ss if isinstance(k, str) and k.startswith((f"{key}_rs_on_", f"{key}_rs_act_"))]:
        del ss[k]  # drawn again from the recipe's row sets
    ss[f"{key}_name"] = recipe.name if recipe.name != "default" else WORKING


def class_frame(recipe: FilterRecipe, inputs: FilterInputs) -> pd.DataFrame:
    rules = {r.label: r for r in recipe.classes if not r.where}
    rows = []
    for c, n in class_rows(inputs).items():
        r = rules.get(c)
        rows.append({"class": c, "rows": n, "action": r.action if r else "keep",
                     "cap rows": r.max_rows if r and r.action == "cap" else None,
                     "relabel to": r.to if r and r.action == "relabel" else None})
    return pd.DataFrame(rows)


def controls(key: str, inputs: FilterInputs, selections: dict[str, list]
             ) -> tuple[FilterRecipe, list[str], dict[str, tuple]]:
    """Draw the controls; returns the recipe they describe (no manual decisions yet), problems, and per
    signal an (empty slot, rows it selects alone, on) triple for the counts filled in once the recipe is
    applied."""
    problems: list[str] = []
    rules, slots = _signal_rules(key, inputs, problems)
    hidden = [SignalRule.from_dict(r) for r in st.session_state.get(f"{key}_hidden_rules", [])]
    if hidden:
        st.caption("Kept from the recipe, for signals not computed now: "
                   + "; ".join(f"{r.describe()} → {r.action}" for r in hidden))
        rules = rules + hidden
    classes = _class_rules(key, inputs, problems)
    conditions = _conditions(key, inputs, problems)
    row_sets = _row_sets(key, selections)
    name = st.session_state.get(f"{key}_name") or WORKING
    recipe = FilterRecipe(name=name, signals=tuple(rules), classes=tuple(classes), conditions=tuple(conditions),
                          row_sets=tuple(row_sets))
    return recipe, problems, slots


def _signal_rules(key: str, inputs: FilterInputs, problems: list[str]) -> tuple[list[SignalRule], dict[str, tuple]]:
    slots: dict[str, tuple] = {}
    names = ordered_signals(inputs.signal_names)
    rules: list[SignalRule] = []
    st.markdown("**Signals** — drop (or relabel) the rows a signal flags, or whose score is below a threshold "
                "(scores are in [0, 1], low = suspicious; 0 = no threshold).")
    if not names:
        st.caption("No signals yet: compute them above to filter by signal.")
    for name in names:
        has_score, has_flag = inputs.score(name) is not None, inputs.flag(name) is not None
        c1, c2, c3, c4, c5 = st.columns([2.2, 2.2, 3, 1.6, 2.4], vertical_alignment="center")
        on = c1.checkbox(name.replace("_", " "), key=f"{key}_on_{name}")
        action = c2.selectbox("action", signal_actions(name), key=f"{key}_act_{name}", label_visibility="collapsed",
                              help="; ".join(f"{a}: {h}" for a, h in SIGNAL_ACTION_HELP.items()))
        thr = c3.slider(f"{name}_score below", 0.0, 1.0, step=0.01, key=f"{key}_thr_{name}",
                        disabled=not has_score, label_visibility="collapsed", format="score < %.2f",
                        help=f"select rows with {name}_score below this (0 = off)")
        flag = c4.checkbox("flagged", key=f"{key}_flag_{name}", disabled=not has_flag,
                           help=f"rows with is_{name}_issue")
        minp = 0.0
        if action in ("relabel", "relabel_or_drop"):
            minp = c5.slider("min p(suggested)", 0.0, 1.0, step=0.05, key=f"{key}_minp_{name}",
                             help="relabel only when the suggested label's out-of-sample probability reaches this")
        threshold = thr if thr > 0 else None
        if on and threshold is None and not flag:
            problems.append(f"'{name}' is on but uses neither its flag nor a threshold, so it is ignored")
            on = False
        rule = SignalRule(name, action=action, threshold=threshold, use_flag=bool(flag), min_prob=minp,
                          enabled=on, required=True) if (threshold is not None or flag) else None
        if rule is not None:
            slots[name] = (c5.empty(), iter_signal_flag_counts(inputs, [rule])[name], on)
            rules.append(rule)
    return rules, slots


def _class_rules(key: str, inputs: FilterInputs, problems: list[str]) -> list[ClassRule]:
    ss = st.session_state
    classes: list[ClassRule] = []
    with st.expander("Per-class rules: drop, relabel or cap a class"):
        base = ss.get(f"{key}_class_base")
        if base is None:
            base = class_frame(FilterRecipe(), inputs)
            ss[f"{key}_class_base"] = base
        edited = st.data_editor(
            base, key=f"{key}_classes_{ss.get(f'{key}_class_v', 0)}", hide_index=True, width="stretch",
            disabled=["class", "rows"],
            column_config={
                "action": st.column_config.SelectboxColumn("action", options=CLASS_ACTIONS, required=True),
                "cap rows": st.column_config.NumberColumn("cap rows", min_value=1, step=1,
                                                          help="keep at most this many rows (seeded random)"),
                "relabel to": st.column_config.SelectboxColumn("relabel to", options=inputs.classes),
            })
        ss[f"{key}_class_edited"] = edited.to_dict(orient="list")  # brought back after a page switch
        for rec in edited.to_dict(orient="records"):
            try:
                if rec["action"] == "drop":
                    classes.append(ClassRule(rec["class"], "drop"))
                elif rec["action"] == "cap":
                    cap = rec.get("cap rows")
                    if cap is None or pd.isna(cap):
                        problems.append(f"class '{rec['class']}': give 'cap rows' to cap it")
                        continue
                    classes.append(ClassRule(rec["class"], "cap", max_rows=int(cap)))
                elif rec["action"] == "relabel":
                    to = rec.get("relabel to")
                    if not to or pd.isna(to):
                        problems.append(f"class '{rec['class']}': choose the class to relabel it to")
                        continue
                    classes.append(ClassRule(rec["class"], "relabel", to=str(to)))
            except DataError as exc:
                problems.append(str(exc))
    return classes


def _conditions(key: str, inputs: FilterInputs, problems: list[str]) -> list[ConditionRule]:
    conditions: list[ConditionRule] = []
    with st.expander("Conditions on columns (metadata and signal columns)"):
        cols = inputs.columns()
        st.caption("One condition per line: `column op value`, joined with `and`; operators "
                   "`== != < <= > >= in [..] not in [..] contains icontains startswith endswith is missing`. "
                   f"Columns: {', '.join(f'`{c}`' for c in cols[:30])}{' …' if len(cols) > 30 else ''}")
        c1, c2 = st.columns(2)
        drop_txt = c1.text_area("Drop rows where", key=f"{key}_drop_where", height=90,
                                placeholder="confidence < 0.5\ntopic == 'other' and label == 'neutral'")
        keep_txt = c2.text_area("Keep only rows where", key=f"{key}_keep_where", height=90,
                                placeholder="split == 'train'")
        for text, action in ((drop_txt, "drop"), (keep_txt, "keep_only")):
            for line in (ln.strip() for ln in (text or "").splitlines()):
                if not line:
                    continue
                try:
                    cond = parse_condition(line)
                    for col in cond.columns:
                        inputs.column(col)
                    conditions.append(ConditionRule(line, action))
                except DataError as exc:
                    problems.append(str(exc))
    return conditions


def _row_sets(key: str, selections: dict[str, list]) -> list[RowSet]:
    ss = st.session_state
    row_sets: list[RowSet] = []
    available = dict(selections)
    for rs in ss.get(f"{key}_rowsets_loaded", []):
        available.setdefault(rs["name"], rs["row_ids"])
    if available:
        with st.expander(f"Row sets ({len(available)} available)"):
            loaded = {rs["name"]: rs for rs in ss.get(f"{key}_rowsets_loaded", [])}
            for name, ids in available.items():
                c1, c2 = st.columns([3, 2])
                k_use, k_act = f"{key}_rs_on_{name}", f"{key}_rs_act_{name}"
                if k_use not in ss:
                    ss[k_use] = name in loaded
                    ss[k_act] = loaded.get(name, {}).get("action", "drop")
                use = c1.checkbox(f"{name} ({len(ids):,} rows)", key=k_use)
                act = c2.radio("action", ["drop", "keep_only"], key=k_act, horizontal=True,
                               label_visibility="collapsed")
                if use:
                    row_sets.append(RowSet(name, tuple(ids), act))
    return row_sets
