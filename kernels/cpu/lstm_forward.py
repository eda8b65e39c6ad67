"""LSTM forward sweep, CPU: phase 2 of kernels/cpu/layer.py, fused per step.

Shapes: T steps, B batch, H hidden size; gate order i, f, g, o. Per step: one BLAS GEMM for
h_{t-1} W_hh^T (as W_hh h_{t-1}^T, sweep.recurrent_gemm), then one fused loop over (b, j) that
adds the precomputed input projection and bias, applies the four activations, updates c and h, and stores
what backward needs. The gate activations overwrite the input projection in place: that buffer
is ours (made in phase 1) and is dead after this step.
"""
import numpy as np

from .activations import sigmoid, tanh
from .jit import kernel
from .sweep import active, recurrent_gemm, rows_before, time_index


@kernel
def lstm_forward_row(a, r, bias, c, h):
    """The fused pointwise step for one sequence: a (4H,) x W_ih^T, in: pre-activation part,
    out: activations; r (4H,) h_{t-1} W_hh^T; bias (4H,); c (H,) c_{t-1} in, c_t out; h (H,) out.
    A function of its own so LLVM vectorises this loop on its own (inside the sweep it did not)."""
    H = c.shape[0]
    for j in range(H):
        i = sigmoid(a[j] + r[j] + bias[j])
        f = sigmoid(a[H + j] + r[H + j] + bias[H + j])
        g = tanh(a[2 * H + j] + r[2 * H + j] + bias[2 * H + j])
        o = sigmoid(a[3 * H + j] + r[3 * H + j] + bias[3 * H + j])
        cj = f * c[j] + i * g
        c[j] = cj
        h[j] = o * tanh(cj)
        a[j] = i
        a[H + j] = f
        a[2 * H + j] = g
        a[3 * H + j] = o


@kernel
def lstm_forward_sweep(xp, w_hh, bias, h0, c0, reverse, save, y, c_all, lens, ragged):
    """
    xp     (T, B, 4H) x W_ih^T; on return holds the activations i, f, g, o (if save)
    w_hh   (4H, H)    as stored (torch layout); no copy (sweep.recurrent_gemm)
    bias   (4H,)      b_ih + b_hh
    h0, c0 (B, H)     initial state
    y      (T, B, H)  out: h_t
    c_all  (T, B, H)  out: c_t, written only if save (else may be (1, B, H))
    lens   (B,)       sequence lengths (sweep.py); ragged: some are shorter than T
    returns c_n (B, H): each sequence's c after its own last step
    """
    T, B, G = xp.shape
    c = c0.copy()
    rec = np.empty((B, G), dtype=xp.dtype)
    rec_t = np.empty((rec.shape[1], rec.shape[0]), dtype=rec.dtype)
    scratch = np.empty_like(c)
    for step in range(T):
        t = time_index(step, T, reverse)
        h_prev = rows_before(y, h0, t, reverse, lens, ragged, scratch)
        recurrent_gemm(h_prev, w_hh, rec_t, rec)
        for b in range(B):
            if active(t, lens, b):
                lstm_forward_row(xp[t, b], rec[b], bias, c[b], y[t, b])
            else:
                y[t, b] = 0      # padding: zero output; c[b] keeps the sequence's state
        if save:
            c_all[t] = c
    return c
