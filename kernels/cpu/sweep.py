"""Phase 2 on the CPU: the one time loop every sweep runs, and what it hands a cell's step.

Shapes: T steps, B batch, H hidden size, G gates (fastrnn/modes.py). A cell file (cells/) holds
only its pointwise step; its sweep is this skeleton run with that step:

    forward_sweep(step, fw, cell, scratch, blocks, p)      per step t, in the sweep's order:
        h_prev = the state before t;  scratch.rec = h_prev W_hh^T (member's units);
        step(cell, fw, scratch.rec, h_prev, t, b0, b1, u0, u1);  barrier
    backward_sweep(step, bw, cell, scratch, blocks, p)     per step t, in reverse:
        h_prev = the state before t;  step(cell, bw, h_prev, t, b0, b1, u0, u1);  barrier;
        bw.dh += dG_t W_hh (member's units)

A step covers the sequences b0 <= b < b1 and units u0 <= j < u1 of member p. Forward, it adds
fw.xp[t], rec and fw.bias, applies the cell, writes y[t] and what backward needs. Backward, it
writes dG_t into bw.dg[t] (and bw.dg_tail[t]) and leaves in bw.dh[b, j] the part of dh_{t-1}
that does not pass through W_hh (zero, or GRU's dh_t * z), to which the recurrent product adds.
`cell` is the cell's own NamedTuple of arrays (cells/<cell>_<pass>.py).

A sweep kernel (<cell>_<pass>_sweep) takes fw or bw, cell and scratch as plain tuples and names
them itself: numba's dispatch types a NamedTuple argument several times slower than a plain tuple
(kernels/TUNING.md), and a launch must cost no more than it did with positional arguments.

Directions: a sweep with fw.reverse visits t = T-1 .. 0; backward sweeps walk the forward
sweep's visits in the opposite order. "Before t" always means in the forward sweep's own order.

Variable lengths: lens (B,) holds each sequence's length; a step t >= lens[b] is padding for
sequence b (zero output, state untouched, zero dG). Going forward in time, a sequence's steps come
first, so padding only ever follows them; in reverse, a sequence starts at its own last step, from
the initial state (rows_before).

Team members (runtime/team.py): P members run a sweep at once, member p owning a block of
sequences b0 <= b < b1 and hidden units u0 <= j < u1 (layer.py picks one of two splits). Split by
units, each member has the whole batch and the rows of W_hh that produce its units; a step reads
all of h_{t-1} (or dG_t), so the members meet at a barrier each step (runtime/barrier.py). Split
by sequences, each member has all the units and runs on its own: its barrier has one member. A
member allocates nothing: everything it writes is in fw, bw, cell or scratch.

A step is called once per member and step for all its sequences, not once per sequence: a call
costs 100-150 ns in its arguments alone. Inside, the loop over units runs on 1-D views indexed
from 0 (units4, units3), the form LLVM vectorises.
"""
from typing import NamedTuple

import numpy as np

from .products.recurrent import pack_backward, pack_forward, recurrent_grad, recurrent_rows
from .runtime.barrier import barrier
from .runtime.jit import inline_kernel, kernel, skeleton


class Forward(NamedTuple):
    """What every forward sweep reads and writes."""
    xp: np.ndarray       # (T, B, G*H) x W_ih^T; on return the gate activations (if save)
    w_hh: np.ndarray     # (G*H, H) as stored (torch layout)
    bias: np.ndarray     # (G*H,) the biases that add to x W_ih^T + h W_hh^T
    h0: np.ndarray       # (B, H) initial state
    y: np.ndarray        # (T, B, H) out: h_t
    lens: np.ndarray     # (B,) int64 sequence lengths
    reverse: bool        # visit t = T-1 .. 0
    save: bool           # write what backward reads


class Backward(NamedTuple):
    """What every backward sweep reads and writes."""
    gates: np.ndarray    # (T, B, G*H) the activations forward saved (RNN: unused, y serves)
    y: np.ndarray        # (T, B, H) h_t
    h0: np.ndarray       # (B, H) initial state
    w_hh: np.ndarray     # (G*H, H) as stored
    dy: np.ndarray       # (T, B, H) gradient of the outputs
    dh: np.ndarray       # (B, H) in: gradient of the final h; out: of h0
    dg: np.ndarray       # (T, B, G*H) out: dG, the pre-activation gradients (input side)
    dg_tail: np.ndarray  # (T, B, R) out: the recurrent side's last R columns where they differ
                         # from dg's (GRU: dn * r, R = H); R = 0 for the other cells
    lens: np.ndarray     # (B,) int64 sequence lengths
    reverse: bool        # the forward sweep ran t = T-1 .. 0


