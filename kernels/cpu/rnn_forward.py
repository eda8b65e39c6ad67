"""Elman RNN forward sweep (tanh or relu), CPU: phase 2 of kernels/cpu/layer.py, fused per step.

Shapes: T steps, B batch, H hidden size. Run by a team (sweep.py): per step, a member computes
its rows of h_{t-1} W_hh^T (sweep.recurrent_rows), then one fused loop over its units adding the
input projection and bias and applying the nonlinearity; then the members meet. Backward needs
only h_t, so nothing else is saved.
"""
from .activations import tanh
from .jit import kernel
from .barrier import barrier
from .sweep import active, member_block, pack_forward, recurrent_rows, rows_before, time_index, zero_units


@kernel
def rnn_forward_step(xp_t, rec, bias, relu, y_t, t, lens, b0, b1, u0, u1):
    """The fused pointwise step of sequences b0 <= b < b1, units u0 <= j < u1: xp_t (B, H)
    x W_ih^T; rec (B, H) h_{t-1} W_hh^T; bias (H,); y_t (B, H) out: h_t (zero at padding).
    One call per member and step (sweep.py: pointwise steps)."""
    H = y_t.shape[1]
    zero = xp_t.dtype.type(0)
    bb = bias[u0:u1]
    for b in range(b0, b1):
        if not active(t, lens, b):
            zero_units(y_t[b], H, u0, u1)
            continue
        a, q, h = xp_t[b, u0:u1], rec[b, u0:u1], y_t[b, u0:u1]
        if relu:
            for j in range(u1 - u0):
                v = a[j] + q[j] + bb[j]
                h[j] = zero if v <= zero else v      # NaN stays NaN, as np.maximum and torch
        else:
            for j in range(u1 - u0):
                h[j] = tanh(a[j] + q[j] + bb[j])


@kernel
def rnn_forward_sweep(xp, w_hh, bias, h0, reverse, relu, y, lens, ragged, rec, scratch, pans, sync, blocks, p):
    """
    xp     (T, B, H) x W_ih^T
    w_hh   (H, H)    as stored (torch layout); packed or read in place (pans)
    bias   (H,)      b_ih + b_hh
    h0     (B, H)    initial state
    relu   bool      relu if true, else tanh
    y      (T, B, H) out: h_t
    lens   (B,)      sequence lengths (sweep.py); ragged: some are shorter than T
    rec, scratch, pans, sync, blocks, p   scratch and team arguments (sweep.py)
    """
    T = xp.shape[0]
    b0, b1, u0, u1 = member_block(blocks, p)
    scratch = scratch[p]
    pans = pack_forward(w_hh, pans, p, u0, u1)
    for step in range(T):
        t = time_index(step, T, reverse)
        h_prev = rows_before(y, h0, t, reverse, lens, ragged, scratch, b0, b1)
        recurrent_rows(h_prev[b0:b1], w_hh, pans, rec[b0:b1], u0, u1)
        rnn_forward_step(xp[t], rec, bias, relu, y[t], t, lens, b0, b1, u0, u1)
        barrier(sync, p, step + 1)
