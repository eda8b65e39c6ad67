"""Backend registry: the name a user passes -> the module implementing one layer, one direction.

Every backend module has forward(mode, x, state0, w_ih, w_hh, b_ih, b_hh, reverse, need_grad)
and backward(saved, dy, dstate_n); fastrnn/reference/layer.py documents the contract.
"""
import importlib

NAMES = ("auto", "reference", "cpu", "cuda")

_MODULES = {
    "reference": "fastrnn.reference.layer",
    "cpu": "fastrnn.kernels.cpu.layer",
}


def resolve(name):
    """Check a backend name and turn "auto" into a concrete one."""
    if name not in NAMES:
        raise ValueError(f"backend must be one of {', '.join(map(repr, NAMES))}; got {name!r}")
    if name == "cuda":
        raise NotImplementedError(
            "backend='cuda' is not available in this version of fastrnn: the CUDA kernels are "
            "not implemented yet. Use backend='cpu' (the default for numpy arrays).")
    return "cpu" if name == "auto" else name


def get(name):
    """The layer module of a backend (imported on first use: the CPU kernels pull in numba)."""
    return importlib.import_module(_MODULES[resolve(name)])
