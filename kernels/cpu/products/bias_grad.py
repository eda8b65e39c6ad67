"""Phase 3's bias gradients: dG (T*B, G*H) summed over its rows, one sum per gate unit.

The sum runs down T*B rows (32000 at T=500 B=64), in row order, so that every row is read once
and in full. A float32 running sum of n terms errs by about sqrt(n) roundings of the total: at
T=40 B=4 one LSTM seed's bias gradient (15.9) erred by 1.8e-5, 8x the float32 reference's error,
whose sums run over B per step and over T after. Accumulating in float64 makes the sum exact to
the float32 rounding of the result, at a cost that stays under the memory read at moderate
widths (kernels/TUNING.md).
"""
import numpy as np

from ..runtime.jit import kernel


@kernel
def column_sums(a, out):
    """out (n,) = a (m, n) summed over its rows, in float64; a C-contiguous."""
    m, n = a.shape
    acc = np.zeros(n, np.float64)
    for i in range(m):
        for j in range(n):
            acc[j] += a[i, j]
    for j in range(n):
        out[j] = acc[j]
    return out
