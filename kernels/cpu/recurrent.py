"""The recurrent product of one sweep step, for the rows of W that one team member owns.

Forward:  rec[b, r]  = h_{t-1}[b] . W_hh[r]     (the gate pre-activation rows r of this member)
Backward: dh[b, j]   = dG_t[b] . W_hh^T[j]      (the hidden units j of this member)
Both are `rows_dot`. At the batch sizes of a recurrent step (B = 1..64) BLAS pays for packing
W on every call and, on two cores, for its own threads; this loop reads W once per step, in place,
and keeps a 2 (rows of W) x 4 (rows of a) block of sums in registers, which LLVM vectorises
along k (reduction_kernel). Measured per step, one core, float32, 4H x H: B=8 H=512 64 GFLOP/s
(OpenBLAS: 52 on one thread; its (B, 4H) x (4H, H) backward product: 19).
"""
from .jit import reduction_kernel


@reduction_kernel
def rows_dot(a, w, r0, r1, out, c0):
    """out[b, c0 + r - r0] = a[b] . w[r] for every row b of a and r0 <= r < r1.

    a   (B, K)  C-contiguous rows (h_{t-1}, or dG_t)
    w   (R, K)  C-contiguous rows (W_hh, or W_hh^T)
    out (B, N)  N >= c0 + r1 - r0
    """
    B, K = a.shape
    zero = a.dtype.type(0)
    r = r0
    while r + 2 <= r1:
        c = c0 + r - r0
        b = 0
        while b + 4 <= B:
            s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = zero
            for k in range(K):
                w0 = w[r, k]
                w1 = w[r + 1, k]
                x0 = a[b, k]
                x1 = a[b + 1, k]
                x2 = a[b + 2, k]
                x3 = a[b + 3, k]
                s00 += w0 * x0
                s01 += w0 * x1
                s02 += w0 * x2
                s03 += w0 * x3
                s10 += w1 * x0
                s11 += w1 * x1
                s12 += w1 * x2
                s13 += w1 * x3
            out[b, c] = s00
            out[b + 1, c] = s01
            out[b + 2, c] = s02
            out[b + 3, c] = s03
            out[b, c + 1] = s10
            out[b + 1, c + 1] = s11
            out[b + 2, c + 1] = s12
            out[b + 3, c + 1] = s13
            b += 4
        while b < B:
            s0 = s1 = zero
            for k in range(K):
                x = a[b, k]
                s0 += w[r, k] * x
                s1 += w[r + 1, k] * x
            out[b, c] = s0
            out[b, c + 1] = s1
            b += 1
        r += 2
    if r < r1:
        c = c0 + r - r0
        for b in range(B):
            s = zero
            for k in range(K):
                s += w[r, k] * a[b, k]
            out[b, c] = s
