"""Every kernel the CUDA backend launches, with the numba signature it is launched with.

Compiling needs no GPU: numba asks the current device for its compute capability only to pick
a default target, and `pretend_device` answers for the target being profiled.
"""
import numpy as np


def pretend_device(cc):
    import numba.cuda.dispatcher as dispatcher

    class Device:
        compute_capability = cc

    dispatcher.get_current_device = lambda: Device()


def kernels(dtype):
    """(name, kernel, signature) for every kernel, sweeps first: "<MODE> <pass> <strategy>"."""
    from numba import types

    from .. import layer, persistent
    from ..arrays import elementwise, layout, ragged
    from ..products import blas
    dt = getattr(types, dtype)
    A1, A2, A3 = (types.Array(dt, n, "C") for n in (1, 2, 3))
    S2 = types.Array(dt, 2, "A")      # strided 2-D views (matmul operands)
    S3 = types.Array(dt, 3, "A")      # strided 3-D views (layout copies)
    i64, b1 = types.int64, types.boolean
    L1 = types.Array(i64, 1, "C")     # sequence lengths
    fwd = (A3, A2, A1, A1, A2, A2, A3, A3, A3, L1, b1)
    bwd = (A3, A3, A2, A3, A2, A3, A2, A2, A3, A3, L1)
    out = []
    for mode, (f_step, f_persistent, b_step, b_persistent) in layer.KERNELS.items():
        out += [(f"{mode} forward step", f_step, (i64, i64, b1, b1) + fwd),
                (f"{mode} backward step", b_step, (i64, i64, b1, b1) + bwd)]
        for B, BT in ((1, 1), (4, 4), (8, 8)):     # the batch-tile variants (persistent.batch_tile)
            out += [(f"{mode} forward persistent BT={BT}", f_persistent(np.dtype(dtype), B),
                     persistent.signature(dtype, False)),
                    (f"{mode} backward persistent BT={BT}", b_persistent(np.dtype(dtype), B),
                     persistent.signature(dtype, True))]
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
