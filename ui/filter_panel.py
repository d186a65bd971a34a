"""The Clean page's second half: what-if filtering, a live before/after panel, review, label-next, export.

``render_filter_panel(ds, ref, signals_frame)`` draws it all. Every number comes from dq_core: the
recipe is applied by :func:`dq_core.filtering.apply_prepared` (the code `dq filter` runs) and the
figures by :mod:`dq_core.filtering.whatif`, whose context is built once per (dataset, reference, signals) so moving
a control only recounts. Review decisions go to the workspace at once (DecisionStore, atomic) and the
working recipe to ``recipes/<dataset id>/working.json``, so both survive a reload and training can use it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from dq_core.data.dataset import TextDataset
from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.filtering import (
    SIGNAL_ACTION_HELP,
    SIGNAL_ACTIONS,
    UNCERTAINTY_METHODS,
    ClassRule,
    ConditionRule,
    Decision,
    DecisionStore,
    FilterInputs,
    FilterRecipe,
    RecipeResult,
    RowSet,
    SignalRule,
    apply_prepared,
    cleaned_frame,
    default_recipe,
    export_all,
    export_bytes,
    iter_signal_flag_counts,
    label_next,
    load_recipe,
    parse_condition,
    recipe_path,
    removal_log,
    save_recipe,
    saved_recipes,
)
from dq_core.filtering import whatif as wi
from dq_core.viz import overview as viz
from ui.widgets import fmt_num, user_errors

WORKING = "working"
SIGNAL_ORDER = ("exact_duplicate", "conflicting_label", "junk", "label", "near_duplicate", "outlier", "pii",
                "leakage")
REVIEW_LIMIT = 500
MAP_SELECTION_KEYS = ("dq_selected_row_ids",)  # where a map may leave row_ids
_HASH = {TextDataset: lambda d: d.fingerprint}


# --------------------------------------------------------------------------- cached building blocks

@st.cache_resource(max_entries=4, show_spinner="Preparing the filter…", hash_funcs=_HASH)
def _filter_inputs(ds: TextDataset, signals: pd.DataFrame | None) -> FilterInputs:
    return FilterInputs(ds, signals).prepare()


def _emb_token(embeddings) -> str:
    """A cache key for embeddings a caller passed in: shape + a sample of rows (cheap on large sets)."""
    if embeddings is None:
        return "workspace-cache"
    import hashlib

    h = hashlib.blake2b(digest_size=10)
    for e in embeddings:
        if e is None:
            h.update(b"none")
            continue
        v = np.asarray(e.vectors)
        h.update(str(v.shape).encode())
        h.update(np.ascontiguousarray(v[:: max(1, len(v) // 512)]).tobytes())
        h.update(np.asarray(e.valid).tobytes())
    return h.hexdigest()


def _embeddings(ds: TextDataset, ref: TextDataset | None, ws: Workspace, given):
    """The caller's embeddings, else those already on disk (Coverage, Shift or the signals computed
    them): the panel never embeds on its own."""
    if given is not None:
        return given[0], (given[1] if len(given) > 1 else None)
    from dq_core.space.embed import cached_dataset_embeddings

    ds_emb = cached_dataset_embeddings(ds, workspace=ws)
    ref_emb = cached_dataset_embeddings(ref, workspace=ws) if ref is not None else None
    return ds_emb, ref_emb


@st.cache_resource(max_entries=4, show_spinner="Precomputing the before/after figures…", hash_funcs=_HASH)
def _whatif_context(ds: TextDataset, ref: TextDataset | None, signals: pd.DataFrame | None, home: str,
                    label_key: str = "label", seed: int = 0, emb_token: str = "workspace-cache",
                    _given=None) -> wi.WhatIfContext:
    ws = Workspace(Path(home))
    ds_emb, ref_emb = _embeddings(ds, ref, ws, _given)
    if ref is None:
        ds_emb = ref_emb = None
    probs = None
    if signals is not None and wi.noise_column(signals) is not None:
        try:  # the label signal's probabilities: the noise ratio then matches the signals' estimate
            probs = _label_inputs(ds, home, label_key, seed, emb_token, _given)[0]
        except DataError:
            probs = None
    return wi.prepare_what_if(ds, ref, signals, ds_embeddings=ds_emb, ref_embeddings=ref_emb, workspace=ws,
                              label_probs=probs)


@st.cache_resource(max_entries=4, show_spinner="Out-of-sample probabilities…", hash_funcs=_HASH)
def _label_inputs(ds: TextDataset, home: str, label_key: str = "label", seed: int = 0,
                  emb_token: str = "workspace-cache", _given=None) -> tuple[np.ndarray | None, np.ndarray | None, str]:
    """(probabilities, density, note) for label-next and the noise ratio, from the signals' cached inputs."""
    from dq_core.filtering import knn_density

    ws = Workspace(Path(home))
    emb, _ = _embeddings(ds, None, ws, _given)
    if emb is None or len(ds.classes) < 2:
        return None, None, "no cached embeddings: ranking by the suggested label's probability only"
    try:
        from dq_core.signals import parse_signal_spec
        from dq_core.signals.context import SignalContext
    except ImportError:
        return None, None, "the signals module is not available: ranking by the suggested label's probability"
    # The label signal's own probabilities (K-fold logistic regression + neighbour labels, with the
    # parameters the page used), read from the workspace caches the signals filled (out-of-sample
    # probabilities, kNN graph).
    ctx = SignalContext(ds, embeddings=emb.vectors, workspace=ws, seed=seed)
    probs = np.asarray(parse_signal_spec(label_key).probabilities(ctx), dtype=np.float64)
    density = None
    if len(ds) > 2:
        density = knn_density(ctx.knn(10).distances)
        density[~emb.valid] = 0.0
    return probs, density, "out-of-sample probabilities of the label signal"


