"""GRU backward (BPTT), CUDA: the pointwise step of one hidden unit, and the kernels built from it.

Gate order r, z, n. sweep.py explains the point-function contract and the two strategies.
"""
from numba import cuda

from ..persistent import backward as backward_persistent
from ..sweep import backward_step


@cuda.jit(device=True, inline="always")
def gru_backward_point(j, a, hn, s_prev, h_prev, dy, dh, direct, di, dr_):
    """a (3H,) saved r, z, n; hn (H,) h_{t-1} W_hn^T + b_hn; h_prev (H,); dy (H,) output
    gradient; dh (H,) recurrent gradient of h_t through W_hh; direct (H,) in: the z path from
    step t+1, out: dh_t * z for step t-1; di, dr_ (3H,) out: input-side and recurrent-side
    pre-activation gradients (the reset gate scales the recurrent n part). s_prev unused."""
    H = hn.shape[0]
    one = type(dy[j])(1)
    r = a[j]
    z = a[H + j]
    n = a[2 * H + j]
    dhj = dy[j] + dh[j] + direct[j]
    dn = dhj * (one - z) * (one - n * n)
    dz = dhj * (h_prev[j] - n) * z * (one - z)
    dr = dn * hn[j] * r * (one - r)
    di[j] = dr
    di[H + j] = dz
    di[2 * H + j] = dn
    dr_[j] = dr
    dr_[H + j] = dz
    dr_[2 * H + j] = dn * r
    direct[j] = dhj * z


gru_backward_step = backward_step(gru_backward_point)
gru_backward_persistent = backward_persistent(gru_backward_point, 3)
