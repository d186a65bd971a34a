"""The hostile-input corpus: files a careless or malicious user could hand to every `dq` command.

Small text inputs are committed under tests/data/hostile/ (rewrite them with ``python
tests/data/make_hostile.py``); big, binary and special ones (Parquet bombs, FIFOs, symlink loops,
device files, datasets folders pointing outside themselves) are built at test time by :func:`build_special`,
because they are large, machine-specific or cannot live in git.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

HERE = Path(__file__).parent / "hostile"

_ROWS = "hello there friend,pos\nthat was awful,neg\nquite fine really,pos\nnot good at all,neg\n"


def _csv(body: str, header: str = "text,label") -> bytes:
    return f"{header}\n{body}".encode()


def small_inputs() -> dict[str, bytes]:
    """name -> bytes of every committed hostile input."""
    big = "9" * 309
    jp = "本日は晴天なり,良い\n雨が降っています,悪い\n晴れのち曇り,良い\n".encode("shift_jis")
    mixed = ("text,label\ncafé crème brûlée,pos\n".encode() + "na\xefve façade,neg\n".encode("cp1252")
             + "déjà vu again,pos\n".encode() + "soupçon of doubt,neg\n".encode("cp1252"))
    return {
        "empty.csv": b"",
        "whitespace_only.csv": b"   \n\n\t \n",
        "header_only.csv": b"text,label\n",
        "bom_utf8.csv": b"\xef\xbb\xbf" + _csv(_ROWS),
        "utf16_bom.csv": "\ufefftext,label\nhello there,pos\nbad day,neg\n".encode("utf-16-le"),
        "utf16_no_bom.csv": "text,label\nhello there,pos\nbad day,neg\n".encode("utf-16-le"),
        "cr_only.csv": _csv(_ROWS).replace(b"\n", b"\r"),
        "crlf.csv": _csv(_ROWS).replace(b"\n", b"\r\n"),
        "mixed_line_ends.csv": b"text,label\r\nhello there,pos\rthat was bad,neg\nok then,pos\r\n",
        "shift_jis_small.csv": b"text,label\n" + jp,
        "mixed_utf8_cp1252.csv": mixed,
        "latin1_small.csv": "text,label\ncafés et crèmes,pos\nmauvais goût,neg\n".encode("latin-1"),
        "invalid_utf8_bytes.csv": _csv("good \xff\xfe text,pos\nfine,neg\n".encode("latin-1").decode("latin-1")),
        "nul_in_middle.csv": b"text,label\nhello\x00there,pos\nbad,neg\n",
        "unclosed_quote.csv": b'text,label\n"hello there,pos\nbad day,neg\n',
        "ragged_more_fields.csv": _csv("a,b,c,d\nhello,pos\n"),
        "ragged_fewer_fields.csv": b"text,label,extra\nhello,pos\nbye\n",
        "duplicate_header.csv": b"text,text,label\na,b,pos\nc,d,neg\n",
        "empty_header_name.csv": b"text,,label\na,1,pos\nb,2,neg\n",
        "one_column.csv": b"text\nhello there\nbad day\n",
        "labels_1_and_1.0.csv": _csv("a row,1\nb row,1.0\nc row,2\nd row,2.00\n"),
        "text_is_numbers.csv": _csv("1,pos\n2,neg\n3,pos\n"),
        "metadata_named_text.csv": b"body,text,label\nhello there,meta one,pos\nbad day,meta two,neg\n",
        "meta_text_collision.csv": b"body,text,meta_text,label\nhello there,meta one,meta meta one,pos\nbye for now,meta two,meta meta two,neg\n",
        "all_labels_missing.csv": _csv("a,\nb,\nc,\n"),
        "one_class.csv": _csv("a,pos\nb,pos\nc,pos\n"),
        "formula_cells.csv": _csv('=cmd|\'/C calc\'!A0,-1\n@user hi,-1\n+1+1,1\n"-2",1\n'),
        "html_script.csv": _csv("<script>alert(1)</script>,pos\n[x](javascript:alert(1)),neg\n"),
        "unicode_tricks.csv": _csv("\u202eevil\u202c text,pos\nzero\u200bwidth,neg\n👩‍👩‍👧 family,pos\n"),
        "control_chars.csv": _csv("".join(chr(c) for c in range(1, 32) if c not in (10, 13)) + ",pos\nok,neg\n"),
        "semicolon_separated.csv": b"text;label\nhello;pos\nbye;neg\n",
        "tsv_with_commas.tsv": b"text\tlabel\nhello, there\tpos\nbad, day\tneg\n",
        "tab_separated.txt": b"text\tlabel\nhello\tpos\nbye\tneg\n",
        "quoted_newlines.csv": b'text,label\n"line one\nline two",pos\n"a\r\nb",neg\n',
        "header_spaces.csv": b" text , label \nhello,pos\nbye,neg\n",
        "id_not_unique.csv": b"id,text,label\n1,a,pos\n1,b,neg\n",
        "label_whitespace.csv": _csv("a, pos\nb,pos \nc,neg\n"),
        "nan_like_labels.csv": _csv("a,NaN\nb,null\nc,None\nd,pos\n"),
        "label_309_digits.csv": _csv(f"a,{big}\nb,{big}.0\nc,1\n"),
        "json_scalar.json": b"42",
        "json_object.json": b'{"a": 1, "b": 2}',
        "json_mixed_types.json": json.dumps([{"text": {"x": 1}, "label": 1}, {"text": "ok", "label": [1]}]).encode(),
        "json_empty_list.json": b"[]",
        "json_nan_infinity.json": b'[{"text": "a", "label": NaN}, {"text": "b", "label": Infinity}]',
        "jsonl_bad_line.jsonl": b'{"text": "a", "label": "x"}\n\n{"text": broken\n',
        "jsonl_non_object.jsonl": b'{"text": "a", "label": "x"}\n[1, 2]\n',
        "json_309_digit_label.json": (f'[{{"text": "a", "label": {big}}}, {{"text": "b", "label": 1}}]').encode(),
        "json_list_labels.json": json.dumps([{"text": "a", "label": ["x", "y"]}, {"text": "b", "label": ["x"]}]).encode(),
        "json_bool_labels.json": json.dumps([{"text": "a", "label": True}, {"text": "b", "label": False}]).encode(),
        "json_duplicate_keys.json": b'[{"text": "a", "text": "b", "label": "x"}, {"text": "c", "label": "y"}]',
        "json_lone_surrogate.json": b'[{"text": "half \\ud83d emoji", "label": "x"}, {"text": "ok", "label": "y"}]',
        "json_1_and_1.0.json": b'[{"text": "first row", "label": 1}, {"text": "second row", "label": 1.0}, {"text": "third row", "label": 2}]',
        "not_a_table.xlsx": b"PK\x03\x04 not really a spreadsheet",
        "no_extension": _csv(_ROWS),
    }


def write_small(folder: Path = HERE) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in small_inputs().items():
        (folder / name).write_bytes(data)


def build_special(folder: Path) -> dict[str, str]:
    """Build the big, binary and special inputs under ``folder``; returns name -> path (as given to the CLI)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, str] = {}

    def put(name: str, data: bytes) -> None:
        (folder / name).write_bytes(data)
        out[name] = str(folder / name)

    good = pd.DataFrame({"text": ["hello there", "bad day", "fine", "awful"], "label": ["pos", "neg", "pos", "neg"]})
    good.to_parquet(folder / "good.parquet")
    out["good.parquet"] = str(folder / "good.parquet")
    raw = (folder / "good.parquet").read_bytes()
    put("truncated.parquet", raw[: len(raw) // 2])
    put("random_bytes.parquet", os.urandom(4096))
    put("parquet_named_csv.csv", raw)
    put("random_bytes.csv", bytes(range(256)) * 16)
    put("very_long_cell.csv", b"text,label\n" + b"x" * 1_000_000 + b",pos\nshort,neg\n")
    put("deep_100k.json", b"[" * 100_000 + b"]" * 100_000)
    put("deep_line.jsonl", b'{"text": "ok", "label": "a"}\n{"text": ' + b"[" * 50_000 + b"]" * 50_000 + b"}\n")
    # A 3M-row bomb: one repeated value compresses to a few KB (the 37 KB file expanded to 1.16 GB).
    n = 3_000_000
    bomb = pa.table({"text": pa.DictionaryArray.from_arrays(np.zeros(n, dtype=np.int32), ["same text"]),
                     "label": pa.DictionaryArray.from_arrays(np.zeros(n, dtype=np.int32), ["a"])})
    pq.write_table(bomb, folder / "bomb_3m_rows.parquet", compression="zstd")
    out["bomb_3m_rows.parquet"] = str(folder / "bomb_3m_rows.parquet")
    pd.DataFrame({"text": ["a b", "c d", "e f"], "label": [["x"], ["y"], ["x"]]}).to_parquet(folder / "list_labels.parquet")
    out["list_labels.parquet"] = str(folder / "list_labels.parquet")
    pd.DataFrame({"text": pd.Categorical(["the same text"] * 6), "label": ["a", "b"] * 3}).to_parquet(folder / "category_text.parquet")
    out["category_text.parquet"] = str(folder / "category_text.parquet")
    pd.DataFrame({"text": [["a", "b"], ["c"]], "label": ["x", "y"]}).to_parquet(folder / "nested_text.parquet")
    out["nested_text.parquet"] = str(folder / "nested_text.parquet")
    pd.DataFrame({"text": [b"\x00\x01", b"\xff"], "label": ["x", "y"]}).to_parquet(folder / "binary_text.parquet")
    out["binary_text.parquet"] = str(folder / "binary_text.parquet")
    wide = {"text": [f"row {i} words here" for i in range(20)], "label": ["a", "b"] * 10}
    wide.update({f"c{j}": np.arange(20) for j in range(3000)})
    put("wide_3000_columns.csv", pd.DataFrame(wide).to_csv(index=False).encode())
    # Special files.
    fifo = folder / "fifo.csv"
    os.mkfifo(fifo)
    out["fifo.csv"] = str(fifo)
    os.symlink("loop_b.csv", folder / "loop_a.csv")
    os.symlink("loop_a.csv", folder / "loop_b.csv")
    out["symlink_loop.csv"] = str(folder / "loop_a.csv")
    os.symlink("/dev/zero", folder / "dev_zero.csv")
    out["device.csv"] = str(folder / "dev_zero.csv")
    os.symlink(folder / "good.parquet", folder / "symlink_to_good.parquet")
    out["symlink_to_good.parquet"] = str(folder / "symlink_to_good.parquet")
    os.symlink(folder / "nowhere.csv", folder / "dangling.csv")
    out["dangling_symlink.csv"] = str(folder / "dangling.csv")
    (folder / "folder.csv").mkdir()
    out["folder_named_csv"] = str(folder / "folder.csv")
    (folder / "empty_folder").mkdir()
    out["empty_folder"] = str(folder / "empty_folder")
    out["long_name.csv"] = str(folder / ("x" * 300 + ".csv"))
    out["nul_in_path.csv"] = str(folder / "bad\x00name.csv")
    out["missing.csv"] = str(folder / "missing.csv")
    out.update(build_datasets_folders(folder))
    return out


def build_datasets_folders(folder: Path) -> dict[str, str]:
    """A valid ``save_to_disk`` folder and four that name files outside themselves or are damaged."""
    import shutil

    import datasets

    secret = folder / "outside_secret.arrow"
    secret.write_bytes(b"SECRET-CONTENT " * 100)
    good = folder / "hf_good"
    datasets.Dataset.from_dict({"text": ["hello there", "bad day", "fine"], "label": ["pos", "neg", "pos"]}).save_to_disk(str(good))
    out = {"hf_good/": str(good)}
    arrow = next(good.glob("*.arrow")).name

    link_out = folder / "hf_symlink_out"
    shutil.copytree(good, link_out)
    (link_out / arrow).unlink()
    os.symlink(secret, link_out / arrow)
    out["hf_symlink_out/"] = str(link_out)

    escape = folder / "hf_state_escape"
    shutil.copytree(good, escape)
    state = json.loads((escape / "state.json").read_text())
    state["_data_files"] = [{"filename": "../../../../../../etc/hostname"}]
    (escape / "state.json").write_text(json.dumps(state))
    out["hf_state_escape/"] = str(escape)

    split_escape = folder / "hf_split_escape"
    split_escape.mkdir()
    (split_escape / "dataset_dict.json").write_text(json.dumps({"splits": ["../hf_good"]}))
    out["hf_split_escape/"] = str(split_escape)

    damaged = folder / "hf_damaged_arrow"
    shutil.copytree(good, damaged)
    (damaged / arrow).write_bytes(b"SECRET-CONTENT not arrow")
    out["hf_damaged_arrow/"] = str(damaged)

    bad_state = folder / "hf_bad_state"
    shutil.copytree(good, bad_state)
    (bad_state / "state.json").write_text("{not json")
    out["hf_bad_state/"] = str(bad_state)
    return out


if __name__ == "__main__":
    write_small()
    print(f"wrote {len(small_inputs())} files to {HERE}")