# --------------------------------------------------------------------------- recipe <-> widgets

def _default_action(name: str) -> str:
    if "duplicate" in name:
        return "dedupe"
    if name == "label" or name.startswith("label_"):
        return "relabel_or_drop"
    return "drop"


def _ordered_signals(names: list[str]) -> list[str]:
    first = [s for s in SIGNAL_ORDER if s in names]
    return first + [s for s in names if s not in first]


def _set_controls(key: str, recipe: FilterRecipe, inputs: FilterInputs) -> None:
    """Put a recipe into the widgets' session state (before they are drawn)."""
    ss = st.session_state
    rules = {r.signal: r for r in recipe.signals}
    for name in inputs.signal_names:
        r = rules.get(name)
        ss[f"{key}_on_{name}"] = bool(r and r.enabled)
        ss[f"{key}_act_{name}"] = r.action if r else _default_action(name)
        has_score = inputs.score(name) is not None
        has_flag = inputs.flag(name) is not None
        ss[f"{key}_thr_{name}"] = float(r.threshold or 0.0) if (r and has_score) else 0.0
        ss[f"{key}_flag_{name}"] = bool(r.use_flag) if r else has_flag
        if not has_flag:
            ss[f"{key}_flag_{name}"] = False
        ss[f"{key}_minp_{name}"] = float(r.min_prob) if r else 0.7
    ss[f"{key}_class_base"] = _class_frame(recipe, inputs)
    ss[f"{key}_class_v"] = ss.get(f"{key}_class_v", 0) + 1
    ss[f"{key}_drop_where"] = "\n".join(c.where for c in recipe.conditions if c.action == "drop")
    ss[f"{key}_keep_where"] = "\n".join(c.where for c in recipe.conditions if c.action == "keep_only")
    ss[f"{key}_rowsets_loaded"] = [r.to_dict() for r in recipe.row_sets]
    ss[f"{key}_name"] = recipe.name if recipe.name != "default" else WORKING


def _class_frame(recipe: FilterRecipe, inputs: FilterInputs) -> pd.DataFrame:
    counts = np.bincount(inputs.label_codes[inputs.label_codes >= 0], minlength=len(inputs.classes))
    rules = {r.label: r for r in recipe.classes if not r.where}
    rows = []
    for i, c in enumerate(inputs.classes):
        r = rules.get(c)
        rows.append({"class": c, "rows": int(counts[i]), "action": r.action if r else "keep",
                     "cap rows": r.max_rows if r and r.action == "cap" else None,
                     "relabel to": r.to if r and r.action == "relabel" else None})
    return pd.DataFrame(rows)


