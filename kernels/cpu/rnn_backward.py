"""Elman RNN backward sweep (BPTT), CPU: phase 2 of kernels/cpu/layer.py, in reverse time.

Shapes: T steps, B batch, H hidden size. The derivative of the nonlinearity is read off the
output: tanh' = 1 - h^2, relu' = [h > 0]. Per step: one fused loop, one BLAS GEMM dG_t W_hh.
"""
import numpy as np

from .jit import kernel
from .sweep import active, recurrent_grad, time_index


@kernel
def rnn_backward_row(h, dy, dh, relu, d):
    """The fused pointwise step for one sequence: h (H,) output h_t; dy (H,) its gradient;
    dh (H,) recurrent gradient of h_t; d (H,) out: pre-activation gradient."""
    H = h.shape[0]
    one = h.dtype.type(1)
    zero = h.dtype.type(0)
    if relu:
        for j in range(H):
            d[j] = (dy[j] + dh[j]) if h[j] > zero else zero
    else:
        for j in range(H):
            d[j] = (dy[j] + dh[j]) * (one - h[j] * h[j])


@kernel
def rnn_backward_sweep(y, w_hh, dy, dh_n, reverse, relu, dgates, lens, ragged):
    """
    y      (T, B, H) h_t
    w_hh   (H, H)    C-contiguous
    dy     (T, B, H) gradient of the outputs;  dh_n (B, H) of the final state
    relu   bool      relu if true, else tanh
    dgates (T, B, H) out: gradient of the pre-activations
    lens   (B,)      sequence lengths (sweep.py); padding passes dh through unchanged
    returns dh0 (B, H)
    """
    T, B, H = y.shape
    dh = dh_n.copy()
    rec = np.empty_like(dh)
    for step in range(T):
        t = time_index(step, T, not reverse)
        for b in range(B):
            if active(t, lens, b):
                rnn_backward_row(y[t, b], dy[t, b], dh[b], relu, dgates[t, b])
            else:
                dgates[t, b] = 0
        recurrent_grad(dgates[t], w_hh, dh, t, lens, ragged, rec)
    return dh
