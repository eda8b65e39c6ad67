"""LSTM backward sweep (BPTT), CPU: phase 2 of kernels/cpu/layer.py, in reverse time.

Shapes: T steps, B batch, H hidden size; gate order i, f, g, o.
Run by a team (sweep.py). Per step: one fused loop over (b, j), for a member's units j, that turns
dh_t, dc_t and the saved activations into the pre-activation gradient dG_t; the members meet; then
each computes its units of dG_t W_hh, the recurrent part of dh_{t-1} (sweep.recurrent_grad).
The weight gradients are left to phase 3, as big GEMMs over all steps at once.
"""
from .activations import tanh
from .jit import kernel
from .barrier import barrier
from .sweep import active, member_block, pack_backward, recurrent_grad, state_before, time_index, units4, zero_units


@kernel
def lstm_backward_step(a_t, c_t, c_prev, dy_t, dh, dc, d_t, t, lens, b0, b1, u0, u1):
    """The fused pointwise step of sequences b0 <= b < b1, units u0 <= j < u1: a_t (B, 4H) saved
    activations i, f, g, o; c_t, c_prev (B, H); dy_t (B, H) output gradient; dh (B, H) recurrent
    gradient of h_t; dc (B, H) gradient of c_t in, of c_{t-1} out; d_t (B, 4H) out: gate
    pre-activation gradients (zero at padding, where dh and dc pass through).
    One call per member and step (sweep.py: pointwise steps)."""
    H = c_t.shape[1]
    one = a_t.dtype.type(1)   # a bare 1 would promote float32 math to float64
    for b in range(b0, b1):
        if not active(t, lens, b):
            zero_units(d_t[b], H, u0, u1)
            continue
        ai, af, ag, ao = units4(a_t[b], H, u0, u1)
        di, df, dg, do = units4(d_t[b], H, u0, u1)
        ct, cp, dyb, dhb, dcb = c_t[b, u0:u1], c_prev[b, u0:u1], dy_t[b, u0:u1], dh[b, u0:u1], dc[b, u0:u1]
        for j in range(u1 - u0):
            i = ai[j]
            f = af[j]
            g = ag[j]
            o = ao[j]
            tc = tanh(ct[j])
            dhj = dyb[j] + dhb[j]
            dcj = dcb[j] + dhj * o * (one - tc * tc)
            di[j] = dcj * g * i * (one - i)
            df[j] = dcj * cp[j] * f * (one - f)
            dg[j] = dcj * i * (one - g * g)
            do[j] = dhj * tc * o * (one - o)
            dcb[j] = dcj * f


@kernel
def lstm_backward_sweep(gates, c_all, c0, w_hh, dy, dh, dc, reverse, dgates, lens, ragged, pans, rec, sync,
                        blocks, p):
    """
    gates  (T, B, 4H) activations i, f, g, o saved by the forward sweep
    c_all  (T, B, H)  cell states c_t
    c0     (B, H)     initial cell state
    w_hh   (4H, H)    C-contiguous
    dy     (T, B, H)  gradient of the outputs h_t
    dh, dc (B, H)     in: gradient of the final state; out: of the initial state
    dgates (T, B, 4H) out: gradient of the gate pre-activations
    lens   (B,)       sequence lengths (sweep.py); padding passes dh and dc through unchanged.
                      c_all holds c0 at a reverse sweep's not-yet-started rows, so c_prev needs
                      no per-row care
    pans, rec, sync, blocks, p   scratch and team arguments (sweep.py)
    """
    T = gates.shape[0]
    b0, b1, u0, u1 = member_block(blocks, p)
    pans = pack_backward(w_hh, pans, p, u0, u1)
    for step in range(T):
        t = time_index(step, T, not reverse)
        c_prev = state_before(c_all, c0, t, reverse)
        lstm_backward_step(gates[t], c_all[t], c_prev, dy[t], dh, dc, dgates[t], t, lens, b0, b1, u0, u1)
        barrier(sync, p, step + 1)
        recurrent_grad(dgates[t, b0:b1], w_hh, pans, dh[b0:b1], t, lens[b0:b1], ragged, rec[b0:b1], u0, u1)
