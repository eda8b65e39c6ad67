"""GRU forward, CUDA: the pointwise step of one hidden unit, and the kernels built from it.

Gate order r, z, n, torch's variant: n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)).
sweep.py explains the point-function contract and the two strategies.
"""
from numba import cuda

from .activations import sigmoid, tanh
from ..persistent import forward as forward_persistent
from ..sweep import forward_step


@cuda.jit(device=True, inline="always")
def gru_forward_point(j, a, q, qj, qs, bias, b_hn, h_prev, s_prev, h, s, hn):
    """a (3H,) x W_ih^T in, activations r, z, n out; q[qj + g*qs] gate g of h_{t-1} W_hh^T; bias (3H,)
    b_ih + (b_hr, b_hz, 0); b_hn (H,); h_prev (H,); h (H,) out; hn (H,) out: h_{t-1} W_hn^T + b_hn,
    which backward needs for dr. s_prev, s unused."""
    H = h.shape[0]
    one = type(h_prev[j])(1)
    r = sigmoid(a[j] + q[qj] + bias[j])
    z = sigmoid(a[H + j] + q[qj + qs] + bias[H + j])
    hnj = q[qj + 2 * qs] + b_hn[j]
    n = tanh(a[2 * H + j] + bias[2 * H + j] + r * hnj)
    h[j] = (one - z) * n + z * h_prev[j]
    hn[j] = hnj
    a[j] = r
    a[H + j] = z
    a[2 * H + j] = n


gru_forward_step = forward_step(gru_forward_point)
gru_forward_persistent = forward_persistent(gru_forward_point, 3)
