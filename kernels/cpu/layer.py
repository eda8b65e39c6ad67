"""One layer, one direction, CPU: the three phases around the fused @njit sweeps.

    1. input projection  Xp = X W_ih^T, one GEMM over all T*B rows        (tile_gemm.py; few rows: few_rows.py)
    2. recurrent sweep   sequential in t, fused gates + state update      (*_forward.py / *_backward.py)
    3. gradients         dW_ih = dG^T X, dW_hh = dG^T H_prev, dX = dG W_ih (tile_gemm.py), db = sum dG
Every phase runs on the team of threads in team.py, in one team session per forward or backward:
the GEMMs as tile_gemm.py (or, for few rows, few_rows.py) decides, the sweeps by sequences or by
hidden units (_sweep). None of them calls BLAS.

Same contract as fastrnn/reference/layer.py (which it is tested against):
    forward(mode, x, state0, w_ih, w_hh, b_ih, b_hh, reverse, need_grad, lengths) -> y, state_n, saved
    backward(saved, dy, dstate_n) -> dx, dstate0, (dw_ih, dw_hh, db_ih, db_hh)
Shapes: T steps, B batch, I input, H hidden, G gates (4 LSTM, 3 GRU, 1 RNN). All arrays are
C-contiguous and of one dtype (float32 or float64); fastrnn/functional.py makes sure of that.
"""
import numpy as np

from . import team
from .bias_grad import column_sums
from .few_rows import x_w, x_wt
from .gru_backward import gru_backward_sweep
from .gru_forward import gru_forward_sweep
from .lstm_backward import lstm_backward_sweep
from .lstm_forward import lstm_forward_sweep
from .panels import panel_count, panel_width
from .rnn_backward import rnn_backward_sweep
from .rnn_forward import rnn_forward_sweep
from .tile_gemm import matmul_at


# A sweep over at least this many rows (T * B) first packs W_hh into panels (panels.py), which
# its steps then read (the packed product, microkernel.py); a sweep over fewer reads W_hh in place
# (recurrent.py): packing costs a pass over W_hh that only enough rows repay. The same holds for
# W_ih in phase 1 (X W_ih^T, forward) and dX = dG W_ih (backward): below these row counts they read
# it in place too (few_rows.py; its docstring has the measurements). The forward in-place
# product (rows_dot) is 75-80% as fast as the packed one from B = 2, so the forward sweep needs more
# rows; the backward one (columns_dot) is slower. Measured, LSTM on 2 cores, ms packed / in place:
# forward T=1 B=64 H=128 0.27 / 0.23, T=4 B=32 H=256 0.98 / 0.94, T=20 B=4 H=512 3.4 / 3.6,
# T=32 B=1 H=512 2.3 / 1.7, T=100 B=1 H=256 1.5 / 1.8, T=30 B=4 H=1024 18.7 / 24.6; backward (the
# whole call, forward packed as above either way) at 16 rows T=2 B=8 H=256 0.75 / 0.91, T=16 B=1
# H=512 2.9 / 3.1 (GRU 1.9 / 1.7), at 8 rows T=2 B=4 H=256 0.63 / 0.60, T=8 B=1 H=256 0.71 / 0.63,
# T=1 B=8 H=512 2.0 / 2.1 (GRU 1.33 / 1.17); T=8 B=16 H=256 1.9 / 3.7.
FORWARD_PACK_ROWS = 96
BACKWARD_PACK_ROWS = 17

