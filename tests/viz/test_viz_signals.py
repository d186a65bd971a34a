"""Clean-page figures: the label-noise heatmap's colour bar reads its scale."""

from __future__ import annotations

import numpy as np
import pytest

from dq_core.viz.signals import joint_heatmap
from dq_core.viz.style import share_colorbar


def _joint(off_max: float) -> np.ndarray:
    """Three classes, a third of the rows each, confusions up to ``off_max`` of all rows."""
    j = np.array([[0.0, off_max, off_max / 4], [off_max / 2, 0.0, 0.0], [off_max / 8, off_max / 3, 0.0]])
    np.fill_diagonal(j, (1 - j.sum()) / 3)
    return j


def test_small_confusions_get_ticks_that_read_the_scale():
    """The ticks read "0%" at every step when confusions stayed under 1% of the rows (tickformat ".0%")."""
    fig = joint_heatmap(_joint(0.004), ["neg", "neu", "pos"], n_rows=38_158)
    hm = fig.data[0]
    cb = hm.colorbar
    assert cb.tickformat is None and cb.tickmode == "array"
    assert list(cb.ticktext) == ["0%", "0.1%", "0.2%", "0.3%", "0.4%"]
    assert (hm.zmin, hm.zmax) == (0.0, pytest.approx(0.004))
    for value, text in zip(cb.tickvals, cb.ticktext, strict=True):  # each tick says where it sits
        assert float(text.rstrip("%")) / 100 == pytest.approx(value)


@pytest.mark.parametrize(("top", "texts"), [
    (0.031, ["0%", "1%", "2%", "3%"]),
    (0.3, ["0%", "10%", "20%", "30%"]),
    (0.0009, ["0%", "0.02%", "0.04%", "0.06%", "0.08%"]),
])
def test_share_colorbar_steps(top, texts):
    cb, zmax = share_colorbar([0.0, top / 2, top, np.nan])
    assert cb["ticktext"] == texts and zmax == top
    assert len(set(cb["ticktext"])) == len(cb["ticktext"])


def test_no_confusion_at_all_still_draws_a_scale():
    cb, zmax = share_colorbar([np.nan, 0.0])
    assert zmax > 0 and cb["ticktext"][0] == "0%" and len(cb["ticktext"]) > 1
