"""The recurrent sweep skeleton shared by every cell: phase 2 of kernels/cuda/layer.py.

Shapes: T steps, B batch, H hidden size, G gates (4 LSTM, 3 GRU, 1 RNN), GH = G*H.
A cell supplies two pointwise device functions, one hidden unit j of one sequence each:

    forward  point(j, a, q, qj, qs, bias, aux, h_prev, s_prev, h, s, aux_out)
        a (GH,) x W_ih^T in, saved activations out;  q[qj + g*qs]: gate g's part of
        h_{t-1} W_hh^T for this unit (step launch: q (GH,) with qj = j, qs = H; persistent:
        the block's result in shared memory, qj = the unit in the block, qs = units per block);
        bias (GH,);
        aux (H,) cell-specific (GRU: b_hn);  h_prev, s_prev (H,) state before t;
        h, s, aux_out (H,) out: h_t, the cell state (LSTM: c_t), what backward needs (GRU: hn)
    backward point(j, a, s, s_prev, h_prev, dy, dh, carry, di, dr)
        a (GH,) saved activations (RNN: h_t);  s, s_prev, h_prev (H,) as saved in forward;
        dy (H,) output gradient;  dh (H,) recurrent gradient of h_t, from dG_{t+1} W_hh;
        carry (H,) in/out: the cell's own path to the step before (LSTM: dc; GRU: z * dh);
        di, dr (GH,) out: pre-activation gradients, input side and recurrent side (LSTM and
        RNN: one array passed twice; GRU: they differ in the n block)

Arrays a cell does not have (LSTM and RNN: aux, aux_out; GRU and RNN: the forward state
sequence s and s0; RNN: carry) are passed empty, with a 0 in their shape: its point function never
indexes them.

Variable lengths: lens (B,) gives each sequence's length. At a step t >= lens[b] (padding)
the point function is not called: the output is zero, the state passes through, and no
gradient is taken; a reverse sweep starts sequence b at t = lens[b] - 1 from the initial state.

From these both strategies are built, so the step logic exists once:
  - step launch (here): per step, a cuBLAS GEMM (kernels/cuda/products/blas.py) then `*_step`
    over all (b, j);
  - persistent (persistent.py): one cooperative launch for all T steps, each block running the
    same units for its own hidden units.
"""
from numba import cuda


def _visit(step, T, reverse):
    # t visited at the step-th step of a sweep that runs forward in time unless `reverse`
    return T - 1 - step if reverse else step


_visit = cuda.jit(device=True, inline="always")(_visit)


@cuda.jit(device=True, inline="always")
def _starts(t, first, reverse, lens, b):
    """Whether sequence b starts at step t, from the initial state: at the sweep's first step,
    or, with variable lengths in a reverse sweep, at its own last step."""
    return first or (reverse and t == lens[b] - 1)


def _forward_unit(point):
    @cuda.jit(device=True, inline="always")
    def unit(t, tp, first, reverse, b, j, xp, q, qj, qs, bias, aux, h0, s0, y, s_all, aux_all, lens, carry_state):
        """Hidden unit j of sequence b at step t. Padding (t >= lens[b]): zero output, and the
        cell state carried into s_all[t] (carry_state: LSTM) so the next step reads it there."""
        sp = s0[b] if first else s_all[tp, b]
        if t < lens[b]:
            hp = h0[b] if _starts(t, first, reverse, lens, b) else y[tp, b]
            point(j, xp[t, b], q, qj, qs, bias, aux, hp, sp, y[t, b], s_all[t, b], aux_all[t, b])
        else:
            y[t, b, j] = 0
            if carry_state:
                s_all[t, b, j] = sp[j]

    return unit


def _backward_unit(point):
    @cuda.jit(device=True, inline="always")
    def unit(t, tp, first, reverse, b, j, a_all, s_all, s0, y, h0, dy, dh, carry, dgi, dgr, lens):
        """Hidden unit j of sequence b at step t. Padding: no gradient; dh and carry pass as they are."""
        if t < lens[b]:
            hp = h0[b] if _starts(t, first, reverse, lens, b) else y[tp, b]
            sp = s0[b] if first else s_all[tp, b]
            point(j, a_all[t, b], s_all[t, b], sp, hp, dy[t, b], dh[b], carry[b], dgi[t, b], dgr[t, b])
        else:
            H = dy.shape[2]
            for g in range(dgi.shape[2] // H):
                dgi[t, b, g * H + j] = 0
                dgr[t, b, g * H + j] = 0

    return unit


def forward_step(point):
    """Step-launch forward kernel: one step t for all (b, j); q = h_{t-1} W_hh^T from cuBLAS."""
    unit = _forward_unit(point)

    @cuda.jit
    def step(t, tp, first, reverse, xp, q, bias, aux, h0, s0, y, s_all, aux_all, lens, carry_state):
        """t: the step; tp: the step before it (ignored if first); xp (T, B, GH); q (B, GH);
        bias (GH,); aux (H,); h0, s0 (B, H); y, s_all, aux_all (T, B, H) out at t; lens (B,);
        carry_state: the cell has a state sequence s_all (LSTM), carried through padding."""
        B = y.shape[1]
        H = y.shape[2]
        for idx in range(cuda.grid(1), B * H, cuda.gridsize(1)):
            b = idx // H
            j = idx - b * H
            unit(t, tp, first, reverse, b, j, xp, q[b], j, H, bias, aux, h0, s0, y, s_all, aux_all,
                 lens, carry_state)

    return step


def backward_step(point):
    """Step-launch backward kernel: one step t for all (b, j); dh = dG_{t+1} W_hh from cuBLAS."""
    unit = _backward_unit(point)

    @cuda.jit
    def step(t, tp, first, reverse, a_all, s_all, s0, y, h0, dy, dh, carry, dgi, dgr, lens):
        """a_all (T, B, GH); s_all, y, dy (T, B, H); s0, h0, dh, carry (B, H);
        dgi, dgr (T, B, GH) out at t; lens (B,)."""
        B = dy.shape[1]
        H = dy.shape[2]
        for idx in range(cuda.grid(1), B * H, cuda.gridsize(1)):
            b = idx // H
            unit(t, tp, first, reverse, b, idx - b * H, a_all, s_all, s0, y, h0, dy, dh, carry, dgi, dgr, lens)

    return step
