"""GEMM for phases 1 and 3, through the same BLAS library that numba's np.dot calls.

numpy and scipy each bundle their own OpenBLAS, each with its own thread pool. numba's np.dot
(the per-step GEMM inside the sweeps) goes through scipy's; if phases 1 and 3 used numpy's `@`,
the two pools' spinning threads would fight over the cores (measured on 2 cores, LSTM forward
T=100 B=32 H=256: 63 ms with numpy's `@`, 31 ms with this). One library, one pool.
"""
import numpy as np
from scipy.linalg import blas

_GEMM = {np.dtype(np.float32): blas.sgemm, np.dtype(np.float64): blas.dgemm}


def matmul(a, b):
    """a (m, k) @ b (k, n) -> C-contiguous (m, n); a and b each C- or F-contiguous (no copy)."""
    # BLAS is column-major: compute (a @ b)^T = b^T a^T, whose column-major result is a @ b row-major.
    bt, trans_b = (b.T, 0) if b.flags.c_contiguous else (b, 1)
    at, trans_a = (a.T, 0) if a.flags.c_contiguous else (a, 1)
    return _GEMM[a.dtype](1.0, bt, at, trans_a=trans_b, trans_b=trans_a).T
