"""LSTM forward, CUDA: the pointwise step of one hidden unit, and the kernels built from it.

Gate order i, f, g, o. sweep.py explains the point-function contract and the two strategies.
"""
from numba import cuda

from .activations import sigmoid, tanh
from ..persistent import forward as forward_persistent
from ..sweep import forward_step


@cuda.jit(device=True, inline="always")
def lstm_forward_point(j, a, q, qj, qs, bias, aux, h_prev, c_prev, h, c, aux_out):
    """a (4H,) x W_ih^T in, activations i, f, g, o out; q[qj + g*qs] gate g of h_{t-1} W_hh^T; bias (4H,)
    b_ih + b_hh; c_prev (H,) c_{t-1}; h, c (H,) out: h_t, c_t. aux, h_prev, aux_out unused."""
    H = h.shape[0]
    i = sigmoid(a[j] + q[qj] + bias[j])
    f = sigmoid(a[H + j] + q[qj + qs] + bias[H + j])
    g = tanh(a[2 * H + j] + q[qj + 2 * qs] + bias[2 * H + j])
    o = sigmoid(a[3 * H + j] + q[qj + 3 * qs] + bias[3 * H + j])
    cj = f * c_prev[j] + i * g
    c[j] = cj
    h[j] = o * tanh(cj)
    a[j] = i
    a[H + j] = f
    a[2 * H + j] = g
    a[3 * H + j] = o


lstm_forward_step = forward_step(lstm_forward_point)
lstm_forward_persistent = forward_persistent(lstm_forward_point, 4)
