"""Applying a recipe: :func:`apply_recipe` / :func:`apply_prepared` -> :class:`RecipeResult` (keep mask,
final labels, per-rule hits and reasons) and per-rule flag counts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd

from dq_core.data.dataset import TextDataset
from dq_core.errors import DataError
from dq_core.filtering.inputs import FilterInputs, unknown_message
from dq_core.filtering.load_signals import load_or_compute_signals
from dq_core.filtering.recipe import ClassRule, FilterRecipe, SignalRule, as_recipe
from dq_core.filtering.repair import find_repairs, regroup_on_repaired
from dq_core.filtering.rules import REPAIR_ACTIONS
from dq_core.metrics.profile import count_redundant_copies
from dq_core.util.jsonsafe import to_native

EXACT_SIGNAL = "exact_duplicate"  # its groups are normalised texts, so a repair can regroup them


@dataclass(frozen=True, eq=False)
class RecipeResult:
    """What a recipe does to a dataset. Everything is per row position of the dataset it was applied to."""

    keep_mask: np.ndarray  # bool (n,)
    label_codes: np.ndarray  # int32 (n,) final label per row (-1 missing), codes into ``classes``
    classes: tuple[str, ...]  # the dataset's classes, then any new class a relabel introduced
    original_codes: np.ndarray  # int32 (n,)
    row_ids: np.ndarray
    rule_names: tuple[str, ...]  # one per rule that can drop or relabel, in recipe order
    drop_hits: tuple[np.ndarray, ...]  # per rule: rows it asked to drop (bool (n,))
    relabel_hits: tuple[np.ndarray, ...]  # per rule: rows it relabelled
    manual_drop: np.ndarray
    manual_keep: np.ndarray  # kept by a decision (keep or relabel) whatever the rules said
    recipe: FilterRecipe
    notes: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()  # why this result must not be exported (no rows left, a class gone)
    dataset_fingerprint: str = ""
    repair_hits: tuple[np.ndarray, ...] = ()  # per rule (as rule_names): rows whose text it repaired
    # {position: (text before, text after)} for every row a repair rule repaired (kept or dropped later)
    text_repairs: dict[int, tuple[str, str]] = field(default_factory=dict)
    # per rule (as rule_names): its step (RULE_STEPS), the signal it reads (None for other rules) and the rows
    # its own test selects (a dedupe rule: the rows of the duplicate groups it touches)
    rule_kinds: tuple[str, ...] = ()
    rule_signals: tuple[str | None, ...] = ()
    select_hits: tuple[np.ndarray, ...] = ()
    # per dedupe rule index: the redundant copies in its groups before any rule, as it grouped the texts
    # (repaired ones included) and as the texts were loaded (what the Overview counts)
    dedupe_copies: dict[int, tuple[int, int]] = field(default_factory=dict)

    # ------------------------------------------------------------ counts
    @property
    def n_rows(self) -> int:
        return int(len(self.keep_mask))

    @property
    def n_kept(self) -> int:
        return int(self.keep_mask.sum())

    @property
    def n_dropped(self) -> int:
        return self.n_rows - self.n_kept

    @cached_property
    def relabelled_mask(self) -> np.ndarray:
        return self.keep_mask & (self.label_codes != self.original_codes)

    @property
    def n_relabelled(self) -> int:
        return int(self.relabelled_mask.sum())

    @cached_property
    def relabels(self) -> dict:
        """{row_id: new label} for kept rows whose label changed."""
        pos = np.flatnonzero(self.relabelled_mask)
        return {to_native(self.row_ids[p]): self.classes[self.label_codes[p]] for p in pos}

    @cached_property
    def repaired_mask(self) -> np.ndarray:
        """Kept rows whose text a repair rule replaced (a dropped row's repair goes nowhere)."""
        m = np.zeros(self.n_rows, dtype=bool)
        if self.text_repairs:
            m[np.fromiter(self.text_repairs, dtype=np.int64)] = True
        return m & self.keep_mask

    @property
    def n_repaired(self) -> int:
        return int(self.repaired_mask.sum())

    @cached_property
    def repairs(self) -> dict:
        """{row_id: (text before, text after)} for kept rows whose text was repaired."""
        return {to_native(self.row_ids[p]): self.text_repairs[int(p)] for p in np.flatnonzero(self.repaired_mask)}

    def final_texts(self, ds: TextDataset) -> np.ndarray:
        """Object array of every row's text after the recipe's repairs (``ds``: the dataset it was applied to)."""
        if len(ds) != self.n_rows:
            raise DataError("the recipe result is for another dataset (different number of rows)")
        texts = ds.texts.to_numpy(dtype=object, copy=True)
        for p in np.flatnonzero(self.repaired_mask):
            texts[p] = self.text_repairs[int(p)][1]
        return texts

    def filtered_dataset(self, ds: TextDataset, *, name: str | None = None) -> TextDataset:
        """``ds`` as the recipe leaves it: the kept rows, with final labels and repaired texts (what
        `dq filter` writes and a run trains on)."""
        texts = self.final_texts(ds)
        frame = ds.frame.copy()
        if self.text_repairs:
            frame["text"] = pd.Series(texts, index=frame.index).astype(ds.frame["text"].dtype)
        frame["label"] = pd.Series(self.final_labels(), index=frame.index).astype("string")
        out = replace(ds, frame=frame)
        return out.subset(self.keep_mask, name=name or f"{ds.name} (filtered)")

    @property
    def kept_row_ids(self) -> np.ndarray:
        return self.row_ids[self.keep_mask]

    def final_labels(self) -> np.ndarray:
        """Object array of final labels per row (None where missing), for every row (kept or not)."""
        cls = np.array([*self.classes, None], dtype=object)
        return cls[np.where(self.label_codes >= 0, self.label_codes, len(self.classes))]

    # ------------------------------------------------------------ reasons
    def reasons_at(self, positions: Sequence[int]) -> list[str]:
        """Why each row at ``positions`` was dropped, relabelled or repaired ('' for untouched rows)."""
        out = []
        for p in positions:
            parts = []
            if self.manual_drop[p]:
                parts.append("manual decision: drop")
            if self.manual_keep[p] and self.relabelled_mask[p] and \
                    not any(r[p] for r in self.relabel_hits):
                parts.append("manual decision: relabel")
            if not self.keep_mask[p] and not self.manual_drop[p]:
                parts += [n for n, d in zip(self.rule_names, self.drop_hits, strict=True) if d[p]]
            if self.relabelled_mask[p]:
                parts += [f"relabel: {n}" for n, r in zip(self.rule_names, self.relabel_hits, strict=True) if r[p]]
            if self.repaired_mask[p]:
                parts.append("repaired: mojibake")
            out.append("; ".join(parts))
        return out

    @cached_property
    def reasons(self) -> dict:
        """{row_id: why} for every dropped, relabelled or repaired row (built on first use)."""
        pos = self.touched_positions()
        return {to_native(self.row_ids[p]): r for p, r in zip(pos, self.reasons_at(pos), strict=True)}

    def touched_positions(self) -> np.ndarray:
        return np.flatnonzero(~self.keep_mask | self.relabelled_mask | self.repaired_mask)

    def check(self) -> RecipeResult:
        """Raise DataError when the result must not be used (no rows left, a class removed); else self."""
        if self.problems:
            raise DataError(" ".join(self.problems))
        return self


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
    n = inp.n
    notes: list[str] = []
    classes = list(inp.classes)
    class_index = {c: i for i, c in enumerate(classes)}

    def code_of(label: str) -> int:
        if label not in class_index:
            class_index[label] = len(classes)
            classes.append(label)
        return class_index[label]

    orig = inp.label_codes
    codes = orig.copy()
    names: list[str] = []
    drops: list[np.ndarray] = []
    relabs: list[np.ndarray] = []
    kinds: list[str] = []
    sigs: list[str | None] = []
    sels: list[np.ndarray] = []
    dedupe_copies: dict[int, tuple[int, int]] = {}
    fixes: dict[int, np.ndarray] = {}  # rule index -> rows whose text it repaired
    text_repairs: dict[int, tuple[str, str]] = {}
    dedupe_rules: list[tuple[int, SignalRule, np.ndarray]] = []
    explicit_gone: set[str] = set()  # classes a class rule removes on purpose
    none = np.zeros(n, dtype=bool)

    def add(name: str, kind: str, select: np.ndarray, drop: np.ndarray = none, relab: np.ndarray = none,
            signal: str | None = None) -> int:
        for seq, v in ((names, name), (kinds, kind), (sels, select), (drops, drop), (relabs, relab), (sigs, signal)):
            seq.append(v)
        return len(names) - 1

    # ---- signal rules
    available = inp.signal_names
    for rule in recipe.signals:
        if not rule.enabled:
            continue
        score, flag = inp.score(rule.signal), inp.flag(rule.signal)
        if score is None and flag is None:
            if rule.required:
                raise DataError(unknown_message("signal", rule.signal, available))
            notes.append(f"signal '{rule.signal}' is not in the signals, so its rule is skipped")
            continue
        if rule.threshold is not None and score is None:
            raise DataError(f"the recipe sets a threshold on signal '{rule.signal}', but the signals have no "
                            f"'{rule.signal}_score' column; use its flag (use_flag) instead")
        if rule.use_flag and flag is None and rule.threshold is None:
            raise DataError(f"the recipe uses the flag of signal '{rule.signal}', but the signals have no "
                            f"'is_{rule.signal}_issue' column; set a threshold on its score instead")
        hit = np.zeros(n, dtype=bool)
        if rule.use_flag and flag is not None:
            hit |= flag
        if rule.threshold is not None:
            hit |= np.nan_to_num(score, nan=1.0) < rule.threshold
        name = rule.describe()
        if rule.action == "dedupe":  # its drops and selected rows are filled in after the manual decisions
            dedupe_rules.append((add(name, "dedupe", none, signal=rule.signal), rule, hit))
            continue
        if rule.action in ("relabel", "relabel_or_drop"):
            suggested, suggested_prob = _suggestions(inp, code_of, rule.signal)
            ok = hit & (suggested >= 0) & (suggested != codes) & (suggested_prob >= rule.min_prob)
            # a flagged row already carrying the suggested label has nothing left to fix (this is also
            # what keeps a relabelled row on a second application)
            settled = hit & (suggested == codes)
            codes = np.where(ok, suggested, codes).astype(np.int32)
            add(name, "signal", hit, hit & ~ok & ~settled if rule.action == "relabel_or_drop" else none, ok,
                signal=rule.signal)
        elif rule.action in REPAIR_ACTIONS:
            fixed, settled = find_repairs(inp, rule, hit, text_repairs)
            i = add(name, "signal", hit, hit & ~fixed & ~settled if rule.action == "repair_or_drop" else none,
                    signal=rule.signal)
            fixes[i] = fixed
        else:
            add(name, "signal", hit, hit, signal=rule.signal)

    # ---- class rules (relabel / drop now; caps after the manual decisions)
    caps: list[tuple[int, ClassRule]] = []
    for rule in recipe.classes:
        if rule.label not in inp.classes:
            if rule.action == "cap":
                raise DataError(unknown_message("class", rule.label, inp.classes))
            notes.append(f"class '{rule.label}' is not in the dataset, so its {rule.action} rule does nothing")
            add(rule.describe(), "cap" if rule.action == "cap" else "class", none)
            continue
        in_class = orig == inp.classes.index(rule.label)
        if rule.where:
            in_class = in_class & inp.condition_mask(rule.where)
        if rule.action == "relabel":
            codes = np.where(in_class, code_of(rule.to), codes).astype(np.int32)
            add(rule.describe(), "class", in_class, relab=in_class)
            if not rule.where:
                explicit_gone.add(rule.label)
        elif rule.action == "drop":
            add(rule.describe(), "class", in_class, in_class)
            if not rule.where:
                explicit_gone.add(rule.label)
        else:  # drops and selected rows filled in below
            caps.append((add(rule.describe(), "cap", none), rule))

    # ---- conditions and row sets
    for rule in recipe.conditions:
        for col in rule.condition.columns:
            inp.column(col)  # a clear error for an unknown column before anything else
        m = inp.condition_mask(rule.where)
        sel = m if rule.action == "drop" else ~m
        add(rule.describe(), "condition", sel, sel)
    for rs in recipe.row_sets:
        pos, missing = inp.positions(rs.row_ids)
        if missing:
            notes.append(f"row set '{rs.name}': {len(missing):,} of its {len(rs.row_ids):,} row ids are not in this "
                         f"dataset and are ignored (e.g. {missing[0]!r})")
        m = np.zeros(n, dtype=bool)
        m[pos] = True
        sel = m if rs.action == "drop" else ~m
        add(rs.describe(), "row_set", sel, sel)

    drop = np.zeros(n, dtype=bool)
    for d in drops:
        drop |= d

    # ---- manual decisions win
    manual_drop = np.zeros(n, dtype=bool)
    manual_keep = np.zeros(n, dtype=bool)
    if recipe.decisions:
        ids = [d.row_id for d in recipe.decisions]
        keys = inp.id_index.get_indexer([str(i) for i in ids])
        n_missing = int((keys < 0).sum())
        if n_missing:
            notes.append(f"{n_missing:,} manual decisions name rows not in this dataset and are ignored")
        for d, p in zip(recipe.decisions, keys, strict=True):
            if p < 0:
                continue
            if d.action == "drop":
                manual_drop[p] = True
            else:
                manual_keep[p] = True
                if d.action == "relabel":
                    codes[p] = code_of(d.label)
    rule_drop = drop  # what the rules alone drop: the dedupe picks its survivors from this
    drop = (drop | manual_drop) & ~manual_keep

    # ---- dedupe: one survivor per group, chosen by the rules alone; decisions then apply on top
    for idx, rule, hit in dedupe_rules:
        groups = loaded = inp.group_codes(rule.signal)
        loaded_member = _members(loaded, hit)
        if text_repairs and rule.signal == EXACT_SIGNAL:  # a repaired text may now copy another row's
            groups, hit = regroup_on_repaired(inp, groups, hit, text_repairs)
        member = _members(groups, hit)
        sels[idx] = member
        dedupe_copies[idx] = (count_redundant_copies(np.where(member, groups, -1)),
                              count_redundant_copies(np.where(loaded_member, loaded, -1)))
        m = copies_to_drop(groups, member, rule_drop)
        drops[idx] = m
        rule_drop = rule_drop | m
        drop |= m & ~manual_keep

    # ---- caps on final labels, manual keeps first
    for idx, rule in caps:
        target = inp.classes.index(rule.label)
        sels[idx] = (codes == target) & ~drop  # the class's rows the rules above leave
        alive = np.flatnonzero(sels[idx])
        if len(alive) <= rule.max_rows:
            continue
        if rule.order == "random":
            key = inp.random_rank(rule.seed)[alive]
            order = np.lexsort((alive, key, ~manual_keep[alive]))
        else:
            s = inp.score(rule.rank_by.removesuffix("_score"))
            if s is None:
                raise DataError(unknown_message("score column", rule.rank_by, [f"{x}_score" for x in inp.signal_names
                                                                      if inp.score(x) is not None]))
            order = np.lexsort((alive, -np.nan_to_num(s[alive], nan=-1.0), ~manual_keep[alive]))
        cut = alive[order][rule.max_rows:]
        cut = cut[~manual_keep[cut]]
        m = np.zeros(n, dtype=bool)
        m[cut] = True
        drops[idx] = m
        drop |= m

    keep = ~drop
    problems = _problems(inp, keep, codes, classes, explicit_gone)
    result = RecipeResult(keep_mask=keep, label_codes=codes, classes=tuple(classes), original_codes=orig,
                          row_ids=inp.row_ids, rule_names=tuple(names), drop_hits=tuple(drops),
                          relabel_hits=tuple(relabs), manual_drop=manual_drop, manual_keep=manual_keep,
                          recipe=recipe, notes=tuple(notes), problems=tuple(problems),
                          dataset_fingerprint=inp.ds.fingerprint,
                          repair_hits=tuple(fixes.get(i, none) for i in range(len(names))),
                          text_repairs=text_repairs, rule_kinds=tuple(kinds), rule_signals=tuple(sigs),
                          select_hits=tuple(sels), dedupe_copies=dedupe_copies)
    return result.check() if strict else result


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
