"""Elman RNN forward, CUDA (tanh and relu): the pointwise step of one hidden unit, and the kernels.

sweep.py explains the point-function contract and the two strategies.
"""
from numba import cuda

from .activations import tanh
from ..persistent import forward as forward_persistent
from ..sweep import forward_step


@cuda.jit(device=True, inline="always")
def rnn_tanh_forward_point(j, a, q, qj, qs, bias, aux, h_prev, s_prev, h, s, aux_out):
    """a (H,) x W_ih^T; q[qj] h_{t-1} W_hh^T for this unit (qs unused: one gate); bias (H,) b_ih + b_hh; h (H,) out. Backward
    needs only h_t, so nothing else is written."""
    h[j] = tanh(a[j] + q[qj] + bias[j])


@cuda.jit(device=True, inline="always")
def rnn_relu_forward_point(j, a, q, qj, qs, bias, aux, h_prev, s_prev, h, s, aux_out):
    """As rnn_tanh_forward_point, with relu."""
    v = a[j] + q[qj] + bias[j]
    h[j] = type(v)(0) if v <= type(v)(0) else v     # NaN stays NaN, as np.maximum and torch


rnn_tanh_forward_step = forward_step(rnn_tanh_forward_point)
rnn_tanh_forward_persistent = forward_persistent(rnn_tanh_forward_point, 1)
rnn_relu_forward_step = forward_step(rnn_relu_forward_point)
rnn_relu_forward_persistent = forward_persistent(rnn_relu_forward_point, 1)
