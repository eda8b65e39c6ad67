"""The CUDA backend's parts on their own: the GEMM layer and the dispatcher. Compilation for a
real GPU target, which the simulator cannot check, is tests/test_cuda_profile.py."""
import numpy as np
import pytest
from numba import cuda

from fastrnn.kernels.cuda.products import blas
from fastrnn.kernels.cuda import dispatch
from fastrnn.kernels.cuda.runtime import launch


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
    # LSTM, H=1024, float32: 48 KiB holds the 4 rows of W_hh of 2 units at most (32 KiB), and
    # 512 blocks cannot be co-resident on 132 SMs; the opt-in's 227 KiB holds 8 units.
    persistent_faster = lambda plan: (1.0, 2.0)    # noqa: E731
    plan = dispatch.choose(4, 8, 1024, 4, _limit(132), compare=persistent_faster)
    assert plan.strategy == "step" and "co-resident blocks" in plan.reason
    plan = dispatch.choose(4, 8, 1024, 4, _limit(132), shared_limit=227 * 1024, compare=persistent_faster)
    assert (plan.strategy, plan.units_per_block, plan.blocks) == ("persistent", 8, 128)
    for lay, rows, K in ((plan.forward, 32, 1024), (plan.backward, 1024, 32)):
        assert (lay.rows_p, lay.batch_p, lay.K) == (rows, 8, K)
        assert lay.elements * 4 <= 227 * 1024 and lay.chunk % 4 == 0
        assert lay.rows_p // 8 * lay.tw <= lay.x and lay.x + lay.batch_p // 8 * lay.tx <= lay.out   # RT = BT = 8
    assert dispatch.last_plan is plan and "persistent: 128 blocks" in str(plan)


def test_dispatch_times_fewer_blocks_too(monkeypatch):
    # LSTM, H=1024: from the fewest units per block (1, with 1024 blocks co-resident) the model
    # times twice as many units while they fit (8: W_hh's 32 rows, 128 KiB; 16 do not fit), and
    # the plan is the one it times fastest
    monkeypatch.delenv("FASTRNN_CUDA_STRATEGY", raising=False)
    asked = []

    def fewer_blocks_faster(plan):
        asked.append(plan.units_per_block)
        return float(plan.blocks), 1e9
    plan = dispatch.choose(4, 8, 1024, 4, _limit(1024), shared_limit=227 * 1024, compare=fewer_blocks_faster)
    assert asked == [1, 2, 4, 8] and (plan.units_per_block, plan.blocks) == (8, 128)


def test_dispatch_follows_the_model(monkeypatch):
    # auto picks whichever strategy the model times faster, and says so
    monkeypatch.delenv("FASTRNN_CUDA_STRATEGY", raising=False)
    for persistent_us, step_us, strategy in ((1.0, 2.0, "persistent"), (2.0, 1.0, "step")):
        plan = dispatch.choose(4, 8, 64, 4, _limit(528), compare=lambda plan: (persistent_us, step_us))
        assert plan.strategy == strategy and "modelled" in plan.reason
    # without a model of its own it asks the H100 model: large batches go to step launch
    assert dispatch.choose(4, 256, 1024, 4, _limit(528), shared_limit=227 * 1024).strategy == "step"


def test_dispatch_falls_back_when_weights_do_not_fit(monkeypatch):
    monkeypatch.delenv("FASTRNN_CUDA_STRATEGY", raising=False)
    # One unit's LSTM rows at H=4096 in float32: 64 KiB > 48 KiB.
    assert "does not fit" in dispatch.choose(4, 1, 4096, 4, _limit(10**6)).reason
    # Fits per block, but 1024 units over 10 co-resident blocks would need ~100 units per block.
    plan = dispatch.choose(4, 1, 1024, 4, _limit(10), shared_limit=227 * 1024)
    assert plan.strategy == "step" and "co-resident blocks" in plan.reason
    monkeypatch.setenv("FASTRNN_CUDA_STRATEGY", "persistent")
    with pytest.raises(ValueError, match="cannot run this shape"):
        dispatch.choose(4, 1, 1024, 4, _limit(10), shared_limit=227 * 1024)


def test_dispatch_forcing(monkeypatch):
    monkeypatch.setenv("FASTRNN_CUDA_STRATEGY", "step")
    assert dispatch.choose(4, 1, 64, 4, _limit(528)).strategy == "step"
    monkeypatch.setenv("FASTRNN_CUDA_STRATEGY", "persistent")
    assert dispatch.choose(4, 256, 64, 4, _limit(528)).strategy == "persistent"
    monkeypatch.setenv("FASTRNN_CUDA_STRATEGY", "fastest")
    with pytest.raises(ValueError, match="FASTRNN_CUDA_STRATEGY"):
        dispatch.choose(4, 1, 64, 4, _limit(528))
