"""LSTM backward sweep (BPTT), CPU: phase 2 of kernels/cpu/layer.py, in reverse time.

Shapes: T steps, B batch, H hidden size; gate order i, f, g, o.
Per step: one fused loop over (b, j) that turns dh_t, dc_t and the saved activations into the
pre-activation gradient dG_t, then one BLAS GEMM dG_t W_hh for the recurrent part of dh_{t-1}.
The weight gradients are left to phase 3, as big GEMMs over all steps at once.
"""
import numpy as np

from .activations import tanh
from .jit import kernel
from .sweep import active, recurrent_grad, state_before, time_index


@kernel
def lstm_backward_row(a, c_t, c_prev, dy, dh, dc, d):
    """The fused pointwise step for one sequence: a (4H,) saved activations i, f, g, o;
    c_t, c_prev (H,); dy (H,) output gradient; dh (H,) recurrent gradient of h_t; dc (H,)
    gradient of c_t in, of c_{t-1} out; d (4H,) out: gate pre-activation gradients."""
    H = c_t.shape[0]
    one = a.dtype.type(1)   # a bare 1 would promote float32 math to float64
    for j in range(H):
        i = a[j]
        f = a[H + j]
        g = a[2 * H + j]
        o = a[3 * H + j]
        tc = tanh(c_t[j])
        dhj = dy[j] + dh[j]
        dcj = dc[j] + dhj * o * (one - tc * tc)
        d[j] = dcj * g * i * (one - i)
        d[H + j] = dcj * c_prev[j] * f * (one - f)
        d[2 * H + j] = dcj * i * (one - g * g)
        d[3 * H + j] = dhj * tc * o * (one - o)
        dc[j] = dcj * f


@kernel
def lstm_backward_sweep(gates, c_all, c0, w_hh, dy, dh_n, dc_n, reverse, dgates, lens, ragged):
    """
    gates  (T, B, 4H) activations i, f, g, o saved by the forward sweep
    c_all  (T, B, H)  cell states c_t
    c0     (B, H)     initial cell state
    w_hh   (4H, H)    C-contiguous
    dy     (T, B, H)  gradient of the outputs h_t
    dh_n, dc_n (B, H) gradient of the final state
    dgates (T, B, 4H) out: gradient of the gate pre-activations
    lens   (B,)       sequence lengths (sweep.py); padding passes dh and dc through unchanged.
                      c_all holds c0 at a reverse sweep's not-yet-started rows, so c_prev needs
                      no per-row care
    returns dh0, dc0 (B, H)
    """
    T, B, _ = gates.shape
    dh = dh_n.copy()       # recurrent gradient of h_t, from step t+1 (or the final state)
    dc = dc_n.copy()
    rec = np.empty_like(dh)
    for step in range(T):
        t = time_index(step, T, not reverse)
        c_prev = state_before(c_all, c0, t, reverse)
        for b in range(B):
            if active(t, lens, b):
                lstm_backward_row(gates[t, b], c_all[t, b], c_prev[b], dy[t, b], dh[b], dc[b], dgates[t, b])
            else:
                dgates[t, b] = 0
        recurrent_grad(dgates[t], w_hh, dh, t, lens, ragged, rec)
    return dh, dc
