"""Compile every CUDA kernel to PTX for a real GPU target, with or without a GPU.

    NUMBA_ENABLE_CUDASIM=0 python -m fastrnn.kernels.cuda.ptx_check [--cc 9.0]

The simulator runs kernels as Python, so it cannot see what only the compiler sees: typing
errors, unsupported features, float32 math silently promoted to float64 (a bare 1.0 does it).
This compiles each kernel for float32 and float64 through NVVM and fails if any float32 kernel
has a float64 instruction. It needs NVVM (pip install 'numba-cuda[cu13]') but no GPU or driver.
"""
import argparse
import sys

import numpy as np


def _pretend_device(cc):
    # numba asks the current device for its compute capability when it compiles a device
    # function; with no GPU there is none, so answer for the target being checked.
    import numba.cuda.dispatcher as dispatcher

    class Device:
        compute_capability = cc

    dispatcher.get_current_device = lambda: Device()


def signatures(dtype):
    """(name, kernel, numba signature) for every kernel the CUDA backend launches."""
    from numba import types

    from .products import blas
    from .arrays import elementwise
    from . import layer
    from .arrays import layout
    from .arrays import ragged
    dt = getattr(types, dtype)
    A1, A2, A3 = (types.Array(dt, n, "C") for n in (1, 2, 3))
    S2 = types.Array(dt, 2, "A")      # strided 2-D views (matmul operands)
    i64, b1 = types.int64, types.boolean
    L1 = types.Array(i64, 1, "C")     # sequence lengths
    S3 = types.Array(dt, 3, "A")      # strided 3-D views (layout copies)
    fwd = (A3, A2, A1, A1, A2, A2, A3, A3, A3, L1, b1)
    bwd = (A3, A3, A2, A3, A2, A3, A2, A2, A3, A3, L1)
    out = []
    for mode, (f_step, f_persistent, b_step, b_persistent) in layer.KERNELS.items():
        out += [(f"{mode} forward step", f_step, (i64, i64, b1, b1) + fwd),
                (f"{mode} forward persistent", f_persistent(np.dtype(dtype)),
                 (b1, i64, A2) + fwd[:1] + (A2,) + fwd[2:]),
                (f"{mode} backward step", b_step, (i64, i64, b1, b1) + bwd),
                (f"{mode} backward persistent", b_persistent(np.dtype(dtype)), (b1, i64, A2) + bwd)]
    out += [("matmul", blas._matmul_kernel, (S2, S2, A2, b1, b1, b1)),
            ("column_sum", blas._column_sum_kernel, (A2, A1)),
            ("combine_bias", elementwise._combine_bias_kernel, (A1, A1, i64, A1)),
            ("add", elementwise._add_kernel, (A1, A1)),
            ("multiply", elementwise._mul_kernel, (A1, A1, A1)),
            ("copy", elementwise._copy_kernel, (A1, A1)),
            ("fill", elementwise._fill_kernel, (A1, dt)),
            ("layout copy3", layout._copy3_kernel, (S3, S3, b1)),
            ("ragged rows_before", ragged._rows_before_kernel, (A2, A2, A3, i64, i64, b1, b1, L1)),
            ("ragged keep_padded", ragged._keep_padded_kernel, (A2, A2, i64, L1)),
            ("ragged last_rows", ragged._last_rows_kernel, (A2, A3, L1)),
            ("ragged start_term", ragged._start_term_kernel, (A2, A3, A2, L1))]
    return out


def float64_instructions(ptx):
    return sum(1 for line in ptx.splitlines() if ".f64" in line and not line.lstrip().startswith("//"))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cc", default="9.0", help="compute capability to compile for (default 9.0, Hopper)")
    args = p.parse_args(argv)
    cc = tuple(int(v) for v in args.cc.split("."))
    from numba import cuda
    from numba.core import config
    if config.ENABLE_CUDASIM:
        p.error("run with NUMBA_ENABLE_CUDASIM=0: the simulator compiles nothing")
    if not cuda.is_available():
        _pretend_device(cc)
    failures = 0
    for dtype in ("float32", "float64"):
        for name, kernel, sig in signatures(dtype):
            try:
                ptx, _ = cuda.compile_ptx(kernel.py_func, sig, cc=cc)
            except Exception as e:   # report every kernel, then fail
                failures += 1
                print(f"FAIL {dtype:8} {name}: {type(e).__name__}: {str(e).splitlines()[0]}")
                continue
            f64 = float64_instructions(ptx)
            bad = dtype == "float32" and f64 > 0
            failures += bad
            print(f"{'FAIL' if bad else 'ok  '} {dtype:8} {name}: {len(ptx.splitlines())} PTX lines, "
                  f"{f64} float64 instructions")
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
