"""Every block of a launch at once: a concurrent-grid mode for numba's CUDA simulator.

The simulator runs the blocks of a launch one after another, so a persistent kernel is only ever
tested as one block: a wrong unit offset, a short last block or a missing grid.sync() passes.
Inside `concurrent_grid()` every thread of every block is a Python thread started together;
syncthreads() is a barrier of the block, this_grid().sync() a barrier of the whole grid, and each
block has its own shared memory, the dynamic part filled with 0xFF bytes (NaN as float32 and
float64) so a read before a write shows. The dispatcher may then plan persistent grids of many
blocks (runtime/device.py's SIMULATED_COOPERATIVE_BLOCKS). A barrier that some thread never
reaches breaks after TIMEOUT seconds and fails the launch instead of hanging.

`grid_sync="block"` plants a bug for the tests to catch: grid.sync() only syncs the block.
"""
import sys
import threading
import traceback
from contextlib import contextmanager

import numpy as np
from numba.cuda.simulator import kernel as simulator_kernel
from numba.cuda.simulator import kernelapi

TIMEOUT = 120          # seconds at one barrier: far above any wait of the tests' small launches
GRID_BLOCKS = 64       # the co-resident limit the dispatcher sees in this mode


class _BlockShared(kernelapi.FakeCUDAShared):
    """One block's shared memory: dynamic part poisoned; static arrays made once per call site,
    atomically (two threads of a block asking at once must get the same array)."""

    def __init__(self, dynshared_size):
        super().__init__(dynshared_size)
        self._dynshared[:] = -1

    def array(self, shape, dtype, alignment=None):
        if shape == 0:
            return super().array(shape, dtype, alignment)
        caller = tuple(traceback.extract_stack(sys._getframe())[-2][0:2])
        poisoned = np.empty(shape, dtype)
        poisoned.view(np.uint8)[...] = 0xFF
        return self._allocations.setdefault(caller, poisoned)


class _Grid:
    def __init__(self, grid_dim, block_dim, dynshared_size, grid_sync):
        self.blocks = list(np.ndindex(*grid_dim))
        self.points = list(np.ndindex(*block_dim))
        per_block = len(self.points)
        self.barriers = {b: threading.Barrier(per_block, timeout=TIMEOUT) for b in self.blocks}
        self.grid_barrier = threading.Barrier(per_block * len(self.blocks), timeout=TIMEOUT)
        self.shared = {b: _BlockShared(dynshared_size) for b in self.blocks}
        self.grid_sync = grid_sync

    def abort(self):
        self.grid_barrier.abort()
        for b in self.barriers.values():
            b.abort()


class _Thread(threading.Thread):
    """One CUDA thread: what the simulator's module asks of threading.current_thread()."""

    def __init__(self, grid, block, point, block_dim, body):
        super().__init__(daemon=True)
        self.grid, self.block = grid, block
        self.blockIdx, self.threadIdx = kernelapi.Dim3(*block), kernelapi.Dim3(*point)
        self.thread_id = point[0] + block_dim[0] * (point[1] + block_dim[1] * point[2])
        self.body = body
        self.exception = None

    def run(self):
        try:
            self.body()
        except BaseException as e:        # stop every other thread at its next barrier
            self.exception = e
            self.grid.abort()

    def syncthreads(self):
        self.grid.barriers[self.block].wait()

    def sync_grid(self):
        if self.grid.grid_sync == "block":
            self.syncthreads()
        else:
            self.grid.grid_barrier.wait()


class _GridGroup:
    def sync(self):
        threading.current_thread().sync_grid()


class _Cg:
    def this_grid(self):
        return _GridGroup()


class _Module(kernelapi.FakeCUDAModule):
    """The simulator's `cuda` inside a kernel, with shared memory and the grid group per block."""

    @property
    def cg(self):
        return _Cg()

    @property
    def shared(self):
        t = threading.current_thread()
        return t.grid.shared[t.block]


def _runner(grid_sync):
    class Runner:
        """Stands in for the simulator's BlockManager, which it makes once per block: the first
        runs the whole grid, the others find nothing left to do."""

        def __init__(self, f, grid_dim, block_dim, debug):
            self.f, self.grid_dim, self.block_dim = f, grid_dim, block_dim

        def run(self, grid_point, *args):
            if any(grid_point):
                return
            dyn = simulator_kernel._get_kernel_context()._shared._dynshared_size
            grid = _Grid(self.grid_dim, self.block_dim, dyn, grid_sync)
            threads = [_Thread(grid, b, p, self.block_dim, lambda: self.f(*args))
                       for b in grid.blocks for p in grid.points]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            errors = [t.exception for t in threads if t.exception is not None]
            real = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)]
            if real:
                raise real[0]
            if errors:
                raise RuntimeError(f"a barrier was not reached by every thread within {TIMEOUT} s "
                                   f"(grid {self.grid_dim}, block {self.block_dim})") from errors[0]

    return Runner


@contextmanager
def concurrent_grid(grid_sync="grid"):
    """Every simulated launch inside runs all its blocks at once (see the module docstring)."""
    from fastrnn.kernels.cuda.runtime import device
    saved = simulator_kernel.BlockManager, simulator_kernel.FakeCUDAModule, device.SIMULATED_COOPERATIVE_BLOCKS
    simulator_kernel.BlockManager = _runner(grid_sync)
    simulator_kernel.FakeCUDAModule = _Module
    device.SIMULATED_COOPERATIVE_BLOCKS = GRID_BLOCKS
    try:
        yield
    finally:
        simulator_kernel.BlockManager, simulator_kernel.FakeCUDAModule, device.SIMULATED_COOPERATIVE_BLOCKS = saved


