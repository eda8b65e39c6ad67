"""Arrays in, arrays out: CUDA arrays stay on the device and come back as the caller's kind.

numba device arrays run here on the simulator; CuPy arrays and torch CUDA tensors (zero-copy
through __cuda_array_interface__) need a GPU and run in bench/gpu_suite.sh.
"""
import numpy as np
import pytest
from helpers import make_problem
from numba import cuda

import fastrnn
from fastrnn import functional
from fastrnn.kernels.cuda.runtime.device import SIMULATOR

LAYOUTS = {
    "time-major":    dict(),
    "batch_first":   dict(batch_first=True),
    "unbatched":     dict(unbatched=True),
    "2layers-bidir": dict(num_layers=2, bidirectional=True),
}


def _forward_backward(p, to, weights_to=lambda a: a):
    kw = dict(num_layers=p["num_layers"], bidirectional=p["bidirectional"], batch_first=p["batch_first"],
              backend="auto" if to is not np.asarray else "cuda", dtype="float64")
    weights = {k: weights_to(v) for k, v in p["weights"].items()}
    y, hx_n, ctx = functional.forward(p["mode"], to(p["x"]), tuple(map(to, p["hx"])), weights, **kw)
    gx, ghx0, grads = functional.backward(ctx, to(p["grad_y"]), tuple(map(to, p["grad_hx"])))
    return [y, gx, *hx_n, *ghx0, *grads.values()]


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_numba_device_arrays_round_trip(rng, mode, layout):
    # The same kernels on the same numbers: device in/out must equal numpy in/out exactly.
    opts = LAYOUTS[layout]
    p = make_problem(rng, mode, 3, 2, 4, 5, **opts)
    host = _forward_backward(p, np.asarray)
    for weights_to in (np.asarray, cuda.to_device):          # host weights are copied; device ones are not
        dev = _forward_backward(p, cuda.to_device, weights_to)
        assert all(hasattr(a, "copy_to_host") for a in dev), "a result left the device"
        for d, h in zip(dev, host):
            np.testing.assert_array_equal(d.copy_to_host(), h)


def test_module_with_device_arrays(rng):
    m = fastrnn.GRU(4, 5, num_layers=2, batch_first=True, dtype="float64", seed=0)
    x = rng.standard_normal((2, 3, 4))
    y_h, h_h = m(x)
    gx_h, _ = m.backward(np.ones_like(y_h))
    y_d, h_d = m(cuda.to_device(x))                      # backend "auto" follows the array
    gx_d, _ = m.backward(cuda.to_device(np.ones_like(y_h)))
    np.testing.assert_allclose(y_d.copy_to_host(), y_h, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gx_d.copy_to_host(), gx_h, rtol=1e-12, atol=1e-12)
    assert hasattr(m.grads["weight_hh_l1"], "copy_to_host")


def test_device_arrays_need_the_cuda_backend_and_the_right_dtype(rng):
    x = cuda.to_device(rng.standard_normal((3, 2, 4)))
    with pytest.raises(ValueError, match="CUDA array"):
        fastrnn.LSTM(4, 5, backend="cpu", dtype="float64")(x)
    with pytest.raises(TypeError, match="float64 CUDA array but this call computes in float32"):
        fastrnn.LSTM(4, 5)(x)


def test_strided_device_input_is_copied_not_misread(rng):
    # A batch-first view of a larger array: not C-contiguous, so it must be gathered first.
    big = rng.standard_normal((3, 2, 8))
    m = fastrnn.RNN(4, 5, dtype="float64", seed=1)
    y_h, _ = m(np.ascontiguousarray(big[:, :, 2:6]))
    y_d, _ = m(cuda.to_device(big)[:, :, 2:6])
    np.testing.assert_allclose(y_d.copy_to_host(), y_h, rtol=1e-12, atol=1e-12)


def test_host_arrays_reach_the_device_with_canonical_strides():
    """numpy gives a length-1 axis any stride (x[:, None, :] has 0 there, unbatched input's
    time-major view); on a GPU numba's reshape of such a device array fails ("operation requires
    copying"), as the layer's (T, B, I) -> (T*B, I) did on an H200. Every stride is set."""
    from fastrnn.kernels.cuda.runtime.device import to_device
    x = np.ascontiguousarray(np.arange(12.0).reshape(3, 4)[:, None, :])
    assert x.strides[1] == 0
    d = to_device(x)
    assert d.strides == (32, 32, 8)
    np.testing.assert_array_equal(d.copy_to_host(), x)


@pytest.mark.skipif(SIMULATOR, reason="CuPy and torch CUDA tensors need a GPU (bench/gpu_suite.sh)")
@pytest.mark.parametrize("kind", ["cupy", "torch"])
def test_cupy_and_torch_arrays_come_back_as_they_went(rng, kind):
    if kind == "cupy":
        cp = pytest.importorskip("cupy")
        to, back, is_kind = cp.asarray, cp.asnumpy, lambda a: isinstance(a, cp.ndarray)
    else:
        torch = pytest.importorskip("torch")
        to = lambda a: torch.as_tensor(a, device="cuda")                    # noqa: E731
        back = lambda a: a.cpu().numpy()                                    # noqa: E731
        is_kind = lambda a: isinstance(a, torch.Tensor) and a.is_cuda       # noqa: E731
    p = make_problem(rng, "LSTM", 4, 3, 5, 6, num_layers=2, bidirectional=True)
    host = _forward_backward(p, np.asarray)
    dev = _forward_backward(p, to)
    assert all(is_kind(a) for a in dev)
    for d, h in zip(dev, host):       # cuBLAS may pick another algorithm for another pointer
        np.testing.assert_allclose(back(d), h, rtol=1e-12, atol=1e-12)
