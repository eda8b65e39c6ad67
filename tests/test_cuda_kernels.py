"""The CUDA backend's parts on their own: the GEMM layer and the dispatcher. Compilation for a
real GPU target, which the simulator cannot check, is tests/test_cuda_profile.py."""
import numpy as np
import pytest
from numba import cuda

from fastrnn.kernels.cuda.products import blas
from fastrnn.kernels.cuda import dispatch
from fastrnn.kernels.cuda.runtime import launch
from fastrnn.kernels.cuda.runtime.device import SIMULATOR


@pytest.mark.parametrize("grid", [(1, 1), (2, 3), (3, 64)])
@pytest.mark.parametrize("trans_a,trans_b,accumulate", [(False, False, False), (True, False, True),
                                                        (False, True, False), (True, True, True)])
def test_matmul_matches_numpy(rng, monkeypatch, grid, trans_a, trans_b, accumulate):
    monkeypatch.setattr(launch, "FORCED_GRID", grid)
    M, K, N = 5, 3, 7                         # all different, so a swapped index fails
    a = rng.standard_normal((K, M) if trans_a else (M, K))
    b = rng.standard_normal((N, K) if trans_b else (K, N))
    c = rng.standard_normal((M, N))
    want = (a.T if trans_a else a) @ (b.T if trans_b else b) + (c if accumulate else 0)
    out = cuda.to_device(c)
    blas.matmul(cuda.to_device(a), cuda.to_device(b), out, trans_a, trans_b, accumulate)
    np.testing.assert_allclose(out.copy_to_host(), want, rtol=1e-13, atol=1e-13)


def test_matmul_reads_strided_views(rng):
    # The layer passes slices of larger arrays (one step of a sequence) as operands.
    big = rng.standard_normal((4, 3, 6))
    w = rng.standard_normal((5, 6))
    out = cuda.to_device(np.full((3, 5), np.nan))
    blas.matmul(cuda.to_device(big)[2], cuda.to_device(w), out, trans_b=True)
    # atol as in the test above: an element whose 6 terms of size ~1 cancel to ~1e-3 has a rounding
    # error of ~1e-16 that is 1e-13 relative to it (seed 1289895507760980189: 1.3e-13)
    np.testing.assert_allclose(out.copy_to_host(), big[2] @ w.T, rtol=1e-13, atol=1e-13)


def test_column_sum_matches_numpy(rng):
    a = rng.standard_normal((9, 4))
    out = cuda.to_device(np.full(4, np.nan))
    blas.column_sum(cuda.to_device(a), out)
    np.testing.assert_allclose(out.copy_to_host(), a.sum(0), rtol=1e-13)


def _limit(n):
    return lambda threads, shared: n


def test_dispatch_small_batch_is_persistent(monkeypatch):
    monkeypatch.delenv("FASTRNN_CUDA_STRATEGY", raising=False)
    plan = dispatch.choose(4, 8, 1024, 4, _limit(300))
    # ~16 KiB of W_hh rows per unit, 48 KiB per block: at most 2 units; 300 blocks allowed -> 4
    # units would be needed, too many: so ask for 528 blocks -> 2 units, 512 blocks.
    assert plan.strategy == "step"
    plan = dispatch.choose(4, 8, 1024, 4, _limit(528))
    assert plan.strategy == "persistent"
    assert plan.units_per_block == 2 and plan.blocks == 512
    threads = dispatch.SIM_PERSISTENT_THREADS if SIMULATOR else dispatch.PERSISTENT_THREADS
    assert plan.shared_bytes == 4 * (4 * 2 * 1025 + threads) <= dispatch.SHARED_LIMIT
    assert dispatch.last_plan is plan and "persistent: 512 blocks" in str(plan)


def test_dispatch_large_batch_is_step_launch(monkeypatch):
    monkeypatch.delenv("FASTRNN_CUDA_STRATEGY", raising=False)
    plan = dispatch.choose(4, dispatch.PERSISTENT_MAX_BATCH + 1, 256, 4, _limit(528))
    assert plan.strategy == "step" and "batch" in plan.reason


def test_dispatch_falls_back_when_weights_do_not_fit(monkeypatch):
    monkeypatch.delenv("FASTRNN_CUDA_STRATEGY", raising=False)
    # One unit's LSTM rows at H=4096 in float32: 64 KiB > 48 KiB.
    assert "exceed" in dispatch.choose(4, 1, 4096, 4, _limit(10**6)).reason
    # Fits per block, but 1024 units over 100 co-resident blocks of <= 3 units cannot all be resident.
    plan = dispatch.choose(4, 1, 1024, 4, _limit(100))
    assert plan.strategy == "step" and "co-resident" in plan.reason
    monkeypatch.setenv("FASTRNN_CUDA_STRATEGY", "persistent")
    with pytest.raises(ValueError, match="cannot run this shape"):
        dispatch.choose(4, 1, 1024, 4, _limit(100))


def test_dispatch_forcing(monkeypatch):
    monkeypatch.setenv("FASTRNN_CUDA_STRATEGY", "step")
    assert dispatch.choose(4, 1, 64, 4, _limit(528)).strategy == "step"
    monkeypatch.setenv("FASTRNN_CUDA_STRATEGY", "persistent")
    assert dispatch.choose(4, 256, 64, 4, _limit(528)).strategy == "persistent"
    monkeypatch.setenv("FASTRNN_CUDA_STRATEGY", "fastest")
    with pytest.raises(ValueError, match="FASTRNN_CUDA_STRATEGY"):
        dispatch.choose(4, 1, 64, 4, _limit(528))
