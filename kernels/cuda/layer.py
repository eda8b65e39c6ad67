"""One layer, one direction, CUDA: the three phases around the fused sweeps.

    1. input projection  Xp = X W_ih^T, one GEMM over all T*B rows               (blas.py)
    2. recurrent sweep   step launch or persistent, as dispatch.py chooses         (sweep.py + cells)
    3. weight gradients  dW_ih = dG^T X, dW_hh = dG^T H_prev, dX = dG W_ih, db = sum dG  (blas.py)

Implements the backend contract stated in fastrnn/backends.py. Arrays are numpy (copied to the
device and the results back) or numba device arrays (used in place; results stay on the device).
Shapes: T steps, B batch, I input, H hidden, G gates (fastrnn/modes.py).
"""
import functools
from typing import Any, NamedTuple

import numpy as np
from numba import cuda

from ...modes import MODES
from . import dispatch
from .arrays.elementwise import add_into, combine_bias, copy_into, fill
from .arrays.ragged import add_start_term, keep_padded, last_rows, rows_before
from .cells.gru_backward import gru_backward_persistent, gru_backward_step
from .cells.gru_forward import gru_forward_persistent, gru_forward_step
from .cells.lstm_backward import lstm_backward_persistent, lstm_backward_step
from .cells.lstm_forward import lstm_forward_persistent, lstm_forward_step
from .cells.rnn_backward import (rnn_relu_backward_persistent, rnn_relu_backward_step,
                                 rnn_tanh_backward_persistent, rnn_tanh_backward_step)
from .cells.rnn_forward import (rnn_relu_forward_persistent, rnn_relu_forward_step,
                                rnn_tanh_forward_persistent, rnn_tanh_forward_step)
from .persistent import batch_tile, signature
from .profile import gpus, model
from .products.blas import StepGemm, column_sum, matmul
from .runtime import device
from .runtime.device import SIMULATOR
from .runtime.launch import grid_for

# mode -> (forward step kernel, forward persistent factory, backward step, backward persistent)
KERNELS = {
    "LSTM": (lstm_forward_step, lstm_forward_persistent, lstm_backward_step, lstm_backward_persistent),
    "GRU": (gru_forward_step, gru_forward_persistent, gru_backward_step, gru_backward_persistent),
    "RNN_TANH": (rnn_tanh_forward_step, rnn_tanh_forward_persistent,
                 rnn_tanh_backward_step, rnn_tanh_backward_persistent),
    "RNN_RELU": (rnn_relu_forward_step, rnn_relu_forward_persistent,
                 rnn_relu_backward_step, rnn_relu_backward_persistent),
}


class Saved(NamedTuple):
    """What forward keeps for backward, one layer and direction (device arrays)."""
    mode: str
    on_host: bool            # the caller passed numpy: copy the gradients back
    reverse: bool
    x: Any                   # (T, B, I)
    h0: Any                  # (B, H)
    w_ih: Any                # (G*H, I)
    w_hh: Any                # (G*H, H)
    a_all: Any               # (T, B, G*H) gate activations; the RNN's: y
    s_all: Any               # (T, B, H) the saved sequence: LSTM c_t, GRU hn_t; RNN (T, B, 0)
    s0: Any                  # (B, H) the state s_all starts from: LSTM c0; the others h0 (unread)
    y: Any                   # (T, B, H) h_t
    lens: Any                # (B,) int64 sequence lengths
    ragged: bool             # some lens[b] < T


def _empty(shape, dtype):
    return device.device_empty(shape, dtype)


def _on_device(a):
    return device.to_device(a) if isinstance(a, np.ndarray) else a


@functools.lru_cache(maxsize=None)
def _persistent_on_device(kernels, dtype_name, device_id):
    """Both persistent kernels compiled for their signatures (cached by numba, as the launch's),
    each one's dynamic shared-memory cap raised, once per device, to the device's opt-in limit
    less their static shared memory: the occupancy query counts against the cap.
    -> (compiled, that limit)."""
    compiled = tuple(k.compile(signature(dtype_name, bw)) for k, bw in zip(kernels, (False, True)))
    dynamic = device.shared_limit() - max(c.shared_mem_per_block for c in compiled)
    for c in compiled:
        device.allow_shared(c, dynamic)
    return compiled, dynamic


