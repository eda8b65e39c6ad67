"""GEMM through BLAS, split over the team (team.py): the second way, beside the register tile
(tile_gemm.py), that fastrnn/bench/timing.py's sgemm peak measures, as BLAS may be the faster one on
another machine. The layer itself calls no BLAS: its GEMMs are the tile's and, over few rows,
few_rows.py's.

Each member calls BLAS on its rows of a from inside a nogil kernel, with BLAS made single-threaded
for the run (restored afterwards: the caller's BLAS settings are theirs), so the members run at
once and no other thread pool competes for the cores. numba's np.dot goes through scipy's BLAS;
numpy bundles another OpenBLAS with its own threads, so numpy's `@` is not used (two libraries'
threads on the same cores: kernels/TUNING.md).
"""
import numpy as np

from ..runtime import memory, team
from ..runtime.jit import kernel


def matmul(a, b, out=None):
    """a (m, k) @ b (k, n) -> (m, n) C-contiguous (into `out` if given); a C-contiguous, b C- or
    F-contiguous. The members take contiguous ranges of a's rows, each reading all of b."""
    m, k = a.shape
    n = b.shape[1]
    out = memory.empty((m, n), a.dtype) if out is None else out
    with team.session():        # one caller at a time sets BLAS's threads
        before = [c.get_num_threads() for c in controllers()]
        for c in controllers():
            c.set_num_threads(1)
        try:
            team.run(_dot_rows, (a, b, out), team.row_ranges(m, m * k * n))
        finally:
            for c, threads in zip(controllers(), before):
                c.set_num_threads(threads)
    return out


_controllers = []


def controllers():
    """threadpoolctl's controllers of the BLAS libraries loaded in this process, scipy's among them
    (numba's np.dot calls it): found once, as looking costs milliseconds."""
    if not _controllers:
        import scipy.linalg.cython_blas  # noqa: F401  (load it before looking)
        from threadpoolctl import ThreadpoolController
        _controllers.extend(c for c in ThreadpoolController().lib_controllers if c.user_api == "blas")
    return _controllers


@kernel
def _dot_rows(a, b, out, blocks, p):
    # out[r0:r1] = a[r0:r1] @ b: rows r0..r1 of a (m, k); b (k, n) C- or F-contiguous
    r0, r1 = blocks[p, 0], blocks[p, 1]
    np.dot(a[r0:r1], b, out[r0:r1])
