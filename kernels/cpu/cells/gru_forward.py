"""GRU forward, CPU: the fused pointwise step of phase 2 (kernels/cpu/sweep.py runs it).

Shapes: B batch, H hidden size; gate order r, z, n (torch's variant: the reset gate multiplies
h W_hn^T + b_hn). The activations overwrite the input projection in place (the layer's own
buffer); the recurrent n-projection, which backward needs for dr, goes to hn_all.
"""
from typing import NamedTuple

import numpy as np

from ..once import forward_once
from ..runtime.jit import kernel
from ..sweep import Forward, Scratch, active, forward_sweep, units3, zero_units
from .activations import sigmoid, tanh


class GRUForward(NamedTuple):
    b_hn: np.ndarray     # (H,) the recurrent n bias, inside the reset gate (fw.bias holds
                         # b_ih + (b_hr, b_hz, 0))
    hn_all: np.ndarray   # (T, B, H) out: h_{t-1} W_hn^T + b_hn, if save (else (1, B, H), unused)


@kernel
def gru_forward_step(cell, fw, rec, h_prev, t, b0, b1, u0, u1):
    """Sequences b0 <= b < b1, units u0 <= j < u1 of step t: fw.xp[t] (B, 3H) in: x W_ih^T, out:
    r, z, n; rec (B, 3H) h_{t-1} W_hh^T; h_prev (B, H); fw.y[t] (B, H) out: h_t (zero at
    padding); cell.hn_all[t] (B, H) out."""
    xp_t, y_t = fw.xp[t], fw.y[t]
    hn_t = cell.hn_all[t] if fw.save else cell.hn_all[0]
    H = y_t.shape[1]
    one = xp_t.dtype.type(1)
    br, bz, bn = units3(fw.bias, H, u0, u1)
    bhn = cell.b_hn[u0:u1]
    for b in range(b0, b1):
        if not active(t, fw.lens, b):
            zero_units(y_t[b], H, u0, u1)
            continue
        ar, az, an = units3(xp_t[b], H, u0, u1)
        qr, qz, qn = units3(rec[b], H, u0, u1)
        hp, hb, hnb = h_prev[b, u0:u1], y_t[b, u0:u1], hn_t[b, u0:u1]
        for j in range(u1 - u0):
            r = sigmoid(ar[j] + qr[j] + br[j])
            z = sigmoid(az[j] + qz[j] + bz[j])
            hnj = qn[j] + bhn[j]
            n = tanh(an[j] + bn[j] + r * hnj)
            hb[j] = (one - z) * n + z * hp[j]
            hnb[j] = hnj
            ar[j] = r
            az[j] = z
            an[j] = n


@kernel
def gru_forward_sweep(fw, cell, scratch, blocks, p):
    """The sweep (sweep.py) of member p: fw, cell, scratch arrive as plain tuples."""
    forward_sweep(gru_forward_step, Forward(*fw), GRUForward(*cell), Scratch(*scratch), blocks, p)


@kernel
def gru_forward_once(fw, cell, x, w_ih, rec, blocks, p):
    """A one-step forward (once.py) of member p: fw and cell arrive as plain tuples."""
    forward_once(gru_forward_step, Forward(*fw), GRUForward(*cell), x, w_ih, rec, blocks, p)
