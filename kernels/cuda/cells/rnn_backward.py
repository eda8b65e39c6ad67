"""Elman RNN backward (BPTT), CUDA (tanh and relu): the pointwise step of one hidden unit, and the
kernels. The nonlinearity's derivative is read off the output: tanh' = 1 - h^2, relu' = [h > 0].

sweep.py explains the point-function contract and the two strategies.
"""
from numba import cuda

from ..persistent import backward as backward_persistent
from ..sweep import backward_step


@cuda.jit(device=True, inline="always")
def rnn_tanh_backward_point(j, h, s, s_prev, h_prev, dy, dh, carry, d, d_rec):
    """h (H,) output h_t; dy (H,) its gradient; dh (H,) recurrent gradient of h_t; d (H,) out:
    pre-activation gradient (d_rec is the same array)."""
    d[j] = (dy[j] + dh[j]) * (type(h[j])(1) - h[j] * h[j])


@cuda.jit(device=True, inline="always")
def rnn_relu_backward_point(j, h, s, s_prev, h_prev, dy, dh, carry, d, d_rec):
    """As rnn_tanh_backward_point, with relu."""
    zero = type(h[j])(0)
    d[j] = (dy[j] + dh[j]) if h[j] > zero else zero


rnn_tanh_backward_step = backward_step(rnn_tanh_backward_point)
rnn_tanh_backward_persistent = backward_persistent(rnn_tanh_backward_point, 1)
rnn_relu_backward_step = backward_step(rnn_relu_backward_point)
rnn_relu_backward_persistent = backward_persistent(rnn_relu_backward_point, 1)
