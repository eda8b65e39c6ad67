"""Elman RNN forward (tanh or relu), CPU: the fused pointwise step of phase 2 (kernels/cpu/sweep.py
runs it).

Shapes: B batch, H hidden size. Backward needs only h_t, so nothing else is saved.
"""
from typing import NamedTuple

from ..once import forward_once
from ..runtime.jit import kernel
from ..sweep import Forward, Scratch, active, forward_sweep, zero_units
from .activations import tanh


class RNNForward(NamedTuple):
    relu: bool           # relu if true, else tanh


@kernel
def rnn_forward_step(cell, fw, rec, h_prev, t, b0, b1, u0, u1):
    """Sequences b0 <= b < b1, units u0 <= j < u1 of step t: fw.xp[t] (B, H) x W_ih^T; rec (B, H)
    h_{t-1} W_hh^T; fw.y[t] (B, H) out: h_t (zero at padding). h_prev is not read."""
    xp_t, y_t = fw.xp[t], fw.y[t]
    H = y_t.shape[1]
    zero = xp_t.dtype.type(0)
    bb = fw.bias[u0:u1]
    for b in range(b0, b1):
        if not active(t, fw.lens, b):
            zero_units(y_t[b], H, u0, u1)
            continue
        a, q, h = xp_t[b, u0:u1], rec[b, u0:u1], y_t[b, u0:u1]
        if cell.relu:
            for j in range(u1 - u0):
                v = a[j] + q[j] + bb[j]
                h[j] = zero if v <= zero else v      # NaN stays NaN, as np.maximum and torch
        else:
            for j in range(u1 - u0):
                h[j] = tanh(a[j] + q[j] + bb[j])


@kernel
def rnn_forward_sweep(fw, cell, scratch, blocks, p):
    """The sweep (sweep.py) of member p: fw, cell, scratch arrive as plain tuples."""
    forward_sweep(rnn_forward_step, Forward(*fw), RNNForward(*cell), Scratch(*scratch), blocks, p)


@kernel
def rnn_forward_once(fw, cell, x, w_ih, rec, blocks, p):
    """A one-step forward (once.py) of member p: fw and cell arrive as plain tuples."""
    forward_once(rnn_forward_step, Forward(*fw), RNNForward(*cell), x, w_ih, rec, blocks, p)
