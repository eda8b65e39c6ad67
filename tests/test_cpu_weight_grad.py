"""Phase 3's weight-gradient GEMM (kernels/cpu/weight_grad.py) against float64 numpy.

Blocks of k and of b's columns that end early or fit once, narrow last panels, output rows that
do not fill a tile, fewer rows than members, and the hand-over to BLAS for wide b and few k."""
import numpy as np
import pytest

from fastrnn.kernels.cpu import weight_grad as wg


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k, m, n", [
    (4, 9, 5),                          # the fewest rows that take the tile, a narrow panel
    (wg.KC, 13, 32),                    # one full block of k, one full float32 panel
    (wg.KC + 37, 20, 47),               # a second, shorter block of k; 20 rows: tiles of 5, 6, 7 mixes
    (2 * wg.KC + 1, 7, wg.NC + 45),     # a block of k of one row; a second, narrower block of columns
    (61, 2, 130),                       # fewer output rows than members might be
    (5, 1, wg.MAX_TILE_COLUMNS),        # one output row, the widest b the tile takes
])
def test_weight_grad_matches_numpy(rng, members, dtype, k, m, n):
    a = rng.standard_normal((k, m)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    want = a.astype(np.float64).T @ b.astype(np.float64)
    np.testing.assert_allclose(wg.weight_grad(a, b), want, rtol=tol, atol=tol * np.sqrt(k))


@pytest.mark.parametrize("k, n, tile", [(9, wg.MAX_TILE_COLUMNS, True), (9, wg.MAX_TILE_COLUMNS + 1, False),
                                        (3, 8, False), (4, 8, True)])
def test_weight_grad_hands_wide_or_short_products_to_blas(rng, monkeypatch, k, n, tile):
    calls = []
    monkeypatch.setattr(wg.blas, "matmul_at", lambda a, b: calls.append(1) or a.T @ b)
    a = rng.standard_normal((k, 6)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    np.testing.assert_allclose(wg.weight_grad(a, b), a.T.astype(np.float64) @ b, rtol=1e-5, atol=1e-5)
    assert calls == ([] if tile else [1])


def test_weight_grad_propagates_nan_and_inf():
    a = np.ones((300, 7), np.float32)
    b = np.ones((300, 40), np.float32)
    a[280, 2] = np.nan      # in the second block of k: the accumulating tile
    b[3, 5] = np.inf
    out = wg.weight_grad(a, b)
    assert np.isnan(out[2]).all()
    assert np.isposinf(np.delete(out, 2, axis=0)[:, 5]).all()
    np.testing.assert_array_equal(np.delete(np.delete(out, 2, axis=0), 5, axis=1), 300)
