"""Elman RNN cell, reference: one time step forward and its hand-written backward.

Shapes: B batch, I input size, H hidden size. One gate:
    h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh),   act = tanh or relu
State is the tuple (h,). Computes in the dtype of its inputs.
"""
import numpy as np


def forward(x, state, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    """x (B, I), state (h (B, H),) -> (h',), cache."""
    (h,) = state
    a = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    h1 = np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0)
    return (h1,), (x, h, w_ih, w_hh, h1, nonlinearity)


def backward(cache, dstate1):
    """dstate1 (dh' (B, H),) -> dx (B, I), (dh,), (dw_ih, dw_hh, db_ih, db_hh)."""
    x, h, w_ih, w_hh, h1, nonlinearity = cache
    (dh1,) = dstate1
    da = dh1 * (1 - h1 * h1) if nonlinearity == "tanh" else dh1 * (h1 > 0)
    return da @ w_ih, (da @ w_hh,), (da.T @ x, da.T @ h, da.sum(0), da.sum(0))
