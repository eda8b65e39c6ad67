"""Elman RNN forward sweep (tanh or relu), CPU: phase 2 of kernels/cpu/layer.py, fused per step.

Shapes: T steps, B batch, H hidden size. Per step: one BLAS GEMM for h_{t-1} W_hh^T (as W_hh h_{t-1}^T,
sweep.recurrent_gemm), then one fused loop adding the input projection and bias and applying the
nonlinearity. Backward needs only h_t, so nothing else is saved.
"""
import numpy as np

from .activations import tanh
from .jit import kernel
from .sweep import active, recurrent_gemm, rows_before, time_index


@kernel
def rnn_forward_row(a, q, bias, relu, h):
    """The fused pointwise step for one sequence: a (H,) x W_ih^T; q (H,) h_{t-1} W_hh^T;
    bias (H,); h (H,) out."""
    H = h.shape[0]
    zero = a.dtype.type(0)
    if relu:
        for j in range(H):
            v = a[j] + q[j] + bias[j]
            h[j] = zero if v <= zero else v      # NaN stays NaN, as np.maximum and torch
    else:
        for j in range(H):
            h[j] = tanh(a[j] + q[j] + bias[j])


@kernel
def rnn_forward_sweep(xp, w_hh, bias, h0, reverse, relu, y, lens, ragged):
    """
    xp     (T, B, H) x W_ih^T
    w_hh   (H, H)    as stored (torch layout); no copy (sweep.recurrent_gemm)
    bias   (H,)      b_ih + b_hh
    h0     (B, H)    initial state
    relu   bool      relu if true, else tanh
    y      (T, B, H) out: h_t
    lens   (B,)      sequence lengths (sweep.py); ragged: some are shorter than T
    """
    T, B, H = xp.shape
    rec = np.empty((B, H), dtype=xp.dtype)
    rec_t = np.empty((rec.shape[1], rec.shape[0]), dtype=rec.dtype)
    scratch = np.empty_like(h0)
    for step in range(T):
        t = time_index(step, T, reverse)
        h_prev = rows_before(y, h0, t, reverse, lens, ragged, scratch)
        recurrent_gemm(h_prev, w_hh, rec_t, rec)
        for b in range(B):
            if active(t, lens, b):
                rnn_forward_row(xp[t, b], rec[b], bias, relu, y[t, b])
            else:
                y[t, b] = 0      # padding: zero output
