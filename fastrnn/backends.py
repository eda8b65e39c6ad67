"""Backend registry: the name a user passes -> the module implementing one layer, one direction.

Every backend module has forward(mode, x, state0, w_ih, w_hh, b_ih, b_hh, reverse, need_grad)
and backward(saved, dy, dstate_n); fastrnn/reference/layer.py documents the contract.
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
