"""One layer, one direction, reference: the plain time loop over a cell and BPTT back through it.

The specification of the backend contract (fastrnn/backends.py states it): every backend's
results are tested against these. Computes in the dtype of its inputs, so the same code gives the
float64 specification and the float32 baseline that the tests' tolerances are derived from.
"""
from functools import partial

import numpy as np

from . import gru, lstm, rnn

CELLS = {
    "LSTM": lstm,
    "GRU": gru,
    "RNN_TANH": rnn,
    "RNN_RELU": rnn,
}


def _cell_forward(mode):
    if mode == "RNN_RELU":
        return partial(rnn.forward, nonlinearity="relu")
    return CELLS[mode].forward


def _steps(T, reverse):
    return range(T - 1, -1, -1) if reverse else range(T)


def forward(mode, x, state0, w_ih, w_hh, b_ih, b_hh, reverse=False, need_grad=True, lengths=None):
    cell_forward = _cell_forward(mode)
    T, B = x.shape[:2]
    H = w_hh.shape[1]
    y = np.empty((T, B, H), dtype=x.dtype)
    caches = [None] * T
    state = state0
    for t in _steps(T, reverse):
        new, caches[t] = cell_forward(x[t], state, w_ih, w_hh, b_ih, b_hh)
        if lengths is not None:
            active = (t < lengths)[:, None]
            new = tuple(np.where(active, n, s) for n, s in zip(new, state))
            y[t] = np.where(active, new[0], 0)
        else:
            y[t] = new[0]
        state = new
    saved = (CELLS[mode].backward, caches, reverse, x.shape, lengths) if need_grad else None
    return y, state, saved


def backward(saved, dy, dstate_n):
    cell_backward, caches, reverse, x_shape, lengths = saved
    T = x_shape[0]
    dx = np.empty(x_shape, dtype=dy.dtype)
    dws = None
    dstate = dstate_n
    for t in _steps(T, not reverse):
        # h_t feeds both the output y_t and the next step: their gradients add.
        upstream = (dstate[0] + dy[t],) + tuple(dstate[1:])
        if lengths is None:
            dx[t], dstate, dw = cell_backward(caches[t], upstream)
        else:
            # Padding: the output was a constant zero and the state passed through, so the step
            # takes no gradient (zero upstream: zero dx, zero weight gradients) and the state's
            # gradient passes through to the step before, without dy.
            active = (t < lengths)[:, None]
            dx[t], before, dw = cell_backward(caches[t], tuple(np.where(active, u, 0) for u in upstream))
            dstate = tuple(np.where(active, b, d) for b, d in zip(before, dstate))
        dws = dw if dws is None else tuple(a + b for a, b in zip(dws, dw))
    return dx, dstate, dws