def _controls(key: str, inputs: FilterInputs, selections: dict[str, list]
              ) -> tuple[FilterRecipe, list[str], dict[str, tuple]]:
    """Draw the controls; returns the recipe they describe (no manual decisions yet), problems, and per
    signal an (empty slot, rows it selects alone) pair for the counts filled in once the recipe is applied."""
    ss = st.session_state
    problems: list[str] = []
    slots: dict[str, tuple] = {}
    names = _ordered_signals(inputs.signal_names)
    rules: list[SignalRule] = []
    st.markdown("**Signals** — drop (or relabel) the rows a signal flags, or whose score is below a threshold "
                "(scores are in [0, 1], low = suspicious; 0 = no threshold).")
    if not names:
        st.caption("No signals yet: compute them above to filter by signal.")
    for name in names:
        has_score, has_flag = inputs.score(name) is not None, inputs.flag(name) is not None
        c1, c2, c3, c4, c5 = st.columns([2.2, 2.2, 3, 1.6, 2.4], vertical_alignment="center")
        on = c1.checkbox(name.replace("_", " "), key=f"{key}_on_{name}")
        action = c2.selectbox("action", SIGNAL_ACTIONS, key=f"{key}_act_{name}", label_visibility="collapsed",
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

    classes: list[ClassRule] = []
    with st.expander("Per-class rules: drop, relabel or cap a class"):
        base = ss.get(f"{key}_class_base")
        if base is None:
            base = _class_frame(FilterRecipe(), inputs)
            ss[f"{key}_class_base"] = base
        edited = st.data_editor(
            base, key=f"{key}_classes_{ss.get(f'{key}_class_v', 0)}", hide_index=True, width="stretch",
            disabled=["class", "rows"],
            column_config={
                "action": st.column_config.SelectboxColumn("action", options=["keep", "drop", "cap", "relabel"],
                                                           required=True),
                "cap rows": st.column_config.NumberColumn("cap rows", min_value=1, step=1,
                                                          help="keep at most this many rows (seeded random)"),
                "relabel to": st.column_config.SelectboxColumn("relabel to", options=inputs.classes),
            })
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

    row_sets: list[RowSet] = []
    available = dict(selections)
    for k in MAP_SELECTION_KEYS:
        ids = ss.get(k)
        if isinstance(ids, (list, tuple, set, np.ndarray, pd.Series)) and len(ids):
            available.setdefault("map selection", list(ids))
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

    name = ss.get(f"{key}_name") or WORKING
    recipe = FilterRecipe(name=name, signals=tuple(rules), classes=tuple(classes), conditions=tuple(conditions),
                          row_sets=tuple(row_sets))
    return recipe, problems, slots


def _fill_counts(slots: dict[str, tuple], result: RecipeResult) -> None:
    """Next to each signal: rows it selects on its own, and what it removes / relabels in this recipe."""
    by_signal: dict[str, tuple[int, int]] = {}
    counts = result.rule_counts()
    rules = [r for r in result.recipe.signals if r.enabled]
    for rule, (_, row) in zip(rules, counts.iloc[:len(rules)].iterrows(), strict=False):
        by_signal[rule.signal] = (int(row["drops"]), int(row["relabels"]))
    for name, (slot, alone, on) in slots.items():
        if not on or name not in by_signal:
            slot.caption(f"would select **{alone:,}** rows")
            continue
        drops, relabels = by_signal[name]
        extra = f" · relabels **{relabels:,}**" if relabels else ""
        slot.caption(f"selects {alone:,} · removes **{drops:,}**{extra}")


# --------------------------------------------------------------------------- before / after

def _metric(col, label: str, before, after, key: str, direction: int, pct: bool = False, digits: int = 3) -> None:
    if after is None:
        col.metric(label, "n/a", help="needs a reference set and its embeddings (Coverage / Shift pages)")
        return
    fmt = (lambda v: f"{v:.1%}") if pct else (lambda v: fmt_num(v, digits))
    delta = None if before is None or after is None else after - before
    dtxt = None
    if delta is not None and abs(delta) > 1e-12:
        dtxt = (f"{delta:+.1%}" if pct else (f"{delta:+,.0f}" if float(delta).is_integer() and abs(delta) >= 1
                                               else f"{delta:+.{digits}f}"))
    color = "normal" if direction > 0 else ("inverse" if direction < 0 else "off")
    col.metric(label, fmt(after), dtxt, delta_color=color)


def _before_after(key: str, ctx: wi.WhatIfContext, before: wi.WhatIfFigures, after: wi.WhatIfFigures) -> None:
    d = wi.what_if(before, after)
    cols = st.columns(4)
    _metric(cols[0], "Rows", before.n_rows, after.n_rows, f"{key}_m_rows", 0, digits=0)
    _metric(cols[1], "Class-balance index", before.class_balance_index, after.class_balance_index,
            f"{key}_m_cbi", 1)
    _metric(cols[2], "Imbalance ratio", before.imbalance_ratio, after.imbalance_ratio, f"{key}_m_ir", -1, digits=2)
    _metric(cols[3], "Estimated noise ratio", before.noise_ratio, after.noise_ratio, f"{key}_m_noise", -1,
            pct=True)
    cols = st.columns(4)
    _metric(cols[0], "Reference coverage", before.reference_coverage, after.reference_coverage,
            f"{key}_m_refcov", 1, pct=True)
    _metric(cols[1], "Scene coverage", before.scene_coverage, after.scene_coverage, f"{key}_m_scene", 1, pct=True)
    _metric(cols[2], "Sample coverage", before.sample_coverage, after.sample_coverage, f"{key}_m_sample", 1,
            pct=True)
    js_b = before.js.get("embedding_clusters") if before.js.get("embedding_clusters") is not None \
        else before.js.get("label")
    js_a = after.js.get("embedding_clusters") if after.js.get("embedding_clusters") is not None \
        else after.js.get("label")
    _metric(cols[3], "JS (clusters)" if after.js.get("embedding_clusters") is not None else "JS (labels)",
            js_b, js_a, f"{key}_m_js", -1, digits=4)
    st.caption(f"Estimated noise ratio: {ctx.noise_method or 'needs the label signal'}; relabelled rows count "
               "with their new label. Coverage uses the unfiltered data's radius "
               f"({fmt_num(ctx.radius, 3) if ctx.radius is not None else 'n/a'}) and clusters, held fixed.")
    for n in ctx.notes:
        st.caption(f"ℹ️ {n}")
    c1, c2 = st.columns([3, 2])
    c1.plotly_chart(viz.class_counts_before_after(d.class_table()), width="stretch", key=f"{key}_classes_chart")
    table = d.table()
    shown = table[["figure", "before", "after", "delta", "change"]].copy()
    for c in ("before", "after", "delta"):
        shown[c] = [_fmt_figure(k, v, delta=c == "delta") for k, v in zip(table["key"], table[c], strict=True)]
    c2.dataframe(shown, hide_index=True, width="stretch", key=f"{key}_delta_table", height=36 * (len(shown) + 1) + 4)


def _fmt_figure(key: str, v, *, delta: bool = False) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "n/a"
    sign = "+" if delta else ""
    if key in ("n_rows", "n_classes"):
        return f"{v:{sign},.0f}"
    if key in ("noise_ratio", "reference_coverage", "scene_coverage", "sample_coverage"):
        return f"{v:{sign}.1%}"
    if key.startswith("js:"):
        return f"{v:{sign}.4f}"
    return f"{v:{sign}.3f}"


# --------------------------------------------------------------------------- review

def _review_frame(ds: TextDataset, inputs: FilterInputs, result: RecipeResult, decisions: dict[str, Decision],
                  show: str, selected: set[str]) -> pd.DataFrame:
    n = len(ds)
    sig = inputs.signals
    scores = [c for c in (sig.columns if sig is not None else []) if c.endswith("_score")]
    suspicion = (sig[scores].min(axis=1).fillna(1.0).to_numpy() if scores else np.ones(n))
    decided = np.zeros(n, dtype=bool)
    if decisions:
        pos, _ = inputs.positions([d.row_id for d in decisions.values()])
        decided[pos] = True
    touched = ~result.keep_mask | result.relabelled_mask
    if show == "touched by the recipe":
        mask = touched
    elif show == "flagged but kept":
        flagged = np.zeros(n, dtype=bool)
        for s in inputs.signal_names:
            f = inputs.flag(s)
            if f is not None:
                flagged |= f
        mask = flagged & result.keep_mask & ~result.relabelled_mask
    elif show == "with a decision":
        mask = decided
    else:  # most suspicious
        mask = np.ones(n, dtype=bool)
    pos = np.flatnonzero(mask)
    pos = pos[np.lexsort((pos, suspicion[pos]))][:REVIEW_LIMIT]
    labels = result.final_labels()
    status = np.where(~result.keep_mask[pos], "drop",
                      np.where(result.relabelled_mask[pos], "relabel → " + labels[pos].astype(str), "keep"))
    rid = ds.row_ids[pos]
    frame = pd.DataFrame({
        "select": [str(r) in selected for r in rid],
        "row_id": rid,
        "text": ds.texts.to_numpy(dtype=object)[pos],
        "label": ds.labels.to_numpy(dtype=object)[pos],
        "recipe": status,
        "reasons": result.reasons_at(pos),
    })
    if sig is not None:
        for c in ("suggested_label", "suggested_label_prob", "label_score"):
            if c in sig.columns:
                frame[c] = sig[c].to_numpy()[pos]
    dec = [decisions.get(str(r)) for r in rid]
    frame["decision"] = [d.action if d else "" for d in dec]
    frame["relabel to"] = [d.label if d and d.action == "relabel" else None for d in dec]
    return frame


def _on_review_edit(editor_key: str, key: str, store_path: str, rows: list, current: list, sugg: list) -> None:
    """data_editor edits -> decisions saved at once; the editor is then redrawn from the saved state."""
    ss = st.session_state
    edits = (ss.get(editor_key) or {}).get("edited_rows", {})
    store = DecisionStore(Path(store_path).parent)
    selected: set[str] = ss.setdefault(f"{key}_selected", set())
    changes = []
    for idx, ch in edits.items():
        i = int(idx)
        rid = rows[i]
        if "select" in ch:
            (selected.add if ch["select"] else selected.discard)(str(rid))
        if "decision" in ch or "relabel to" in ch:
            action = ch.get("decision", current[i][0]) or ""
            to = ch.get("relabel to", current[i][1])
            if action == "relabel" and not to:
                to = sugg[i]
            if action == "":
                changes.append((rid, None))
            elif action == "relabel":
                if to:
                    changes.append(Decision(rid, "relabel", str(to)))
                else:
                    ss[f"{key}_flash"] = f"row {rid}: choose a label in 'relabel to' to relabel it"
            else:
                changes.append(Decision(rid, action))
    if changes:
        store.set(changes)
    ss[f"{key}_rv"] = ss.get(f"{key}_rv", 0) + 1


def _parse_ids(text: str, inputs: FilterInputs) -> list:
    parts = [p.strip() for p in text.replace("\n", ",").split(",") if p.strip()]
    if not parts:
        raise DataError("type one or more row ids, separated by commas")
    pos, missing = inputs.positions(parts)
    if missing:
        raise DataError(f"row ids not in the dataset: {', '.join(map(str, missing[:5]))}"
                        + (" …" if len(missing) > 5 else ""))
    return [inputs.row_ids[p].item() if hasattr(inputs.row_ids[p], "item") else inputs.row_ids[p] for p in pos]


def _review(key: str, ds: TextDataset, inputs: FilterInputs, result: RecipeResult, store: DecisionStore) -> None:
    ss = st.session_state
    decisions = store.as_dict()
    selected: set[str] = ss.setdefault(f"{key}_selected", set())
    if msg := ss.pop(f"{key}_flash", None):
        st.warning(msg)
    c1, c2 = st.columns([3, 2])
    show = c1.radio("Show", ["touched by the recipe", "flagged but kept", "most suspicious", "with a decision"],
                    horizontal=True, key=f"{key}_show")
    c2.caption(f"**{len(decisions):,}** manual decisions saved (they win over every rule) · "
               f"{len(selected):,} rows selected")
    frame = _review_frame(ds, inputs, result, decisions, show, selected)
    if len(frame) == 0:
        st.caption("No rows to show here.")
    else:
        st.caption(f"{len(frame):,} rows (at most {REVIEW_LIMIT}, most suspicious first). Set a decision per row "
                   "or tick rows for the bulk actions below; every change is saved at once.")
        editor_key = f"{key}_review_{ss.get(f'{key}_rv', 0)}"
        rows = frame["row_id"].tolist()
        current = list(zip(frame["decision"], frame["relabel to"], strict=True))
        sugg = frame["suggested_label"].tolist() if "suggested_label" in frame else [None] * len(frame)
        st.data_editor(
            frame, key=editor_key, hide_index=True, width="stretch", height=360,
            disabled=[c for c in frame.columns if c not in ("select", "decision", "relabel to")],
            on_change=_on_review_edit, args=(editor_key, key, str(store.path), rows, current, sugg),
            column_config={
                "select": st.column_config.CheckboxColumn("✓", width="small"),
                "text": st.column_config.TextColumn("text", width="large"),
                "decision": st.column_config.SelectboxColumn("decision", options=["", "keep", "drop", "relabel"]),
                "relabel to": st.column_config.SelectboxColumn("relabel to", options=inputs.classes),
                "suggested_label_prob": st.column_config.NumberColumn("p(suggested)", format="%.2f"),
                "label_score": st.column_config.NumberColumn("label score", format="%.3f"),
            })
        shown = [str(r) for r in rows]
        b = st.columns(6)
        if b[0].button("Select all shown", key=f"{key}_sel_all"):
            selected.update(shown)
            st.rerun()
        if b[1].button("Select none", key=f"{key}_sel_none"):
            selected.clear()
            st.rerun()
        chosen = [r for r in rows if str(r) in selected]
        if b[2].button(f"Keep selected ({len(chosen)})", key=f"{key}_bulk_keep", disabled=not chosen):
            store.set([Decision(r, "keep") for r in chosen])
            _after_bulk(key)
        if b[3].button(f"Drop selected ({len(chosen)})", key=f"{key}_bulk_drop", disabled=not chosen):
            store.set([Decision(r, "drop") for r in chosen])
            _after_bulk(key)
        if b[4].button("Accept suggestions", key=f"{key}_bulk_accept", disabled=not chosen or "suggested_label" not in frame,
                       help="relabel the selected rows to their suggested label"):
            sug = dict(zip(frame["row_id"].astype(str), frame.get("suggested_label", pd.Series(dtype=object)),
                           strict=True))
            store.set([Decision(r, "relabel", str(sug[str(r)])) for r in chosen
                       if isinstance(sug.get(str(r)), str) and sug[str(r)]])
            _after_bulk(key)
        if b[5].button("Clear selected", key=f"{key}_bulk_clear", disabled=not chosen,
                       help="remove the decisions of the selected rows"):
            store.set([(r, None) for r in chosen])
            _after_bulk(key)
        if inputs.classes:
            c1, c2 = st.columns([4, 2], vertical_alignment="bottom")
            to = c1.selectbox("Relabel selected rows to", inputs.classes, key=f"{key}_bulk_to")
            if c2.button(f"Relabel selected ({len(chosen)})", key=f"{key}_bulk_relabel", disabled=not chosen):
                store.set([Decision(r, "relabel", to) for r in chosen])
                _after_bulk(key)

    with st.form(f"{key}_by_id", clear_on_submit=False, border=True):
        st.markdown("**Decide by row id**")
        c1, c2, c3 = st.columns([3, 2, 2])
        ids_text = c1.text_input("Row ids (comma separated)", key=f"{key}_ids")
        action = c2.selectbox("Decision", ["drop", "keep", "relabel", "clear"], key=f"{key}_ids_action")
        label = c3.selectbox("Label (relabel)", inputs.classes or [""], key=f"{key}_ids_label")
        if st.form_submit_button("Apply"):
            with user_errors("Saving the decision"):
                ids = _parse_ids(ids_text or "", inputs)
                if action == "clear":
                    store.set([(r, None) for r in ids])
                else:
                    store.set([Decision(r, action, label if action == "relabel" else None) for r in ids])
                _after_bulk(key)

    c1, c2, _ = st.columns([1, 1, 3])
    if c1.button("↶ Undo", key=f"{key}_undo", disabled=not store.can_undo(),
                 help="revert the last decision change (single or bulk)"):
        store.undo()
        _after_bulk(key)
    if c2.button("Clear all decisions", key=f"{key}_clear_all", disabled=not decisions):
        store.clear()
        _after_bulk(key)


def _after_bulk(key: str) -> None:
    st.session_state[f"{key}_rv"] = st.session_state.get(f"{key}_rv", 0) + 1
    st.rerun()


# --------------------------------------------------------------------------- label next

def _label_next(key: str, ds: TextDataset, signals: pd.DataFrame | None, result: RecipeResult,
                store: DecisionStore, home: str, label_key: str, seed: int, embeddings) -> None:
    c1, c2, c3 = st.columns([2, 2, 2])
    method = c1.selectbox("Uncertainty", UNCERTAINTY_METHODS, key=f"{key}_ln_method",
                          help="margin: 1 − (p₁ − p₂); entropy: H(p)/log k; least confidence: 1 − p₁ (scaled)")
    dens = c2.toggle("Density-weighted", value=True, key=f"{key}_ln_density",
                     help="uncertainty × mean similarity to the 10 nearest neighbours: favours typical rows "
                          "over outliers")
    n = c3.number_input("Batch size", 10, 5000, 100, step=10, key=f"{key}_ln_n")
    probs, density, note = _label_inputs(ds, home, label_key, seed, _emb_token(embeddings), embeddings)
    exclude = ~result.keep_mask
    decided = store.as_dict()
    if decided:
        pos = pd.Index(ds.row_ids.astype(str)).get_indexer([str(k) for k in decided])
        exclude = exclude.copy()
        exclude[pos[pos >= 0]] = True
    batch = label_next(ds, probs, signals=signals, method=method, density=density if dens else None, n=int(n),
                       exclude=exclude)
    st.caption(f"{note}. Rows the recipe drops and rows with a decision are left out.")
    if dens and density is None:
        st.caption("No neighbour graph cached: density weighting is off.")
    st.dataframe(batch, hide_index=True, width="stretch", height=300, key=f"{key}_ln_table")
    from dq_core.data.io import frame_to_bytes

    st.download_button("Download the batch (CSV)", data=frame_to_bytes(batch, "csv"),
                       file_name=f"label_next_{method}.csv", mime="text/csv", key=f"{key}_ln_dl",
                       on_click="ignore")


# --------------------------------------------------------------------------- compare and save recipes

def _compare(key: str, ds: TextDataset, inputs: FilterInputs, ctx: wi.WhatIfContext, working: FilterRecipe,
             folder: Path, before: wi.WhatIfFigures) -> None:
    saved = saved_recipes(folder)
    options = ["default", *[n for n in saved if n != WORKING]]
    picked = st.multiselect("Recipes to compare with the working recipe", options, default=["default"],
                            key=f"{key}_cmp")
    cols: dict[str, dict] = {"before": before.to_dict()}
    recipes: dict[str, FilterRecipe] = {"working": working}
    for name in picked:
        with user_errors(f"Recipe '{name}'"):
            recipes[name] = default_recipe() if name == "default" else load_recipe(saved[name])
    for name, rec in recipes.items():
        try:
            res = apply_prepared(inputs, rec, strict=False)
        except DataError as exc:
            st.warning(f"Recipe '{name}': {exc}")
            continue
        fig = wi.figures_for(ctx, res).to_dict()
        fig["relabelled"] = res.n_relabelled
        fig["problems"] = " ".join(res.problems)
        cols[name] = fig
    keys = [*wi.FIGURE_LABELS, "relabelled"]
    js_views = list(dict.fromkeys(v for f in cols.values() for v in f.get("js", {})))
    index = [wi.FIGURE_LABELS.get(k, k) for k in keys] + [f"JS {v}" for v in js_views]
    table = pd.DataFrame(
        {name: [_fmt_figure("n_rows" if k == "relabelled" else k, f.get(k)) for k in keys]
         + [_fmt_figure(f"js:{v}", f.get("js", {}).get(v)) for v in js_views] for name, f in cols.items()},
        index=index)
    st.dataframe(table, width="stretch", key=f"{key}_cmp_table", height=36 * (len(table) + 1) + 4)
    for name, f in cols.items():
        if f.get("problems"):
            st.caption(f"⚠️ {name}: {f['problems']}")

    c1, c2, c3 = st.columns([3, 1.5, 3])
    new_name = c1.text_input("Save the working recipe as", key=f"{key}_save_name", placeholder="e.g. strict")
    if c2.button("Save", key=f"{key}_save_btn", disabled=not (new_name or "").strip()):
        with user_errors("Saving the recipe"):
            p = recipe_path(folder, new_name.strip())
            if p.stem == WORKING:
                raise DataError(f"'{WORKING}' is the autosaved recipe; choose another name")
            save_recipe(FilterRecipe.from_dict({**working.to_dict(), "name": p.stem}), p)
            st.success(f"Saved as `{p.name}` in the workspace; training can use it.")
    loadable = [n for n in saved if n != WORKING]
    with c3:
        to_load = st.selectbox("Load a saved recipe into the controls", ["default", *loadable], key=f"{key}_load_sel")
        if st.button("Load", key=f"{key}_load_btn"):
            with user_errors("Loading the recipe"):
                rec = default_recipe() if to_load == "default" else load_recipe(saved[to_load])
                _load_into_controls(key, rec, inputs, folder)
    up = st.file_uploader("…or upload a recipe (JSON)", type=["json"], key=f"{key}_upload")
    if up is not None and st.button("Load the uploaded recipe", key=f"{key}_upload_btn"):
        with user_errors("Loading the recipe"):
            rec = FilterRecipe.from_json(up.getvalue().decode("utf-8", errors="replace"), source=f"'{up.name}'")
            _load_into_controls(key, rec, inputs, folder)


def _load_into_controls(key: str, recipe: FilterRecipe, inputs: FilterInputs, folder: Path) -> None:
    """Controls take the recipe's rules; its manual decisions join the saved ones (one undo step)."""
    _set_controls(key, recipe, inputs)
    if recipe.decisions:
        DecisionStore(folder).set(list(recipe.decisions))
    st.session_state[f"{key}_rv"] = st.session_state.get(f"{key}_rv", 0) + 1
    st.rerun()


# --------------------------------------------------------------------------- export

def _export(key: str, ds: TextDataset, signals: pd.DataFrame | None, result: RecipeResult, ws: Workspace,
            ds_id: str) -> None:
    if result.problems:
        st.error("Nothing can be exported: " + " ".join(result.problems), icon="⛔")
        return
    c1, c2 = st.columns([2, 3])
    fmt = c1.selectbox("Format of the cleaned data", ["csv", "parquet", "jsonl", "datasets"], key=f"{key}_fmt",
                       format_func=lambda f: {"datasets": "datasets folder (zip)"}.get(f, f.upper()))
    stem = (ds.name.replace("demo:", "").replace(" ", "_").replace("/", "_") or "dataset") + f"-{result.recipe.name}"
    c2.caption(f"Keeps **{result.n_kept:,}** of {result.n_rows:,} rows · drops {result.n_dropped:,} · relabels "
               f"{result.n_relabelled:,}. CSV cells a spreadsheet would run as formulas are neutralised.")
    ext = {"csv": ".csv", "parquet": ".parquet", "jsonl": ".jsonl", "datasets": ".zip"}[fmt]
    b1, b2, b3, b4 = st.columns(4)
    # Callables: the bytes are built when the button is clicked, not on every rerun.
    b1.download_button("⬇ Cleaned data", data=lambda: export_bytes(cleaned_frame(ds, result), fmt),
                       file_name=f"{stem}.cleaned{ext}", key=f"{key}_dl_data", on_click="ignore")
    from dq_core.data.io import frame_to_bytes

    b2.download_button("⬇ Removal log (CSV)", data=lambda: frame_to_bytes(removal_log(ds, result, signals), "csv"),
                       file_name=f"{stem}.removed.csv", mime="text/csv", key=f"{key}_dl_log", on_click="ignore")
    b3.download_button("⬇ Recipe (JSON)", data=result.recipe.to_json(), file_name=f"{stem}.recipe.json",
                       mime="application/json", key=f"{key}_dl_recipe", on_click="ignore")
    if b4.button("Save all to the workspace", key=f"{key}_save_ws"):
        with user_errors("Export"):
            paths = export_all(ds, result, signals, ws.exports_dir(ds_id), fmt=fmt, stem=stem)
            st.success("Written: " + ", ".join(f"`{p}`" for p in paths.values()))


# --------------------------------------------------------------------------- the panel

def render_filter_panel(ds: TextDataset, ref: TextDataset | None, signals_frame: pd.DataFrame | None, *,
                        signal_keys: list[str] | None = None, seed: int = 0, key: str = "fp",
                        selections: dict[str, list] | None = None, embeddings: tuple | None = None,
                        workspace: Workspace | None = None) -> RecipeResult | None:
    """Draw the filter half of the Clean page; returns the working recipe's result (None on bad input).

    ``signals_frame``: the wide frame of dq_core.signals (row_id, <signal>_score, is_<signal>_issue,
    suggested_label, ...), or None before signals exist (conditions, class rules and decisions still work).
    ``signal_keys``/``seed``: how that frame was computed (the keys of the signals asked for, e.g.
    ``list(report.columns)``); recorded in the recipe so `dq filter` and training use the same signals.
    ``selections``: named row-id sets (e.g. a coverage-map lasso) offered as row sets.
    ``embeddings``: (dataset, reference) EmbeddingResults when the caller has them; by default the panel
    reads those already in the workspace cache and never embeds on its own.
    """
    from ui import state

    ws = workspace or state.workspace()
    ds_id = ws.save_dataset(ds)
    folder = ws.recipes_dir(ds_id)
    store = DecisionStore(folder)
    ss = st.session_state
    home = str(ws.root)
    result = None
    with user_errors("The filter panel"):
        inputs = _filter_inputs(ds, signals_frame)
        if ss.get(f"{key}_init") != (ds_id, tuple(inputs.signal_names)):
            working_path = recipe_path(folder, WORKING)
            start = default_recipe()
            if working_path.exists():
                try:
                    start = load_recipe(working_path)
                except DataError as exc:
                    st.warning(f"The saved working recipe could not be read ({exc}); starting from the default.")
            _set_controls(key, start, inputs)
            ss[f"{key}_init"] = (ds_id, tuple(inputs.signal_names))

        st.subheader("What if: filter the rows")
        recipe, problems, slots = _controls(key, inputs, selections or {})
        for p in problems:
            st.warning(p)
        recipe = recipe.with_decisions(store.decisions())
        if signal_keys:
            recipe = replace(recipe, signal_settings={"signals": list(signal_keys), "seed": int(seed)})
        _autosave(folder, recipe)
        result = apply_prepared(inputs, recipe, strict=False)
        _fill_counts(slots, result)
        for n in result.notes:
            st.caption(f"ℹ️ {n}")
        if result.problems:
            st.error(" ".join(result.problems), icon="⚠️")
        st.caption(f"Working recipe: {recipe.summary()} — autosaved as `{WORKING}.json` "
                   f"(recipe fingerprint `{recipe.fingerprint}`).")
        with st.expander("Rules in effect", expanded=False):
            st.dataframe(result.rule_counts(), hide_index=True, width="stretch", key=f"{key}_rules")

        st.subheader("Before → after")
        ctx = None
        label_key = next((k for k in (signal_keys or []) if k.split("(")[0] == "label"), "label")
        try:
            ctx = _whatif_context(ds, ref, signals_frame, home, label_key, int(seed), _emb_token(embeddings),
                                  embeddings)
        except DataError as exc:
            st.warning(f"The before/after figures could not be prepared: {exc}")
        if ctx is not None:
            before = wi.figures(ctx)
            after = wi.figures_for(ctx, result)
            _before_after(key, ctx, before, after)

        st.subheader("Review rows")
        _review(key, ds, inputs, result, store)

        st.subheader("Label next")
        with user_errors("Label next"):
            _label_next(key, ds, signals_frame, result, store, home, label_key, int(seed), embeddings)

        if ctx is not None:
            st.subheader("Recipes side by side")
            _compare(key, ds, inputs, ctx, recipe, folder, before)

        st.subheader("Export")
        _export(key, ds, signals_frame, result, ws, ds_id)
    return result


def _autosave(folder: Path, recipe: FilterRecipe) -> None:
    """The working recipe as the controls describe it, written only when it changed."""
    p = recipe_path(folder, WORKING)
    rec = FilterRecipe.from_dict({**recipe.to_dict(), "name": WORKING})
    text = rec.to_json() + "\n"
    try:
        if p.exists() and p.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    save_recipe(rec, p)


__all__ = ["render_filter_panel"]
