"""Elman RNN backward sweep (BPTT), CPU: phase 2 of kernels/cpu/layer.py, in reverse time.

Shapes: T steps, B batch, H hidden size. The derivative of the nonlinearity is read off the
output: tanh' = 1 - h^2, relu' = [h > 0]. Run by a team (sweep.py): per step, one fused loop
over a member's units; the members meet; each computes its units of dG_t W_hh.
"""
from .jit import kernel
from .barrier import barrier
from .sweep import active, member_block, pack_backward, recurrent_grad, time_index, zero_units


@kernel
def rnn_backward_step(y_t, dy_t, dh, relu, d_t, t, lens, b0, b1, u0, u1):
    """The fused pointwise step of sequences b0 <= b < b1, units u0 <= j < u1: y_t (B, H) output
    h_t; dy_t (B, H) its gradient; dh (B, H) recurrent gradient of h_t; d_t (B, H) out:
    pre-activation gradient (zero at padding, where dh passes through).
    One call per member and step (sweep.py: pointwise steps)."""
    H = y_t.shape[1]
    one = y_t.dtype.type(1)
    zero = y_t.dtype.type(0)
    for b in range(b0, b1):
        if not active(t, lens, b):
            zero_units(d_t[b], H, u0, u1)
            continue
        h, dyb, dhb, d = y_t[b, u0:u1], dy_t[b, u0:u1], dh[b, u0:u1], d_t[b, u0:u1]
        if relu:
            for j in range(u1 - u0):
                d[j] = (dyb[j] + dhb[j]) if h[j] > zero else zero
        else:
            for j in range(u1 - u0):
                d[j] = (dyb[j] + dhb[j]) * (one - h[j] * h[j])


@kernel
def rnn_backward_sweep(y, w_hh, dy, dh, reverse, relu, dgates, lens, ragged, pans, rec, sync, blocks, p):
    """
    y      (T, B, H) h_t
    w_hh   (H, H)    C-contiguous
    dy     (T, B, H) gradient of the outputs
    dh     (B, H)    in: gradient of the final state; out: of the initial state
    relu   bool      relu if true, else tanh
    dgates (T, B, H) out: gradient of the pre-activations
    lens   (B,)      sequence lengths (sweep.py); padding passes dh through unchanged
    pans, rec, sync, blocks, p   scratch and team arguments (sweep.py)
    """
    T = y.shape[0]
    b0, b1, u0, u1 = member_block(blocks, p)
    pans = pack_backward(w_hh, pans, p, u0, u1)
    for step in range(T):
        t = time_index(step, T, not reverse)
        rnn_backward_step(y[t], dy[t], dh, relu, dgates[t], t, lens, b0, b1, u0, u1)
        barrier(sync, p, step + 1)
        recurrent_grad(dgates[t, b0:b1], w_hh, pans, dh[b0:b1], t, lens[b0:b1], ragged, rec[b0:b1], u0, u1)
