"""GRU cell, reference: one time step forward and its hand-written backward.

Shapes: B batch, I input size, H hidden size. Gate order r, z, n, torch's variant (the reset
gate multiplies the recurrent projection *after* W_hn, bias included):
    r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr)
    z = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz)
    n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))
    h' = (1 - z) * n + z * h
State is the tuple (h,). Computes in the dtype of its inputs.
"""
import numpy as np

from .math import sigmoid


def forward(x, state, w_ih, w_hh, b_ih, b_hh):
    """x (B, I), state (h (B, H),) -> (h',), cache."""
    (h,) = state
    H = h.shape[1]
    ai = x @ w_ih.T + b_ih        # (B, 3H)
    ah = h @ w_hh.T + b_hh        # (B, 3H)
    r = sigmoid(ai[:, :H] + ah[:, :H])
    z = sigmoid(ai[:, H:2 * H] + ah[:, H:2 * H])
    hn = ah[:, 2 * H:]
    n = np.tanh(ai[:, 2 * H:] + r * hn)
    h1 = (1 - z) * n + z * h
    return (h1,), (x, h, w_ih, w_hh, r, z, n, hn)


def backward(cache, dstate1):
    """dstate1 (dh' (B, H),) -> dx (B, I), (dh,), (dw_ih, dw_hh, db_ih, db_hh)."""
    x, h, w_ih, w_hh, r, z, n, hn = cache
    (dh1,) = dstate1
    dn = dh1 * (1 - z) * (1 - n * n)          # gradient at n's pre-activation
    dz = dh1 * (h - n) * z * (1 - z)
    dr = dn * hn * r * (1 - r)
    dai = np.concatenate([dr, dz, dn], axis=1)       # w.r.t. x W_ih^T + b_ih
    dah = np.concatenate([dr, dz, dn * r], axis=1)   # w.r.t. h W_hh^T + b_hh
    dx = dai @ w_ih
    dh = dah @ w_hh + dh1 * z
    return dx, (dh,), (dai.T @ x, dah.T @ h, dai.sum(0), dah.sum(0))
