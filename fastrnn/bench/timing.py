"""Timing two sides fairly on a shared machine, and the peak they are measured against."""
import statistics
import time

import numpy as np

SETTLE_S = 0.25      # longer than OpenBLAS's idle busy-wait (2**28 cycles) at these clocks
SIDE_BUDGET_S = 8.0  # per side and shape: stop adding blocks past this (at least 2 blocks)


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def block(fn):
    """Untimed calls for SETTLE_S (at least one), then timed calls: 3, or 1 for calls over 0.2 s.

    Why settle: right after the other side ran, its idle threads (OpenBLAS's busy-wait, torch's
    OpenMP) keep spinning. Measured: timing the first call after a switch read torch LSTM B=32
    as 150 ms (81 alone); discarding only one call still read fastrnn RNN T=1 B=8 H=512 as
    6.0 ms (1.5 alone)."""
    end = time.perf_counter() + SETTLE_S
    last = timed(fn)
    while time.perf_counter() < end:
        last = timed(fn)
    return [timed(fn) for _ in range(3 if last < 0.2 else 1)]


def compare(ours, theirs, repeats):
    """Median seconds of ours() and theirs() (None: ours alone), alternating blocks so machine
    drift hits both sides."""
    t_ours, t_theirs = [], []
    for i in range(repeats):
        t_ours += block(ours)
        if theirs is not None:
            t_theirs += block(theirs)
        if i >= 1 and sum(t_ours) + sum(t_theirs) > 2 * SIDE_BUDGET_S:
            break
    return statistics.median(t_ours), (statistics.median(t_theirs) if t_theirs else None)


def sgemm_peak_gpu(n=8192, repeats=5):
    """GFLOP/s of a large float32 GEMM on the GPU through cuBLAS (CuPy), TF32 off: the 100% of
    the table's '% peak' column for backend cuda."""
    import cupy as cp   # the GEMMs of backend cuda go through CuPy; without it, this fails loudly
    from numba import cuda
    a = cp.random.standard_normal((n, n), dtype=cp.float32)
    b = cp.random.standard_normal((n, n), dtype=cp.float32)

    def gemm():
        a @ b
        cuda.synchronize()
    gemm()
    best = min(timed(gemm) for _ in range(repeats))
    return 2 * n ** 3 / best / 1e9


def sgemm_peak(n=2048, repeats=5):
    """GFLOP/s of a large float32 GEMM on the team, the faster of BLAS (kernels/cpu/products/blas.py) and
    the register tile the layer's GEMMs run on (kernels/cpu/products/tile_gemm.py). The ceiling for the
    GEMM-bound phases, and the 100% of the table's '% peak' column. Why both: the peak is what this
    machine can reach, and either may lead on another machine (here OpenBLAS runs on kernels older
    than the CPU, OPENBLAS_CORETYPE=Haswell on a Zen 5: 255 GFLOP/s on 2 cores, the tile 430)."""
    from fastrnn.kernels.cpu.products.blas import matmul
    from fastrnn.kernels.cpu.products.tile_gemm import matmul_at
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)     # one output for all: fresh pages cost here, not FLOPs
    best = float("inf")
    for gemm in (lambda: matmul(a, b, out), lambda: matmul_at(a.T, b, out)):    # both a @ b
        gemm()
        best = min([best] + [timed(gemm) for _ in range(repeats)])
    return 2 * n ** 3 / best / 1e9
