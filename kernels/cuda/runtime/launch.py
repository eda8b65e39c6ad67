"""Launch configuration for grid-stride kernels.

Every elementwise kernel here loops `for idx in range(cuda.grid(1), n, cuda.gridsize(1))`, so any
grid computes the same result. On the simulator (each simulated thread costs ~0.2 ms per launch)
they run on a small grid of several blocks, which the tests vary; on a GPU, on enough blocks to
fill the chip.
"""
from .device import SIMULATOR

THREADS = 256
MAX_BLOCKS = 4096
SIM_GRID = (2, 3)    # (blocks, threads) on the simulator
FORCED_GRID = None   # (blocks, threads) for every launch: the tests try several


def grid_for(n):
    """(blocks, threads) for n independent work items."""
    if FORCED_GRID is not None:
        return FORCED_GRID
    if SIMULATOR:
        return SIM_GRID
    return max(1, min(MAX_BLOCKS, (n + THREADS - 1) // THREADS)), THREADS


def grid_stride_launch(kernel, n, *args):
    blocks, threads = grid_for(n)
    kernel[blocks, threads](*args)
