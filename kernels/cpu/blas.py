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


def matmul(a, b):
    """a (m, k) @ b (k, n) -> (m, n) C-contiguous; a C-contiguous, b C- or F-contiguous.
    The members take contiguous ranges of a's rows."""
    m, k = a.shape
    out = _empty((m, b.shape[1]), a.dtype)
    parts = team.row_ranges(m, m * k * b.shape[1])
    team.run(_dot, [(a[r0:r1], b, out[r0:r1]) for r0, r1 in parts])
    return out


@kernel
def _dot_at(a, b, m0, m1, out):
    # out[m0:m1] = a[:, m0:m1]^T b: the column block copied first (k x (m1 - m0), small next to
    # the product) because BLAS through np.dot takes contiguous operands only
    block = np.ascontiguousarray(a[:, m0:m1])
    np.dot(block.T, b, out[m0:m1])


def _at_parts(k, m, n):
    # the members' ranges of output rows for (k, m)^T (k, n)
    return team.row_ranges(m, k * m * n)


def matmul_at_copy_elements(k, m, n):
    """Elements matmul_at copies for (k, m)^T (k, n): all of a (as column blocks) when it splits
    over several members, else none. fastrnn.workspace_bytes counts them."""
    return k * m if len(_at_parts(k, m, n)) > 1 else 0


def matmul_at(a, b):
    """a^T @ b -> (m, n) C-contiguous, for a (k, m) and b (k, n) C-contiguous: a sum over k, as
    in the weight gradients dW = dG^T X. The members take contiguous ranges of the m output rows,
    each summing over all of k, so no partial sums are added (splitting k instead cost an (m, n)
    buffer and an add per member: measured 10x slower at k=8, 1.2x at k=100)."""
    k, m = a.shape
    out = _empty((m, b.shape[1]), a.dtype)
    parts = _at_parts(k, m, b.shape[1])
    if len(parts) == 1:
        team.run(_dot, [(a.T, b, out)])      # one member: no column blocks to copy
    else:
        team.run(_dot_at, [(a, b, m0, m1, out) for m0, m1 in parts])
    return out
