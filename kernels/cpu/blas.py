"""GEMM for phase 1 (and phase 3's dX at few rows), split over the team (team.py), through the BLAS
numba's np.dot calls; and phase 3's sums of a few outer products (most of phase 3: tile_gemm.py).

Each member calls BLAS (single-threaded for the duration, team.run) on its share from inside a
nogil kernel, so the members run at once and no other thread pool competes for the cores.
numba's np.dot goes through scipy's BLAS; numpy bundles another OpenBLAS with its own threads,
so numpy's `@` is not used for these products (measured on 2 cores, LSTM forward T=100 B=32
H=256: 63 ms with numpy's `@` next to the sweep's BLAS calls, 31 ms with one library).
"""
import numpy as np

from . import team
from .jit import kernel


def _empty(shape, dtype):
    # Every product is allocated here; the tests swap in a NaN-filled allocator (as layer._empty).
    return np.empty(shape, dtype=dtype)


# A skinny product (a has fewer rows m than columns k: T*B small, as at T=1) is bound by reading b
# (the weights), not by its multiply-adds: an element read from memory costs about as long as
# ELEMENT_WORK multiply-adds (about 15 GB/s against 40 GMAC/s on one core). Its work counts that.
ELEMENT_WORK = 10
# From SKINNY_ROWS rows of a per member, each member's BLAS call on its own rows is efficient
# enough that reading all of b in every member costs less than sharing it. Measured on 2 cores,
# ms, b shared (split over k) / a's rows: (800, 1024) @ (1024, 256) 2.70 / 2.43; (1600, 2048) @
# (2048, 512) 20.3 / 18.7; (512, 4096) @ (4096, 1024) 24.9 / 25.1; (128, 4096) @ (4096, 1024) 7.3 / 8.4.
SKINNY_ROWS = 256


def matmul(a, b, out=None):
    """a (m, k) @ b (k, n) -> (m, n) C-contiguous (into `out` if given); a C-contiguous, b C- or
    F-contiguous.

    The members take contiguous ranges of a's rows, each reading all of b. A skinny a (m < k,
    and fewer than SKINNY_ROWS rows per member) instead has the members share b, so that b is
    read once: its columns if b is F-contiguous (b = W^T, columns are rows of W), each member
    writing its own (m, n) block and copying it into out; else its rows, i.e. the sum over k,
    each member adding into its own (m, n) sums (added up after). Measured on 2 cores, ms,
    sharing b vs a's rows: (8, 512) @ (512, 1536) 0.68 vs 1.27 (b = W) and 0.69 vs 0.67 (W^T);
    (8, 1536) @ (1536, 512) 0.38 vs 1.1 (W^T); (64, 1024) @ (1024, 4096) 4.6 vs 5.8."""
    m, k = a.shape
    n = b.shape[1]
    out = _empty((m, n), a.dtype) if out is None else out
    if m >= k or m >= SKINNY_ROWS * team.size():
        team.run(_dot_rows, (a, b, out), team.row_ranges(m, m * k * n))
    elif b.flags.f_contiguous:
        parts = team.row_ranges(n, (m + ELEMENT_WORK) * k * n)
        work = _empty((len(parts), m * _longest(parts)), a.dtype)
        team.run(_dot_columns, (a, b.T, out, work), parts)
    else:
        parts = team.row_ranges(k, (m + ELEMENT_WORK) * k * n)
        work = _empty((len(parts), m * _longest(parts)), a.dtype)
        _sum_over_k(_dot_k, (a, b), parts, out, work)
    return out


def _longest(parts):
    return max(r1 - r0 for r0, r1 in parts)


def _sum_over_k(member, operands, parts, out, *scratch):
    """out = the sum of member(*operands, out, sums, *scratch, blocks, p) over the members' ranges
    k0..k1 of parts: member 0 writes out itself, member p its own sums[p - 1], added in after."""
    sums = _empty((len(parts) - 1,) + out.shape, out.dtype)
    team.run(member, operands + (out, sums) + scratch, parts)
    for s in sums:
        out += s


# The members of the split GEMMs, member p taking blocks[p] = (r0, r1).
# Members allocate nothing: their scratch (`work`, one row per member) comes from the caller.

@kernel
def _block(work, p, rows, cols):
    # member p's (rows, cols) C-contiguous scratch block, carved out of its row of work
    return work[p, :rows * cols].reshape((rows, cols))


@kernel
def _dot_rows(a, b, out, blocks, p):
    # out[r0:r1] = a[r0:r1] @ b: rows r0..r1 of a (m, k); b (k, n) C- or F-contiguous
    r0, r1 = blocks[p, 0], blocks[p, 1]
    np.dot(a[r0:r1], b, out[r0:r1])


@kernel
def _dot_columns(a, w, out, work, blocks, p):
    # out[:, n0:n1] = a @ w[n0:n1]^T, w (n, k) the C-contiguous rows of b^T: through a contiguous
    # block of work first, because BLAS through np.dot writes contiguous outputs only
    n0, n1 = blocks[p, 0], blocks[p, 1]
    block = _block(work, p, a.shape[0], n1 - n0)
    np.dot(a, w[n0:n1].T, block)
    out[:, n0:n1] = block


@kernel
def _dot_k(a, b, out, sums, work, blocks, p):
    # a[:, k0:k1] @ b[k0:k1] into out (member 0) or its own sums[p - 1]; a's columns copied into
    # work first (contiguous operands only, as _dot_columns)
    k0, k1 = blocks[p, 0], blocks[p, 1]
    part = _block(work, p, a.shape[0], k1 - k0)
    part[:] = a[:, k0:k1]
    np.dot(part, b[k0:k1], out if p == 0 else sums[p - 1])


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
    team.run(outer_sum, (a, b, out), team.row_ranges(m, (k + ELEMENT_WORK) * m * n), blas=False)
    return out
