"""Numerics at the edges: saturating inputs, NaN in one sequence, very long sequences, and
bit-identical gradients on repeated runs. Every backend here (CUDA on the simulator)."""
import numpy as np
import pytest
from helpers import MODES, assert_close64, make_problem, run

import fastrnn

BACKENDS = ["cpu", "reference", "cuda"]
CLASSES = {"LSTM": (fastrnn.LSTM, {}), "GRU": (fastrnn.GRU, {}),
           "RNN_TANH": (fastrnn.RNN, {}), "RNN_RELU": (fastrnn.RNN, {"nonlinearity": "relu"})}


def _layer(mode, backend, dtype, **kw):
    cls, extra = CLASSES[mode]
    return cls(3, 5, num_layers=2, bidirectional=True, backend=backend, dtype=dtype, seed=0, **extra, **kw)


def _all_results(m, y, h, g):
    states = h if isinstance(h, tuple) else (h,)
    return [y, *states, *g[:1], *(g[1] if isinstance(g[1], tuple) else (g[1],)), *m.grads.values()]


@pytest.mark.filterwarnings("ignore:overflow encountered in exp")   # the numpy reference's sigmoid
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", MODES)
def test_saturating_inputs_stay_finite(rng, mode, backend, dtype):
    # |x| up to 1e4 drives every gate to 0 or 1 and every tanh to +-1: no overflow, no 0 * inf.
    m = _layer(mode, backend, dtype)
    x = rng.choice([-1e4, -1e3, -30.0, 0.0, 30.0, 1e3, 1e4], size=(6, 3, 3))
    y, h = m(x)
    g = m.backward(rng.standard_normal(y.shape) * 1e4)
    for a in _all_results(m, y, h, g):
        assert np.all(np.isfinite(a))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", MODES)
def test_nan_in_one_sequence_stays_there(rng, mode, backend):
    # Sequences only meet in the weight gradients (sums over the batch); outputs, state and
    # input gradients of the other sequences must not see a NaN, and must not change.
    m = _layer(mode, backend, "float64")
    x = rng.standard_normal((6, 3, 3))
    gy = rng.standard_normal((6, 3, 10))
    y_clean, _ = m(x)
    gx_clean, _ = m.backward(gy)
    x[2, 1, 0] = np.nan
    y, h = m(x)
    gx, gh0 = m.backward(gy)
    assert np.isnan(y[:, 1]).any()     # propagated, not swallowed (relu(NaN) is NaN, as in torch)
    for seq in (0, 2):
        np.testing.assert_array_equal(y[:, seq], y_clean[:, seq])
        np.testing.assert_array_equal(gx[:, seq], gx_clean[:, seq])
        for s in (h if isinstance(h, tuple) else (h,)):
            assert np.all(np.isfinite(s[:, seq]))


@pytest.mark.parametrize("mode", MODES)
def test_ten_thousand_steps(rng, mode):
    # Long sequences: forward and backward run, and agree with the reference in float64
    # (in float32 they would differ by the recurrence's own chaos, not by a bug).
    p = make_problem(rng, mode, T=10_000, B=2, I=3, H=4)
    assert_close64(run(p, "cpu", np.float64), run(p, "reference", np.float64), rtol=1e-10)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", MODES)
def test_backward_is_bit_identical_on_repeated_runs(rng, mode, backend):
    # No atomics, no reductions whose order depends on scheduling: same inputs, same bits.
    p = make_problem(rng, mode, 7, 3, 4, 6, num_layers=2, bidirectional=True)
    first = run(p, backend, np.float32)
    for _ in range(2):
        again = run(p, backend, np.float32)
        for name in first:
            np.testing.assert_array_equal(again[name], first[name], err_msg=name)


@pytest.mark.skipif(__import__("fastrnn.kernels.cuda.runtime.device", fromlist=["SIMULATOR"]).SIMULATOR,
                    reason="10,000 steps on the simulator would take minutes; bench/gpu_suite.sh runs it on a GPU")
@pytest.mark.parametrize("strategy", ["step", "persistent"])
@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_ten_thousand_steps_cuda(rng, monkeypatch, mode, strategy):
    monkeypatch.setenv("FASTRNN_CUDA_STRATEGY", strategy)
    p = make_problem(rng, mode, T=10_000, B=2, I=3, H=40)
    assert_close64(run(p, "cuda", np.float64), run(p, "reference", np.float64), rtol=1e-10)
