"""LSTM forward sweep, CPU: phase 2 of kernels/cpu/layer.py, fused per step.

Shapes: T steps, B batch, H hidden size; gate order i, f, g, o. Run by a team (sweep.py): per
step, a member computes its rows of h_{t-1} W_hh^T (sweep.recurrent_rows), then one fused loop
over (b, j) for its units j that adds the precomputed input projection and bias, applies the four
activations, updates c and h, and stores what backward needs; then the members meet. The gate
activations overwrite the input projection in place: that buffer is ours (made in phase 1) and is
dead after this step.
"""
from .activations import sigmoid, tanh
from .jit import kernel
from .barrier import barrier
from .sweep import active, copy_into, member_block, pack_forward, recurrent_rows, rows_before, time_index, units4, zero_units


@kernel
def lstm_forward_step(xp_t, rec, bias, c, y_t, c_t, save, t, lens, b0, b1, u0, u1):
    """The fused pointwise step of sequences b0 <= b < b1, units u0 <= j < u1:
    xp_t (B, 4H) x W_ih^T, in: pre-activation part, out: activations; rec (B, 4H) h_{t-1} W_hh^T;
    bias (4H,); c (B, H) c_{t-1} in, c_t out; y_t (B, H) out: h_t; c_t (B, H) out: c_t, if save.
    One call per member and step (sweep.py: pointwise steps)."""
    H = c.shape[1]
    bi, bf, bg, bo = units4(bias, H, u0, u1)
    for b in range(b0, b1):
        if not active(t, lens, b):
            # Padding: zero output; c[b] keeps the sequence's state, and c_t holds it too (a
            # reverse sweep's backward reads c_0 there).
            zero_units(y_t[b], H, u0, u1)
            if save:
                copy_into(c_t[b, u0:u1], c[b, u0:u1])
            continue
        ai, af, ag, ao = units4(xp_t[b], H, u0, u1)
        ri, rf, rg, ro = units4(rec[b], H, u0, u1)
        cb, hb = c[b, u0:u1], y_t[b, u0:u1]
        for j in range(u1 - u0):
            i = sigmoid(ai[j] + ri[j] + bi[j])
            f = sigmoid(af[j] + rf[j] + bf[j])
            g = tanh(ag[j] + rg[j] + bg[j])
            o = sigmoid(ao[j] + ro[j] + bo[j])
            cj = f * cb[j] + i * g
            cb[j] = cj
            hb[j] = o * tanh(cj)
            ai[j] = i
            af[j] = f
            ag[j] = g
            ao[j] = o
        if save:
            copy_into(c_t[b, u0:u1], cb)


@kernel
def lstm_forward_sweep(xp, w_hh, bias, h0, c, reverse, save, y, c_all, lens, ragged, rec, scratch, pans, sync,
                       blocks, p):
    """
    xp     (T, B, 4H) x W_ih^T; on return holds the activations i, f, g, o (if save)
    w_hh   (4H, H)    as stored (torch layout); packed or read in place (pans)
    bias   (4H,)      b_ih + b_hh
    h0     (B, H)     initial state
    c      (B, H)     in: c0; out: each sequence's c after its own last step
    y      (T, B, H)  out: h_t
    c_all  (T, B, H)  out: c_t, written only if save (else may be (1, B, H))
    lens   (B,)       sequence lengths (sweep.py); ragged: some are shorter than T
    rec, scratch, pans, sync, blocks, p   scratch and team arguments (sweep.py)
    """
    T = xp.shape[0]
    b0, b1, u0, u1 = member_block(blocks, p)
    scratch = scratch[p]
    pans = pack_forward(w_hh, pans, p, u0, u1)
    for step in range(T):
        t = time_index(step, T, reverse)
        h_prev = rows_before(y, h0, t, reverse, lens, ragged, scratch, b0, b1)
        recurrent_rows(h_prev[b0:b1], w_hh, pans, rec[b0:b1], u0, u1)
        lstm_forward_step(xp[t], rec, bias, c, y[t], c_all[t] if save else c_all[0], save, t, lens,
                          b0, b1, u0, u1)
        barrier(sync, p, step + 1)
