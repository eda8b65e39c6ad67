"""One layer, one direction, CPU: the three phases around the fused sweeps.

    1. input projection  Xp = X W_ih^T, one GEMM over all T*B rows     (products/tile_gemm.py; few rows: few_rows.py)
    2. recurrent sweep   sequential in t, fused gates + state update   (sweep.py, running cells/<cell>_<pass>.py)
    3. gradients         dW_ih = dG^T X, dW_hh = dG^T H_prev, dX = dG W_ih (products/tile_gemm.py), db = sum dG
Every phase runs on the team of threads in runtime/team.py, in one team session per forward or
backward: the GEMMs as tile_gemm.py (or, for few rows, few_rows.py) decides, the sweeps by
sequences or by hidden units (_sweep). None of them calls BLAS.

Implements the backend contract stated in fastrnn/backends.py, for numpy arrays. Shapes: T steps,
B batch, I input, H hidden, G gates (fastrnn/modes.py).
"""
import functools
from typing import NamedTuple, Optional

import numpy as np

from ...modes import MODES
from .cells.gru_backward import GRUBackward, gru_backward_once, gru_backward_sweep
from .cells.gru_forward import GRUForward, gru_forward_once, gru_forward_sweep
from .cells.lstm_backward import LSTMBackward, lstm_backward_once, lstm_backward_sweep
from .cells.lstm_forward import LSTMForward, lstm_forward_once, lstm_forward_sweep
from .cells.rnn_backward import RNNBackward, rnn_backward_once, rnn_backward_sweep
from .cells.rnn_forward import RNNForward, rnn_forward_once, rnn_forward_sweep
from .once import Grads
from .products import few_rows
from .products.bias_grad import column_sums
from .products.panels import panel_count, panel_width
from .products.tile_gemm import matmul_at
from .runtime import memory, team
from .sweep import Backward, Forward, Scratch


# A sweep over at least this many rows (T * B) packs W_hh into panels (products/panels.py) once;
# fewer read it in place (products/in_place.py): packing is a pass over W_hh that only enough rows
# repay. The same bounds send phase 1's X W_ih^T and dX = dG W_ih to products/few_rows.py. The
# in-place forward product is nearly as fast as the packed one, so forward needs more rows.
# Measurements: kernels/TUNING.md.
FORWARD_PACK_ROWS = 96
BACKWARD_PACK_ROWS = 17

# A sweep splits the batch instead of the hidden units (no barrier: each member runs its own
# sequences) when W_hh fits in a core's L2, or, up to BATCH_SPLIT_SHARED_BYTES, when every member
# gets BATCH_SPLIT_ROWS sequences, enough to repay reading W_hh from L3 each step.
# Measurements: kernels/TUNING.md.
BATCH_SPLIT_BYTES = 1 << 18
BATCH_SPLIT_SHARED_BYTES = 1 << 22
BATCH_SPLIT_ROWS = 16

# A one-step call (once.py) splits its units over the team only when each member's share of its
# work, counted as few_rows.py counts it, is ONCE_SPLIT times the team's MIN_CALL_WORK: its run
# hands every member about 15 arrays, and numba's parallel loop passes each one to each thread
# (10-20 us more than one member's call, on two threads). Measurements: kernels/TUNING.md.
ONCE_SPLIT = 4


class Saved(NamedTuple):
    """What forward keeps for backward, one layer and direction."""
    mode: str
    x: np.ndarray                  # (T, B, I)
    h0: np.ndarray                 # (B, H)
    w_ih: np.ndarray               # (G*H, I)
    w_hh: np.ndarray               # (G*H, H)
    reverse: bool
    gates: Optional[np.ndarray]    # (T, B, G*H) gate activations; None for the RNN (y serves)
    y: np.ndarray                  # (T, B, H) h_t
    h_prev: np.ndarray             # (T, B, H) the state each step starts from (_outputs)
    cell: tuple                    # the cell's own: LSTM (c_all (T, B, H), c0 (B, H)); GRU
                                   # (hn_all (T, B, H),); RNN ()
    lens: np.ndarray               # (B,) int64 sequence lengths


def _project(x, w_ih):
    # (T, B, I) @ (I, G*H) -> (T, B, G*H), as one GEMM over T*B rows: on the tile as (X^T)^T W_ih^T
    # (both read in place), or, for few rows (FORWARD_PACK_ROWS), W_ih's rows read in place
    T, B, I = x.shape
    if T * B < FORWARD_PACK_ROWS:
        return few_rows.matmul_bt(x.reshape(T * B, I), w_ih).reshape(T, B, -1)
    return matmul_at(x.reshape(T * B, I).T, w_ih.T).reshape(T, B, -1)