class Scratch(NamedTuple):
    """The team's arguments and the members' scratch, allocated by layer.py."""
    rec: np.ndarray      # (B, G*H) forward: the step's h_{t-1} W_hh^T, shared (each member writes
                         # its rows and units); backward: (B, 0), unused
    rows: np.ndarray     # (P, B, H) one (B, H) per member (rows_before)
    pans: np.ndarray     # (P, G, S, H, NW) forward, (P, S, G*H, NW) backward: each member's W_hh
                         # packed into panels (products/panels.py); S = 0: W_hh read in place
    sync: np.ndarray     # the barrier (runtime/barrier.py)


@skeleton
def forward_sweep(step, fw, cell, scratch, blocks, p):
    """The forward sweep of member p (module docstring); step is the cell's forward step."""
    T = fw.xp.shape[0]
    b0, b1, u0, u1 = member_block(blocks, p)
    ragged = is_ragged(fw.lens, T)
    rows = scratch.rows[p]
    pans = pack_forward(fw.w_hh, scratch.pans, p, u0, u1)
    for i in range(T):
        t = time_index(i, T, fw.reverse)
        h_prev = rows_before(fw.y, fw.h0, t, fw.reverse, fw.lens, ragged, rows, b0, b1)
        recurrent_rows(h_prev[b0:b1], fw.w_hh, pans, scratch.rec[b0:b1], u0, u1)
        step(cell, fw, scratch.rec, h_prev, t, b0, b1, u0, u1)
        barrier(scratch.sync, p, i + 1)


@skeleton
def backward_sweep(step, bw, cell, scratch, blocks, p):
    """The backward sweep of member p (module docstring); step is the cell's backward step."""
    T = bw.dy.shape[0]
    K = bw.dg.shape[2] - bw.dg_tail.shape[2]     # dG's columns that the recurrent side shares
    b0, b1, u0, u1 = member_block(blocks, p)
    ragged = is_ragged(bw.lens, T)
    rows = scratch.rows[p]
    pans = pack_backward(bw.w_hh, scratch.pans, p, u0, u1)
    for i in range(T):
        t = time_index(i, T, not bw.reverse)
        h_prev = rows_before(bw.y, bw.h0, t, bw.reverse, bw.lens, ragged, rows, b0, b1)
        step(cell, bw, h_prev, t, b0, b1, u0, u1)
        barrier(scratch.sync, p, i + 1)
        recurrent_grad(bw.dg[t, b0:b1, :K], bw.dg_tail[t, b0:b1], bw.w_hh, pans, bw.dh[b0:b1], u0, u1)


# The helpers of the skeleton and the cells' steps.

@kernel
def member_block(blocks, p):
    """(b0, b1, u0, u1): the sequences b0..b1 and hidden units u0..u1 of member p."""
    return blocks[p, 0], blocks[p, 1], blocks[p, 2], blocks[p, 3]


@kernel
def is_ragged(lens, T):
    """Whether some sequence is shorter than T."""
    for b in range(lens.shape[0]):
        if lens[b] < T:
            return True
    return False


@kernel
def time_index(i, T, reverse):
    """t visited at the i-th step of a sweep running forward in time unless `reverse`."""
    return T - 1 - i if reverse else i


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
def rows_before(seq, first, t, reverse, lens, ragged, rows, b0, b1):
    """state_before for sequences b0..b1 (a member's block; its other rows are not written), row by
    row for ragged batches in a reverse sweep: a sequence of length L starts at t = L-1 from `first`
    (B, H), not from seq[t+1] (its zero padding). rows (B, H), the member's own."""
    prev = state_before(seq, first, t, reverse)
    if not (ragged and reverse):
        return prev
    for b in range(b0, b1):
        copy_into(rows[b], first[b] if lens[b] - 1 == t else prev[b])
    return rows


@kernel
def copy_into(dst, src):
    """dst[:] = src, two 1-D arrays of one length, as a plain loop: numba's slice assignment also
    handles broadcasting and overlap, IR that every sweep would optimise again (about 1 s more
    first compile per sweep)."""
    for j in range(dst.shape[0]):
        dst[j] = src[j]


@inline_kernel
def units4(v, H, u0, u1):
    """The 4 gate blocks of a (4H,) row, each cut to units u0..u1: views indexed from 0. A fused
    loop over range(u1 - u0) vectorises; one over range(u0, u1) does not (numba must allow for
    negative indices there)."""
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
