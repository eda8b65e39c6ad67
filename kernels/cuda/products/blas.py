"""GEMMs and reductions of phases 1 and 3 (and the per-step GEMM of step launch), on the device.

On a GPU with CuPy installed, matmul is cuBLAS through CuPy, on zero-copy views of numba's
device arrays. Elsewhere (the simulator, or no CuPy) it is a plain kernel: one thread per output
element, grid-stride, accumulating in the arrays' precision like cuBLAS does. That path is slow
on a GPU but the same function, so the simulator tests exercise the layer code end to end.
"""
from numba import cuda

from ..runtime.launch import grid_stride_launch
from ..runtime.device import cupy_or_none


@cuda.jit
def _matmul_kernel(a, b, out, trans_a, trans_b, accumulate):
    """out (M, N) = op(a) @ op(b), or += if accumulate; op transposes when its flag is set."""
    M, N = out.shape
    K = a.shape[0] if trans_a else a.shape[1]
    for idx in range(cuda.grid(1), M * N, cuda.gridsize(1)):
        i = idx // N
        j = idx - i * N
        acc = out[i, j] if accumulate else out.dtype.type(0)
        for k in range(K):
            acc += (a[k, i] if trans_a else a[i, k]) * (b[j, k] if trans_b else b[k, j])
        out[i, j] = acc


@cuda.jit
def _column_sum_kernel(a, out):
    """out (N,) = a (M, N) summed over rows, in row order (deterministic)."""
    M, N = a.shape
    for j in range(cuda.grid(1), N, cuda.gridsize(1)):
        acc = out.dtype.type(0)
        for i in range(M):
            acc += a[i, j]
        out[j] = acc


def matmul(a, b, out, trans_a=False, trans_b=False, accumulate=False):
    """out (M, N) = op(a) @ op(b) (+= if accumulate), op(a) (M, K) and op(b) (K, N) being a, b
    or their transposes. Device arrays, out C-contiguous. Transposes are flags, not arrays:
    numba's DeviceNDArray.T copies, where cuBLAS reads the transpose in place."""
    cp = cupy_or_none()
    if cp is not None:
        a_, b_, out_ = cp.asarray(a), cp.asarray(b), cp.asarray(out)
        a_ = a_.T if trans_a else a_
        b_ = b_.T if trans_b else b_
        if accumulate:
            out_ += a_ @ b_
        else:
            cp.matmul(a_, b_, out=out_)
        return out
    grid_stride_launch(_matmul_kernel, out.shape[0] * out.shape[1], a, b, out, trans_a, trans_b,
                       accumulate)
    return out


def column_sum(a, out):
    """out (N,) = sum of a (M, N) over its rows."""
    cp = cupy_or_none()
    if cp is not None:
        cp.sum(cp.asarray(a), axis=0, out=cp.asarray(out))
        return out
    grid_stride_launch(_column_sum_kernel, out.shape[0], a, out)
    return out


class StepGemm:
    """The per-step GEMM of a step-launch sweep: out = a_t @ op(w), where a_t is one step of a
    sequence or the initial state. w and out are wrapped for cuBLAS once per sweep and each
    sequence once (wrap), so a step costs one GEMM call: at small sizes a step is a few
    microseconds of GPU work, and host work per step is what counts."""

    def __init__(self, w, out, trans_b=False):
        self.cp = cupy_or_none()
        self.trans_b = trans_b
        if self.cp is not None:
            w = self.cp.asarray(w)
            w = w.T if trans_b else w
            out = self.cp.asarray(out)
        self.w, self.out = w, out

    def wrap(self, a):
        """A device array as __call__ takes it (index it per step)."""
        return self.cp.asarray(a) if self.cp is not None else a

    def __call__(self, a):
        if self.cp is not None:
            self.cp.matmul(a, self.w, out=self.out)
        else:
            grid_stride_launch(_matmul_kernel, self.out.shape[0] * self.out.shape[1], a, self.w, self.out,
                               False, self.trans_b, False)
