"""The repair action: a recipe fixes mojibake (the junk signal's ftfy repair) instead of dropping the row.
Known answers through the library, the removal log and the review table, and one round trip in which the
Clean page's export, `dq filter` (in-process through `dq_core.cli.main`) and apply_recipe give the same repaired texts."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dq_core.data.dataset import ColumnMapping, build_dataset
from dq_core.data.io import load_dataset
from dq_core.data.workspace import Workspace
from dq_core.errors import DataError
from dq_core.filtering import (
    Decision,
    FilterInputs,
    FilterRecipe,
    SignalRule,
    apply_prepared,
    apply_recipe,
    cleaned_frame,
    count_rules,
    load_recipe,
    removal_log,
    removal_summary,
    review_frame,
    signal_actions,
)
from dq_core.signals import run_signals
from dq_core.signals.junk import JunkSignal
from tests.cli_helpers import dq

PAGE = str(Path(__file__).with_name("repair_page.py"))

# UTF-8 text read as Windows-1252, in three scripts; the repair must give the original back exactly.
ORIGINALS = ["Café au lait was lovely this morning", "Отличный фильм, всем советую",
             "Η θάλασσα ήταν υπέροχη σήμερα"]
BROKEN = ["CafÃ© au lait was lovely this morning",
          "ÐžÑ‚Ð»Ð¸Ñ‡Ð½Ñ‹Ð¹ Ñ„Ð¸Ð»ÑŒÐ¼, Ð²Ñ\x81ÐµÐ¼ Ñ\x81Ð¾Ð²ÐµÑ‚ÑƒÑŽ",
          "Î— Î¸Î¬Î»Î±ÏƒÏƒÎ± Î®Ï„Î±Î½ Ï…Ï€Î\xadÏ\x81Î¿Ï‡Î· ÏƒÎ®Î¼ÎµÏ\x81Î±"]
CLEAN = ["the flight was great", "the crew was rude today", "Crème brûlée au café, superb",
         "a lovely song on the radio", "awful app, it crashes", "Отличный фильм, правда", "great pizza"]
EMPTY = ""  # junk that no repair fixes: repair keeps it, repair_or_drop drops it


def frame() -> pd.DataFrame:
    texts = [BROKEN[0], CLEAN[0], BROKEN[1], CLEAN[1], EMPTY, CLEAN[2], BROKEN[2], *CLEAN[3:]]
    labels = ["pos", "pos", "pos", "neg", "neg", "pos", "pos", "pos", "neg", "pos", "pos"]
    return pd.DataFrame({"text": texts, "label": labels})


BROKEN_IDS = (0, 2, 6)  # row ids (= positions) of the broken texts
EMPTY_ID = 4


@pytest.fixture(scope="module")
def data():
    ds = build_dataset(frame(), ColumnMapping(text="text", label="label"), name="mojibake")
    return ds, run_signals(ds, [JunkSignal()], use_cache=False)


def junk(action: str) -> FilterRecipe:
    return FilterRecipe(name=f"junk-{action}", signals=(SignalRule("junk", action=action),),
                        signal_settings={"signals": ["junk"], "seed": 0})


def test_repair_is_a_junk_action_only_and_round_trips_through_json():
    assert {"repair", "repair_or_drop"} <= set(signal_actions("junk"))
    assert {"repair", "repair_or_drop"} <= set(signal_actions("junk_min_chars_3"))
    assert not {"repair", "repair_or_drop"} & set(signal_actions("label"))
    with pytest.raises(DataError, match="only the junk signal proposes repaired texts"):
        SignalRule("label", action="repair")
    rec = junk("repair")
    assert FilterRecipe.from_json(rec.to_json()) == rec


def test_repair_replaces_the_text_and_keeps_the_row(data):
    ds, sig = data
    assert sig.loc[list(BROKEN_IDS), "mojibake_fixed_text"].tolist() == ORIGINALS
    r = apply_recipe(ds, sig, junk("repair"))
    assert r.n_kept == len(ds) and r.n_dropped == 0  # repair keeps every flagged row, the empty one too
    assert r.n_repaired == 3
    assert r.repairs == {i: (b, o) for i, b, o in zip(BROKEN_IDS, BROKEN, ORIGINALS, strict=True)}
    assert r.reasons == {i: "repaired: mojibake" for i in BROKEN_IDS}
    out = cleaned_frame(ds, r)
    assert out.loc[out["row_id"].isin(BROKEN_IDS), "text"].tolist() == ORIGINALS
    assert out.loc[~out["row_id"].isin(BROKEN_IDS), "text"].tolist() == ds.texts.drop(list(BROKEN_IDS)).tolist()
    filtered = r.filtered_dataset(ds)
    assert filtered.texts.tolist() == out["text"].tolist() and len(filtered) == len(ds)
    # the rule selects the 4 flagged junk rows (the empty one too) and repairs the 3 mojibake ones
    c = count_rules(r)[0]
    assert (c.selects, c.removes, c.removes_new, c.relabels, c.repairs) == (4, 0, 0, 0, 3)
    assert removal_summary(r)["n_repaired"] == 3


def test_repair_or_drop_drops_the_junk_it_cannot_repair(data):
    ds, sig = data
    r = apply_recipe(ds, sig, junk("repair_or_drop"))
    assert set(ds.row_ids[~r.keep_mask]) == {EMPTY_ID}
    assert sorted(r.repairs) == list(BROKEN_IDS)
    assert r.reasons[EMPTY_ID] == "junk (is_junk_issue)"
    # plain drop still drops the broken rows (the action, not the signal, decides)
    d = apply_recipe(ds, sig, junk("drop"))
    assert set(ds.row_ids[~d.keep_mask]) == {*BROKEN_IDS, EMPTY_ID} and d.n_repaired == 0


def test_the_removal_log_lists_repairs_with_before_and_after(data):
    ds, sig = data
    r = apply_recipe(ds, sig, junk("repair_or_drop"))
    log = removal_log(ds, r, sig).set_index("row_id")
    assert log.loc[list(BROKEN_IDS), "action"].tolist() == ["repair"] * 3
    assert log.loc[list(BROKEN_IDS), "reasons"].tolist() == ["repaired: mojibake"] * 3
    assert log.loc[list(BROKEN_IDS), "text"].tolist() == BROKEN
    assert log.loc[list(BROKEN_IDS), "new_text"].tolist() == ORIGINALS
    assert log.loc[EMPTY_ID, "action"] == "drop" and pd.isna(log.loc[EMPTY_ID, "new_text"])


def test_decisions_and_other_rules_win_over_a_repair(data):
    ds, sig = data
    rec = FilterRecipe(name="r", signals=(SignalRule("junk", action="repair"),),
                       decisions=(Decision(0, "drop"), Decision(2, "relabel", "neg")))
    r = apply_recipe(ds, sig, rec)
    assert not r.keep_mask[0] and 0 not in r.repairs  # a dropped row's repair goes nowhere
    assert r.repairs[2] == (BROKEN[1], ORIGINALS[1]) and r.relabels == {2: "neg"}
    log = removal_log(ds, r, sig).set_index("row_id")
    assert log.loc[2, "action"] == "relabel+repair"
    assert log.loc[2, "reasons"] == "manual decision: relabel; repaired: mojibake"
    assert log.loc[0, "action"] == "drop" and pd.isna(log.loc[0, "new_text"])


def test_applying_to_its_own_output_repairs_nothing_more(data):
    ds, sig = data
    r = apply_recipe(ds, sig, junk("repair_or_drop"))
    out = r.filtered_dataset(ds)
    again = apply_recipe(out, sig, junk("repair_or_drop"))  # the same signal rows, matched by row_id
    assert again.n_kept == len(out) and again.n_repaired == 0 and again.n_relabelled == 0


def test_the_review_table_shows_before_and_after(data):
    ds, sig = data
    inputs = FilterInputs(ds, sig)
    r = apply_prepared(inputs, junk("repair_or_drop"))
    table = review_frame(inputs, r, {}, "touched by the recipe").set_index("row_id")
    assert list(table.columns[:5]) == ["decision", "relabel to", "text", "repaired text", "label"]
    assert table.loc[list(BROKEN_IDS), "recipe"].tolist() == ["repair"] * 3
    assert table.loc[list(BROKEN_IDS), "text"].tolist() == BROKEN
    assert table.loc[list(BROKEN_IDS), "repaired text"].tolist() == ORIGINALS
    assert table.loc[EMPTY_ID, "recipe"] == "drop"
    # a repaired row is handled, so it is not "flagged but kept"
    assert review_frame(inputs, r, {}, "flagged but kept").empty
    # without a repair rule the table has no repaired-text column
    assert "repaired text" not in review_frame(inputs, apply_prepared(inputs, junk("drop")), {}, "most suspicious")


def test_repair_needs_the_repaired_text_column(data):
    ds, sig = data
    with pytest.raises(DataError, match="needs the 'mojibake_fixed_text' column"):
        apply_recipe(ds, sig.drop(columns=["mojibake_fixed_text"]), junk("repair"))


def test_page_cli_and_library_give_the_same_repaired_texts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The Clean page (AppTest: junk set to repair, "Save all to the workspace"), `dq filter` with the
    recipe the page exported, and apply_recipe: the same rows and the same repaired texts."""
    data_csv = tmp_path / "data.csv"
    frame().to_csv(data_csv, index=False)
    monkeypatch.setenv("DQ_REPAIR_DATA", str(data_csv))
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "repair" in at.selectbox(key="fp_act_junk").options
    at.checkbox(key="fp_on_junk").check()
    at.selectbox(key="fp_act_junk").select("repair_or_drop").run()
    assert not at.exception, [e.value for e in at.exception]
    # the page's review table: before and after text side by side
    table = next(d.value for d in at.dataframe if "repaired text" in d.value.columns).set_index("row_id")
    assert table.loc[list(BROKEN_IDS), "text"].tolist() == BROKEN
    assert table.loc[list(BROKEN_IDS), "repaired text"].tolist() == ORIGINALS
    assert table.loc[list(BROKEN_IDS), "recipe"].tolist() == ["repair"] * 3
    next(b for b in at.button if b.label == "Save all to the workspace").click().run()
    assert not at.exception, [e.value for e in at.exception]
    ds, _ = load_dataset(str(data_csv))
    exports = Workspace.default().exports_dir(ds.fingerprint[:16])
    page_csv = next(exports.glob("*.cleaned.csv"))
    recipe_json = next(exports.glob("*.recipe.json"))
    page_log = pd.read_csv(next(exports.glob("*.removed.csv")), keep_default_na=False)
    recipe = load_recipe(str(recipe_json))
    # the default's rules for signals not computed here ride along (skipped); junk repairs
    assert [(r.action, r.enabled) for r in recipe.signals if r.signal == "junk"] == [("repair_or_drop", True)]

    cli_csv, cli_log = tmp_path / "cli.csv", tmp_path / "cli.removed.csv"
    proc = dq("filter", str(data_csv), "--recipe", str(recipe_json), "--out", str(cli_csv), "--log", str(cli_log),
              cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["n_repaired"] == 3

    lib = apply_recipe(ds, None, recipe, workspace=Workspace.default())
    expected = [ORIGINALS[0], CLEAN[0], ORIGINALS[1], CLEAN[1], CLEAN[2], ORIGINALS[2], *CLEAN[3:]]
    assert cleaned_frame(ds, lib)["text"].tolist() == expected
    for path in (page_csv, cli_csv):
        back = pd.read_csv(path, keep_default_na=False)
        assert back["text"].tolist() == expected, path
        assert back["row_id"].tolist() == [i for i in range(11) if i != EMPTY_ID]
    cli = pd.read_csv(cli_log, keep_default_na=False)
    for log in (page_log, cli):
        rep = log[log["action"] == "repair"]
        assert rep["row_id"].tolist() == list(BROKEN_IDS)
        assert rep["text"].tolist() == BROKEN and rep["new_text"].tolist() == ORIGINALS
        assert set(rep["reasons"]) == {"repaired: mojibake"}
        assert log.loc[log["action"] == "drop", "row_id"].tolist() == [EMPTY_ID]


def test_cli_refuses_a_repair_on_another_signal(tmp_path: Path):
    frame().to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "bad.json").write_text(json.dumps(
        {"format": "dq-filter-recipe", "version": 1, "signals": [{"signal": "label", "action": "repair"}]}))
    proc = dq("filter", "data.csv", "--recipe", "bad.json", "--out", "out.csv", cwd=tmp_path)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "signal rule 'label' cannot repair" in last
    assert not (tmp_path / "out.csv").exists()


