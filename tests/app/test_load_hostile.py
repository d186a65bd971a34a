"""The Load page's data-folder path with hostile inputs: one st.error naming the problem, never a
traceback, never rows or bytes from outside the data folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd
from dq_apptest import assert_no_exception, texts

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
import make_hostile  # noqa: E402

CASES = [("hf_symlink_out", "points outside"), ("hf_state_escape", "points outside"),
         ("hf_split_escape", "points outside"), ("hf_damaged_arrow", "damaged"), ("pipe.csv", "not a regular file"),
         ("loop1.csv", "loop"), ("bad\x00name.csv", "NUL"), ("x" * 4000 + ".csv", "too long"),
         ("link_out.csv", "outside the data folder"), ("bomb.parquet", "DQ_MAX_ROWS")]


def test_hostile_data_folder_paths(new_app, dq_env, monkeypatch):
    data = dq_env.data
    make_hostile.build_datasets_folders(data)
    (data / "outside_secret.arrow").rename(dq_env.data.parent / "outside_secret.arrow")
    os.symlink(dq_env.data.parent / "outside_secret.arrow", data / "hf_symlink_out" / "relinked.arrow")
    (dq_env.data.parent / "secret.csv").write_text("text,label\nSECRET-CONTENT,x\n")
    os.symlink(dq_env.data.parent / "secret.csv", data / "link_out.csv")
    os.mkfifo(data / "pipe.csv")
    os.symlink("loop2.csv", data / "loop1.csv")
    os.symlink("loop1.csv", data / "loop2.csv")
    pd.DataFrame({"text": ["row one", "row two", "row three"], "label": ["a", "b", "a"]}).to_parquet(data / "bomb.parquet")
    monkeypatch.setenv("DQ_MAX_ROWS", "2")  # stands in for the 3M-row bomb (tests/io covers the real one)
    at = new_app().run()
    at.switch_page("app_pages/load.py").run()
    at.radio(key="ds_source").set_value("Data folder").run()
    for path, word in CASES:
        at.text_input(key="ds_path").input(path).run()
        assert_no_exception(at)
        errors = texts(at.error)
        assert len(errors) == 1 and word in errors[0], (path, errors)
        assert "SECRET-CONTENT" not in " ".join(texts(at.markdown) + texts(at.caption) + errors)
