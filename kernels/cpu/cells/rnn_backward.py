"""Elman RNN backward (BPTT), CPU: the fused pointwise step of phase 2 (kernels/cpu/sweep.py runs
it, in reverse time).

Shapes: B batch, H hidden size. The derivative of the nonlinearity is read off the output:
tanh' = 1 - h^2, relu' = [h > 0].
"""
from typing import NamedTuple

from ..once import Grads, backward_once
from ..runtime.jit import kernel
from ..sweep import Backward, Scratch, active, backward_sweep, zero_units


class RNNBackward(NamedTuple):
    relu: bool           # relu if true, else tanh


@kernel
def rnn_backward_step(cell, bw, h_prev, t, b0, b1, u0, u1):
    """Sequences b0 <= b < b1, units u0 <= j < u1 of step t: bw.y[t] (B, H) h_t; bw.dy[t] its
    gradient; bw.dh (B, H) recurrent gradient of h_t in, 0 out (the sweep adds dG_t W_hh);
    bw.dg[t] (B, H) out (zero at padding, where dh passes through). h_prev is not read."""
    y_t, dy_t, d_t, dh = bw.y[t], bw.dy[t], bw.dg[t], bw.dh
    H = y_t.shape[1]
    one = y_t.dtype.type(1)
    zero = y_t.dtype.type(0)
    for b in range(b0, b1):
        if not active(t, bw.lens, b):
            zero_units(d_t[b], H, u0, u1)
            continue
        h, dyb, dhb, d = y_t[b, u0:u1], dy_t[b, u0:u1], dh[b, u0:u1], d_t[b, u0:u1]
        if cell.relu:
            for j in range(u1 - u0):
                d[j] = (dyb[j] + dhb[j]) if h[j] > zero else zero
                dhb[j] = zero
        else:
            for j in range(u1 - u0):
                d[j] = (dyb[j] + dhb[j]) * (one - h[j] * h[j])
                dhb[j] = zero


@kernel
def rnn_backward_sweep(bw, cell, scratch, blocks, p):
    """The sweep (sweep.py) of member p: bw, cell, scratch arrive as plain tuples."""
    backward_sweep(rnn_backward_step, Backward(*bw), RNNBackward(*cell), Scratch(*scratch), blocks, p)


@kernel
def rnn_backward_once(bw, cell, x, w_ih, grads, dx, sync, blocks, p):
    """A one-step backward (once.py) of member p: bw, cell and grads arrive as plain tuples."""
    backward_once(rnn_backward_step, Backward(*bw), RNNBackward(*cell), x, w_ih, Grads(*grads), dx, sync,
                  blocks, p)