def _plan(mode, B, H, dtype, backward):
    """dispatch.choose with this device's limits (both persistent kernels co-resident: the
    simulator's answer is runtime/device.py's) and the model timing this pass."""
    _, f_persistent, _, b_persistent = KERNELS[mode]
    dt = np.dtype(dtype)
    G, BT = MODES[mode].gates, batch_tile(B)
    if SIMULATOR:
        shared = device.shared_limit()
        codes = (model.typical_code(BT),) * 2

        def limit(threads, nbytes):
            return device.SIMULATED_COOPERATIVE_BLOCKS
    else:       # the model with these kernels' own registers and static shared memory
        compiled, shared = _persistent_on_device((f_persistent(dt, B), b_persistent(dt, B)), dt.name,
                                                 cuda.get_current_device().id)
        codes = tuple(model.typical_code(BT, c.regs_per_thread, c.shared_mem_per_block) for c in compiled)

        def limit(threads, nbytes):
            return min(c.max_cooperative_grid_blocks(threads, nbytes) for c in compiled)
    compare = model.compare(gpus.current(), codes, G, B, H, dt.itemsize, passes=(backward,))
    return dispatch.choose(G, B, H, dt.itemsize, limit, shared_limit=shared, compare=compare)


def forward(mode, x, state0, w_ih, w_hh, b_ih, b_hh, reverse=False, need_grad=True, lengths=None):
    on_host = isinstance(x, np.ndarray)
    x, w_ih, w_hh, b_ih, b_hh = map(_on_device, (x, w_ih, w_hh, b_ih, b_hh))
    state0 = tuple(map(_on_device, state0))
    T, B, I = x.shape
    GH, H = w_hh.shape
    dt = x.dtype
    fwd_step, fwd_persistent, _, _ = KERNELS[mode]
    ragged = lengths is not None
    lens = cuda.to_device(np.asarray(lengths, np.int64) if ragged else np.full(B, T, np.int64))

    xp = _empty((T, B, GH), dt)                 # phase 1; then the saved activations
    matmul(x.reshape(T * B, I), w_ih, xp.reshape(T * B, GH), trans_b=True)
    bias = combine_bias(b_ih, b_hh, H if mode == "GRU" else 0, _empty((GH,), dt))
    plan = _plan(mode, B, H, dt, backward=False)
    h0 = state0[0]
    if plan.strategy == "persistent":
        # y's storage with h0 before it and after it: the kernel's h_{t-1} is always slot tp + 1
        hy = _empty(((T + 2) * B * H,), dt)
        copy_into(hy[(T + 1) * B * H:] if reverse else hy[:B * H], h0)
        y = hy[B * H:(T + 1) * B * H].reshape(T, B, H)
    else:
        y = _empty((T, B, H), dt)
    # sweep.py's forward arguments that differ by cell (a cell never indexes those it lacks,
    # which are empty): aux (H,) GRU's b_hn, added inside the reset gate; the state sequence
    # c_t (LSTM) from c0, carried through padding; and what backward reads besides, GRU's hn_t.
    lstm, gru = mode == "LSTM", mode == "GRU"
    aux = b_hh[2 * H:] if gru else _empty((0,), dt)
    c_all = _empty((T, B, H) if lstm else (T, B, 0), dt)
    c0 = state0[1] if lstm else _empty((B, 0), dt)
    hn_all = _empty((T, B, H) if gru else (T, B, 0), dt)
    args = (bias, aux, h0, c0, y, c_all, hn_all, lens, lstm)

    if plan.strategy == "persistent":
        fwd_persistent(dt, B)[plan.blocks, plan.threads, 0, plan.shared_bytes()](
            reverse, tuple(plan.forward), w_hh, hy, xp, *args)
    else:
        blocks, threads = grid_for(B * H)
        q = _empty((B, GH), dt)                 # h_{t-1} W_hh^T, one step
        gemm = StepGemm(w_hh, q, trans_b=True)       # q = h_{t-1} W_hh^T
        ys, h0s = gemm.wrap(y), gemm.wrap(h0)
        # ragged reverse: some rows start mid-sweep from h0, so the GEMM reads a gathered state
        starts = _empty((B, H), dt) if ragged and reverse else None
        starts_w = gemm.wrap(starts) if starts is not None else None
        for step in range(T):
            t = T - 1 - step if reverse else step
            tp = t + 1 if reverse else t - 1
            if starts is not None:
                rows_before(starts, h0, y, t, tp, step == 0, reverse, lens)
                gemm(starts_w)
            else:
                gemm(h0s if step == 0 else ys[tp])
            fwd_step[blocks, threads](t, tp, step == 0, reverse, xp, q, *args)

    last = 0 if reverse else T - 1
    if ragged and not reverse:        # each sequence's h after its own last step
        state_n = (last_rows(_empty((B, H), dt), y, lens),)
    else:
        state_n = (copy_into(_empty((B, H), dt), y[last]),)
    if lstm:
        state_n += (copy_into(_empty((B, H), dt), c_all[last]),)
    saved = None
    if need_grad:
        saved = Saved(mode, on_host, reverse, x, h0, w_ih, w_hh, y if MODES[mode].gates == 1 else xp,
                      c_all if lstm else hn_all, state0[1] if lstm else h0, y, lens, ragged)
    if on_host:
        y = y.copy_to_host()
        state_n = tuple(s.copy_to_host() for s in state_n)
    return y, state_n, saved