# A sweep splits the batch instead of the hidden units when W_hh is at most BATCH_SPLIT_BYTES: each
# member then keeps all of W_hh in its core's L2 (512 KiB here) and runs its own sequences through
# every step without waiting for the others. Measured on 2 cores, LSTM T=100 H=128 (W_hh 256 KiB),
# one member on half the batch against two on all of it: B=64 forward sweep 9.7 vs 11.1 ms,
# backward 22.3 vs 26.7 ms.
# Up to BATCH_SPLIT_SHARED_BYTES, it also splits the batch when every member gets BATCH_SPLIT_ROWS
# sequences or more: each member then reads all of W_hh from L3 every step, which that many rows
# repay. Measured fwd+bwd on 2 cores, split by units / by batch, ms: GRU T=100 H=256 (768 KiB) B=64
# 109.3 / 103.9, B=32 56.9 / 54.6, B=8 14.8 / 16.4 (4 rows each: slower); LSTM T=100 B=64 H=512
# (4 MiB) 515 / 504; GRU T=100 B=32 H=512 198 / 195; at H=1024 (12-16 MiB) the batch split was
# 2-5% slower (LSTM T=20 B=32 215 / 226).
BATCH_SPLIT_BYTES = 1 << 18
BATCH_SPLIT_SHARED_BYTES = 1 << 22
BATCH_SPLIT_ROWS = 16


def _empty(shape, dtype):
    # Every kernel output is allocated here. The tests swap in a NaN-filled allocator, so an
    # element that a kernel forgets to write cannot pass unnoticed.
    return np.empty(shape, dtype=dtype)


def _project(x, w_ih):
    # (T, B, I) @ (I, G*H) -> (T, B, G*H), as one GEMM over T*B rows: on the tile as (X^T)^T W_ih^T
    # (both read in place), or, for few rows (FORWARD_PACK_ROWS), W_ih's rows read in place
    T, B, I = x.shape
    if T * B < FORWARD_PACK_ROWS:
        return x_wt(x.reshape(T * B, I), w_ih).reshape(T, B, -1)
    return matmul_at(x.reshape(T * B, I).T, w_ih.T).reshape(T, B, -1)


def _sweep(member, w_hh, T, B, args, buffers):
    """member(*args, *buffers(blocks), sync, blocks, p) on every member p of the team
    (team.run), member p owning blocks[p] = (b0, b1, u0, u1): sequences b0..b1 and hidden units
    u0..u1. Either a share of the batch with all the units, each member on its own (nothing to wait
    for: groups of one), when W_hh is small or the batch large (BATCH_SPLIT_*); or a share of the
    units for the whole batch, the members meeting at a barrier every step (one group). buffers
    gives the members' scratch (they allocate nothing, barrier.py)."""
    GH, H = w_hh.shape
    blocks = []
    if w_hh.nbytes <= BATCH_SPLIT_BYTES or (w_hh.nbytes <= BATCH_SPLIT_SHARED_BYTES
                                            and B >= BATCH_SPLIT_ROWS * team.size()):
        blocks = [(b0, b1, 0, H) for b0, b1 in team.batch_ranges(B, GH * H, T)]
        sync = team.new_sync(len(blocks), 1)
    if len(blocks) < 2:
        blocks = [(0, B, u0, u1) for u0, u1 in team.unit_ranges(H, B * GH * H, T)]
        sync = team.new_sync(1, len(blocks))
    team.run(member, args + buffers(blocks) + (sync,), blocks)


def _panels(blocks, K, dtype, packed):
    # (S, K, NW) per gate block: enough panels for the member with the most units, or none
    NW = panel_width(np.dtype(dtype).itemsize)
    most = max(u1 - u0 for _, _, u0, u1 in blocks)
    return (panel_count(most, NW) if packed else 0, K, NW)


def _forward_scratch(B, G, H, dtype, packed):
    # rec (B, G*H), shared; scratch (parts, B, H) and pans (parts, G, S, H, NW), one per member
    def buffers(blocks):
        return (_empty((B, G * H), dtype), _empty((len(blocks), B, H), dtype),
                _empty((len(blocks), G) + _panels(blocks, H, dtype, packed), dtype))
    return buffers


def _backward_scratch(B, GH, H, dtype, packed, gru=False):
    # pans (parts, S, G*H, NW), one per member; rec (B, H), shared; GRU: direct (B, H), shared, and
    # scratch (parts, B, H), one per member
    def buffers(blocks):
        out = (_empty((len(blocks),) + _panels(blocks, GH, dtype, packed), dtype), _empty((B, H), dtype))
        return out + ((_empty((B, H), dtype), _empty((len(blocks), B, H), dtype)) if gru else ())
    return buffers


