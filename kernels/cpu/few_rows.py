"""The GEMMs of phases 1 and 3 over few rows T*B (as at T=1): the weights read in place, split over
the team (team.py). Packing a weight matrix for the tile (tile_gemm.py) costs a pass over it that
few rows do not repay, as packing W_hh does not for a short sweep, so these products reuse the
sweeps' in-place products (recurrent.py), under the same row counts (layer.*_PACK_ROWS).

    x_wt(a, w)            a (m, K) w (R, K)  -> a w^T (m, R)  X W_ih^T           members split w's rows
    x_w(a, w)             a (m, G) w (G, K)  -> a w   (m, K)  dX = dG W_ih       members split the sum over G
    outer_products(a, b)  a (k, m) b (k, n)  -> a^T b (m, n)  dW for k <= OUTER_K  members split the output rows

Every product reads each weight once, in whole rows. Measured on 2 cores, float32, W (4H, H), us,
the tile (or, below 8 rows, BLAS through numba's np.dot, which this replaced) / here:
    X W^T   m=4 H=256 54 / 14, H=1024 1145 / 162; m=8 H=256 63 / 23; m=64 H=256 185 / 117,
            H=1024 2394 / 1655; m=128 H=512 1371 / 858; m=256 H=256 373 / 469 (so not that far)
    dG W    m=1 H=1024 119 / 126; m=4 H=512 415 / 69; m=8 H=256 97 / 46, H=1024 807 / 501;
            m=16 H=512 232 / 219; m=24 H=512 293 / 318
"""
import numpy as np

from . import team
from .jit import kernel
from .recurrent import columns_dot, rows_dot

# A product over few rows is bound by reading the weights, not by its multiply-adds: an element
# read from memory costs about as long as ELEMENT_WORK multiply-adds (about 15 GB/s against
# 40 GMAC/s on one core). The work that decides its split counts that.
ELEMENT_WORK = 10


def _empty(shape, dtype):
    # Every product is allocated here; the tests swap in a NaN-filled allocator (as layer._empty).
    return np.empty(shape, dtype=dtype)


def x_wt(a, w):
    """a (m, K) @ w (R, K)^T -> (m, R) C-contiguous; a and w C-contiguous."""
    m, K = a.shape
    R = w.shape[0]
    out = _empty((m, R), a.dtype)
    team.run(_rows_member, (a, w, out), team.row_ranges(R, (m + ELEMENT_WORK) * K * R))
    return out


def x_w(a, w):
    """a (m, G) @ w (G, K) -> (m, K) C-contiguous; a's rows contiguous, w C-contiguous. The
    members split the sum over G, so each reads whole rows of w (split by columns, each would read
    part of every row: measured m=1 H=1024 170 against 126 us, m=7 1049 against 381)."""
    m, G = a.shape
    K = w.shape[1]
    out = _empty((m, K), a.dtype)
    parts = team.row_ranges(G, (m + ELEMENT_WORK) * G * K)
    sums = _empty((len(parts) - 1, m, K), a.dtype)     # member p > 0 sums into sums[p - 1]
    team.run(_columns_member, (a, w, out, sums), parts)
    for s in sums:
        out += s
    return out


# The members, member p taking blocks[p] = (r0, r1). They allocate nothing.

@kernel
def _rows_member(a, w, out, blocks, p):
    # out[:, r0:r1] = a @ w[r0:r1]^T
    r0, r1 = blocks[p, 0], blocks[p, 1]
    rows_dot(a, w, r0, r1, out, r0)


@kernel
def _columns_member(a, w, out, sums, blocks, p):
    # a[:, g0:g1] @ w[g0:g1] into out (member 0) or its own sums[p - 1]
    g0, g1 = blocks[p, 0], blocks[p, 1]
    columns_dot(a[:, g0:g1], w[g0:g1], 0, w.shape[1], out if p == 0 else sums[p - 1])


# A sum over at most OUTER_K rows (T*B, as at T=1 B=1) is a few outer products: writing the (m, n)
# output is all its cost, and BLAS passes over it three times (measured, k=1 m=3072 n=1024:
# BLAS 1.51 ms, outer_sum 0.22 ms on 2 cores; k=3 1.82 vs 0.78; from k=8 BLAS was faster, and
# the tile is faster still: tile_gemm.py).
OUTER_K = 3


@kernel
def outer_sum(a, b, out, blocks, p):
    """out[i] = sum over rows r of a[r, i] * b[r] for m0 <= i < m1 (blocks[p]): a^T b for a (k, m)
    and b (k, n) with few rows k, each row of out written once (and kept in L1 while it sums)."""
    k, n = b.shape
    m0, m1 = blocks[p, 0], blocks[p, 1]
    for i in range(m0, m1):
        row = out[i]
        x = a[0, i]
        for j in range(n):
            row[j] = x * b[0, j]
        for r in range(1, k):
            x = a[r, i]
            for j in range(n):
                row[j] += x * b[r, j]


def outer_products(a, b, out=None):
    """a^T @ b -> (m, n) C-contiguous, for a (k, m) C-contiguous and b (k, n) C- or F-contiguous
    (X W_ih^T with I <= OUTER_K) with k <= OUTER_K rows (tile_gemm.py takes more): the members
    split out's rows."""
    k, m = a.shape
    n = b.shape[1]
    out = _empty((m, n), a.dtype) if out is None else out
    team.run(outer_sum, (a, b, out), team.row_ranges(m, (k + ELEMENT_WORK) * m * n))
    return out
