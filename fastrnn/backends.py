"""Backends: the name a user passes -> the module that runs one layer in one direction.

The contract every backend module implements (fastrnn/functional.py stacks layers and directions
on it; fastrnn/modes.py has the modes and their gate counts G):

    forward(mode, x, state0, w_ih, w_hh, b_ih, b_hh, reverse=False, need_grad=True, lengths=None)
        x (T, B, I); state0 tuple of (B, H): (h0, c0) for LSTM, (h0,) otherwise;
        w_ih (G*H, I), w_hh (G*H, H), b_ih (G*H,), b_hh (G*H,);
        lengths None, or (B,) int64 in 1..T: sequence b has lengths[b] steps
        -> y (T, B, H), state_n (tuple like state0), saved (None unless need_grad)
    backward(saved, dy, dstate_n)
        dy (T, B, H), dstate_n tuple of (B, H)
        -> dx (T, B, I), dstate0 (tuple), (dw_ih, dw_hh, db_ih, db_hh)

reverse=True runs t = T-1 ... 0 (the backward direction of a bidirectional layer); y keeps the
input's time order. With lengths, a step t >= lengths[b] is padding for sequence b: its state
passes through unchanged, its output is zero and it takes no gradient, so state_n holds each
sequence's state after its own last step (in reverse, a sequence starts at its own last step):
what torch's packed sequences compute. All arrays are C-contiguous and of one dtype (float32 or
float64); functional.py makes sure of that. saved is the backend's own, opaque to the caller.

    reference   fastrnn/reference/layer.py   the float64 specification (any dtype)
    cpu         kernels/cpu/layer.py         numpy arrays
    cuda        kernels/cuda/layer.py        device arrays, or numpy copied to the device and back
"""
import importlib

NAMES = ("auto", "reference", "cpu", "cuda")

_loaded = {}     # name -> module, once resolve() has accepted it

_MODULES = {
    "reference": "fastrnn.reference.layer",
    "cpu": "fastrnn.kernels.cpu.layer",
    "cuda": "fastrnn.kernels.cuda.layer",
}


def resolve(name):
    """Check a backend name and turn "auto" into a concrete one."""
    if name not in NAMES:
        raise ValueError(f"backend must be one of {', '.join(map(repr, NAMES))}; got {name!r}")
    if name == "cuda":
        _check_cuda()
    return "cpu" if name == "auto" else name


def get(name):
    """The layer module of a backend (imported on first use: the kernels pull in numba)."""
    module = _loaded.get(name)
    if module is None:
        module = _loaded[name] = importlib.import_module(_MODULES[resolve(name)])
    return module


def _check_cuda():
    try:
        from numba import cuda
        from numba.core import config
    except ImportError as e:   # pragma: no cover - numba without its CUDA target
        raise RuntimeError("backend='cuda' needs numba-cuda: pip install 'fastrnn[cuda]'") from e
    if not (config.ENABLE_CUDASIM or cuda.is_available()):
        raise RuntimeError(
            "backend='cuda' found no usable CUDA GPU (numba.cuda.is_available() is False); "
            "install the driver and 'fastrnn[cuda]', or set NUMBA_ENABLE_CUDASIM=1 for the simulator")
