"""Rows of a global array into shared memory, with many loads in flight per thread.

A persistent sweep stages what the other blocks wrote at the step before (forward h_{t-1},
backward the partial products of dG) at every step, right after the grid barrier, and nothing
else can start until it is there: the staging is latency-bound unless each thread has many
loads in flight. A plain loop (load, store, next) waits one L2 round trip per element; here each
thread issues LOADS loads into registers, then stores them, so a step waits about
elements / (threads * LOADS) round trips (kernels/cuda/profile/model.py counts them).

A thread takes KU consecutive columns at a time (a group: one address computation, then
immediate offsets), and the flat index over rows x groups advances by the block size with a
carry into the row, so the walk divides once, not once per element. The destination is rows at
a stride, or the tile-major layout of products/tile.py, where a group's KU columns are
consecutive too.
"""
import functools

from numba import cuda, uint32

from .tile import KU, group, tiled

LOADS = 32      # global loads each thread has in flight while staging
GROUPS = LOADS // KU


@functools.lru_cache(maxsize=None)
def stage_rows(dtype, BT=0):
    """The device function staging into shared memory of `dtype`: element (r, k) to
    x + r*ldx + k (BT=0), or to tile-major tiles of BT rows at stride ldx (products/tile.py)."""
    if BT:
        GROUP = group(BT)

        @cuda.jit(device=True, inline="always")
        def place(x, ldx, r, k):
            return uint32(x + tiled(r // uint32(BT), r % uint32(BT), k, ldx, uint32(GROUP)))
    else:
        @cuda.jit(device=True, inline="always")
        def place(x, ldx, r, k):
            return uint32(x + r * ldx + k)

    @cuda.jit(device=True, inline="always")
    def stage(smem, x, ldx, rows, cols, src, ld, c0, rv, cv):
        """Element (r, k) of the shared operand at x (placed as above) = src[r*ld + c0 + k] for
        r < rows, k < cols: rows of a row-major matrix, src flat (1-D, so an element costs one
        32-bit offset); zero where r >= rv or k >= cv (no data there). All arguments but smem
        and src uint32; cols > 0. Does not synchronise the block."""
        # numba widens integer arithmetic to 64 bits; every value is cut back to 32 so the
        # walk compiles to 32-bit instructions
        x, ldx, rows, cols, ld = uint32(x), uint32(ldx), uint32(rows), uint32(cols), uint32(ld)
        c0, rv, cv = uint32(c0), uint32(rv), uint32(cv)
        nt = uint32(cuda.blockDim.x)
        tid = uint32(cuda.threadIdx.x)
        groups = uint32((cols + uint32(KU - 1)) // uint32(KU))
        step_r = uint32(nt // groups)       # the flat index advances nt = step_r rows + step_g
        step_g = uint32(nt - step_r * groups)
        vals = cuda.local.array(LOADS, dtype)
        at = cuda.local.array(GROUPS, uint32)
        keep = cuda.local.array(GROUPS, uint32)
        r = uint32(tid // groups)
        g = uint32(tid - r * groups)
        while r < rows:
            for i in range(GROUPS):
                k = uint32(g * uint32(KU))
                at[i] = place(x, ldx, r, k)
                keep[i] = uint32(cols - k) if r < rows else uint32(0)   # columns to store
                n = uint32(min(cv - k, uint32(KU))) if r < rv and k < cv else uint32(0)
                first = uint32(r * ld + c0 + k)
                for u in range(KU):
                    v = dtype(0)
                    if uint32(u) < n:
                        v = src[first + uint32(u)]
                    vals[i * KU + u] = v
                r = uint32(r + step_r)
                g = uint32(g + step_g)
                if g >= groups:
                    g = uint32(g - groups)
                    r = uint32(r + uint32(1))
            # a fence the compiler cannot move the stores above: all LOADS loads are issued
            # before the first store waits for its value
            cuda.threadfence_block()
            for i in range(GROUPS):
                for u in range(KU):
                    if uint32(u) < keep[i]:
                        smem[at[i] + uint32(u)] = vals[i * KU + u]

    return stage
