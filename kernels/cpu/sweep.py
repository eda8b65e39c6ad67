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
Everything else a member writes is its own.

Every sweep ends its arguments with its scratch, which the caller allocates (layer.py: a member
allocates nothing, barrier.py), then the team's:
    rec     (B, G*H) forward, (B, H) backward: the step's product, shared (each member writes its
            own rows and units)
    scratch (P, B, H) one (B, H) per member (rows_before); GRU backward also `direct` (B, H), shared
    w_t     (groups, H, G*H) backward: W_hh^T, one per group of members (barrier.py), each member
            filling its units' rows (grad_weights, barrier 1); or no rows: W_hh read in place
    sync    the barrier (barrier.py)
    blocks, p   member p's block, blocks[p] = (b0, b1, u0, u1) (member_block)
"""
from .barrier import barrier, group
from .jit import kernel
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


@kernel
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
    scratch[b0:b1] = prev[b0:b1]
    for b in range(b0, b1):
        if lens[b] - 1 == t:
            scratch[b] = first[b]
    return scratch


@kernel
def units4(v, H, u0, u1):
    """The 4 gate blocks of a (4H,) row, each cut to units u0..u1: views indexed from 0. A fused
    loop over range(u1 - u0) vectorises; one over range(u0, u1) does not (numba must allow for
    negative indices there, measured 6.5x slower for the LSTM step)."""
    return v[u0:u1], v[H + u0:H + u1], v[2 * H + u0:2 * H + u1], v[3 * H + u0:3 * H + u1]


@kernel
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
def recurrent_rows(h_prev, w_hh, rec, u0, u1):
    """rec[:, q*H + j] = h_prev (B, H) W_hh^T for this member's units u0 <= j < u1 of every gate
    block q: the rows of the step's pre-activations that its fused loop reads. rec (B, G*H)."""
    H = w_hh.shape[1]
    for q in range(w_hh.shape[0] // H):
        rows_dot(h_prev, w_hh, q * H + u0, q * H + u1, rec, q * H + u0)


@kernel
def grad_weights(w_hh, w_t, sync, p, u0, u1):
    """What recurrent_grad reads for member p: its group's w_t (groups, H, G*H) (barrier.group),
    filled with W_hh^T so that the backward product dG_t W_hh reads contiguous rows (recurrent.py).
    The member fills its rows u0..u1, then waits at the sweep's barrier 1 for the others. w_t with
    no rows (layer.py decides, in_place) means recurrent_grad reads w_hh as it is. Copied in tiles
    of 8 rows of w_hh: w_hh's rows are often a power of two bytes apart, so more than 8 of them map
    to one set of the 8-way L1 cache (measured at H=1024: 8 x 256 tiles 2.0 ms, 32 x 32 7.2 ms)."""
    w_t = w_t[group(sync, p)]
    if w_t.shape[0] > 0:
        GH = w_hh.shape[0]
        for g0 in range(0, GH, 8):
            g1 = min(g0 + 8, GH)
            for j0 in range(u0, u1, 256):
                j1 = min(j0 + 256, u1)
                w_t[j0:j1, g0:g1] = w_hh[g0:g1, j0:j1].T
    barrier(sync, p, 1)
    return w_t


@kernel
def recurrent_grad(dg, w_hh, w_t, dh, t, lens, ragged, rec, u0, u1):
    """dh[:, u0:u1] = dg (B, G*H) W_hh[:, u0:u1]: the recurrent part of dh_{t-1} for this member's
    units; w_t (H, G*H) W_hh^T, or no rows (grad_weights). A row that is padding at t keeps its dh
    (its state passed through the step). rec (B, H) is scratch."""
    out = rec if ragged else dh
    if w_t.shape[0] == 0:
        columns_dot(dg, w_hh, u0, u1, out)
    else:
        rows_dot(dg, w_t, u0, u1, out, u0)
    if ragged:
        for b in range(dh.shape[0]):
            if active(t, lens, b):
                dh[b, u0:u1] = rec[b, u0:u1]