def test_a_training_run_trains_on_the_repaired_texts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`dq train --recipe`'s path (run_training): the training rows carry the repaired texts, the test rows
    stay as given (like relabels, a recipe never touches the test set)."""
    from dq_core.filtering import save_recipe
    from dq_core.training import baseline
    from dq_core.training.config import TrainConfig
    from dq_core.training.runner import run_training
    from tests.train_helpers import tiny_frame

    f = tiny_frame(45, split=True)  # split: i % 5 == 0 test, 1 validation, else train
    f.loc[[2, 3, 4], "text"] = BROKEN
    f.loc[0, "text"] = BROKEN[0]
    ds = build_dataset(f, ColumnMapping(text="text", label="label", id="id", split="split"), name="tiny")
    seen: list[list[str]] = []
    real = baseline.embed_frames

    def spy(frames, **kw):
        seen.extend(fr["text"].tolist() for fr in frames)
        return real(frames, **kw)

    monkeypatch.setattr(baseline, "embed_frames", spy)
    recipe = save_recipe(junk("repair"), tmp_path / "repair.json")
    m = run_training(TrainConfig(trainer="baseline", name="r", recipe=str(recipe)), tmp_path / "run", ds=ds,
                     ws=Workspace(tmp_path / "ws"))
    train, _val, test = seen[:3]
    assert set(ORIGINALS) <= set(train) and not set(BROKEN) & set(train)
    assert BROKEN[0] in test  # the test row keeps its text
    assert any("repairs the text of 4" in n for n in m.get("notes", [])), m.get("notes")  # the recipe: 4
