"""Layout changes on the device, for the layer stack in fastrnn/functional.py: batch-first to
time-major and back, one direction's features in or out of a bidirectional output, and
contiguous copies of strided views (a torch tensor after .transpose, say).

numba's DeviceNDArray has no n-d transpose or concatenate, so one grid-stride kernel does all:
out[i, j, k] = a[j, i, k] if swap01 else a[i, j, k], for 3-D views of any strides.
"""
from numba import cuda

from ..runtime.launch import grid_stride_launch
from ..runtime import device


@cuda.jit
def _copy3_kernel(out, a, swap01):
    """out (P, Q, R) from a (P, Q, R), or from a (Q, P, R) transposed if swap01."""
    P, Q, R = out.shape
    for idx in range(cuda.grid(1), P * Q * R, cuda.gridsize(1)):
        i = idx // (Q * R)
        rest = idx - i * Q * R
        j = rest // R
        k = rest - j * R
        out[i, j, k] = a[j, i, k] if swap01 else a[i, j, k]


def swap01(a):
    """(P, Q, R) -> a new C-contiguous (Q, P, R)."""
    P, Q, R = a.shape
    out = device.device_empty((Q, P, R), a.dtype)
    grid_stride_launch(_copy3_kernel, out.size, out, a, True)
    return out


def copy3(out, a):
    """out[...] = a for 3-D arrays (views) of one shape."""
    grid_stride_launch(_copy3_kernel, out.size, out, a, False)
    return out


@cuda.jit
def _copy2_kernel(out, a):
    P, Q = out.shape
    for idx in range(cuda.grid(1), P * Q, cuda.gridsize(1)):
        i = idx // Q
        out[i, idx - i * Q] = a[i, idx - i * Q]


@cuda.jit
def _copy1_kernel(out, a):
    for i in range(cuda.grid(1), out.shape[0], cuda.gridsize(1)):
        out[i] = a[i]


def contiguous(a):
    """a if it is C-contiguous, else a C-contiguous copy (1-D to 3-D)."""
    if a.is_c_contiguous():
        return a
    out = device.device_empty(a.shape, a.dtype)
    if a.ndim == 3:
        return copy3(out, a)
    grid_stride_launch(_copy2_kernel if a.ndim == 2 else _copy1_kernel, out.size, out, a)
    return out
