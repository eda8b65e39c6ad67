"""GEMM for phases 1 and 3, split over the team (team.py), through the BLAS numba's np.dot calls.

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


@kernel
def _dot(a, b, out):
    # out (m, n) = a (m, k) @ b (k, n); a and b C- or F-contiguous, out C-contiguous
    np.dot(a, b, out)


# A skinny product (a has fewer rows m than columns k: T*B small, as at T=1) is bound by reading b
# (the weights), not by its multiply-adds: an element read from memory costs about as long as
# ELEMENT_WORK multiply-adds (about 15 GB/s against 40 GMAC/s on one core). Its work counts that.
ELEMENT_WORK = 10
# From SKINNY_ROWS rows of a per member, each member's BLAS call on its own rows is efficient
# enough that reading all of b in every member costs less than sharing it. Measured on 2 cores,
# ms, b shared (split over k) / a's rows: (800, 1024) @ (1024, 256) 2.70 / 2.43; (1600, 2048) @
# (2048, 512) 20.3 / 18.7; (512, 4096) @ (4096, 1024) 24.9 / 25.1; (128, 4096) @ (4096, 1024) 7.3 / 8.4.
SKINNY_ROWS = 256


def matmul(a, b):
    """a (m, k) @ b (k, n) -> (m, n) C-contiguous; a C-contiguous, b C- or F-contiguous.

    The members take contiguous ranges of a's rows, each reading all of b. A skinny a (m < k,
    and fewer than SKINNY_ROWS rows per member) instead has the members share b, so that b is
    read once: its columns if b is F-contiguous (b = W^T, columns are rows of W), each member
    writing its own (m, n) block and copying it into out; else its rows, i.e. the sum over k,
    each member adding into its own (m, n) sums (added up after). Measured on 2 cores, ms,
    sharing b vs a's rows: (8, 512) @ (512, 1536) 0.68 vs 1.27 (b = W) and 0.69 vs 0.67 (W^T);
    (8, 1536) @ (1536, 512) 0.38 vs 1.1 (W^T); (64, 1024) @ (1024, 4096) 4.6 vs 5.8."""
    m, k = a.shape
    n = b.shape[1]
    out = _empty((m, n), a.dtype)
    if m >= k or m >= SKINNY_ROWS * team.size():
        parts = team.row_ranges(m, m * k * n)
        team.run(_dot, [(a[r0:r1], b, out[r0:r1]) for r0, r1 in parts])
    elif b.flags.f_contiguous:
        parts = team.row_ranges(n, (m + ELEMENT_WORK) * k * n)
        team.run(_dot_columns, [(a, b[:, n0:n1], out, n0) for n0, n1 in parts])
    else:
        parts = team.row_ranges(k, (m + ELEMENT_WORK) * k * n)
        _sum_over_k(_dot_rows, lambda k0, k1: (a, k0, k1, b[k0:k1]), parts, out)
    return out


def _sum_over_k(fn, operands, parts, out):
    """out = the sum over the members' ranges k0..k1 of parts of fn(*operands(k0, k1), sums): the
    first member writes out itself, each other its own (m, n) sums, added in after."""
    sums = [out] + [_empty(out.shape, out.dtype) for _ in parts[1:]]
    team.run(fn, [operands(k0, k1) + (s,) for (k0, k1), s in zip(parts, sums)])
    for s in sums[1:]:
        out += s


@kernel
def _dot_columns(a, b, out, n0):
    # out[:, n0:n0 + nb] = a @ b, b (k, nb) a block of columns: through a contiguous block first,
    # because BLAS through np.dot writes contiguous outputs only (small: a has few rows)
    block = np.empty((a.shape[0], b.shape[1]), dtype=a.dtype)
    np.dot(a, b, block)
    out[:, n0:n0 + b.shape[1]] = block


@kernel
def _dot_rows(a, k0, k1, b, out):
    # out = a[:, k0:k1] @ b, b (k1 - k0, n) rows k0..k1 of the whole b: a's columns copied first
    # (contiguous operands only, as _dot_columns)
    np.dot(np.ascontiguousarray(a[:, k0:k1]), b, out)


@kernel
def _dot_at(a, b, m0, m1, out):
    # out[m0:m1] = a[:, m0:m1]^T b: the column block copied first (k x (m1 - m0)) because BLAS
    # through np.dot takes contiguous operands only
    block = np.ascontiguousarray(a[:, m0:m1])
    np.dot(block.T, b, out[m0:m1])


# A sum over at most OUTER_K rows (T*B, as at T=1 B=1) is a few outer products: writing the (m, n)
# output is all its cost, and BLAS passes over it three times (measured, k=1 m=3072 n=1024:
# BLAS 1.51 ms, outer_sum 0.22 ms on 2 cores; k=3 1.82 vs 0.78; from k=8 BLAS is faster).
OUTER_K = 3


@kernel
def outer_sum(a, b, m0, m1, out):
    """out[i] = sum over rows r of a[r, i] * b[r] for m0 <= i < m1: a^T b for a (k, m) and b (k, n)
    with few rows k, each row of out written once (and kept in L1 while it sums)."""
    k, n = b.shape
    for i in range(m0, m1):
        row = out[i]
        x = a[0, i]
        for j in range(n):
            row[j] = x * b[0, j]
        for r in range(1, k):
            x = a[r, i]
            for j in range(n):
                row[j] += x * b[r, j]


def _at_split(k, m, n):
    """How matmul_at shares (k, m)^T (k, n) among the members: ("outer", ranges of the output rows)
    for k <= OUTER_K; else ("k", ranges of k), ("m", ranges of the output rows), or one part.
    Each way moves extra data: a split over k gives each member but the first an (m, n) sum to
    add; a split over m copies all of a, k x m, as column blocks. The smaller wins, i.e. k splits
    when k > (parts - 1) n. Measured on 2 cores, GFLOP/s over k / over m: k=6400 m=512 n=128
    142 / 96; k=800 m=1024 n=256 159 / 147; k=100 m=1024 n=256 113 / 128."""
    if k <= OUTER_K:
        return "outer", team.row_ranges(m, (k + ELEMENT_WORK) * m * n)
    parts = team.row_ranges(m, k * m * n)
    if len(parts) == 1:
        return "one", parts
    if k > (len(parts) - 1) * n:
        return "k", team.ranges(k, len(parts))
    return "m", parts


def matmul_at_extra_elements(k, m, n):
    """Elements matmul_at allocates besides its output for (k, m)^T (k, n): the partial sums of a
    split over k, or the column blocks of a split over m. fastrnn.workspace_bytes counts them."""
    how, parts = _at_split(k, m, n)
    return {"outer": 0, "one": 0, "k": (len(parts) - 1) * m * n, "m": k * m}[how]


def matmul_at(a, b):
    """a^T @ b -> (m, n) C-contiguous, for a (k, m) and b (k, n) C-contiguous: a sum over k, as
    in the weight gradients dW = dG^T X. The members split k (each summing its share into an (m, n)
    buffer, added up after) or the m output rows (_at_split); a few rows k are outer products."""
    k, m = a.shape
    n = b.shape[1]
    out = _empty((m, n), a.dtype)
    how, parts = _at_split(k, m, n)
    if how == "outer":
        team.run(outer_sum, [(a, b, m0, m1, out) for m0, m1 in parts], blas=False)
    elif how == "one":
        team.run(_dot, [(a.T, b, out)])
    elif how == "m":
        team.run(_dot_at, [(a, b, m0, m1, out) for m0, m1 in parts])
    else:
        _sum_over_k(_dot, lambda k0, k1: (a[k0:k1].T, b[k0:k1]), parts, out)
    return out
