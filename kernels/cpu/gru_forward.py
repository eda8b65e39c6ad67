"""GRU forward sweep, CPU: phase 2 of kernels/cpu/layer.py, fused per step.

Shapes: T steps, B batch, H hidden size; gate order r, z, n (torch's variant: the reset gate
multiplies h W_hn^T + b_hn). Per step: one BLAS GEMM for h_{t-1} W_hh^T (as W_hh h_{t-1}^T,
sweep.recurrent_gemm), then one fused loop over (b, j). The activations overwrite the input
projection in place (our own buffer); the recurrent n-projection, which backward needs for dr, goes to hn_all.
"""
import numpy as np

from .activations import sigmoid, tanh
from .jit import kernel
from .sweep import active, recurrent_gemm, rows_before, time_index


@kernel
def gru_forward_row(a, q, bias, b_hn, h_prev, h, hn):
    """The fused pointwise step for one sequence: a (3H,) x W_ih^T in, activations r, z, n out;
    q (3H,) h_{t-1} W_hh^T; bias (3H,); b_hn (H,); h_prev (H,); h (H,) out; hn (H,) out."""
    H = h.shape[0]
    one = a.dtype.type(1)
    for j in range(H):
        r = sigmoid(a[j] + q[j] + bias[j])
        z = sigmoid(a[H + j] + q[H + j] + bias[H + j])
        hnj = q[2 * H + j] + b_hn[j]
        n = tanh(a[2 * H + j] + bias[2 * H + j] + r * hnj)
        h[j] = (one - z) * n + z * h_prev[j]
        hn[j] = hnj
        a[j] = r
        a[H + j] = z
        a[2 * H + j] = n


@kernel
def gru_forward_sweep(xp, w_hh, bias, b_hn, h0, reverse, save, y, hn_all, lens, ragged):
    """
    xp     (T, B, 3H) x W_ih^T; on return holds the activations r, z, n (if save)
    w_hh   (3H, H)    as stored (torch layout); no copy (sweep.recurrent_gemm)
    bias   (3H,)      b_ih + (b_hr, b_hz, 0): everything that adds outside the reset gate
    b_hn   (H,)       the recurrent n bias, inside the reset gate
    h0     (B, H)     initial state
    y      (T, B, H)  out: h_t
    hn_all (T, B, H)  out: h_{t-1} W_hn^T + b_hn (only if save; else may be (1, B, H))
    lens   (B,)       sequence lengths (sweep.py); ragged: some are shorter than T
    """
    T, B, G = xp.shape
    rec = np.empty((B, G), dtype=xp.dtype)
    rec_t = np.empty((rec.shape[1], rec.shape[0]), dtype=rec.dtype)
    scratch = np.empty_like(h0)
    for step in range(T):
        t = time_index(step, T, reverse)
        h_prev = rows_before(y, h0, t, reverse, lens, ragged, scratch)
        recurrent_gemm(h_prev, w_hh, rec_t, rec)
        hn_t = hn_all[t] if save else hn_all[0]
        for b in range(B):
            if active(t, lens, b):
                gru_forward_row(xp[t, b], rec[b], bias, b_hn, h_prev[b], y[t, b], hn_t[b])
            else:
                y[t, b] = 0      # padding: zero output
