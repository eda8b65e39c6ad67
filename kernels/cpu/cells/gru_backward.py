"""GRU backward (BPTT), CPU: the fused pointwise step of phase 2 (kernels/cpu/sweep.py runs it, in
reverse time).

Shapes: B batch, H hidden size; gate order r, z, n. The pre-activation gradients w.r.t.
x W_ih^T + b_ih (dGi: r, z, n blocks) and w.r.t. h W_hh^T + b_hh (dGh) differ only in the n
block, which the reset gate scales: dGh = [dGi_r, dGi_z, dn * r]. So only dn * r is stored
besides dGi (bw.dg_tail); the r and z blocks are read from dGi (writing dGh in full cost 2H more
floats per sequence and step: kernels/TUNING.md). The part of dh_{t-1} that bypasses W_hh,
dh_t * z, is left in dh, to which the sweep adds dGh_t W_hh.
"""
from typing import NamedTuple

import numpy as np

from ..once import Grads, backward_once
from ..runtime.jit import kernel
from ..sweep import Backward, Scratch, active, backward_sweep, units3, zero_units


class GRUBackward(NamedTuple):
    hn_all: np.ndarray   # (T, B, H) h_{t-1} W_hn^T + b_hn, as forward saved it


@kernel
def gru_backward_step(cell, bw, h_prev, t, b0, b1, u0, u1):
    """Sequences b0 <= b < b1, units u0 <= j < u1 of step t: bw.gates[t] (B, 3H) r, z, n;
    cell.hn_all[t], h_prev (B, H); bw.dy[t] (B, H); bw.dh (B, H) recurrent gradient of h_t in,
    dh_t * z out; bw.dg[t] (B, 3H) out: input-side dG; bw.dg_tail[t] (B, H) out: dn * r. Padding:
    zero dG, dh passes through."""
    a_t, hn_t, dy_t = bw.gates[t], cell.hn_all[t], bw.dy[t]
    di_t, dn_t, dh = bw.dg[t], bw.dg_tail[t], bw.dh
    H = hn_t.shape[1]
    one = a_t.dtype.type(1)
    for b in range(b0, b1):
        if not active(t, bw.lens, b):
            zero_units(di_t[b], H, u0, u1)
            zero_units(dn_t[b], H, u0, u1)
            continue
        ar, az, an = units3(a_t[b], H, u0, u1)
        dir_, diz, din = units3(di_t[b], H, u0, u1)
        drn = dn_t[b, u0:u1]
        hnb, hp, dyb, dhb = hn_t[b, u0:u1], h_prev[b, u0:u1], dy_t[b, u0:u1], dh[b, u0:u1]
        for j in range(u1 - u0):
            r = ar[j]
            z = az[j]
            n = an[j]
            dhj = dyb[j] + dhb[j]
            dn = dhj * (one - z) * (one - n * n)
            dz = dhj * (hp[j] - n) * z * (one - z)
            dr = dn * hnb[j] * r * (one - r)
            dir_[j] = dr
            diz[j] = dz
            din[j] = dn
            drn[j] = dn * r
            dhb[j] = dhj * z


@kernel
def gru_backward_sweep(bw, cell, scratch, blocks, p):
    """The sweep (sweep.py) of member p: bw, cell, scratch arrive as plain tuples."""
    backward_sweep(gru_backward_step, Backward(*bw), GRUBackward(*cell), Scratch(*scratch), blocks, p)


@kernel
def gru_backward_once(bw, cell, x, w_ih, grads, dx, sync, blocks, p):
    """A one-step backward (once.py) of member p: bw, cell and grads arrive as plain tuples."""
    backward_once(gru_backward_step, Backward(*bw), GRUBackward(*cell), x, w_ih, Grads(*grads), dx, sync,
                  blocks, p)
