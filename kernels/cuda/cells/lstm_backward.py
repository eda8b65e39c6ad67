"""LSTM backward (BPTT), CUDA: the pointwise step of one hidden unit, and the kernels built from it.

Gate order i, f, g, o. sweep.py explains the point-function contract and the two strategies.
"""
from numba import cuda

from .activations import tanh
from ..persistent import backward as backward_persistent
from ..sweep import backward_step


@cuda.jit(device=True, inline="always")
def lstm_backward_point(j, a, c, c_prev, h_prev, dy, dh, dc, d, d_rec):
    """a (4H,) saved i, f, g, o; c, c_prev (H,) c_t, c_{t-1}; dy (H,) output gradient; dh (H,)
    recurrent gradient of h_t; dc (H,) gradient of c_t in, of c_{t-1} out; d (4H,) out:
    pre-activation gradients (d_rec is the same array). h_prev unused."""
    H = c.shape[0]
    one = type(dy[j])(1)
    i = a[j]
    f = a[H + j]
    g = a[2 * H + j]
    o = a[3 * H + j]
    tc = tanh(c[j])
    dhj = dy[j] + dh[j]
    dcj = dc[j] + dhj * o * (one - tc * tc)
    d[j] = dcj * g * i * (one - i)
    d[H + j] = dcj * c_prev[j] * f * (one - f)
    d[2 * H + j] = dcj * i * (one - g * g)
    d[3 * H + j] = dhj * tc * o * (one - o)
    dc[j] = dcj * f


lstm_backward_step = backward_step(lstm_backward_point)
lstm_backward_persistent = backward_persistent(lstm_backward_point, 4)
