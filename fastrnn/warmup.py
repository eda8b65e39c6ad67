"""`fastrnn warmup`: compile the CPU kernels into numba's disk cache ahead of the first real call.

numba compiles a kernel the first time it runs with a new combination of argument types, and
keeps it in its disk cache (kernels/cpu/runtime/cache.py), so only a process that finds the cache
empty pays: tens of seconds for a cell's first forward+backward on a 2-core machine (README). A
deployment runs this once, at build time, into the cache directory its processes will use
(NUMBA_CACHE_DIR, or numba's default beside the installed package).

Tiny problems reach every kernel a layer can run: the one-step kernels (T=1), the sweeps on W_hh
read in place (few rows) and packed into panels (more rows), the GEMMs of phases 1 and 3 in both
forms, ragged batches and reverse sweeps (bidirectional), each on one member and, with the team's
split thresholds set to zero, on every member of the team (its parallel loop is compiled per
kernel). The CUDA kernels are not cached here: numba-cuda compiles them for the device it finds.
"""
import argparse
import sys
import time

import numpy as np

# (T, B) of each problem: a one-step call; a short sweep over few rows (W_hh in place, phase 1
# and 3 on few_rows.py); a sweep over enough rows to pack W_hh and run the GEMM tile
# (kernels/cpu/layer.*_PACK_ROWS).
PROBLEMS = ((1, 2), (3, 2), (40, 3))
CELLS = ("LSTM", "GRU", "RNN")


def warm(cells=CELLS, dtypes=("float32",), progress=None):
    """Run forward and backward of each cell in each dtype on every PROBLEMS shape, on one member
    and split over the team. Returns {(cell, dtype): seconds}."""
    import fastrnn
    from fastrnn.kernels.cpu.runtime import team
    rng = np.random.default_rng(0)
    took = {}
    for dtype in dtypes:
        for cell in cells:
            t0 = time.perf_counter()
            layer = getattr(fastrnn, cell)(4, 8, bidirectional=True, dtype=dtype, seed=0, backend="cpu")
            for split in (False, True):
                settings = dict(min_units=1, min_work=0, min_call_work=0, min_rows=1) if split else {}
                with team.configured(**settings):
                    for T, B in PROBLEMS:
                        x = rng.standard_normal((T, B, 4))
                        lengths = np.maximum(1, T - np.arange(B))       # ragged unless T = 1
                        y, _ = layer(x, lengths=lengths)
                        layer.backward(np.ones_like(y))
            took[(cell, dtype)] = time.perf_counter() - t0
            if progress:
                print(f"{cell} {dtype}: {took[(cell, dtype)]:.1f} s", file=progress, flush=True)
    return took


def main(argv=None):
    p = argparse.ArgumentParser(prog="fastrnn warmup", description=__doc__.split("\n\n")[0])
    p.add_argument("--dtype", choices=["float32", "float64", "all"], default="float32",
                   help="the dtype(s) to compile for (default float32)")
    p.add_argument("--cell", choices=[c.lower() for c in CELLS], action="append",
                   help="repeat for several (default all)")
    args = p.parse_args(sys.argv[2:] if argv is None else argv)
    dtypes = ("float32", "float64") if args.dtype == "all" else (args.dtype,)
    cells = tuple(c.upper() for c in args.cell) if args.cell else CELLS
    t = time.perf_counter()
    warm(cells, dtypes, progress=sys.stdout)
    print(f"compiled (or found in numba's cache) in {time.perf_counter() - t:.1f} s")
    return 0
