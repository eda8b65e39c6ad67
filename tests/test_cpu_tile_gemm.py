"""Phase 3's GEMMs on the register tile (kernels/cpu/products/tile_gemm.py) against float64 numpy.

Blocks of k and of b's columns that end early or fit once, narrow last panels, output rows that
do not fill a tile, rows in several passes of MC, fewer rows than members (the split of k); a
C-contiguous a read in place, or copied into slabs of both padded widths where its rows are a
multiple of 4 KiB apart; an F-contiguous a (dX = dG W) and b (X W^T); and the hand-over of a few
rows k to few_rows.py's outer products."""
import numpy as np
import pytest

from fastrnn.kernels.cpu.products import tile_gemm as tg

SHAPES = [
    (4, 9, 5),                          # the fewest rows that take the tile, a narrow panel
    (tg.KC, 13, 32),                    # one full block of k, one full float32 panel
    (tg.KC + 37, 20, 47),               # a second, shorter block of k; 20 rows: tiles of 5, 6, 7 mixes
    (2 * tg.KC + 1, 7, tg.NC + 45),     # a block of k of one row; a second, narrower block of columns
    (61, 2, 130),                       # fewer output rows than members might be
    (5, 1, 2 * tg.NC + 3),              # one output row, three blocks of columns
    (40, 50, 33),                       # 50 rows: 25 per member of 2, 17 of 3 (both slab widths)
    (9, 97, 16),                        # 97 rows: 48 / 49 per member of 2, 32 / 33 of 3
    (70, 2 * tg.MC + 7, 40),            # rows in passes of MC, the last one short, for 1-3 members
    (40, 1024, 33),                     # rows of a 4 or 8 KiB apart: copied into slabs
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layouts", ["CC", "FC", "FF"])     # of a and b: dW, dX, X W^T
@pytest.mark.parametrize("k, m, n", SHAPES)
def test_matmul_at_matches_numpy(rng, members, dtype, layouts, k, m, n):
    a = rng.standard_normal((k, m)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    a = np.asfortranarray(a) if layouts[0] == "F" else a
    b = np.asfortranarray(b) if layouts[1] == "F" else b
    tol = 1e-12 if dtype == np.float64 else 1e-5
    want = a.astype(np.float64).T @ b.astype(np.float64)
    np.testing.assert_allclose(tg.matmul_at(a, b), want, rtol=tol, atol=tol * np.sqrt(k))


@pytest.mark.parametrize("rows", range(1, 70))
def test_slab_rows_are_wide_enough_and_not_a_power_of_two_apart(rows):
    width = tg._slab_width(rows)
    assert rows <= width < rows + 48 and width % 16 == 0 and (width // 16) % 2 == 1


@pytest.mark.parametrize("k, tile", [(3, False), (4, True), (1, False)])
def test_matmul_at_hands_few_rows_to_outer_products(rng, monkeypatch, k, tile):
    calls = []
    monkeypatch.setattr(tg.few_rows, "outer_products", lambda a, b, out: calls.append(1) or a.T @ b)
    a = rng.standard_normal((k, 6)).astype(np.float32)
    b = rng.standard_normal((k, 600)).astype(np.float32)
    np.testing.assert_allclose(tg.matmul_at(a, b), a.T.astype(np.float64) @ b, rtol=1e-5, atol=1e-5)
    assert calls == ([] if tile else [1])


@pytest.mark.parametrize("layout", ["C", "F"])
def test_matmul_at_propagates_nan_and_inf(layout):
    a = np.ones((300, 7), np.float32)
    b = np.ones((300, 40), np.float32)
    a[280, 2] = np.nan      # in the second block of k: the accumulating tile
    b[3, 5] = np.inf
    a = np.asfortranarray(a) if layout == "F" else a
    out = tg.matmul_at(a, b)
    assert np.isnan(out[2]).all()
    assert np.isposinf(np.delete(out, 2, axis=0)[:, 5]).all()
    np.testing.assert_array_equal(np.delete(np.delete(out, 2, axis=0), 5, axis=1), 300)


@pytest.mark.parametrize("k", [2, 40])      # outer products, the tile
def test_matmul_at_writes_into_a_given_output(rng, k):
    a = rng.standard_normal((k, 9)).astype(np.float32)
    b = rng.standard_normal((k, 20)).astype(np.float32)
    out = np.full((9, 20), np.nan, np.float32)
    assert tg.matmul_at(a, b, out) is out
    np.testing.assert_allclose(out, a.T.astype(np.float64) @ b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("k, m, width", [(40, 20, 30), (300, 64, 96), (40, 2, 1024), (2, 5, 9)])
def test_matmul_at_reads_some_columns_of_a_wider_a(rng, members, k, m, width):
    # GRU's dW_hh takes dG_i's r and z blocks: a = wide[:, :2H], rows `width` apart; at 1024
    # float32 columns they are 4 KiB apart (copied into slabs); k=2: outer products.
    wide = rng.standard_normal((k, width)).astype(np.float32)
    b = rng.standard_normal((k, 33)).astype(np.float32)
    out = np.full((m + 3, 33), np.nan, np.float32)
    tg.matmul_at(wide[:, :m], b, out[3:])
    want = wide[:, :m].astype(np.float64).T @ b
    np.testing.assert_allclose(out[3:], want, rtol=1e-5, atol=1e-5 * np.sqrt(k))
    assert np.isnan(out[:3]).all()
