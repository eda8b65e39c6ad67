"""CUDA kernels against the reference: both strategies, every cell, odd shapes, several launch
configurations, random upstream gradients, NaN-poisoned outputs (conftest.py).

On the simulator (the default here, see conftest.py) the shapes are tiny and the persistent
kernel runs as one block, since the simulator runs blocks one after another and a multi-block
grid.sync() would be silently wrong there. With NUMBA_ENABLE_CUDASIM=0 on a GPU
(bench/gpu_suite.sh) the realistic shapes below run too, multi-block persistent grids included.
"""
import numpy as np
import pytest
from helpers import (MODES, assert_close64, assert_inference_matches_training, assert_within_rule, jittered,
                     make_problem, run)

from fastrnn.kernels.cuda import dispatch
from fastrnn.kernels.cuda.runtime import launch
from fastrnn.kernels.cuda.runtime.device import SIMULATOR

SHAPES = {
    # name: (T, B, I, H, extra options) -- each odd shape carries its reason
    "base":          (3, 2, 4, 7, {}),
    "T=1":           (1, 3, 4, 5, {}),                        # no recurrence: h0 only feeds step 0
    "H=1":           (3, 2, 3, 1, {}),                        # gate blocks one element apart
    "H=33":          (2, 2, 3, 33, {}),                       # one past a warp
    "B=1":           (4, 1, 3, 6, {}),                        # one sequence: GEMV per step
    "B=5":           (3, 5, 3, 6, {}),                        # persistent batch tiles of 4, the last padded
    "B=9":           (2, 9, 3, 6, {}),                        # persistent batch tiles of 8 (8-row weight tiles)
    "2layers-bidir": (2, 2, 3, 4, dict(num_layers=2, bidirectional=True)),   # reverse sweeps, input 2H
    "no-bias":       (3, 2, 3, 5, dict(bias=False)),
}
if not SIMULATOR:
    SHAPES.update({
        "H=256 B=8":   (50, 8, 256, 256, {}),                 # persistent, many blocks
        "H=1024 B=1":  (20, 1, 512, 1024, {}),                # persistent, the most blocks
        "H=300 B=64":  (20, 64, 128, 300, dict(bidirectional=True)),   # step launch by default
    })
STRATEGIES = ["step", "persistent"]


@pytest.fixture(params=STRATEGIES)
def strategy(request, monkeypatch):
    monkeypatch.setenv("FASTRNN_CUDA_STRATEGY", request.param)
    return request.param


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("mode", MODES)
def test_cuda_matches_reference(rng, mode, shape, dtype, strategy):
    # float64: the same math in another order, to 1e-12; float32: the tolerance rule.
    T, B, I, H, opts = SHAPES[shape]
    p = make_problem(rng, mode, T, B, I, H, **opts)
    if strategy == "persistent" and _beyond_shared_memory(mode, H, dtype):
        # e.g. a float64 LSTM's W_hh at H=1024, 32 MiB, on an H200's 132 x 227 KiB
        with pytest.raises(ValueError, match="persistent kernel was asked for but cannot run this shape"):
            run(p, "cuda", dtype)
        return
    got = run(p, "cuda", dtype)
    assert dispatch.last_plan is not None and dispatch.last_plan.strategy == strategy
    if dtype == "float64":
        assert_close64(got, run(p, "reference", np.float64))
    else:
        assert_within_rule(got, run(p, "reference", np.float64), run(p, "reference", np.float32),
                           run(jittered(p), "reference", np.float64))


def _beyond_shared_memory(mode, H, dtype):
    """W_hh is larger than the shared memory of every SM together: no persistent grid holds it."""
    if SIMULATOR:
        return False
    from numba import cuda

    from fastrnn.kernels.cuda.runtime.device import shared_limit
    from fastrnn.modes import MODES as SPECS
    sms = cuda.get_current_device().MULTIPROCESSOR_COUNT
    return SPECS[mode].gates * H * H * np.dtype(dtype).itemsize > sms * shared_limit()


@pytest.mark.parametrize("grid", [(1, 1), (3, 5), (4, 32)])
@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_step_launch_any_grid(rng, monkeypatch, mode, grid):
    # Grid-stride kernels: one thread doing everything, odd counts, more threads than work.
    monkeypatch.setattr(launch, "FORCED_GRID", grid)
    monkeypatch.setenv("FASTRNN_CUDA_STRATEGY", "step")
    p = make_problem(rng, mode, 3, 2, 3, 5, bidirectional=True)
    assert_close64(run(p, "cuda", np.float64), run(p, "reference", np.float64))


@pytest.mark.parametrize("threads", [1, 3, 16, 128])
@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_persistent_any_block_size(rng, monkeypatch, mode, threads):
    # Block-stride loops inside the persistent kernel: fewer threads than dot products (one
    # thread per dot, several dots per thread), and more (128: 3 threads share each forward
    # dot, 12 each backward one, and add their partial sums).
    monkeypatch.setattr(dispatch, "SIM_PERSISTENT_THREADS", threads)
    monkeypatch.setattr(dispatch, "PERSISTENT_THREADS", threads)
    monkeypatch.setenv("FASTRNN_CUDA_STRATEGY", "persistent")
    p = make_problem(rng, mode, 3, 2, 3, 5, bidirectional=True)
    assert_close64(run(p, "cuda", np.float64), run(p, "reference", np.float64))
    assert dispatch.last_plan.strategy == "persistent"


@pytest.mark.parametrize("mode", MODES)
def test_inference_forward_matches_training_forward(rng, mode, strategy):
    assert_inference_matches_training(make_problem(rng, mode, T=3, B=2, I=3, H=4, bidirectional=True), "cuda")


def test_device_arrays_stay_on_device(rng):
    # numba device arrays in -> device arrays out, same values as the numpy path.
    from numba import cuda

    from fastrnn.kernels.cuda import layer
    p = make_problem(rng, "LSTM", 3, 2, 4, 5)
    w = p["weights"]
    host = (p["x"], (p["hx"][0][0], p["hx"][1][0]), w["weight_ih_l0"], w["weight_hh_l0"],
            w["bias_ih_l0"], w["bias_hh_l0"])
    y_h, st_h, sv_h = layer.forward("LSTM", *host)
    dev = (cuda.to_device(host[0]), tuple(map(cuda.to_device, host[1]))) + tuple(map(cuda.to_device, host[2:]))
    y_d, st_d, sv_d = layer.forward("LSTM", *dev)
    assert not isinstance(y_d, np.ndarray) and all(not isinstance(s, np.ndarray) for s in st_d)
    np.testing.assert_array_equal(y_d.copy_to_host(), y_h)
    dy = p["grad_y"][:, :, :5]
    ds = (p["grad_hx"][0][0], p["grad_hx"][1][0])
    dx_h, _, g_h = layer.backward(sv_h, dy, ds)
    dx_d, _, g_d = layer.backward(sv_d, cuda.to_device(dy), tuple(map(cuda.to_device, ds)))
    np.testing.assert_array_equal(dx_d.copy_to_host(), dx_h)
    for a, b in zip(g_d, g_h):
        np.testing.assert_array_equal(a.copy_to_host(), b)
