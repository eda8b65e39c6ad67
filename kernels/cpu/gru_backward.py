"""GRU backward sweep (BPTT), CPU: phase 2 of kernels/cpu/layer.py, in reverse time.

Shapes: T steps, B batch, H hidden size; gate order r, z, n.
Per step: one fused loop over (b, j) producing the pre-activation gradients. Those w.r.t.
x W_ih^T + b_ih (dGi: r, z, n blocks) and w.r.t. h W_hh^T + b_hh (dGh) differ only in the n
block, which the reset gate scales: dGh = [dGi_r, dGi_z, dn * r]. So only dn * r is stored
besides dGi (dgn); the r and z blocks are read from dGi. Writing dGh in full cost 2H more floats
per sequence and step, at T=500 the larger part of the step's time (memory-bound there): one
member, B=32, us per step, full dGh / dn * r only: T=500 H=128 26.2 / 22.9, T=100 H=128 23.9 /
20.4, T=500 H=256 68.5 / 64.6. Run by a team (sweep.py): the fused loop covers a member's units;
the members meet; then each computes its units of dGh_t W_hh, the recurrent part of dh_{t-1}, in
two pieces (sweep.recurrent_grad_split).
"""
from .jit import kernel
from .barrier import barrier
from .sweep import (active, member_block, pack_backward, recurrent_grad_split, rows_before, time_index, units3,
                    zero_units)


@kernel
def gru_backward_step(a_t, hn_t, h_prev, dy_t, dh, di_t, dn_t, direct, t, lens, b0, b1, u0, u1):
    """The fused pointwise step of sequences b0 <= b < b1, units u0 <= j < u1: a_t (B, 3H) saved
    r, z, n; hn_t (B, H); h_prev (B, H); dy_t (B, H) output gradient; dh (B, H) recurrent gradient
    of h_t; di_t (B, 3H) out: input-side pre-activation gradients; dn_t (B, H) out: dn * r, the
    n block of the recurrent side (both zero at padding); direct (B, H) out: dh_t * z.
    One call per member and step (sweep.py: pointwise steps)."""
    H = hn_t.shape[1]
    one = a_t.dtype.type(1)
    for b in range(b0, b1):
        if not active(t, lens, b):
            zero_units(di_t[b], H, u0, u1)
            zero_units(dn_t[b], H, u0, u1)
            continue
        ar, az, an = units3(a_t[b], H, u0, u1)
        dir_, diz, din = units3(di_t[b], H, u0, u1)
        drn = dn_t[b, u0:u1]
        hnb, hp, dyb = hn_t[b, u0:u1], h_prev[b, u0:u1], dy_t[b, u0:u1]
        dhb, dirb = dh[b, u0:u1], direct[b, u0:u1]
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
            dirb[j] = dhj * z


@kernel
def add_direct(dh, direct, t, lens, b0, b1, u0, u1):
    """dh[b, u0:u1] += direct[b, u0:u1] (B, H) for the sequences b0 <= b < b1 active at t."""
    for b in range(b0, b1):
        if active(t, lens, b):
            dhb, dirb = dh[b, u0:u1], direct[b, u0:u1]
            for j in range(u1 - u0):
                dhb[j] += dirb[j]


@kernel
def gru_backward_sweep(gates, hn_all, y, h0, w_hh, dy, dh, reverse, dgi, dgn, lens, ragged, pans, rec, direct,
                       scratch, sync, blocks, p):
    """
    gates  (T, B, 3H) activations r, z, n saved by the forward sweep
    hn_all (T, B, H)  h_{t-1} W_hn^T + b_hn
    y      (T, B, H)  h_t;  h0 (B, H) initial state
    w_hh   (3H, H)    C-contiguous
    dy     (T, B, H)  gradient of the outputs h_t
    dh     (B, H)     in: gradient of the final state; out: of the initial state
    dgi    (T, B, 3H) out: pre-activation gradients, input side (r, z, n)
    dgn    (T, B, H)  out: dn * r, the n block of the recurrent side (its r, z blocks are dgi's)
    lens   (B,)       sequence lengths (sweep.py); padding passes dh through unchanged
    pans, rec, direct, scratch, sync, blocks, p   scratch and team arguments (sweep.py)
    """
    T, H = gates.shape[0], hn_all.shape[2]
    b0, b1, u0, u1 = member_block(blocks, p)
    scratch = scratch[p]
    pans = pack_backward(w_hh, pans, p, u0, u1)
    for step in range(T):
        t = time_index(step, T, not reverse)
        h_prev = rows_before(y, h0, t, reverse, lens, ragged, scratch, b0, b1)
        gru_backward_step(gates[t], hn_all[t], h_prev, dy[t], dh, dgi[t], dgn[t], direct, t, lens,
                          b0, b1, u0, u1)
        barrier(sync, p, step + 1)
        recurrent_grad_split(dgi[t, b0:b1, :2 * H], dgn[t, b0:b1], w_hh, pans, dh[b0:b1], t, lens[b0:b1],
                             ragged, rec[b0:b1], u0, u1)
        add_direct(dh, direct, t, lens, b0, b1, u0, u1)
