"""The time-loop skeleton shared by every sweep: which t a step visits, and the state before it.

A sweep in direction `reverse` visits t = 0 .. T-1 (or T-1 .. 0); backward sweeps walk the
same visits in the opposite order. "Before t" always means in the forward sweep's own order.

Variable lengths: lens (B,) holds each sequence's length; a step t >= lens[b] is padding for
sequence b (skipped: zero output, state untouched). `ragged` says some lens[b] < T. Going
forward in time, a sequence's steps come first, so padding only ever follows them; in reverse, a
sequence starts at its own last step, from the initial state (rows_before).

Team members (team.py): every sweep is run by P members at once, member p owning a block of
sequences b0 <= b < b1 and hidden units u0 <= j < u1 (layer._sweep picks one of two splits).
Split by units, each member has the whole batch and the rows of W_hh that produce its units; a
step reads all of h_{t-1} (or dG_t), so the members meet at a barrier each step (barrier.py).
Split by sequences, each member has all the units and runs on its own: its barrier has one member.

Pointwise steps (<cell>_forward_step, <cell>_backward_step): a member calls its cell's fused loop
once per step for all its sequences, not once per sequence, because a call costs 100-150 ns in its
arguments alone (measured: LSTM forward, 64 units, 5.4 -> 4.0 ns per unit). Inside, the loop over
units runs on 1-D views indexed from 0 (units4, units3), the form LLVM vectorises.
Everything else a member writes is its own.

Every sweep ends its arguments with its scratch, which the caller allocates (layer.py: a member
allocates nothing, barrier.py), then the team's:
    rec     (B, G*H) forward, (B, H) backward: the step's product, shared (each member writes its
            own rows and units)
    scratch (P, B, H) one (B, H) per member (rows_before); GRU backward also `direct` (B, H), shared
    pans    (P, G, S, H, NW) forward, (P, S, G*H, NW) backward: each member's W_hh packed into
            panels (panels.py: pack_forward, pack_backward); or S = 0: W_hh read in place
    sync    the barrier (barrier.py)
    blocks, p   member p's block, blocks[p] = (b0, b1, u0, u1) (member_block)
"""
from .jit import inline_kernel, kernel
from .panels import pack_columns, pack_rows, panels_dot
from .recurrent import columns_dot, rows_dot


@kernel
def member_block(blocks, p):
    """(b0, b1, u0, u1): the sequences b0..b1 and hidden units u0..u1 of member p."""
    return blocks[p, 0], blocks[p, 1], blocks[p, 2], blocks[p, 3]


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


@inline_kernel
def active(t, lens, b):
    """Whether step t belongs to sequence b (not padding)."""
    return t < lens[b]


@kernel
def rows_before(seq, first, t, reverse, lens, ragged, scratch, b0, b1):
    """state_before for sequences b0..b1 (a member's block; its other rows are not written), row by
    row for ragged batches in a reverse sweep: a sequence of length L starts at t = L-1 from `first`
    (B, H), not from seq[t+1] (its zero padding). scratch (B, H), the member's own."""
    prev = state_before(seq, first, t, reverse)
    if not (ragged and reverse):
        return prev
    for b in range(b0, b1):
        copy_into(scratch[b], first[b] if lens[b] - 1 == t else prev[b])
    return scratch


@kernel
def copy_into(dst, src):
    """dst[:] = src, two 1-D arrays of one length, as a plain loop: numba's slice assignment also
    handles broadcasting and overlap, IR that every sweep would optimise again (measured: about 1 s
    more first compile per sweep)."""
    for j in range(dst.shape[0]):
        dst[j] = src[j]


@inline_kernel
def units4(v, H, u0, u1):
    """The 4 gate blocks of a (4H,) row, each cut to units u0..u1: views indexed from 0. A fused
    loop over range(u1 - u0) vectorises; one over range(u0, u1) does not (numba must allow for
    negative indices there, measured 6.5x slower for the LSTM step)."""
    return v[u0:u1], v[H + u0:H + u1], v[2 * H + u0:2 * H + u1], v[3 * H + u0:3 * H + u1]


@inline_kernel
def units3(v, H, u0, u1):
    """As units4, for the 3 gate blocks of a (3H,) row."""
    return v[u0:u1], v[H + u0:H + u1], v[2 * H + u0:2 * H + u1]


