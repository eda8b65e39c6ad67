"""products/stage.py on its own: rows of a flat global array into shared memory, with many loads
in flight, against numpy at every shape class the sweeps use: more threads than columns, more
columns than threads, several passes of LOADS per thread, columns past the source's row
length (padding), rows past its data, and a chunk starting mid-row. Shared memory starts as NaN,
so an element the walk skips shows. Each case runs with the destination as plain rows and as
products/tile.py's tile-major layout (tiles of 1, 4 and 8 rows)."""
import functools

import numpy as np
import pytest
from numba import cuda, float64, uint32

from fastrnn.kernels.cuda.products import stage as stage_module
from fastrnn.kernels.cuda.products.tile import group, tile_offset


@functools.lru_cache(maxsize=None)
def _kernel(BT):
    stage = stage_module.stage_rows(float64, BT)

    @cuda.jit
    def kernel(src, out, x, ldx, rows, cols, ld, c0, rv, cv):
        smem = cuda.shared.array(0, float64)
        i = cuda.threadIdx.x
        while i < out.shape[0]:
            smem[i] = np.nan
            i += cuda.blockDim.x
        cuda.syncthreads()
        stage(smem, uint32(x), uint32(ldx), uint32(rows), uint32(cols), src, uint32(ld), uint32(c0),
              uint32(rv), uint32(cv))
        cuda.syncthreads()
        i = cuda.threadIdx.x
        while i < out.shape[0]:
            out[i] = smem[i]
            i += cuda.blockDim.x

    return kernel


CASES = {
    # name: (threads, source rows, ld, rows, cols, c0, ldx) -- rv = source rows, cv = what is left
    # of a source row from c0, at most cols
    "threads>cols": (16, 3, 5, 4, 5, 0, 7),            # a thread's walk carries into later rows
    "cols>threads": (4, 2, 33, 2, 36, 0, 37),          # padding past the row
    "chunk mid-row": (8, 3, 40, 4, 16, 32, 17),        # the last chunk: 8 of 16 columns have data
    "one row": (3, 1, 9, 1, 9, 0, 9),
    "many passes": (2, 5, 20, 6, 20, 0, 21),           # 120 elements over 2 threads: 2 passes of LOADS
}


def _place(x, ldx, r, k, BT):
    return x + (r * ldx + k if BT == 0 else tile_offset(r // BT, r % BT, k, ldx, group(BT)))


@pytest.mark.parametrize("BT", [0, 1, 4, 8])
@pytest.mark.parametrize("case", list(CASES))
def test_stage_matches_numpy(rng, case, BT):
    threads, R, ld, rows, cols, c0, ldx = CASES[case]
    if BT:      # a tile stride as the sweeps size it (tile_offset spaces KU columns by GROUP)
        ldx = group(BT) * -(-cols // 4) + 1
    src = rng.standard_normal(R * ld)
    x = 3                                            # an offset into shared memory
    cv = max(0, min(cols, ld - c0))
    size = _place(x, ldx, rows - 1, cols - 1, BT) + 1 + 2 + (ldx if BT else 0)
    out = np.zeros(size)
    _kernel(BT)[1, threads, 0, size * 8](src, out, x, ldx, rows, cols, ld, c0, R, cv)
    want = np.full(size, np.nan)
    block = np.zeros((rows, cols))
    block[:R, :cv] = src.reshape(R, ld)[:, c0:c0 + cv][:rows]
    for r in range(rows):
        for k in range(cols):
            want[_place(x, ldx, r, k, BT)] = block[r, k]
    np.testing.assert_array_equal(out, want)
