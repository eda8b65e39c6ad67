"""LSTM cell, reference: one time step forward and its hand-written backward.

Shapes: B batch, I input size, H hidden size. Gate order i, f, g, o (torch's):
    a = x W_ih^T + b_ih + h W_hh^T + b_hh          a: (B, 4H)
    i, f, o = sigmoid(a_i, a_f, a_o);  g = tanh(a_g)
    c' = f * c + i * g;  h' = o * tanh(c')
State is the tuple (h, c). Computes in the dtype of its inputs.
"""
import numpy as np

from .math import sigmoid


def forward(x, state, w_ih, w_hh, b_ih, b_hh):
    """x (B, I), state (h (B, H), c (B, H)) -> (h', c'), cache."""
    h, c = state
    H = h.shape[1]
    a = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    i, f = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])
    g, o = np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
    c1 = f * c + i * g
    tc = np.tanh(c1)
    h1 = o * tc
    return (h1, c1), (x, h, c, w_ih, w_hh, i, f, g, o, tc)


def backward(cache, dstate1):
    """dstate1 (dh' (B, H), dc' (B, H)) -> dx (B, I), (dh, dc), (dw_ih, dw_hh, db_ih, db_hh)."""
    x, h, c, w_ih, w_hh, i, f, g, o, tc = cache
    dh1, dc1 = dstate1
    do = dh1 * tc
    dc1 = dc1 + dh1 * o * (1 - tc * tc)
    di, df, dg = dc1 * g, dc1 * c, dc1 * i
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g * g), do * o * (1 - o)], axis=1)
    dx = da @ w_ih
    dh = da @ w_hh
    dc = dc1 * f
    return dx, (dh, dc), (da.T @ x, da.T @ h, da.sum(0), da.sum(0))
