"""The GEMMs of phases 1 and 3 over few rows T*B (as at T=1): the weights read in place, split over
the team (team.py). Packing a weight matrix for the tile (tile_gemm.py) costs a pass over it that
few rows do not repay, as packing W_hh does not for a short sweep, so these products reuse the
sweeps' in-place products (in_place.py), under the same row counts (layer.*_PACK_ROWS).

    matmul_bt(a, w)       a (m, K) w (R, K)  -> a w^T (m, R)  X W_ih^T           members split w's rows
    matmul(a, w)          a (m, G) w (G, K)  -> a w   (m, K)  dX = dG W_ih       members split the sum over G
    outer_products(a, b)  a (k, m) b (k, n)  -> a^T b (m, n)  dW for k <= OUTER_K  members split the output rows

Every product reads each weight once, in whole rows: 2.5-8x faster than BLAS from 2 rows, and
faster than the tile below the layer's *_PACK_ROWS (kernels/TUNING.md).
"""
import numpy as np

from ..runtime import memory, team
from ..runtime.jit import kernel
from .in_place import columns_dot, rows_dot

# A product over few rows is bound by reading the weights, not by its multiply-adds: an element
# read from memory costs about as long as ELEMENT_WORK multiply-adds on one core
# (kernels/TUNING.md). The work that decides its split counts that.
ELEMENT_WORK = 10


def matmul_bt(a, w):
    """a (m, K) @ w (R, K)^T -> (m, R) C-contiguous; a and w C-contiguous."""
    m, K = a.shape
    R = w.shape[0]
    out = memory.empty((m, R), a.dtype)
    team.run(_rows_member, (a, w, out), team.row_ranges(R, (m + ELEMENT_WORK) * K * R))
    return out


def matmul(a, w):
    """a (m, G) @ w (G, K) -> (m, K) C-contiguous; a's rows contiguous, w C-contiguous. The
    members split the sum over G, so each reads whole rows of w (split by columns, each would read
    part of every row, up to 2.8x slower: kernels/TUNING.md)."""
    m, G = a.shape
    K = w.shape[1]
    out = memory.empty((m, K), a.dtype)
    parts = team.row_ranges(G, (m + ELEMENT_WORK) * G * K)
    sums = memory.empty((len(parts) - 1, m, K), a.dtype)     # member p > 0 sums into sums[p - 1]
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
# output is all its cost, and BLAS passes over it three times; from k=8 the tile is faster
# (kernels/TUNING.md).
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
    out = memory.empty((m, n), a.dtype) if out is None else out
    team.run(outer_sum, (a, b, out), team.row_ranges(m, (k + ELEMENT_WORK) * m * n))
    return out