@kernel
def zero_units(v, H, u0, u1):
    """v[q*H + j] = 0 for this member's units u0 <= j < u1 of every gate block q of v (G*H,):
    what a padded step writes (zero output, zero gradient)."""
    for q in range(v.shape[0] // H):
        v[q * H + u0:q * H + u1] = 0


@kernel
def pack_forward(w_hh, pans, p, u0, u1):
    """Member p's panels of W_hh^T (panels.py): pans (P, G, S, H, NW), pans[p, q] the columns
    q*H + u0 .. q*H + u1 of gate block q. No panels (S = 0, layer.py decides) means recurrent_rows
    reads w_hh in place."""
    pans = pans[p]
    if pans.shape[1] > 0:
        H = w_hh.shape[1]
        for q in range(pans.shape[0]):
            pack_rows(w_hh, q * H + u0, q * H + u1, pans[q])
    return pans


@kernel
def recurrent_rows(h_prev, w_hh, pans, rec, u0, u1):
    """rec[:, q*H + j] = h_prev (B, H) W_hh^T for this member's units u0 <= j < u1 of every gate
    block q: the rows of the step's pre-activations that its fused loop reads. rec (B, G*H); pans
    (G, S, H, NW) from pack_forward, or no panels: w_hh read in place."""
    H = w_hh.shape[1]
    for q in range(w_hh.shape[0] // H):
        if pans.shape[1] == 0:
            rows_dot(h_prev, w_hh, q * H + u0, q * H + u1, rec, q * H + u0)
        else:
            panels_dot(h_prev, pans[q], rec, q * H + u0, u1 - u0, False)


@kernel
def pack_backward(w_hh, pans, p, u0, u1):
    """Member p's panels of W_hh[:, u0:u1] (panels.py): pans (P, S, G*H, NW). No panels (S = 0,
    layer.py decides) means recurrent_grad reads w_hh in place. Each member packs its own units
    only, so no member waits for another's panels."""
    pans = pans[p]
    if pans.shape[0] > 0:
        pack_columns(w_hh, u0, u1, pans)
    return pans


@kernel
def recurrent_grad(dg, w_hh, pans, dh, t, lens, ragged, rec, u0, u1):
    """dh[:, u0:u1] = dg (B, G*H) W_hh[:, u0:u1]: the recurrent part of dh_{t-1} for this member's
    units; pans (S, G*H, NW) from pack_backward, or no panels: w_hh read in place. A row that is
    padding at t keeps its dh (its state passed through the step). rec (B, H) is scratch."""
    out = rec if ragged else dh
    if pans.shape[0] == 0:
        columns_dot(dg, w_hh, u0, u1, out)
    else:
        panels_dot(dg, pans, out, u0, u1 - u0, False)
    if ragged:
        keep_active(dh, rec, t, lens, u0, u1)


@kernel
def recurrent_grad_split(dg_head, dg_tail, w_hh, pans, dh, t, lens, ragged, rec, u0, u1):
    """recurrent_grad for a dG_t held in two pieces: dg_head (B, K) multiplies W_hh's first K
    rows, dg_tail (B, G*H - K) the rest (GRU: the r and z blocks it shares with the input side,
    and dn * r, kernels/cpu/gru_backward.py)."""
    out = rec if ragged else dh
    K = dg_head.shape[1]
    if pans.shape[0] == 0:
        columns_dot(dg_head, w_hh[:K], u0, u1, out)
        columns_dot(dg_tail, w_hh[K:], u0, u1, out, True)
    else:
        panels_dot(dg_head, pans[:, :K], out, u0, u1 - u0, False)
        panels_dot(dg_tail, pans[:, K:], out, u0, u1 - u0, True)
    if ragged:
        keep_active(dh, rec, t, lens, u0, u1)


@kernel
def keep_active(dh, rec, t, lens, u0, u1):
    """dh[b, u0:u1] = rec[b, u0:u1] for the rows b active at t; padding rows keep their dh."""
    for b in range(dh.shape[0]):
        if active(t, lens, b):
            copy_into(dh[b, u0:u1], rec[b, u0:u1])
