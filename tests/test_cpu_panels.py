"""The packed product (kernels/cpu/products/panels.py, microkernel.py) against float64 numpy.

Every row count of a tile (1 .. TILE_ROWS, and batches that mix them), full and narrower panels,
K from 1 up, both packings, an output offset, a strided a (the weight gradient's dG^T) and the
accumulating form; and nothing outside the product's columns written.
"""
import numpy as np
import pytest

from fastrnn.kernels.cpu.products import panels
from fastrnn.kernels.cpu.products.microkernel import TILE_ROWS


def _packed(pack, w, lo, hi, K, dtype):
    NW = panels.panel_width(np.dtype(dtype).itemsize)
    pans = np.full((-(-(hi - lo) // NW), K, NW), np.nan, dtype=dtype)
    pack(w, lo, hi, pans)
    return pans


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("B", list(range(1, TILE_ROWS + 3)) + [13])    # every tile size, and mixes
@pytest.mark.parametrize("K, cols", [(1, (0, 1)), (37, (3, 40)), (16, (0, 32)), (9, (5, 71))])
@pytest.mark.parametrize("form", ["rows", "columns"])
@pytest.mark.parametrize("variant", ["store", "accumulate", "strided a"])
def test_panels_dot_matches_numpy(rng, dtype, B, K, cols, form, variant):
    lo, hi = cols
    n, c = hi - lo, 2
    if variant == "strided a":      # a = dG[:, m0:m1]^T: rows one element apart, k a row of dG apart
        a = rng.standard_normal((K, B + 3)).astype(dtype)[:, 1:B + 1].T
    else:
        a = rng.standard_normal((B, K)).astype(dtype)
    if form == "rows":      # forward: the panels hold w[lo:hi]^T
        w = rng.standard_normal((hi + 3, K)).astype(dtype)
        pans = _packed(panels.pack_rows, w, lo, hi, K, dtype)
        m = w[lo:hi].T
    else:                   # backward: the panels hold w[:, lo:hi]
        w = rng.standard_normal((K, hi + 3)).astype(dtype)
        pans = _packed(panels.pack_columns, w, lo, hi, K, dtype)
        m = w[:, lo:hi]
    assert not np.isnan(pans).any()     # every lane packed: the columns past hi are zero
    out = np.full((B, c + n + 5), np.nan, dtype=dtype)
    before = rng.standard_normal((B, n)).astype(dtype) if variant == "accumulate" else np.zeros((B, n))
    out[:, c:c + n] = before
    panels.panels_dot(a, pans, out, c, n, variant == "accumulate")
    want = before + a.astype(np.float64) @ m.astype(np.float64)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(out[:, c:c + n], want, rtol=tol, atol=tol * K)
    assert np.isnan(out[:, :c]).all() and np.isnan(out[:, c + n:]).all()   # nothing else written


def test_panels_dot_propagates_nan_and_inf():
    # the tile's only fast-math flag is "contract" (FMA): NaN and inf must survive
    a = np.ones((7, 9), np.float32)
    a[1, 4] = np.nan
    a[3, 2] = np.inf
    w = np.ones((9, 3), np.float32)
    pans = _packed(panels.pack_columns, w, 0, 3, 9, np.float32)
    out = np.zeros((7, 3), np.float32)
    panels.panels_dot(a, pans, out, 0, 3, False)
    assert np.isnan(out[1]).all() and np.isposinf(out[3]).all()
    np.testing.assert_array_equal(out[[0, 2, 4, 5, 6]], 9)
