"""The recurrent product of one sweep step with W_hh read in place, for sweeps over too few rows
(T * B) to repay packing W_hh into panels (panels.py, layer.*_PACK_ROWS), and for the GEMMs
of phases 1 and 3 over few rows (few_rows.py).

Forward:  rec[b, r]  = h_{t-1}[b] . W_hh[r]     (rows_dot: the gate pre-activation rows r of this member)
Backward: dh[b, j]   = dG_t[b] W_hh[:, j]       (columns_dot: the hidden units j of this member)
At the batch sizes of a recurrent step (B = 1..64) BLAS pays for packing W on every call and, on
two cores, for its own threads. rows_dot reads W once per step and keeps a block of 4 (rows of W)
x 3 (rows of a) sums in registers, which LLVM vectorises along k (reduction_kernel): 12 vector
accumulators and 7 loads per 12 FMAs, then 12 horizontal sums (the packed product has none).
Why 4 x 3: the 4 rows of W stay in L1 while the block walks down a, whose rows come from L2; a
2 x 4 block loads a row of a per 2 FMAs and is limited by L2 bandwidth at large B * K; larger
blocks spill registers (kernels/TUNING.md).
"""
from ..runtime.jit import kernel, reduction_block, reduction_kernel


@reduction_kernel
def rows_dot(a, w, r0, r1, out, c0):
    """out[b, c0 + r - r0] = a[b] . w[r] for every row b of a and r0 <= r < r1.

    a   (B, K)  C-contiguous rows (h_{t-1})
    w   (R, K)  C-contiguous rows (W_hh)
    out (B, N)  N >= c0 + r1 - r0
    """
    B, K = a.shape
    r = r0
    while r + 4 <= r1:
        c = c0 + r - r0
        # rows of a in blocks of 3; the last 2 or 4 in blocks of 2 (B = 1: one row, a GEMV)
        left = B % 3 if B % 3 != 1 else (4 if B > 1 else 1)
        b = 0
        while b < B - left:
            _block4x3(a, w, r, b, out, c)
            b += 3
        while b + 2 <= B:
            _block4x2(a, w, r, b, out, c)
            b += 2
        if b < B:
            _block4x1(a, w, r, b, out, c)
        r += 4
    while r < r1:   # the last 1-3 rows of W
        c = c0 + r - r0
        for b in range(B):
            s = a.dtype.type(0)
            for k in range(a.shape[1]):
                s += w[r, k] * a[b, k]
            out[b, c] = s
        r += 1


@reduction_block
def _block4x3(a, w, r, b, out, c):
    # out[b:b+3, c:c+4] = a[b:b+3] . w[r:r+4]
    zero = a.dtype.type(0)
    s00 = s01 = s02 = s10 = s11 = s12 = s20 = s21 = s22 = s30 = s31 = s32 = zero
    for k in range(a.shape[1]):
        w0 = w[r, k]
        w1 = w[r + 1, k]
        w2 = w[r + 2, k]
        w3 = w[r + 3, k]
        x0 = a[b, k]
        x1 = a[b + 1, k]
        x2 = a[b + 2, k]
        s00 += w0 * x0
        s01 += w0 * x1
        s02 += w0 * x2
        s10 += w1 * x0
        s11 += w1 * x1
        s12 += w1 * x2
        s20 += w2 * x0
        s21 += w2 * x1
        s22 += w2 * x2
        s30 += w3 * x0
        s31 += w3 * x1
        s32 += w3 * x2
    out[b, c] = s00
    out[b + 1, c] = s01
    out[b + 2, c] = s02
    out[b, c + 1] = s10
    out[b + 1, c + 1] = s11
    out[b + 2, c + 1] = s12
    out[b, c + 2] = s20
    out[b + 1, c + 2] = s21
    out[b + 2, c + 2] = s22
    out[b, c + 3] = s30
    out[b + 1, c + 3] = s31
    out[b + 2, c + 3] = s32


