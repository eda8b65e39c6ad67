"""GRU forward sweep, CPU: phase 2 of kernels/cpu/layer.py, fused per step.

Shapes: T steps, B batch, H hidden size; gate order r, z, n (torch's variant: the reset gate
multiplies h W_hn^T + b_hn). Run by a team (sweep.py): per step, a member computes its rows of
h_{t-1} W_hh^T (sweep.recurrent_rows), then one fused loop over (b, j) for its units j; then the
members meet. The activations overwrite the input projection in place (our own buffer); the
recurrent n-projection, which backward needs for dr, goes to hn_all.
"""
from .activations import sigmoid, tanh
from .jit import kernel
from .barrier import barrier
from .sweep import active, member_block, pack_forward, recurrent_rows, rows_before, time_index, units3, zero_units


@kernel
def gru_forward_step(xp_t, rec, bias, b_hn, h_prev, y_t, hn_t, t, lens, b0, b1, u0, u1):
    """The fused pointwise step of sequences b0 <= b < b1, units u0 <= j < u1: xp_t (B, 3H)
    x W_ih^T in, activations r, z, n out; rec (B, 3H) h_{t-1} W_hh^T; bias (3H,); b_hn (H,);
    h_prev (B, H); y_t (B, H) out: h_t (zero at padding); hn_t (B, H) out.
    One call per member and step (sweep.py: pointwise steps)."""
    H = y_t.shape[1]
    one = xp_t.dtype.type(1)
    br, bz, bn = units3(bias, H, u0, u1)
    bhn = b_hn[u0:u1]
    for b in range(b0, b1):
        if not active(t, lens, b):
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
def gru_forward_sweep(xp, w_hh, bias, b_hn, h0, reverse, save, y, hn_all, lens, ragged, rec, scratch, pans, sync,
                      blocks, p):
    """
    xp     (T, B, 3H) x W_ih^T; on return holds the activations r, z, n (if save)
    w_hh   (3H, H)    as stored (torch layout); packed or read in place (pans)
    bias   (3H,)      b_ih + (b_hr, b_hz, 0): everything that adds outside the reset gate
    b_hn   (H,)       the recurrent n bias, inside the reset gate
    h0     (B, H)     initial state
    y      (T, B, H)  out: h_t
    hn_all (T, B, H)  out: h_{t-1} W_hn^T + b_hn (only if save; else may be (1, B, H))
    lens   (B,)       sequence lengths (sweep.py); ragged: some are shorter than T
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
        hn_t = hn_all[t] if save else hn_all[0]
        gru_forward_step(xp[t], rec, bias, b_hn, h_prev, y[t], hn_t, t, lens, b0, b1, u0, u1)
        barrier(sync, p, step + 1)