def backward(saved, dy, dstate_n):
    mode, on_host, reverse = saved.mode, saved.on_host, saved.reverse
    x, h0, w_ih, w_hh, y, lens, ragged = saved.x, saved.h0, saved.w_ih, saved.w_hh, saved.y, saved.lens, saved.ragged
    dy = _on_device(dy)
    T, B, I = x.shape
    GH, H = w_hh.shape
    dt = x.dtype
    _, _, bwd_step, bwd_persistent = KERNELS[mode]

    dh = copy_into(_empty((B, H), dt), _on_device(dstate_n[0]))  # recurrent gradient of h_t
    if mode == "LSTM":
        carry = copy_into(_empty((B, H), dt), _on_device(dstate_n[1]))   # dc
    elif mode == "GRU":
        carry = fill(_empty((B, H), dt), 0)                           # the z * dh path
    else:
        carry = _empty((B, 0), dt)                                    # none
    dgi = _empty((T, B, GH), dt)
    dgr = _empty((T, B, GH), dt) if mode == "GRU" else dgi            # the same dG for LSTM, RNN
    args = (saved.a_all, saved.s_all, saved.s0, y, h0, dy, dh, carry, dgi, dgr, lens)

    plan = _plan(mode, B, H, dt, backward=True)      # each pass takes the strategy the model times faster
    if plan.strategy == "persistent":
        part = _empty((2 * plan.blocks * B * H,), dt)    # each block's share of dh, by step parity
        bwd_persistent(dt, B)[plan.blocks, plan.threads, 0, plan.shared_bytes(backward=True)](
            reverse, tuple(plan.backward), w_hh, part, *args)
    else:
        blocks, threads = grid_for(B * H)
        # dh = dG_t W_hh, the recurrent part of dh_{t-1}; ragged: into rec, then rows padded at t keep dh
        rec = _empty((B, H), dt) if ragged else dh
        gemm = StepGemm(w_hh, rec)
        dgs = gemm.wrap(dgr)
        for step in range(T):
            t = step if reverse else T - 1 - step
            first = t == (T - 1 if reverse else 0)
            tp = t + 1 if reverse else t - 1
            bwd_step[blocks, threads](t, tp, first, reverse, *args)
            gemm(dgs[t])
            if ragged:
                keep_padded(dh, rec, t, lens)
    dstate0 = (add_into(dh, carry),) if mode == "GRU" else (dh,)
    if mode == "LSTM":
        dstate0 += (carry,)

    # phase 3
    dgi2 = dgi.reshape(T * B, GH)
    dgr2 = dgr.reshape(T * B, GH)
    dx = matmul(dgi2, w_ih, _empty((T * B, I), dt)).reshape(T, B, I)
    dw_ih = matmul(dgi2, x.reshape(T * B, I), _empty((GH, I), dt), trans_a=True)
    first, rest, prev = (T - 1, slice(0, T - 1), slice(1, T)) if reverse else (0, slice(1, T), slice(0, T - 1))
    dw_hh = matmul(dgr[first], h0, _empty((GH, H), dt), trans_a=True)
    if T > 1:
        matmul(dgr[rest].reshape((T - 1) * B, GH), y[prev].reshape((T - 1) * B, H), dw_hh,
               trans_a=True, accumulate=True)
    if reverse and ragged:
        add_start_term(dw_hh, dgr, h0, lens)
    db_ih = column_sum(dgi2, _empty((GH,), dt))
    db_hh = column_sum(dgr2, _empty((GH,), dt))
    out = (dx, dstate0, (dw_ih, dw_hh, db_ih, db_hh))
    if on_host:
        out = (dx.copy_to_host(), tuple(s.copy_to_host() for s in dstate0),
               tuple(g.copy_to_host() for g in out[2]))
    return out
