"""The time-loop skeleton shared by every sweep: which t a step visits, and the state before it.

A sweep in direction `reverse` visits t = 0 .. T-1 (or T-1 .. 0); backward sweeps walk the
same visits in the opposite order. "Before t" always means in the forward sweep's own order.

Variable lengths: lens (B,) holds each sequence's length; a step t >= lens[b] is padding for
sequence b (skipped: zero output, state untouched). `ragged` says some lens[b] < T. Going
forward in time, a sequence's steps come first, so padding only ever follows them; in reverse, a
sequence starts at its own last step, from the initial state (rows_before).
"""
import numpy as np

from .jit import kernel


@kernel
def time_index(step, T, reverse):
    """t visited at the `step`-th step of a sweep running forward in time unless `reverse`."""
    return T - 1 - step if reverse else step


@kernel
def state_before(seq, first, t, reverse):
    """seq (T, B, H): the state that step t starts from: seq[t-1] (seq[t+1] if reverse), or
    `first` (B, H) at the sweep's first step."""
    if t == (seq.shape[0] - 1 if reverse else 0):
        return first
    return seq[t + 1] if reverse else seq[t - 1]


@kernel
def active(t, lens, b):
    """Whether step t belongs to sequence b (not padding)."""
    return t < lens[b]


@kernel
def rows_before(seq, first, t, reverse, lens, ragged, scratch):
    """state_before, row by row for ragged batches in a reverse sweep: a sequence of length L
    starts at t = L-1 from `first` (B, H), not from seq[t+1] (its zero padding). scratch (B, H)."""
    prev = state_before(seq, first, t, reverse)
    if not (ragged and reverse):
        return prev
    scratch[:] = prev
    for b in range(lens.shape[0]):
        if lens[b] - 1 == t:
            scratch[b] = first[b]
    return scratch


@kernel
def recurrent_grad(dg, w_hh, dh, t, lens, ragged, rec):
    """dh (B, H) = dg (B, G*H) W_hh: the recurrent part of dh_{t-1}. A row that is padding at t
    keeps its dh (its state passed through the step). rec (B, H) is scratch."""
    if not ragged:
        np.dot(dg, w_hh, dh)
        return
    np.dot(dg, w_hh, rec)
    for b in range(dh.shape[0]):
        if active(t, lens, b):
            dh[b] = rec[b]


@kernel
def recurrent_gemm(h_prev, w_hh, rec_t, rec):
    """rec (B, G*H) = h_prev (B, H) W_hh^T, computed as W_hh h_prev^T into rec_t (G*H, B), then
    transposed. OpenBLAS runs the small-batch product much faster in that orientation, copy
    included (per step, B=8: H=256 96 -> 58 us, H=1024 2717 -> 1116 us; B=64 H=1024 5301 ->
    4120 us) and no slower at B=1 or B=64 H<=512."""
    np.dot(w_hh, h_prev.T, rec_t)
    GH, B = rec_t.shape
    for b in range(B):
        for k in range(GH):
            rec[b, k] = rec_t[k, b]
