"""LSTM forward, CPU: the fused pointwise step of phase 2 (kernels/cpu/sweep.py runs it).

Shapes: B batch, H hidden size; gate order i, f, g, o. Per step and member: add the input
projection, the recurrent product and the bias, apply the four activations, update c and h, and
keep what backward needs. The activations overwrite the input projection in place: that buffer is
the layer's own (made in phase 1) and is dead after this step.
"""
from typing import NamedTuple

import numpy as np

from ..once import forward_once
from ..runtime.jit import kernel
from ..sweep import Forward, Scratch, active, copy_into, forward_sweep, units4, zero_units
from .activations import sigmoid, tanh


class LSTMForward(NamedTuple):
    c: np.ndarray        # (B, H) in: c0; out: each sequence's c after its own last step
    c_all: np.ndarray    # (T, B, H) out: c_t, if save (else (1, B, H), unused)


@kernel
def lstm_forward_step(cell, fw, rec, h_prev, t, b0, b1, u0, u1):
    """Sequences b0 <= b < b1, units u0 <= j < u1 of step t: fw.xp[t] (B, 4H) in: x W_ih^T, out:
    i, f, g, o; rec (B, 4H) h_{t-1} W_hh^T; cell.c (B, H) c_{t-1} in, c_t out; fw.y[t] out: h_t;
    cell.c_all[t] out: c_t, if fw.save. h_prev is not read (c carries the state)."""
    c = cell.c
    H = c.shape[1]
    xp_t, y_t = fw.xp[t], fw.y[t]
    c_t = cell.c_all[t] if fw.save else cell.c_all[0]
    bi, bf, bg, bo = units4(fw.bias, H, u0, u1)
    for b in range(b0, b1):
        if not active(t, fw.lens, b):
            # Padding: zero output; c[b] keeps the sequence's state, and c_t holds it too (a
            # reverse sweep's backward reads c_0 there).
            zero_units(y_t[b], H, u0, u1)
            if fw.save:
                copy_into(c_t[b, u0:u1], c[b, u0:u1])
            continue
        ai, af, ag, ao = units4(xp_t[b], H, u0, u1)
        ri, rf, rg, ro = units4(rec[b], H, u0, u1)
        cb, hb = c[b, u0:u1], y_t[b, u0:u1]
        for j in range(u1 - u0):
            i = sigmoid(ai[j] + ri[j] + bi[j])
            f = sigmoid(af[j] + rf[j] + bf[j])
            g = tanh(ag[j] + rg[j] + bg[j])
            o = sigmoid(ao[j] + ro[j] + bo[j])
            cj = f * cb[j] + i * g
            cb[j] = cj
            hb[j] = o * tanh(cj)
            ai[j] = i
            af[j] = f
            ag[j] = g
            ao[j] = o
        if fw.save:
            copy_into(c_t[b, u0:u1], cb)


@kernel
def lstm_forward_sweep(fw, cell, scratch, blocks, p):
    """The sweep (sweep.py) of member p: fw, cell, scratch arrive as plain tuples."""
    forward_sweep(lstm_forward_step, Forward(*fw), LSTMForward(*cell), Scratch(*scratch), blocks, p)


@kernel
def lstm_forward_once(fw, cell, x, w_ih, rec, blocks, p):
    """A one-step forward (once.py) of member p: fw and cell arrive as plain tuples."""
    forward_once(lstm_forward_step, Forward(*fw), LSTMForward(*cell), x, w_ih, rec, blocks, p)