def _sweep(kernel, sweep, cell, packed, forward):
    """kernel(sweep, cell, scratch, blocks, p), a cell's sweep (cells/), on every member p of the
    team (team.run), member p owning blocks[p] = (b0, b1, u0, u1): sequences b0..b1 and hidden
    units u0..u1. Either a share of the batch with all the units, each member on its own (nothing
    to wait for: groups of one), when W_hh is small or the batch large (BATCH_SPLIT_*); or a share
    of the units for the whole batch, the members meeting at a barrier every step (one group)."""
    T, B, H = sweep.y.shape
    w_hh = sweep.w_hh
    GH = w_hh.shape[0]
    blocks = []
    if w_hh.nbytes <= BATCH_SPLIT_BYTES or (w_hh.nbytes <= BATCH_SPLIT_SHARED_BYTES
                                            and B >= BATCH_SPLIT_ROWS * team.size()):
        blocks = [(b0, b1, 0, H) for b0, b1 in team.batch_ranges(B, GH * H, T)]
        sync = team.new_sync(len(blocks), 1)
    if len(blocks) < 2:
        blocks = [(0, B, u0, u1) for u0, u1 in team.unit_ranges(H, B * GH * H, T)]
        sync = team.new_sync(1, len(blocks))
    scratch = _scratch(blocks, B, GH, H, w_hh.dtype, packed, forward, sync)
    team.run(kernel, (tuple(sweep), tuple(cell), tuple(scratch)), blocks)    # plain: sweep.py says why


