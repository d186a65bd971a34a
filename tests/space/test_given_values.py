"""Issue 22: the values in a user's vectors and probabilities files, checked in the precision they are used in.

Vectors are used in float32: a float64 value beyond float32's range is refused with its row (it became inf or
NaN in the cast and a NaN outlier distance or a traceback later); rows are normalised whatever their scale
(3e38 and 1e-30 rows are unit vectors, not a zero vector or a missing row); a file of all-zero rows is refused.
What a file is instead of a .npy (an .npz archive, text) is said plainly; hard one-hot predictions are not
probabilities.
"""

from __future__ import annotations

import numpy as np
import pytest

from dq_core.errors import DataError
from dq_core.space.given import load_embeddings_file, load_pred_probs_file


def _vectors(n: int = 6, d: int = 8) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((n, d))


def test_float64_row_beyond_float32_is_refused_with_its_row(tmp_path):
    """A float64 row of 1e300 passed the float64 finite check and became inf/NaN in the float32 cast."""
    v = _vectors()
    v[4, 2] = 1e300
    np.save(tmp_path / "e.npy", v)
    with pytest.raises(DataError, match=r"too large for float32 .*row 4") as exc:
        load_embeddings_file(tmp_path / "e.npy", 6, what="--reference-embeddings")
    assert "--reference-embeddings" in str(exc.value)


def test_float64_nan_row_still_says_nan(tmp_path):
    v = _vectors()
    v[3, 0] = np.nan
    np.save(tmp_path / "e.npy", v)
    with pytest.raises(DataError, match=r"NaN or infinite values \(first at row 3\)"):
        load_embeddings_file(tmp_path / "e.npy", 6)


def test_rows_of_3e38_and_1e_30_become_unit_vectors(tmp_path):
    """A row of 3e38 became a zero vector (its float32 norm overflowed) and a row of 1e-30 counted as missing
    (its float32 squares underflowed): both are proper unit vectors now, in the direction they point."""
    v = _vectors()
    v[1] = 3e38 * np.sign(v[1])
    v[2] = 1e-30 * np.arange(1, 9)
    v[3] = 1e-300 * np.arange(1, 9)  # below float32's smallest subnormal: still a direction, not zeros
    np.save(tmp_path / "e.npy", v)
    res = load_embeddings_file(tmp_path / "e.npy", 6)
    assert res.valid.all()
    assert np.isfinite(res.vectors).all()
    np.testing.assert_allclose(np.linalg.norm(res.vectors, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(res.vectors[1], np.sign(v[1]) / np.sqrt(8), rtol=1e-6)
    expect = np.arange(1, 9) / np.linalg.norm(np.arange(1, 9))
    np.testing.assert_allclose(res.vectors[2], expect, rtol=1e-6)
    np.testing.assert_allclose(res.vectors[3], expect, rtol=1e-6)


def test_all_zero_row_stays_no_embedding_and_unit_rows_are_kept_bit_for_bit(tmp_path):
    v = _vectors().astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    v[5] = 0.0
    np.save(tmp_path / "e.npy", v)
    res = load_embeddings_file(tmp_path / "e.npy", 6)
    assert res.valid.tolist() == [True] * 5 + [False]
    assert not res.vectors[5].any()
    np.testing.assert_array_equal(res.vectors[:5], v[:5])


def test_all_zero_file_is_refused(tmp_path):
    """An all-zero file gave scores without a word: nothing can be computed from it, so it stops."""
    np.save(tmp_path / "e.npy", np.zeros((6, 8), np.float32))
    with pytest.raises(DataError, match="every row is all zeros"):
        load_embeddings_file(tmp_path / "e.npy", 6)


def test_npz_renamed_npy_is_named_as_an_npz(tmp_path):
    """An .npz renamed .npy gave a traceback ('NpzFile' object has no attribute 'dtype')."""
    np.savez(tmp_path / "e.npz", vectors=_vectors())
    (tmp_path / "e.npz").rename(tmp_path / "e.npy")
    with pytest.raises(DataError, match=r"\.npz archive .*'vectors'"):
        load_embeddings_file(tmp_path / "e.npy", 6)


def test_text_named_npy_is_not_called_pickled(tmp_path):
    """A text file named .npy said 'contains pickled data'."""
    (tmp_path / "e.npy").write_text("0.1,0.2\n0.3,0.4\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"not a NumPy \.npy file \(it holds text\)") as exc:
        load_embeddings_file(tmp_path / "e.npy", 2)
    assert "pickle" not in str(exc.value)


def test_npz_as_pred_probs_is_named_as_an_npz(tmp_path):
    """An .npz (named .npy) as --pred-probs said it 'holds <U5 values' (the archive's key names)."""
    np.savez(tmp_path / "p.npz", probs=np.full((4, 2), 0.5))
    (tmp_path / "p.npz").rename(tmp_path / "p.npy")
    with pytest.raises(DataError, match=r"\.npz archive") as exc:
        load_pred_probs_file(tmp_path / "p.npy", 4, ("a", "b"))
    assert "<U" not in str(exc.value)


@pytest.mark.parametrize("dtype", [np.int64, np.float32])
def test_one_hot_pred_probs_are_refused(tmp_path, dtype):
    """Integer one-hot --pred-probs were accepted although the README says they stop: hard labels make the
    label signal meaningless (every agreeing row ties at 1), so they are refused as float 0/1 rows too."""
    p = np.zeros((6, 2), dtype=dtype)
    p[np.arange(6), np.arange(6) % 2] = 1
    np.save(tmp_path / "p.npy", p)
    with pytest.raises(DataError, match="hard predictions"):
        load_pred_probs_file(tmp_path / "p.npy", 6, ("a", "b"))
    # a CSV of 0/1 integers under the class names is the same thing
    (tmp_path / "p.csv").write_text("a,b\n" + "".join(f"{int(x)},{int(y)}\n" for x, y in p), encoding="utf-8")
    with pytest.raises(DataError, match="hard predictions"):
        load_pred_probs_file(tmp_path / "p.csv", 6, ("a", "b"))


def test_confident_rows_among_soft_ones_are_accepted(tmp_path):
    """Only a file of nothing but one-hot rows is refused: a confident model's 1.0 rows stay accepted."""
    p = np.tile([0.0, 1.0], (6, 1))
    p[0] = [0.3, 0.7]
    np.save(tmp_path / "p.npy", p)
    np.testing.assert_allclose(load_pred_probs_file(tmp_path / "p.npy", 6, ("a", "b")), p)
