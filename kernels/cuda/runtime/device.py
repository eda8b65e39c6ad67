"""What the CUDA code needs to know about where it runs: a real GPU or numba's simulator.

The simulator (NUMBA_ENABLE_CUDASIM=1) runs each thread as a Python thread, blocks one after
another, so a grid-wide barrier with more than one block is silently wrong there: the
dispatcher keeps persistent kernels to SIMULATED_COOPERATIVE_BLOCKS = 1 block on it. The tests'
concurrent-grid mode (tests/grid_simulator.py) runs every block at once and raises it.
"""
import warnings

import numpy as np
from numba import cuda
from numba.core import config
from numba.core.errors import NumbaPerformanceWarning

SIMULATOR = bool(config.ENABLE_CUDASIM)
SIMULATED_COOPERATIVE_BLOCKS = 1

# numba warns at every launch of fewer than 128 blocks. Here small grids are by design: one step
# at batch 1 is little work, and a persistent grid has as many blocks as it needs. Only that
# message is silenced.
warnings.filterwarnings("ignore", message="Grid size .* will likely result in GPU under-utilization",
                        category=NumbaPerformanceWarning)


def available():
    """True if CUDA kernels can run here (a GPU with a driver, or the simulator)."""
    return SIMULATOR or cuda.is_available()


def shared_limit():
    """Dynamic shared memory a kernel may have per block: the device's opt-in maximum on a GPU
    (227 KiB on Hopper; allow_shared raises a kernel's cap to it), 48 KiB on the simulator."""
    if SIMULATOR:
        return 48 * 1024
    return int(cuda.get_current_device().MAX_SHARED_MEMORY_PER_BLOCK_OPTIN)


def allow_shared(compiled, nbytes):
    """Raise a compiled kernel's dynamic shared-memory cap above the 48 KiB default. numba-cuda
    has no public call for it (NVIDIA/numba-cuda#94): this sets the attribute on the kernel's
    driver handle, as numba's own set_shared_memory_carveout sets another."""
    from numba.cuda.cudadrv.driver import binding, driver
    cufunc = compiled._codelibrary.get_cufunc()
    attr = binding.CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
    driver.cuKernelSetAttribute(attr, int(nbytes), cufunc.handle, cufunc.device.id)


def to_device(a):
    """A host array on the device, C-contiguous with canonical strides. numpy calls an array
    contiguous whatever the stride of a length-1 axis (x[:, None, :] has stride 0 there), and
    cuda.to_device keeps that stride; numba's reshape of the device array then refuses
    ("operation requires copying"). Reshaping the flat view back sets every stride, without a copy."""
    a = np.ascontiguousarray(a)
    return cuda.to_device(a.reshape(-1).reshape(a.shape))


def cupy_or_none():
    """CuPy (cuBLAS GEMMs) when it is installed and a real GPU is in use, else None."""
    if SIMULATOR:
        return None
    try:
        import cupy
    except ImportError:
        return None
    return cupy


def device_empty(shape, dtype):
    """Every device array the CUDA code writes comes from here (the tests replace it with a
    NaN-filled allocator, so an element a kernel forgets to write fails). cuda.device_array, with running out of device memory raised as MemoryError (numba raises
    CudaAPIError), so callers handle host and device exhaustion alike."""
    try:
        return cuda.device_array(shape, dtype=dtype)
    except MemoryError:
        raise
    except Exception as e:
        if "OUT_OF_MEMORY" in str(e) or getattr(e, "code", None) == 2:
            raise MemoryError(f"CUDA out of memory allocating an array of shape {shape} and dtype "
                              f"{dtype}") from e
        raise
