"""Phase 3's weight gradients: a sum over all T*B rows of an outer product, on the register tile.

    out (m, n) = a (k, m)^T b (k, n)      a = dG (T*B, G*H), b = X (T*B, I) or H_prev (T*B, H)

The members split out's rows m0..m1: no partial sums to add up after, and nothing of a copied,
because the tile reads a^T[m0:m1] in place (a strided view, microkernel.py). A member walks b's
columns in blocks of NC and k in blocks of KC: it packs b[k0:k1, c0:c1] into panels
(panels.pack_columns) and adds that block's product into out[m0:m1, c0:c1] (panels.panels_dot,
storing for the first block of k, accumulating after). The block's panels (KC * NC elements,
256 KiB float32) are read by every tile of the member's rows, from L2.

With few columns (n = H or I up to MAX_TILE_COLUMNS) OpenBLAS's sgemm for a^T b runs well below
its peak, and the tile beats it; with more, BLAS is faster (blas.matmul_at). Measured on 2 cores
of a Zen 4 (sgemm peak 205 GFLOP/s), float32, GFLOP/s, tile / BLAS:
    k=32000 m=512 n=128  164 / 143     k=6400 m=512 n=128   166 / 142    k=800 m=512 n=128 193 / 167
    k=100 m=512 n=128    144 / 117     k=8 m=512 n=128       31 / 33
    k=32000 m=384 n=128  172 / 140     k=3200 m=1024 n=256  185 / 172    k=800 m=1024 n=256 204 / 184
    k=6400 m=2048 n=512  192 / 194     k=800 m=2048 n=512   194 / 185
    k=3200 m=4096 n=1024 187 / 196     k=800 m=4096 n=1024  183 / 190    k=32 m=4096 n=1024 92 / 133
"""
import numpy as np
from numba import prange

from . import blas, team
from .jit import kernel, team_kernel
from .panels import pack_columns, panel_count, panel_width, panels_dot

KC = 256                  # rows of k per block
NC = 256                  # columns of b per block (a multiple of every panel width)
MAX_TILE_COLUMNS = 512    # wider b goes to BLAS


def _empty(shape, dtype):
    # The tests swap in a NaN-filled allocator (as layer._empty).
    return np.empty(shape, dtype=dtype)


def weight_grad(a, b):
    """a^T @ b -> (m, n) C-contiguous, for a (k, m) and b (k, n) C-contiguous, k >= 1."""
    k, m = a.shape
    n = b.shape[1]
    if not _on_tile(k, n):
        return blas.matmul_at(a, b)
    out = _empty((m, n), a.dtype)
    parts = team.row_ranges(m, k * m * n)
    pans = _empty((len(parts), _panel_elements(k, n, a.itemsize)), a.dtype)
    team.run(_rows, _rows_team, (a, b, out, pans), parts, blas=False)
    return out


def extra_elements(k, m, n, itemsize):
    """Elements weight_grad allocates besides its output for (k, m)^T (k, n): the members' panels,
    or what BLAS's split needs (fastrnn.workspace_bytes counts them)."""
    if not _on_tile(k, n):
        return blas.matmul_at_extra_elements(k, m, n)
    return len(team.row_ranges(m, k * m * n)) * _panel_elements(k, n, itemsize)


def _on_tile(k, n):
    # the tile up to MAX_TILE_COLUMNS columns; a sum over a few rows stays blas.py's outer products
    return n <= MAX_TILE_COLUMNS and k > blas.OUTER_K


def _panel_elements(k, n, itemsize):
    # one member's panels for a block of KC rows by NC columns
    NW = panel_width(itemsize)
    return panel_count(min(NC, n), NW) * min(KC, k) * NW


@kernel
def _rows(a, b, out, pans, blocks, p):
    # out[m0:m1] = a[:, m0:m1]^T b, member p's rows (blocks[p]); pans[p] its panels, flat
    m0, m1 = blocks[p, 0], blocks[p, 1]
    k, n = b.shape
    NW = panel_width(a.itemsize)
    at = a.T
    for c0 in range(0, n, NC):
        c1 = min(n, c0 + NC)
        S = panel_count(c1 - c0, NW)
        for k0 in range(0, k, KC):
            k1 = min(k, k0 + KC)
            # C-contiguous (S, k1 - k0, NW): the panels' rows back to back, as the tile reads them
            block = pans[p, :S * (k1 - k0) * NW].reshape((S, k1 - k0, NW))
            pack_columns(b[k0:k1], c0, c1, block)
            panels_dot(at[m0:m1, k0:k1], block, out[m0:m1], c0, c1 - c0, k0 > 0)


@team_kernel
def _rows_team(a, b, out, pans, blocks, done):
    for p in prange(blocks.shape[0]):
        _rows(a, b, out, pans, blocks, np.int64(p))
        done[p] = 1
