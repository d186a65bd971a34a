"""The Load page's reference choices and the command line's give the same two sides: the same rows (row ids),
the same content (fingerprints) and the same names, for rows matching column values and for another split."""

from __future__ import annotations

import pandas as pd
import pytest
from dq_apptest import assert_no_exception, texts

from dq_core.cli import build_parser
from dq_core.commands.common import load_inputs
from dq_core.data.workspace import Workspace
from tests.cli_helpers import dq

NAME = "reviews.csv"


@pytest.fixture
def csv_file(tmp_path):
    n = 24
    frame = pd.DataFrame({
        "text": [f"review number {i} about the flight" for i in range(n)],
        "label": ["good", "bad", "meh"] * (n // 3),
        "lang": [["en", "日本語", None, "español"][i % 4] for i in range(n)],
        "fold": [["a", "b", "c"][i % 3] for i in range(n)],
    })
    path = tmp_path / NAME
    frame.to_csv(path, index=False)
    return path


def _page_sides(new_app, path, choose) -> tuple:
    at = new_app().run()
    at.switch_page("app_pages/load.py").run()
    at.radio(key="ds_source").set_value("Upload").run()
    at.file_uploader(key="ds_upload").set_value((NAME, path.read_bytes(), "application/octet-stream")).run()
    at.button(key="confirm_map").click().run()
    at.switch_page("app_pages/load.py").run()
    choose(at)
    assert_no_exception(at)
    assert not at.error, texts(at.error)
    ws = Workspace.default()
    return ws.load_dataset(at.session_state["ds"]), ws.load_dataset(at.session_state["ref"])


def _cli_sides(path, *flags) -> tuple:
    argv = ["profile", str(path), *flags]
    ds, ref = load_inputs(build_parser(argv).parse_args(argv))
    out = dq(*argv)
    assert out.returncode == 0, out.stderr
    return ds, ref, out


def _assert_same(page, cli):
    for p, c in zip(page, cli, strict=True):
        assert (p.name, p.fingerprint, len(p)) == (c.name, c.fingerprint, len(c))
        assert p.row_ids.tolist() == c.row_ids.tolist()


def test_rows_matching_values_on_the_page_and_on_the_command_line(new_app, csv_file):
    def choose(at):
        at.radio(key="ref_how").set_value("Rows matching a column value").run()
        at.selectbox(key="ref_col").set_value("lang").run()
        at.multiselect(key="ref_vals").set_value(["日本語", "(missing)"]).run()
        at.button(key="ref_split_go").click().run()

    page = _page_sides(new_app, csv_file, choose)
    *cli, out = _cli_sides(csv_file, "--reference-where", "lang=(missing),日本語")
    _assert_same(page, cli)
    assert page[1].name == f"{NAME} (lang=(missing), 日本語)"
    assert page[1].row_ids.tolist() == [1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22]
    assert '"n_rows": 12' in out.stdout


def test_another_split_on_the_page_and_on_the_command_line(new_app, csv_file):
    def choose(at):
        at.radio(key="ref_how").set_value("Another split of this dataset").run()
        at.selectbox(key="ref_ds_split").set_value("a").run()
        at.selectbox(key="ref_ref_split").set_value("c").run()
        at.button(key="ref_splits_go").click().run()

    page = _page_sides(new_app, csv_file, choose)
    *cli, _ = _cli_sides(csv_file, "--split-col", "fold", "--dataset-split", "a", "--reference-split", "c")
    _assert_same(page, cli)
    assert (page[0].name, page[1].name) == (f"{NAME} [a]", f"{NAME} [c]")
