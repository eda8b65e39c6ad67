"""Where the caller's arrays live, and the few layout operations the layer stack needs there.

Kinds: "numpy" (host: numpy arrays, array-likes, torch CPU tensors) and the CUDA kinds "numba"
(numba device arrays), "cupy" and "torch" (CUDA tensors). CUDA arrays are viewed as numba device
arrays without a copy (`__cuda_array_interface__`), computed on by the CUDA backend, and the
results handed back as the caller's kind, again without a copy. HostOps and DeviceOps give
fastrnn/functional.py one vocabulary for both.
"""
import numpy as np

from ._checks import float_array

CUDA_KINDS = ("numba", "cupy", "torch")


def kind_of(a):
    """'numpy', 'numba', 'cupy' or 'torch' (CUDA tensors only: CPU tensors count as host)."""
    if type(a) is np.ndarray:
        return "numpy"
    if hasattr(a, "copy_to_host"):                        # numba DeviceNDArray (or the simulator's)
        return "numba"
    module = type(a).__module__.split(".")[0]
    if module == "cupy":
        return "cupy"
    if module == "torch" and getattr(a, "is_cuda", False):
        return "torch"
    if hasattr(a, "__cuda_array_interface__"):
        return "numba"                                    # another CUDA array: results as numba's
    return "numpy"


def device_array(name, a, dtype):
    """A CUDA array of any kind -> a C-contiguous numba device array of `dtype`, zero-copy when it
    already is one. The dtype is checked, not cast: a silent cast would copy on every call."""
    from numba import cuda

    from .kernels.cuda.arrays.layout import contiguous
    kind = kind_of(a)
    if kind == "numpy":
        from .kernels.cuda.runtime.device import to_device
        return to_device(float_array(name, a, dtype))
    if kind == "torch":
        a = a.detach()          # a tensor that requires grad refuses the array interface
    if kind != "numba":
        a = cuda.as_cuda_array(a)
    if np.dtype(a.dtype) != np.dtype(dtype):
        raise TypeError(f"{name} is a {np.dtype(a.dtype).name} CUDA array but this call computes in "
                        f"{np.dtype(dtype).name}: pass {np.dtype(dtype).name} or set dtype to match")
    return contiguous(a)


def to_kind(a, kind):
    """A numba device array -> the caller's kind ('numpy' copies to the host)."""
    if kind == "numpy":
        return a.copy_to_host() if hasattr(a, "copy_to_host") else a
    if kind == "cupy":
        import cupy
        return cupy.asarray(a)
    if kind == "torch":
        import torch
        return torch.as_tensor(a, device="cuda")
    return a


class HostOps:
    """numpy arrays."""
    on_device = False

    @staticmethod
    def array(name, a, dtype):
        return float_array(name, a, dtype)

    @staticmethod
    def empty(shape, dtype):
        return np.empty(shape, dtype=dtype)

    @staticmethod
    def zeros(shape, dtype):
        return np.zeros(shape, dtype=dtype)

    @staticmethod
    def time_major(a, batch_first, unbatched):
        """(T, B, F), (B, T, F) if batch_first, (T, F) if unbatched -> contiguous (T, B, F)."""
        if unbatched:
            return np.ascontiguousarray(a[:, None, :])
        return np.ascontiguousarray(a.transpose(1, 0, 2) if batch_first else a)

    @staticmethod
    def caller_layout(a, batch_first, unbatched):
        """The inverse of time_major."""
        if unbatched:
            return a[:, 0, :]
        return np.ascontiguousarray(a.transpose(1, 0, 2)) if batch_first else a

    @staticmethod
    def concat_features(parts):
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=2)

    @staticmethod
    def stack(parts):
        """(n, ...) from n arrays of one shape, a new array (a backend may keep its own for backward)."""
        return parts[0][None].copy() if len(parts) == 1 else np.stack(parts)

    @staticmethod
    def features(a, lo, hi):
        return np.ascontiguousarray(a[:, :, lo:hi])

    @staticmethod
    def add(a, b):
        return a + b

    @staticmethod
    def mul(a, b):
        return a * b


class DeviceOps:
    """numba device arrays (what device_array returns)."""
    on_device = True

    @staticmethod
    def array(name, a, dtype):
        return device_array(name, a, dtype)

    @staticmethod
    def empty(shape, dtype):
        from .kernels.cuda.runtime.device import device_empty
        return device_empty(shape, dtype)

    @staticmethod
    def zeros(shape, dtype):
        from .kernels.cuda.arrays.elementwise import fill
        return fill(DeviceOps.empty(shape, dtype), 0)

    @staticmethod
    def time_major(a, batch_first, unbatched):
        from .kernels.cuda.arrays.layout import swap01
        if unbatched:
            return a.reshape(a.shape[0], 1, a.shape[1])
        return swap01(a) if batch_first else a

    @staticmethod
    def caller_layout(a, batch_first, unbatched):
        from .kernels.cuda.arrays.layout import swap01
        if unbatched:
            return a.reshape(a.shape[0], a.shape[2])
        return swap01(a) if batch_first else a

    @staticmethod
    def concat_features(parts):
        from .kernels.cuda.arrays.layout import copy3
        if len(parts) == 1:
            return parts[0]
        T, B, _ = parts[0].shape
        out = DeviceOps.empty((T, B, sum(p.shape[2] for p in parts)), parts[0].dtype)
        lo = 0
        for p in parts:
            copy3(out[:, :, lo:lo + p.shape[2]], p)
            lo += p.shape[2]
        return out

    @staticmethod
    def stack(parts):
        from .kernels.cuda.arrays.elementwise import copy_into
        out = DeviceOps.empty((len(parts),) + tuple(parts[0].shape), parts[0].dtype)
        for k, p in enumerate(parts):
            copy_into(out[k], p)
        return out

    @staticmethod
    def features(a, lo, hi):
        from .kernels.cuda.arrays.layout import copy3
        T, B, _ = a.shape
        return copy3(DeviceOps.empty((T, B, hi - lo), a.dtype), a[:, :, lo:hi])

    @staticmethod
    def add(a, b):
        from .kernels.cuda.arrays.elementwise import add_into
        return add_into(a, b)

    @staticmethod
    def mul(a, b):
        from .kernels.cuda.arrays.elementwise import multiply
        return multiply(DeviceOps.empty(a.shape, a.dtype), a, b)