@team.session()    # the whole call holds the team
def forward(mode, x, state0, w_ih, w_hh, b_ih, b_hh, reverse=False, need_grad=True, lengths=None):
    T, B, _ = x.shape
    H = w_hh.shape[1]
    packed = T * B >= FORWARD_PACK_ROWS
    ragged = lengths is not None
    lens = np.asarray(lengths, dtype=np.int64) if ragged else np.full(B, T, dtype=np.int64)
    xp = _project(x, w_ih)
    h0 = state0[0]
    y, h_prev = _outputs(h0, T, reverse, need_grad)
    saved_len = T if need_grad else 1   # buffers only backward reads shrink to one step
    if mode == "LSTM":
        c_all = _empty((saved_len, B, H), x.dtype)
        c_n = state0[1].copy()
        _sweep(lstm_forward_sweep, w_hh, T, B,
               (xp, w_hh, b_ih + b_hh, h0, c_n, reverse, need_grad, y, c_all, lens, ragged),
               _forward_scratch(B, 4, H, x.dtype, packed))
        cell_n = (c_n,)
        extra = (c_all, state0[1])
    elif mode == "GRU":
        bias = b_ih.copy()
        bias[:2 * H] += b_hh[:2 * H]
        hn_all = _empty((saved_len, B, H), x.dtype)
        _sweep(gru_forward_sweep, w_hh, T, B,
               (xp, w_hh, bias, b_hh[2 * H:].copy(), h0, reverse, need_grad, y, hn_all, lens, ragged),
               _forward_scratch(B, 3, H, x.dtype, packed))
        cell_n = ()
        extra = (hn_all,)
    else:
        _sweep(rnn_forward_sweep, w_hh, T, B,
               (xp, w_hh, b_ih + b_hh, h0, reverse, mode == "RNN_RELU", y, lens, ragged),
               _forward_scratch(B, 1, H, x.dtype, packed))
        cell_n = ()
        extra = ()
    state_n = (_last_h(y, lens if ragged else None, reverse),) + cell_n
    if not need_grad:
        return y, state_n, None
    gates = None if mode.startswith("RNN") else xp   # RNN backward needs only y
    return y, state_n, (mode, x, h0, w_ih, w_hh, reverse, gates, y, h_prev, extra, lens, ragged)


def _outputs(h0, T, reverse, need_grad):
    """y (T, B, H) and, for training, h_prev (T, B, H): the state each step starts from. Both are
    views of one (T+1, B, H) buffer holding h0 next to y, so that phase 3's dW_hh = dG^T H_prev is
    one GEMM with no copy (a separate GEMM for the first step, and its sum, cost as much as the rest
    at B=1: fresh memory for two more (G*H, H) products)."""
    B, H = h0.shape
    if not need_grad:
        return _empty((T, B, H), h0.dtype), None
    ext = _empty((T + 1, B, H), h0.dtype)
    if reverse:
        ext[T] = h0
        return ext[:T], ext[1:]
    ext[0] = h0
    return ext[1:], ext[:T]


def _last_h(y, lens, reverse):
    # h_n: each sequence's h after its own last step (t = 0 in reverse, t = lens[b] - 1 forward;
    # lens None: every sequence is T long, and a copy is cheaper than the gather, 1 vs 8 us)
    if reverse:
        return y[0].copy()
    if lens is None:
        return y[-1].copy()
    return y[lens - 1, np.arange(y.shape[1])]


