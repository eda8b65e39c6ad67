"""One step of a layer in one team run: the products and the cell's step fused, for calls with a
single step (cells, layers called with T=1) over few sequences.

Shapes: B batch, I input, H hidden size, G gates (fastrnn/modes.py). A sweep (sweep.py) runs its
step T times after phase 1 has made x W_ih^T for all steps, and phase 3 runs after it: at T=1
that is several runs of the team for one step's work, each a few microseconds of launch and
Python. Here member p owns the hidden units u0 <= j < u1 (every gate block's rows for them) and,
in one run:

    forward_once(step, fw, cell, x, w_ih, rec, blocks, p)
        fw.xp[0][:, rows] = x W_ih[rows]^T;  rec[:, rows] = h0 W_hh[rows]^T;  the cell's step
    backward_once(step, bw, cell, x, w_ih, grads, dx, sync, blocks, p)
        the cell's step (dG for its units);  dW_ih, dW_hh, db_ih, db_hh for its rows;  barrier;
        dh0[:, u0:u1] += dG W_hh[:, u0:u1];  dx[:, i0:i1] = dG W_ih[:, i0:i1] (its share of I)

The weights are read in place (products/in_place.py), as the layer reads them at T*B below its
*_PACK_ROWS (layer.py), so a one-step call computes exactly what a layer call of one step does.
Both skeletons take the cell's step from cells/<cell>_<pass>.py, whose *_once kernels run them.
"""
from typing import NamedTuple

import numpy as np

from .products.in_place import columns_dot, rows_dot
from .runtime.barrier import barrier
from .runtime.jit import kernel, skeleton
from .sweep import member_block


class Grads(NamedTuple):
    """A one-step backward's weight gradients, written row by row by the members."""
    w_ih: np.ndarray     # (G*H, I)
    w_hh: np.ndarray     # (G*H, H)
    b_ih: np.ndarray     # (G*H,)
    b_hh: np.ndarray     # (G*H,)


@skeleton
def forward_once(step, fw, cell, x, w_ih, rec, blocks, p):
    """Member p of a one-step forward. x (B, I); fw.xp (1, B, G*H) out: the gate activations;
    rec (B, G*H) scratch: h0 W_hh^T."""
    b0, b1, u0, u1 = member_block(blocks, p)
    H = fw.h0.shape[1]
    for q in range(fw.w_hh.shape[0] // H):
        rows_dot(x, w_ih, q * H + u0, q * H + u1, fw.xp[0], q * H + u0)
        rows_dot(fw.h0, fw.w_hh, q * H + u0, q * H + u1, rec, q * H + u0)
    step(cell, fw, rec, fw.h0, 0, b0, b1, u0, u1)


@skeleton
def backward_once(step, bw, cell, x, w_ih, grads, dx, sync, blocks, p):
    """Member p of a one-step backward. x (B, I); bw as the sweep's with T = 1 (bw.dh in: the
    gradient of h1, out: of h0); grads (Grads) out; dx (B, I) out; sync: one group of all
    members (runtime/barrier.py)."""
    b0, b1, u0, u1 = member_block(blocks, p)
    H = bw.h0.shape[1]
    GH = bw.w_hh.shape[0]
    K = GH - bw.dg_tail.shape[2]        # dG's columns the recurrent side shares (sweep.py)
    step(cell, bw, bw.h0, 0, b0, b1, u0, u1)
    dg, tail = bw.dg[0], bw.dg_tail[0]
    for q in range(GH // H):
        for r in range(q * H + u0, q * H + u1):
            own = dg if r < K else tail
            c = r if r < K else r - K
            _outer_row(dg, r, x, grads.w_ih[r])
            _outer_row(own, c, bw.h0, grads.w_hh[r])
            grads.b_ih[r] = _column_sum(dg, r)
            grads.b_hh[r] = _column_sum(own, c)
    barrier(sync, p, 1)
    columns_dot(dg[:, :K], bw.w_hh[:K], u0, u1, bw.dh, True)
    if K < GH:
        columns_dot(tail, bw.w_hh[K:], u0, u1, bw.dh, True)
    P = blocks.shape[0]
    I = x.shape[1]
    columns_dot(dg, w_ih, I * p // P, I * (p + 1) // P, dx)


@kernel
def _outer_row(a, c, v, out):
    """out = sum over rows b of a[b, c] * v[b]: one row of a weight gradient dG^T V, V (B, K)."""
    s = a[0, c]
    for k in range(out.shape[0]):
        out[k] = s * v[0, k]
    for b in range(1, a.shape[0]):
        s = a[b, c]
        for k in range(out.shape[0]):
            out[k] += s * v[b, k]


@kernel
def _column_sum(a, c):
    s = a.dtype.type(0)
    for b in range(a.shape[0]):
        s += a[b, c]
    return s
