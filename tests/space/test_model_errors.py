"""A model folder with pickled weights is refused with our own message: torch's text advises
``weights_only=False``, which would run the file's code."""

from __future__ import annotations

import os
import shutil

import pytest
import torch

from dq_core.data.assets import default_model_path
from dq_core.errors import DataError
from dq_core.space.embed_model import load_model


class _Payload:
    def __reduce__(self):
        return (print, ("the pickle ran",))


def test_pickled_weights_get_our_message(tmp_path, dq_env, capsys):
    src = default_model_path()
    folder = tmp_path / "pickled"
    folder.mkdir()
    for f in os.listdir(src):
        if (src / f).is_file() and not f.endswith((".safetensors", ".bin", ".onnx")):
            shutil.copy(src / f, folder / f)
    torch.save({"w": _Payload()}, folder / "pytorch_model.bin")
    with pytest.raises(DataError) as exc:
        load_model(str(folder), device="cpu")
    msg = str(exc.value)
    assert "weights_only" not in msg and "safetensors" in msg
    assert "the pickle ran" not in capsys.readouterr().out
