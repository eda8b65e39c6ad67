"""Small elementwise device kernels the layer needs around the sweeps (grid-stride)."""
from numba import cuda

from ..runtime.launch import grid_stride_launch


@cuda.jit
def _combine_bias_kernel(b_ih, b_hh, inside, out):
    """out (G*H,) = b_ih + b_hh, except the last `inside` entries, where b_hh is left out (GRU's
    b_hn acts inside the reset gate, so the sweep adds it there)."""
    n = out.shape[0]
    for r in range(cuda.grid(1), n, cuda.gridsize(1)):
        out[r] = b_ih[r] + (b_hh[r] if r < n - inside else out.dtype.type(0))


@cuda.jit
def _add_kernel(out, a):
    """out += a, both 1-D (flattened) of one length."""
    for i in range(cuda.grid(1), out.shape[0], cuda.gridsize(1)):
        out[i] += a[i]


@cuda.jit
def _mul_kernel(out, a, b):
    """out = a * b, all 1-D (flattened) of one length."""
    for i in range(cuda.grid(1), out.shape[0], cuda.gridsize(1)):
        out[i] = a[i] * b[i]


@cuda.jit
def _copy_kernel(out, a):
    for i in range(cuda.grid(1), out.shape[0], cuda.gridsize(1)):
        out[i] = a[i]


@cuda.jit
def _fill_kernel(out, value):
    for i in range(cuda.grid(1), out.shape[0], cuda.gridsize(1)):
        out[i] = value


def combine_bias(b_ih, b_hh, inside, out):
    grid_stride_launch(_combine_bias_kernel, out.shape[0], b_ih, b_hh, inside, out)
    return out


def add_into(out, a):
    """out += a for contiguous arrays of one shape."""
    grid_stride_launch(_add_kernel, out.size, out.reshape(out.size), a.reshape(a.size))
    return out


def multiply(out, a, b):
    """out = a * b for contiguous arrays of one shape."""
    grid_stride_launch(_mul_kernel, out.size, out.reshape(out.size), a.reshape(a.size), b.reshape(b.size))
    return out


def copy_into(out, a):
    """out[...] = a for contiguous arrays of one shape (a device-to-device copy)."""
    grid_stride_launch(_copy_kernel, out.size, out.reshape(out.size), a.reshape(a.size))
    return out


def fill(out, value):
    grid_stride_launch(_fill_kernel, out.size, out.reshape(out.size), out.dtype.type(value))
    return out
