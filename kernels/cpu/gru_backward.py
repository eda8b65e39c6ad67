"""GRU backward sweep (BPTT), CPU: phase 2 of kernels/cpu/layer.py, in reverse time.

Shapes: T steps, B batch, H hidden size; gate order r, z, n.
Per step: one fused loop over (b, j) producing two pre-activation gradients that differ only
in the n block: dGi w.r.t. x W_ih^T + b_ih, and dGh w.r.t. h W_hh^T + b_hh (the reset gate
scales the latter). Then one BLAS GEMM dGh_t W_hh for the recurrent part of dh_{t-1}.
"""
import numpy as np

from .jit import kernel
from .sweep import active, recurrent_grad, rows_before, time_index


@kernel
def gru_backward_row(a, hn, h_prev, dy, dh, di, dr_, direct):
    """The fused pointwise step for one sequence: a (3H,) saved r, z, n; hn (H,); h_prev (H,);
    dy (H,) output gradient; dh (H,) recurrent gradient of h_t; di, dr_ (3H,) out: input-side
    and recurrent-side pre-activation gradients; direct (H,) out: dh_t * z."""
    H = hn.shape[0]
    one = a.dtype.type(1)
    for j in range(H):
        r = a[j]
        z = a[H + j]
        n = a[2 * H + j]
        dhj = dy[j] + dh[j]
        dn = dhj * (one - z) * (one - n * n)
        dz = dhj * (h_prev[j] - n) * z * (one - z)
        dr = dn * hn[j] * r * (one - r)
        di[j] = dr
        di[H + j] = dz
        di[2 * H + j] = dn
        dr_[j] = dr
        dr_[H + j] = dz
        dr_[2 * H + j] = dn * r
        direct[j] = dhj * z


@kernel
def gru_backward_sweep(gates, hn_all, y, h0, w_hh, dy, dh_n, reverse, dgi, dgh, lens, ragged):
    """
    gates  (T, B, 3H) activations r, z, n saved by the forward sweep
    hn_all (T, B, H)  h_{t-1} W_hn^T + b_hn
    y      (T, B, H)  h_t;  h0 (B, H) initial state
    w_hh   (3H, H)    C-contiguous
    dy     (T, B, H)  gradient of the outputs h_t;  dh_n (B, H) of the final state
    dgi, dgh (T, B, 3H) out: pre-activation gradients, input side and recurrent side
    lens   (B,)       sequence lengths (sweep.py); padding passes dh through unchanged
    returns dh0 (B, H)
    """
    T, B, _ = gates.shape
    dh = dh_n.copy()            # recurrent gradient of h_t, from step t+1 (or the final state)
    direct = np.empty_like(dh)  # the z * h_{t-1} path, added after the GEMM
    rec = np.empty_like(dh)
    scratch = np.empty_like(h0)
    for step in range(T):
        t = time_index(step, T, not reverse)
        h_prev = rows_before(y, h0, t, reverse, lens, ragged, scratch)
        for b in range(B):
            if active(t, lens, b):
                gru_backward_row(gates[t, b], hn_all[t, b], h_prev[b], dy[t, b], dh[b],
                                 dgi[t, b], dgh[t, b], direct[b])
            else:
                dgi[t, b] = 0
                dgh[t, b] = 0
        recurrent_grad(dgh[t], w_hh, dh, t, lens, ragged, rec)
        for b in range(B):
            if active(t, lens, b):
                dh[b] += direct[b]
    return dh