@reduction_block
def _block4x2(a, w, r, b, out, c):
    # out[b:b+2, c:c+4] = a[b:b+2] . w[r:r+4]: the last 2 or 4 rows of a
    zero = a.dtype.type(0)
    s00 = s01 = s10 = s11 = s20 = s21 = s30 = s31 = zero
    for k in range(a.shape[1]):
        w0 = w[r, k]
        w1 = w[r + 1, k]
        w2 = w[r + 2, k]
        w3 = w[r + 3, k]
        x0 = a[b, k]
        x1 = a[b + 1, k]
        s00 += w0 * x0
        s01 += w0 * x1
        s10 += w1 * x0
        s11 += w1 * x1
        s20 += w2 * x0
        s21 += w2 * x1
        s30 += w3 * x0
        s31 += w3 * x1
    out[b, c] = s00
    out[b + 1, c] = s01
    out[b, c + 1] = s10
    out[b + 1, c + 1] = s11
    out[b, c + 2] = s20
    out[b + 1, c + 2] = s21
    out[b, c + 3] = s30
    out[b + 1, c + 3] = s31


@reduction_block
def _block4x1(a, w, r, b, out, c):
    # out[b, c:c+4] = a[b] . w[r:r+4]: a GEMV (B = 1)
    zero = a.dtype.type(0)
    s0 = s1 = s2 = s3 = zero
    for k in range(a.shape[1]):
        x = a[b, k]
        s0 += w[r, k] * x
        s1 += w[r + 1, k] * x
        s2 += w[r + 2, k] * x
        s3 += w[r + 3, k] * x
    out[b, c] = s0
    out[b, c + 1] = s1
    out[b, c + 2] = s2
    out[b, c + 3] = s3


@kernel
def columns_dot(a, w, c0, c1, out, accumulate=False):
    """out[b, j] (+)= a[b] . w[:, j] for every row b of a and c0 <= j < c1, reading w's rows in place:
    the backward product dG_t W_hh of a sweep over few rows (T * B, layer.BACKWARD_PACK_ROWS), where
    packing W_hh first (panels.py) would cost more than the products. Each row of w is read once,
    eight rows at a time: their columns c0..c1, scaled, are summed and added to every row of out
    (in L1 for the step sizes of a sweep). Allocates nothing: it runs inside a team (barrier.py).

    Why eight rows at a time: adding one row of w at a time loads and stores each row of out once
    per row of w, 1.5-8x slower, and its time moved with where the arrays lay, likely each load
    waiting on the store made to the same row one pass before (kernels/TUNING.md).

    a   (B, G)  rows (dG_t, or some of its gate blocks), each contiguous
    w   (G, K)  C-contiguous rows (W_hh, or the rows of those gate blocks)
    out (B, K)  `accumulate`: the product is added to out, not stored
    """
    B, G = a.shape
    n = c1 - c0
    if not accumulate:
        for b in range(B):
            out[b, c0:c1] = 0
    g = 0
    while g + 8 <= G:
        w0, w1, w2, w3 = w[g, c0:c1], w[g + 1, c0:c1], w[g + 2, c0:c1], w[g + 3, c0:c1]
        w4, w5, w6, w7 = w[g + 4, c0:c1], w[g + 5, c0:c1], w[g + 6, c0:c1], w[g + 7, c0:c1]
        for b in range(B):
            x0, x1, x2, x3 = a[b, g], a[b, g + 1], a[b, g + 2], a[b, g + 3]
            x4, x5, x6, x7 = a[b, g + 4], a[b, g + 5], a[b, g + 6], a[b, g + 7]
            row = out[b, c0:c1]     # a view indexed from 0, so the loop vectorises
            for j in range(n):
                row[j] += ((x0 * w0[j] + x1 * w1[j]) + (x2 * w2[j] + x3 * w3[j])
                           + ((x4 * w4[j] + x5 * w5[j]) + (x6 * w6[j] + x7 * w7[j])))
        g += 8
    while g < G:    # the last 0-7 rows of w
        wg = w[g, c0:c1]
        for b in range(B):
            x = a[b, g]
            row = out[b, c0:c1]
            for j in range(n):
                row[j] += x * wg[j]
        g += 1