def _scratch(blocks, B, GH, H, dtype, packed, forward, sync):
    # sweep.Scratch for these members: panels of W_hh^T per gate block (forward) or of W_hh
    # (backward), enough for the member with the most units, or none (in place). panels.py's
    # helpers run as Python here (py_func): a numba call from Python costs microseconds.
    P = len(blocks)
    NW = panel_width.py_func(np.dtype(dtype).itemsize)
    S = panel_count.py_func(max(u1 - u0 for _, _, u0, u1 in blocks), NW) if packed else 0
    if forward:
        rec, pans = memory.empty((B, GH), dtype), memory.empty((P, GH // H, S, H, NW), dtype)
    else:
        rec, pans = memory.empty((B, 0), dtype), memory.empty((P, S, GH, NW), dtype)
    return Scratch(rec, memory.empty((P, B, H), dtype), pans, sync)


# The kernels of each cell: (forward sweep, one-step forward, backward sweep, one-step backward).
_KERNELS = {
    "LSTM": (lstm_forward_sweep, lstm_forward_once, lstm_backward_sweep, lstm_backward_once),
    "GRU": (gru_forward_sweep, gru_forward_once, gru_backward_sweep, gru_backward_once),
    "RNN_TANH": (rnn_forward_sweep, rnn_forward_once, rnn_backward_sweep, rnn_backward_once),
    "RNN_RELU": (rnn_forward_sweep, rnn_forward_once, rnn_backward_sweep, rnn_backward_once),
}


def forward(mode, x, state0, w_ih, w_hh, b_ih, b_hh, reverse=False, need_grad=True, lengths=None):
    T, B, _ = x.shape
    if T == 1 and B < FORWARD_PACK_ROWS:     # one step over few rows: one run (once.py)
        return _forward_once(mode, x, state0, w_ih, w_hh, b_ih, b_hh, reverse, need_grad)
    return _forward_sweep(mode, x, state0, w_ih, w_hh, b_ih, b_hh, reverse, need_grad, lengths)


@team.session()    # the whole call holds the team
def _forward_sweep(mode, x, state0, w_ih, w_hh, b_ih, b_hh, reverse, need_grad, lengths):
    T, B, _ = x.shape
    H = w_hh.shape[1]
    packed = T * B >= FORWARD_PACK_ROWS
    lens = np.asarray(lengths, dtype=np.int64) if lengths is not None else np.full(B, T, dtype=np.int64)
    xp = _project(x, w_ih)
    h0 = state0[0]
    y, h_prev = _outputs(h0, T, reverse, need_grad)
    cell = _forward_cell(mode, state0, b_hh, B, H, T if need_grad else 1, x.dtype)
    fw = Forward(xp, w_hh, _bias(mode, b_ih, b_hh, H), h0, y, lens, reverse, need_grad)
    _sweep(_KERNELS[mode][0], fw, cell, packed, True)
    return _forward_results(mode, fw, cell, state0, x, w_ih, h_prev, _last_h(y, lengths, lens, reverse))


def _forward_once(mode, x, state0, w_ih, w_hh, b_ih, b_hh, reverse, need_grad):
    # x (1, B, I): the members split the hidden units (every gate block's rows for them); the work
    # that decides the split counts reading the weights, as few_rows.py's products do
    _, B, I = x.shape
    GH, H = w_hh.shape
    dt = x.dtype
    h0 = state0[0]
    y = memory.empty((1, B, H), dt)
    cell = _forward_cell(mode, state0, b_hh, B, H, 1, dt)
    fw = Forward(memory.empty((1, B, GH), dt), w_hh, _bias(mode, b_ih, b_hh, H), h0, y, np.ones(B, np.int64),
                 reverse, need_grad)
    _run_once(_KERNELS[mode][1], (tuple(fw), tuple(cell), x[0], w_ih, memory.empty((B, GH), dt)),
              _once_blocks(B, I, H, GH))
    return _forward_results(mode, fw, cell, state0, x, w_ih, h0[None], y[0].copy())


def _once_blocks(B, I, H, GH):
    """The blocks of a one-step call's members: they split the hidden units (ONCE_SPLIT), or one
    member takes them all, as most one-step calls are too small to share."""
    work = (B + few_rows.ELEMENT_WORK) * GH * (I + H) // ONCE_SPLIT
    if team.one_member(work):
        return _whole(B, H)
    return np.array([(0, B, u0, u1) for u0, u1 in team.unit_ranges(H, work, 1)], dtype=np.int64)


def _run_once(kernel, args, blocks):
    # one member runs on this thread, without team.run's checks
    if len(blocks) == 1:
        kernel(*args, blocks, 0)
    else:
        team.run(kernel, args, blocks)


@functools.lru_cache(maxsize=64)
def _whole(B, H):
    # the blocks of a one-member run: all sequences, all units (kernels only read them)
    return np.array([(0, B, 0, H)], dtype=np.int64)


def _bias(mode, b_ih, b_hh, H):
    """The bias added to x W_ih^T + h W_hh^T: GRU's b_hn stays inside its reset gate
    (cells/gru_forward.py)."""
    if mode != "GRU":
        return b_ih + b_hh
    bias = b_ih.copy()
    bias[:2 * H] += b_hh[:2 * H]
    return bias


def _forward_cell(mode, state0, b_hh, B, H, saved_len, dtype):
    # the cell's own arrays (cells/<cell>_forward.py); buffers only backward reads hold saved_len steps
    if mode == "LSTM":
        return LSTMForward(state0[1].copy(), memory.empty((saved_len, B, H), dtype))
    if mode == "GRU":
        return GRUForward(b_hh[2 * H:].copy(), memory.empty((saved_len, B, H), dtype))
    return RNNForward(MODES[mode].nonlinearity == "relu")


def _forward_results(mode, fw, cell, state0, x, w_ih, h_prev, h_n):
    """(y, state_n, saved) of the backend contract, after a forward sweep or step."""
    state_n = (h_n,)
    if mode == "LSTM":
        state_n += (cell.c,)
        kept = (cell.c_all, state0[1])
    else:
        kept = (cell.hn_all,) if mode == "GRU" else ()
    if not fw.save:
        return fw.y, state_n, None
    gates = None if MODES[mode].gates == 1 else fw.xp   # RNN backward needs only y
    return fw.y, state_n, Saved(mode, x, fw.h0, w_ih, fw.w_hh, fw.reverse, gates, fw.y, h_prev, kept, fw.lens)


def _outputs(h0, T, reverse, need_grad):
    """y (T, B, H) and, for training, h_prev (T, B, H): the state each step starts from. Both are
    views of one (T+1, B, H) buffer holding h0 next to y, so that phase 3's dW_hh = dG^T H_prev is
    one GEMM with no copy (a separate GEMM for the first step, and its sum, cost as much as the rest
    at B=1: fresh memory for two more (G*H, H) products)."""
    B, H = h0.shape
    if not need_grad:
        return memory.empty((T, B, H), h0.dtype), None
    ext = memory.empty((T + 1, B, H), h0.dtype)
    if reverse:
        ext[T] = h0
        return ext[:T], ext[1:]
    ext[0] = h0
    return ext[1:], ext[:T]


def _last_h(y, lengths, lens, reverse):
    # h_n: each sequence's h after its own last step (t = 0 in reverse, t = lens[b] - 1 forward;
    # no lengths: every sequence is T long, and a copy is cheaper than the gather)
    if reverse:
        return y[0].copy()
    if lengths is None:
        return y[-1].copy()
    return y[lens - 1, np.arange(y.shape[1])]


def backward(saved, dy, dstate_n):
    T, B, I = saved.x.shape
    w_hh = saved.w_hh
    GH, H = w_hh.shape
    dt = saved.x.dtype
    packed = T * B >= BACKWARD_PACK_ROWS
    dh = dstate_n[0].copy()
    dg = memory.empty((T, B, GH), dt)
    gates = saved.gates if saved.gates is not None else dg     # RNN: unused
    # GRU's dn * r: dG on W_hh's n rows (cells/gru_backward.py); the other cells have none
    dg_tail = memory.empty((T, B, H if saved.mode == "GRU" else 0), dt)
    if saved.mode == "LSTM":
        cell = LSTMBackward(*saved.cell, dstate_n[1].copy())
    elif saved.mode == "GRU":
        cell = GRUBackward(*saved.cell)
    else:
        cell = RNNBackward(MODES[saved.mode].nonlinearity == "relu")
    bw = Backward(gates, saved.y, saved.h0, w_hh, dy, dh, dg, dg_tail, saved.lens, saved.reverse)
    dstate0 = (dh, cell.dc) if saved.mode == "LSTM" else (dh,)
    if T == 1 and not packed:       # one step over few rows: one run (once.py)
        dx, grads = _backward_once(_KERNELS[saved.mode][3], bw, cell, saved.x[0], saved.w_ih)
        return dx.reshape(saved.x.shape), dstate0, grads
    dx, grads = _backward_sweep(saved, bw, cell, packed)
    return dx, dstate0, grads


@team.session()    # the sweep and phase 3 hold the team
def _backward_sweep(saved, bw, cell, packed):
    _sweep(_KERNELS[saved.mode][2], bw, cell, packed, False)
    return _input_grad(bw.dg, saved.w_ih, saved.x.shape), _weight_grads(saved, bw.dg, bw.dg_tail)


def _backward_once(kernel, bw, cell, x, w_ih):
    # x (B, I): the members split the hidden units as _forward_once does, and the columns of dx
    B, I = x.shape
    GH, H = bw.w_hh.shape
    dt = x.dtype
    grads = Grads(memory.empty(w_ih.shape, dt), memory.empty(bw.w_hh.shape, dt),
                  memory.empty(GH, dt), memory.empty(GH, dt))
    dx = memory.empty((B, I), dt)
    blocks = _once_blocks(B, I, H, GH)
    _run_once(kernel, (tuple(bw), tuple(cell), x, w_ih, tuple(grads), dx, team.new_sync(1, len(blocks))), blocks)
    return dx, tuple(grads)


def _input_grad(dg, w_ih, x_shape):
    # dX = dG W_ih = (dG^T)^T W_ih on the tile, or, for few rows (BACKWARD_PACK_ROWS), W_ih's rows
    # read in place
    T, B, _ = dg.shape
    if T * B < BACKWARD_PACK_ROWS:
        return few_rows.matmul(dg.reshape(T * B, -1), w_ih).reshape(x_shape)
    return matmul_at(dg.reshape(T * B, -1).T, w_ih).reshape(x_shape)


def _weight_grads(saved, dg, dg_tail):
    """Phase 3: sums over all steps as GEMMs. dg (T, B, G*H) is the input side's dG, which the
    recurrent side shares but for its last dg_tail.shape[2] columns (GRU's dn * r, (T, B, H); none
    for the other cells). h_prev (T, B, H) holds the state each step starts from (_outputs). Ragged
    reverse sweeps start sequence b at t = lens[b] - 1 from h0[b], where h_prev holds y's zero
    padding, so h0's term is added for those rows."""
    x, h0, lens = saved.x, saved.h0, saved.lens
    T, B, I = x.shape
    H = h0.shape[1]
    K = dg.shape[2] - dg_tail.shape[2]       # dG's columns the two sides share
    gi = dg.reshape(T * B, -1)
    hp = saved.h_prev.reshape(T * B, H)
    dw_ih = matmul_at(gi, x.reshape(T * B, I))
    db_ih = column_sums(gi, memory.empty(gi.shape[1], gi.dtype))
    if K == gi.shape[1]:            # LSTM and RNN: one dG for both sides
        dw_hh, db_hh = matmul_at(gi, hp), db_ih.copy()
    else:                           # GRU: rows r, z from dg, rows n from dn * r
        gn = dg_tail.reshape(T * B, -1)
        dw_hh = memory.empty(saved.w_hh.shape, gi.dtype)
        matmul_at(gi[:, :K], hp, dw_hh[:K])
        matmul_at(gn, hp, dw_hh[K:])
        db_hh = np.concatenate((db_ih[:K], column_sums(gn, memory.empty(gn.shape[1], gn.dtype))))
    if saved.reverse:
        for b in np.flatnonzero(lens < T):
            g = np.concatenate((dg[lens[b] - 1, b, :K], dg_tail[lens[b] - 1, b]))
            dw_hh += np.outer(g, h0[b])
    return dw_ih, dw_hh, db_ih, db_hh
