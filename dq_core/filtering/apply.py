"""Applying a recipe: :func:`apply_recipe` / :func:`apply_prepared` -> :class:`~dq_core.filtering.result.RecipeResult`
(keep mask, final labels, per-rule hits and reasons) and per-rule flag counts."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from dq_core.data.dataset import TextDataset
from dq_core.errors import DataError
from dq_core.filtering.inputs import FilterInputs, unknown_message
from dq_core.filtering.load_signals import load_or_compute_signals
from dq_core.filtering.recipe import ClassRule, FilterRecipe, SignalRule, as_recipe
from dq_core.filtering.repair import find_repairs, regroup_on_repaired
from dq_core.filtering.result import RecipeResult
from dq_core.filtering.rules import REPAIR_ACTIONS
from dq_core.metrics.profile import count_redundant_copies

EXACT_SIGNAL = "exact_duplicate"  # its groups are normalised texts, so a repair can regroup them


def apply_recipe(ds, signals=None, recipe=None, *, workspace=None, strict: bool = True,
                 inputs: FilterInputs | None = None, embeddings=None) -> RecipeResult:
    """Apply ``recipe`` to ``ds`` given the wide signals frame; returns keep mask, relabels and reasons.

    ``recipe`` may be a FilterRecipe, a dict, a JSON file path or ``"default"``. With ``strict`` (the
    default) a recipe that removes every row or a whole class raises DataError; otherwise the result
    carries ``problems`` (the page shows them and refuses to export).

    With ``signals=None`` the signals the recipe needs are loaded from (or computed into) the workspace
    cache exactly as `dq filter` does (from ``embeddings``, an (n, d) array, when the user gave vectors).
    """
    if not isinstance(ds, TextDataset):
        raise DataError("apply_recipe needs a TextDataset")
    if recipe is None:
        raise DataError("no recipe given")
    rec = as_recipe(recipe)
    if signals is None and inputs is None and rec.needs_signals:
        signals = load_or_compute_signals(ds, workspace=workspace, settings=rec.signal_settings,
                                          embeddings=embeddings)
    inp = inputs if inputs is not None else FilterInputs(ds, signals)
    return apply_prepared(inp, rec, strict=strict)


def apply_prepared(inp: FilterInputs, recipe: FilterRecipe, *, strict: bool = True) -> RecipeResult:
    """Apply a recipe against prepared inputs (see the :mod:`dq_core.filtering` docstring for the order of the steps)."""
    app = _Application(inp)
    dedupe_rules = app.signal_rules(recipe.signals)
    caps = app.class_rules(recipe.classes)
    app.condition_rules(recipe.conditions)
    app.row_set_rules(recipe.row_sets)
    rule_drop = app.rule_drops()  # what the rules alone drop: the dedupe picks its survivors from this
    manual_drop, manual_keep = app.decisions(recipe.decisions)
    drop = (rule_drop | manual_drop) & ~manual_keep
    drop = app.dedupe(dedupe_rules, rule_drop, drop, manual_keep)
    drop = app.caps(caps, drop, manual_keep)
    result = app.result(recipe, ~drop, manual_drop, manual_keep)
    return result.check() if strict else result


class _Application:
    """One application of a recipe, built up step by step: the final labels so far (with the classes a
    relabel adds) and, per rule in recipe order, its name, step, signal and the rows it selects, drops,
    relabels and repairs."""

    def __init__(self, inp: FilterInputs):
        self.inp = inp
        self.n = n = inp.n
        self.notes: list[str] = []
        self.classes = list(inp.classes)
        self.class_index = {c: i for i, c in enumerate(self.classes)}
        self.codes = inp.label_codes.copy()
        self.names: list[str] = []
        self.drops: list[np.ndarray] = []
        self.relabs: list[np.ndarray] = []
        self.kinds: list[str] = []
        self.sigs: list[str | None] = []
        self.sels: list[np.ndarray] = []
        self.fixes: dict[int, np.ndarray] = {}  # rule index -> rows whose text it repaired
        self.text_repairs: dict[int, tuple[str, str]] = {}
        self.dedupe_copies: dict[int, tuple[int, int]] = {}
        self.explicit_gone: set[str] = set()  # classes a class rule removes on purpose
        self.none = np.zeros(n, dtype=bool)

    def code_of(self, label: str) -> int:
        if label not in self.class_index:
            self.class_index[label] = len(self.classes)
            self.classes.append(label)
        return self.class_index[label]

    def add(self, name: str, kind: str, select: np.ndarray, drop: np.ndarray | None = None,
            relab: np.ndarray | None = None, signal: str | None = None) -> int:
        drop = self.none if drop is None else drop
        relab = self.none if relab is None else relab
        for seq, v in ((self.names, name), (self.kinds, kind), (self.sels, select), (self.drops, drop),
                       (self.relabs, relab), (self.sigs, signal)):
            seq.append(v)
        return len(self.names) - 1

    # ---- the rules, in the order they apply
    def signal_rules(self, rules) -> list[tuple[int, SignalRule, np.ndarray]]:
        """Relabel, repair and drop by signal; returns the dedupe rules (index, rule, flagged rows), whose
        drops and selected rows are filled in after the manual decisions."""
        dedupe_rules = []
        for rule in rules:
            if not rule.enabled:
                continue
            hit = self.signal_hits(rule)
            if hit is None:
                continue
            name = rule.describe()
            if rule.action == "dedupe":
                dedupe_rules.append((self.add(name, "dedupe", self.none, signal=rule.signal), rule, hit))
            elif rule.action in ("relabel", "relabel_or_drop"):
                suggested, suggested_prob = _suggestions(self.inp, self.code_of, rule.signal)
                codes = self.codes
                ok = hit & (suggested >= 0) & (suggested != codes) & (suggested_prob >= rule.min_prob)
                # a flagged row already carrying the suggested label has nothing left to fix (this is also
                # what keeps a relabelled row on a second application)
                settled = hit & (suggested == codes)
                self.codes = np.where(ok, suggested, codes).astype(np.int32)
                self.add(name, "signal", hit, hit & ~ok & ~settled if rule.action == "relabel_or_drop" else None,
                         ok, signal=rule.signal)
            elif rule.action in REPAIR_ACTIONS:
                fixed, settled = find_repairs(self.inp, rule, hit, self.text_repairs)
                i = self.add(name, "signal", hit,
                             hit & ~fixed & ~settled if rule.action == "repair_or_drop" else None, signal=rule.signal)
                self.fixes[i] = fixed
            else:
                self.add(name, "signal", hit, hit, signal=rule.signal)
        return dedupe_rules

    def signal_hits(self, rule: SignalRule) -> np.ndarray | None:
        """The rows a signal rule flags (its score under the threshold and/or the signal's flag); None, with
        a note, when the signals lack an optional rule's signal."""
        inp = self.inp
        score, flag = inp.score(rule.signal), inp.flag(rule.signal)
        if score is None and flag is None:
            if rule.required:
                raise DataError(unknown_message("signal", rule.signal, inp.signal_names))
            self.notes.append(f"signal '{rule.signal}' is not in the signals, so its rule is skipped")
            return None
        if rule.threshold is not None and score is None:
            raise DataError(f"the recipe sets a threshold on signal '{rule.signal}', but the signals have no "
                            f"'{rule.signal}_score' column; use its flag (use_flag) instead")
        if rule.use_flag and flag is None and rule.threshold is None:
            raise DataError(f"the recipe uses the flag of signal '{rule.signal}', but the signals have no "
                            f"'is_{rule.signal}_issue' column; set a threshold on its score instead")
        hit = np.zeros(self.n, dtype=bool)
        if rule.use_flag and flag is not None:
            hit |= flag
        if rule.threshold is not None:
            hit |= np.nan_to_num(score, nan=1.0) < rule.threshold
        return hit

    def class_rules(self, rules) -> list[tuple[int, ClassRule]]:
        """Relabel and drop whole classes (or their rows matching ``where``); returns the cap rules (index,
        rule), which apply to the final labels after the manual decisions."""
        inp = self.inp
        caps: list[tuple[int, ClassRule]] = []
        for rule in rules:
            if rule.label not in inp.classes:
                if rule.action == "cap":
                    raise DataError(unknown_message("class", rule.label, inp.classes))
                self.notes.append(f"class '{rule.label}' is not in the dataset, so its {rule.action} rule does "
                                  "nothing")
                self.add(rule.describe(), "cap" if rule.action == "cap" else "class", self.none)
                continue
            in_class = inp.label_codes == inp.classes.index(rule.label)
            if rule.where:
                in_class = in_class & inp.condition_mask(rule.where)
            if rule.action == "relabel":
                self.codes = np.where(in_class, self.code_of(rule.to), self.codes).astype(np.int32)
                self.add(rule.describe(), "class", in_class, relab=in_class)
                if not rule.where:
                    self.explicit_gone.add(rule.label)
            elif rule.action == "drop":
                self.add(rule.describe(), "class", in_class, in_class)
                if not rule.where:
                    self.explicit_gone.add(rule.label)
            else:  # drops and selected rows filled in by caps()
                caps.append((self.add(rule.describe(), "cap", self.none), rule))
        return caps

    def condition_rules(self, rules) -> None:
        for rule in rules:
            for col in rule.condition.columns:
                self.inp.column(col)  # a clear error for an unknown column before anything else
            m = self.inp.condition_mask(rule.where)
            sel = m if rule.action == "drop" else ~m
            self.add(rule.describe(), "condition", sel, sel)

    def row_set_rules(self, row_sets) -> None:
        for rs in row_sets:
            pos, missing = self.inp.positions(rs.row_ids)
            if missing:
                self.notes.append(f"row set '{rs.name}': {len(missing):,} of its {len(rs.row_ids):,} row ids are "
                                  f"not in this dataset and are ignored (e.g. {missing[0]!r})")
            m = np.zeros(self.n, dtype=bool)
            m[pos] = True
            sel = m if rs.action == "drop" else ~m
            self.add(rs.describe(), "row_set", sel, sel)

    def rule_drops(self) -> np.ndarray:
        """The rows any rule so far drops."""
        drop = np.zeros(self.n, dtype=bool)
        for d in self.drops:
            drop |= d
        return drop

    def decisions(self, decisions) -> tuple[np.ndarray, np.ndarray]:
        """(rows a manual decision drops, rows one keeps); a relabel decision sets the row's final label."""
        manual_drop = np.zeros(self.n, dtype=bool)
        manual_keep = np.zeros(self.n, dtype=bool)
        if not decisions:
            return manual_drop, manual_keep
        ids = [d.row_id for d in decisions]
        keys = self.inp.id_index.get_indexer([str(i) for i in ids])
        n_missing = int((keys < 0).sum())
        if n_missing:
            self.notes.append(f"{n_missing:,} manual decisions name rows not in this dataset and are ignored")
        for d, p in zip(decisions, keys, strict=True):
            if p < 0:
                continue
            if d.action == "drop":
                manual_drop[p] = True
            else:
                manual_keep[p] = True
                if d.action == "relabel":
                    self.codes[p] = self.code_of(d.label)
        return manual_drop, manual_keep

    def dedupe(self, dedupe_rules: list, rule_drop: np.ndarray, drop: np.ndarray,
               manual_keep: np.ndarray) -> np.ndarray:
        """One survivor per group, chosen by the rules alone; decisions then apply on top. Returns ``drop``
        with every dedupe rule's copies added."""
        inp = self.inp
        for idx, rule, hit in dedupe_rules:
            groups = loaded = inp.group_codes(rule.signal)
            loaded_member = _members(loaded, hit)
            if self.text_repairs and rule.signal == EXACT_SIGNAL:  # a repaired text may now copy another row's
                groups, hit = regroup_on_repaired(inp, groups, hit, self.text_repairs)
            member = _members(groups, hit)
            self.sels[idx] = member
            self.dedupe_copies[idx] = (count_redundant_copies(np.where(member, groups, -1)),
                                       count_redundant_copies(np.where(loaded_member, loaded, -1)))
            m = copies_to_drop(groups, member, rule_drop)
            self.drops[idx] = m
            rule_drop = rule_drop | m
            drop |= m & ~manual_keep
        return drop

    def caps(self, caps: list, drop: np.ndarray, manual_keep: np.ndarray) -> np.ndarray:
        """Caps on final labels, manual keeps first. Returns ``drop`` with every cap's rows added."""
        inp = self.inp
        for idx, rule in caps:
            target = inp.classes.index(rule.label)
            self.sels[idx] = (self.codes == target) & ~drop  # the class's rows the rules above leave
            alive = np.flatnonzero(self.sels[idx])
            if len(alive) <= rule.max_rows:
                continue
            if rule.order == "random":
                key = inp.random_rank(rule.seed)[alive]
                order = np.lexsort((alive, key, ~manual_keep[alive]))
            else:
                s = inp.score(rule.rank_by.removesuffix("_score"))
                if s is None:
                    raise DataError(unknown_message("score column", rule.rank_by,
                                                    [f"{x}_score" for x in inp.signal_names
                                                     if inp.score(x) is not None]))
                order = np.lexsort((alive, -np.nan_to_num(s[alive], nan=-1.0), ~manual_keep[alive]))
            cut = alive[order][rule.max_rows:]
            cut = cut[~manual_keep[cut]]
            m = np.zeros(self.n, dtype=bool)
            m[cut] = True
            self.drops[idx] = m
            drop |= m
        return drop

    def result(self, recipe: FilterRecipe, keep: np.ndarray, manual_drop: np.ndarray,
               manual_keep: np.ndarray) -> RecipeResult:
        inp = self.inp
        problems = _problems(inp, keep, self.codes, self.classes, self.explicit_gone)
        return RecipeResult(keep_mask=keep, label_codes=self.codes, classes=tuple(self.classes),
                            original_codes=inp.label_codes, row_ids=inp.row_ids, rule_names=tuple(self.names),
                            drop_hits=tuple(self.drops), relabel_hits=tuple(self.relabs), manual_drop=manual_drop,
                            manual_keep=manual_keep, recipe=recipe, notes=tuple(self.notes),
                            problems=tuple(problems), dataset_fingerprint=inp.ds.fingerprint,
                            repair_hits=tuple(self.fixes.get(i, self.none) for i in range(len(self.names))),
                            text_repairs=self.text_repairs, rule_kinds=tuple(self.kinds),
                            rule_signals=tuple(self.sigs), select_hits=tuple(self.sels),
                            dedupe_copies=self.dedupe_copies)


def copies_to_drop(groups: np.ndarray, member: np.ndarray, dropped: np.ndarray) -> np.ndarray:
    """The copies a dedupe rule drops: in every group it acts on (``member``: the rows of the groups holding a
    flagged row, :func:`_members`), each row but the first (by position) of those ``dropped`` leaves in.
    ``groups``: group code per row (-1 = none).

    ``dropped`` must be what the rules alone drop, never the manual decisions: a decision then only adds
    or removes its own row. Were the survivor picked after the decisions, keeping a dropped copy would
    make it the survivor and drop the copy kept so far (a swap: the kept count unchanged), and dropping
    the survivor would bring another copy back in.
    """
    m = np.zeros(len(groups), dtype=bool)
    alive = np.flatnonzero(member & ~dropped)
    g = groups[alive]
    order = np.lexsort((alive, g))  # by group, then position
    alive, g = alive[order], g[order]
    first = np.r_[True, g[1:] != g[:-1]] if len(g) else np.zeros(0, dtype=bool)
    m[alive[~first]] = True
    return m


def _members(groups: np.ndarray, hit: np.ndarray) -> np.ndarray:
    """Rows of the duplicate groups (group id >= 0) holding at least one hit row."""
    return np.isin(groups, np.unique(groups[hit & (groups >= 0)])) & (groups >= 0)


def _suggestions(inp: FilterInputs, code_of, signal: str) -> tuple[np.ndarray, np.ndarray]:
    """Suggested label per row as codes of this application's class list (-1 = none), and its probability."""
    fcodes, uniques, prob = inp.suggestions(signal)
    lut = np.array([code_of(str(u)) for u in uniques] + [-1], dtype=np.int32)
    return lut[np.where(fcodes >= 0, fcodes, len(uniques))], prob


def _problems(inp: FilterInputs, keep: np.ndarray, codes: np.ndarray, classes: list[str],
              explicit_gone: set[str]) -> list[str]:
    problems = []
    n_kept = int(keep.sum())
    if n_kept == 0:
        problems.append(f"the recipe removes every one of the {inp.n:,} rows; loosen its thresholds or rules "
                        "(an empty dataset is never exported)")
        return problems
    before = np.bincount(inp.label_codes[inp.label_codes >= 0], minlength=len(classes))
    kept_codes = codes[keep & (codes >= 0)]
    after = np.bincount(kept_codes, minlength=len(classes))
    gone = [c for i, c in enumerate(inp.classes) if before[i] > 0 and after[i] == 0 and c not in explicit_gone]
    if gone:
        shown = ", ".join(f"'{c}' ({before[inp.classes.index(c)]:,} rows)" for c in gone[:5])
        problems.append(f"the recipe removes every row of class {shown}; loosen its rules for that class, or "
                        "add a class rule that drops (or relabels) the class on purpose")
    return problems


def iter_signal_flag_counts(inp: FilterInputs, rules: Iterable[SignalRule]) -> dict[str, int]:
    """Rows each signal rule would flag on its own (what the controls show next to each signal)."""
    out = {}
    for rule in rules:
        score, flag = inp.score(rule.signal), inp.flag(rule.signal)
        hit = np.zeros(inp.n, dtype=bool)
        if rule.use_flag and flag is not None:
            hit |= flag
        if rule.threshold is not None and score is not None:
            hit |= np.nan_to_num(score, nan=1.0) < rule.threshold
        out[rule.signal] = int(hit.sum())
    return out
