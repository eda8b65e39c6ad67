"""LSTM backward (BPTT), CPU: the fused pointwise step of phase 2 (kernels/cpu/sweep.py runs it,
in reverse time).

Shapes: B batch, H hidden size; gate order i, f, g, o. Per step and member: turn dh_t, dc_t and
the saved activations into the pre-activation gradient dG_t; the sweep then adds dG_t W_hh into
dh. The weight gradients are left to phase 3, as big GEMMs over all steps at once.
"""
from typing import NamedTuple

import numpy as np

from ..once import Grads, backward_once
from ..runtime.jit import kernel
from ..sweep import Backward, Scratch, active, backward_sweep, state_before, units4, zero_units
from .activations import tanh


class LSTMBackward(NamedTuple):
    c_all: np.ndarray    # (T, B, H) c_t; holds c0 at a reverse sweep's not-yet-started rows, so
                         # c_{t-1} needs no per-row care
    c0: np.ndarray       # (B, H) initial cell state
    dc: np.ndarray       # (B, H) in: gradient of the final c; out: of c0


@kernel
def lstm_backward_step(cell, bw, h_prev, t, b0, b1, u0, u1):
    """Sequences b0 <= b < b1, units u0 <= j < u1 of step t: bw.gates[t] (B, 4H) i, f, g, o;
    bw.dy[t] (B, H); bw.dh (B, H) recurrent gradient of h_t in, 0 out (the sweep adds dG_t W_hh);
    cell.dc (B, H) gradient of c_t in, of c_{t-1} out; bw.dg[t] (B, 4H) out. Padding: zero dG,
    dh and dc pass through. h_prev is not read."""
    c_t = cell.c_all[t]
    c_prev = state_before(cell.c_all, cell.c0, t, bw.reverse)
    dh, dc = bw.dh, cell.dc
    a_t, dy_t, d_t = bw.gates[t], bw.dy[t], bw.dg[t]
    H = c_t.shape[1]
    one = a_t.dtype.type(1)   # a bare 1 would promote float32 math to float64
    for b in range(b0, b1):
        if not active(t, bw.lens, b):
            zero_units(d_t[b], H, u0, u1)
            continue
        ai, af, ag, ao = units4(a_t[b], H, u0, u1)
        di, df, dg, do = units4(d_t[b], H, u0, u1)
        ct, cp, dyb, dhb, dcb = c_t[b, u0:u1], c_prev[b, u0:u1], dy_t[b, u0:u1], dh[b, u0:u1], dc[b, u0:u1]
        for j in range(u1 - u0):
            i = ai[j]
            f = af[j]
            g = ag[j]
            o = ao[j]
            tc = tanh(ct[j])
            dhj = dyb[j] + dhb[j]
            dcj = dcb[j] + dhj * o * (one - tc * tc)
            di[j] = dcj * g * i * (one - i)
            df[j] = dcj * cp[j] * f * (one - f)
            dg[j] = dcj * i * (one - g * g)
            do[j] = dhj * tc * o * (one - o)
            dcb[j] = dcj * f
            dhb[j] = 0


@kernel
def lstm_backward_sweep(bw, cell, scratch, blocks, p):
    """The sweep (sweep.py) of member p: bw, cell, scratch arrive as plain tuples."""
    backward_sweep(lstm_backward_step, Backward(*bw), LSTMBackward(*cell), Scratch(*scratch), blocks, p)


@kernel
def lstm_backward_once(bw, cell, x, w_ih, grads, dx, sync, blocks, p):
    """A one-step backward (once.py) of member p: bw, cell and grads arrive as plain tuples."""
    backward_once(lstm_backward_step, Backward(*bw), LSTMBackward(*cell), x, w_ih, Grads(*grads), dx, sync,
                  blocks, p)
