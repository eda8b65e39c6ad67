"""The recurrent sweep skeleton shared by every cell: phase 2 of kernels/cuda/layer.py.

Shapes: T steps, B batch, H hidden size, G gates (4 LSTM, 3 GRU, 1 RNN), GH = G*H.
A cell supplies two pointwise device functions, one hidden unit j of one sequence each:

    forward  point(j, a, q, bias, aux, h_prev, s_prev, h, s, aux_out)
        a (GH,) x W_ih^T in, saved activations out;  q (GH,) h_{t-1} W_hh^T;  bias (GH,);
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

From these the factories below build both strategies, so the step logic exists once:
  - step launch: per step, a cuBLAS GEMM (kernels/cuda/products/blas.py) then `*_step` over all (b, j);
  - persistent: one cooperative launch for all T steps. Block k owns hidden units
    [k*U, k*U + U) (U units per block), keeps the rows of W_hh for them in shared memory for
    the whole sweep, computes its slice of the recurrent GEMM from there, runs the same point
    function, and meets the other blocks at grid.sync() before the next step reads h_t.
"""
import functools

from numba import cuda, float32, float64

_SHARED_TYPES = {"float32": float32, "float64": float64}


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
    def unit(t, tp, first, reverse, b, j, xp, q, bias, aux, h0, s0, y, s_all, aux_all, lens, carry_state):
        """Hidden unit j of sequence b at step t. Padding (t >= lens[b]): zero output, and the
        cell state carried into s_all[t] (carry_state: LSTM) so the next step reads it there."""
        sp = s0[b] if first else s_all[tp, b]
        if t < lens[b]:
            hp = h0[b] if _starts(t, first, reverse, lens, b) else y[tp, b]
            point(j, xp[t, b], q[b], bias, aux, hp, sp, y[t, b], s_all[t, b], aux_all[t, b])
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
            unit(t, tp, first, reverse, b, idx - b * H, xp, q, bias, aux, h0, s0, y, s_all, aux_all,
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


@cuda.jit(device=True, inline="always")
def _split_dot(smem, w_base, vec, n, part, S, red, idx):
    """Thread `part` of the S threads on one dot product: sum over k = part, part+S, ... < n of
    smem[w_base + k] * vec[k]. With S = 1 it returns the whole dot; with S > 1 it leaves its
    partial sum in smem[red + idx] for _split_sum and returns it. Neighbouring threads read
    neighbouring k: no bank conflicts on smem, coalesced reads of vec."""
    acc = vec.dtype.type(0)
    for k in range(part, n, S):
        acc += smem[w_base + k] * vec[k]
    if S > 1:
        smem[red + idx] = acc
    return acc


@cuda.jit(device=True, inline="always")
def _split_sum(smem, red, item, S):
    # the S partial sums of dot product `item`, added in a fixed order (deterministic)
    acc = smem[red + item * S]
    for s in range(1, S):
        acc += smem[red + item * S + s]
    return acc


def shared_elements(G, H, units, threads):
    """Dynamic shared memory of the persistent kernels, in elements: W_hh rows or columns for
    `units` hidden units (rows padded by one element, so that threads on neighbouring rows hit
    different banks) and one partial sum per thread. Forward needs G*U*(H+1), backward
    U*(G*H+1) <= that; dispatch.py sizes plans with this."""
    return G * units * (H + 1) + threads


@functools.lru_cache(maxsize=None)
def _forward_persistent(point, G, dtype_name):
    smem_type = _SHARED_TYPES[dtype_name]
    unit = _forward_unit(point)

    @cuda.jit
    def sweep(reverse, U, w_hh, xp, q, bias, aux, h0, s0, y, s_all, aux_all, lens, carry_state):
        """The whole forward sweep. U hidden units per block; w_hh (GH, H); q (B, GH) scratch,
        each block writing and reading only its own columns; the rest as in forward_step."""
        T = y.shape[0]
        B = y.shape[1]
        H = y.shape[2]
        smem = cuda.shared.array(0, smem_type)
        ld = H + 1                   # row stride of this block's W_hh rows in smem: (G, U, H+1)
        red = G * U * ld             # then one partial sum per thread
        grid = cuda.cg.this_grid()
        tid = cuda.threadIdx.x
        nt = cuda.blockDim.x
        j0 = cuda.blockIdx.x * U
        nj = min(U, H - j0)
        for idx in range(tid, G * nj * H, nt):
            row = idx // H
            k = idx - row * H
            g = row // nj
            jl = row - g * nj
            smem[(g * U + jl) * ld + k] = w_hh[g * H + j0 + jl, k]
        # This block's slice of q = h_{t-1} W_hh^T is B * G * nj dot products of length H; with
        # fewer of them than threads (small batch), S threads share each one.
        items = B * G * nj
        S = nt // items if items < nt else 1
        cuda.syncthreads()
        for step in range(T):
            t = _visit(step, T, reverse)
            tp = t + 1 if reverse else t - 1
            for idx in range(tid, items * S, nt):
                item = idx // S
                b = item // (G * nj)
                row = item - b * G * nj
                g = row // nj
                jl = row - g * nj
                hp = h0[b] if _starts(t, step == 0, reverse, lens, b) else y[tp, b]
                acc = _split_dot(smem, (g * U + jl) * ld, hp, H, idx - item * S, S, red, idx)
                if S == 1:
                    q[b, g * H + j0 + jl] = acc
            if S > 1:
                cuda.syncthreads()
                for item in range(tid, items, nt):
                    b = item // (G * nj)
                    row = item - b * G * nj
                    g = row // nj
                    q[b, g * H + j0 + row - g * nj] = _split_sum(smem, red, item, S)
            cuda.syncthreads()
            for idx in range(tid, B * nj, nt):
                b = idx // nj
                unit(t, tp, step == 0, reverse, b, j0 + idx - b * nj, xp, q, bias, aux, h0, s0, y, s_all,
                     aux_all, lens, carry_state)
            grid.sync()   # h_t complete in every block before any block reads it

    return sweep


def forward_persistent(point, G):
    """Persistent forward kernel factory: dtype -> kernel (shared memory is typed)."""
    return lambda dtype: _forward_persistent(point, G, dtype.name)


@functools.lru_cache(maxsize=None)
def _backward_persistent(point, G, dtype_name):
    smem_type = _SHARED_TYPES[dtype_name]

    unit = _backward_unit(point)

    @cuda.jit(device=True)
    def recurrent_grad(smem, ld, red, dg, dh, j0, nj, GH, tn, lens):
        """dh[b, j0 + jl] = sum_r dg[b, r] W_hh[r, j0 + jl] for this block's units: dg (B, GH)
        = dG at step tn, W_hh's columns in smem at jl * ld. S threads share each dot when there
        are few. A sequence padded at tn keeps its dh (its state passed through tn)."""
        tid = cuda.threadIdx.x
        nt = cuda.blockDim.x
        items = dh.shape[0] * nj
        S = nt // items if items < nt else 1
        for idx in range(tid, items * S, nt):
            item = idx // S
            b = item // nj
            acc = _split_dot(smem, (item - b * nj) * ld, dg[b], GH, idx - item * S, S, red, idx)
            if S == 1 and tn < lens[b]:
                dh[b, j0 + item - b * nj] = acc
        if S > 1:
            cuda.syncthreads()
            for item in range(tid, items, nt):
                b = item // nj
                if tn < lens[b]:
                    dh[b, j0 + item - b * nj] = _split_sum(smem, red, item, S)

    @cuda.jit
    def sweep(reverse, U, w_hh, a_all, s_all, s0, y, h0, dy, dh, carry, dgi, dgr, lens):
        """The whole backward sweep, in reverse visit order. dh (B, H) holds the final state's
        gradient on entry and the recurrent part of dh0 on exit; the rest as in backward_step."""
        T = dy.shape[0]
        B = dy.shape[1]
        H = dy.shape[2]
        GH = G * H
        smem = cuda.shared.array(0, smem_type)
        ld = GH + 1                  # this block's columns of W_hh in smem: (U, GH+1)
        red = G * U * (H + 1)        # partial sums after the largest weight slice (see shared_elements)
        grid = cuda.cg.this_grid()
        tid = cuda.threadIdx.x
        nt = cuda.blockDim.x
        j0 = cuda.blockIdx.x * U
        nj = min(U, H - j0)
        for idx in range(tid, nj * GH, nt):
            jl = idx // GH
            r = idx - jl * GH
            smem[jl * ld + r] = w_hh[r, j0 + jl]
        cuda.syncthreads()
        for step in range(T):
            t = _visit(step, T, not reverse)
            first = t == (T - 1 if reverse else 0)   # the state before t is the initial one
            tp = t + 1 if reverse else t - 1
            if step > 0:
                tn = t - 1 if reverse else t + 1             # the step visited just before
                recurrent_grad(smem, ld, red, dgr[tn], dh, j0, nj, GH, tn, lens)
                cuda.syncthreads()
            for idx in range(tid, B * nj, nt):
                b = idx // nj
                unit(t, tp, first, reverse, b, j0 + idx - b * nj, a_all, s_all, s0, y, h0, dy, dh, carry,
                     dgi, dgr, lens)
            grid.sync()   # dG_t complete in every block before any block reads it
        last = T - 1 if reverse else 0
        recurrent_grad(smem, ld, red, dgr[last], dh, j0, nj, GH, last, lens)

    return sweep


def backward_persistent(point, G):
    """Persistent backward kernel factory: dtype -> kernel."""
    return lambda dtype: _backward_persistent(point, G, dtype.name)