@team.session()
def backward(saved, dy, dstate_n):
    mode, x, h0, w_ih, w_hh, reverse, gates, y, h_prev, extra, lens, ragged = saved
    T, B, I = x.shape
    H = w_hh.shape[1]
    packed = T * B >= BACKWARD_PACK_ROWS
    scratch = _backward_scratch(B, w_hh.shape[0], H, x.dtype, packed, gru=mode == "GRU")
    if mode == "LSTM":
        c_all, c0 = extra
        dg = _empty(gates.shape, gates.dtype)
        dh0, dc0 = dstate_n[0].copy(), dstate_n[1].copy()
        _sweep(lstm_backward_sweep, w_hh, T, B,
               (gates, c_all, c0, w_hh, dy, dh0, dc0, reverse, dg, lens, ragged), scratch)
        dstate0 = (dh0, dc0)
        dg_in = dg_rec = dg
    elif mode == "GRU":
        (hn_all,) = extra
        dg_in = _empty(gates.shape, gates.dtype)
        dg_rec = _empty((T, B, H), gates.dtype)      # dn * r: dG on W_hh's n rows (gru_backward.py)
        dh0 = dstate_n[0].copy()
        _sweep(gru_backward_sweep, w_hh, T, B,
               (gates, hn_all, y, h0, w_hh, dy, dh0, reverse, dg_in, dg_rec, lens, ragged), scratch)
        dstate0 = (dh0,)
    else:
        dg_in = dg_rec = _empty((T, B, w_hh.shape[0]), x.dtype)
        dh0 = dstate_n[0].copy()
        _sweep(rnn_backward_sweep, w_hh, T, B,
               (y, w_hh, dy, dh0, reverse, mode == "RNN_RELU", dg_in, lens, ragged), scratch)
        dstate0 = (dh0,)
    return (_input_grad(dg_in, w_ih, x.shape), dstate0,
            _weight_grads(dg_in, dg_rec, x, h_prev, h0, reverse, lens if ragged else None))


def _input_grad(dg, w_ih, x_shape):
    # dX = dG W_ih = (dG^T)^T W_ih on the tile, or, for few rows (BACKWARD_PACK_ROWS), W_ih's rows
    # read in place
    T, B, _ = dg.shape
    if T * B < BACKWARD_PACK_ROWS:
        return x_w(dg.reshape(T * B, -1), w_ih).reshape(x_shape)
    return matmul_at(dg.reshape(T * B, -1).T, w_ih).reshape(x_shape)


def _weight_grads(dg_in, dg_rec, x, h_prev, h0, reverse, lens=None):
    """Phase 3: sums over all steps as GEMMs. dg_rec is dg_in (LSTM, RNN), or GRU's dn * r
    (T, B, H), the last H columns of the recurrent side's dG, whose others are dg_in's. h_prev
    (T, B, H) holds the state each step starts from (_outputs). Ragged reverse sweeps start
    sequence b at t = lens[b] - 1 from h0[b], where h_prev holds y's zero padding, so h0's term is
    added for those rows."""
    T, B, I = x.shape
    H = h_prev.shape[2]
    gi = dg_in.reshape(T * B, -1)
    hp = h_prev.reshape(T * B, H)
    dw_ih = matmul_at(gi, x.reshape(T * B, I))
    db_ih = column_sums(gi, _empty(gi.shape[1], gi.dtype))
    if dg_rec is dg_in:             # LSTM and RNN: one dG for both sides
        dw_hh, db_hh = matmul_at(gi, hp), db_ih.copy()
    else:                           # GRU: rows r, z from dg_in, rows n from dn * r
        gn = dg_rec.reshape(T * B, H)
        dw_hh = _empty((3 * H, H), gi.dtype)
        matmul_at(gi[:, :2 * H], hp, dw_hh[:2 * H])
        matmul_at(gn, hp, dw_hh[2 * H:])
        db_hh = np.concatenate((db_ih[:2 * H], column_sums(gn, _empty(H, gn.dtype))))
    if reverse and lens is not None:
        for b in np.flatnonzero(lens < T):
            g = dg_in[lens[b] - 1, b]
            if dg_rec is not dg_in:
                g = np.concatenate((g[:2 * H], dg_rec[lens[b] - 1, b]))
            dw_hh += np.outer(g, h0[b])
    return dw_ih, dw_hh, db_ih, db_hh
