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

From these the factories below build both strategies, so the step logic exists once:
  - step launch: per step, a cuBLAS GEMM (kernels/cuda/blas.py) then `*_step` over all (b, j);
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


def forward_step(point):
    """Step-launch forward kernel: one step t for all (b, j); q = h_{t-1} W_hh^T from cuBLAS."""

    @cuda.jit
    def step(t, tp, first, xp, q, bias, aux, h0, s0, y, s_all, aux_all):
        """t: the step; tp: the step before it (ignored if first); xp (T, B, GH); q (B, GH);
        bias (GH,); aux (H,); h0, s0 (B, H); y, s_all, aux_all (T, B, H) out at t."""
        B = y.shape[1]
        H = y.shape[2]
        h_prev = h0 if first else y[tp]
        s_prev = s0 if first else s_all[tp]
        for idx in range(cuda.grid(1), B * H, cuda.gridsize(1)):
            b = idx // H
            j = idx - b * H
            point(j, xp[t, b], q[b], bias, aux, h_prev[b], s_prev[b], y[t, b], s_all[t, b], aux_all[t, b])

    return step


def backward_step(point):
    """Step-launch backward kernel: one step t for all (b, j); dh = dG_{t+1} W_hh from cuBLAS."""

    @cuda.jit
    def step(t, tp, first, a_all, s_all, s0, y, h0, dy, dh, carry, dgi, dgr):
        """a_all (T, B, GH); s_all, y, dy (T, B, H); s0, h0, dh, carry (B, H);
        dgi, dgr (T, B, GH) out at t."""
        B = dy.shape[1]
        H = dy.shape[2]
        h_prev = h0 if first else y[tp]
        s_prev = s0 if first else s_all[tp]
        for idx in range(cuda.grid(1), B * H, cuda.gridsize(1)):
            b = idx // H
            j = idx - b * H
            point(j, a_all[t, b], s_all[t, b], s_prev[b], h_prev[b], dy[t, b], dh[b], carry[b],
                  dgi[t, b], dgr[t, b])

    return step


@functools.lru_cache(maxsize=None)
def _forward_persistent(point, G, dtype_name):
    smem_type = _SHARED_TYPES[dtype_name]

    @cuda.jit
    def sweep(reverse, U, w_hh, xp, q, bias, aux, h0, s0, y, s_all, aux_all):
        """The whole forward sweep. U hidden units per block; w_hh (GH, H); q (B, GH) scratch,
        each block writing and reading only its own columns; the rest as in forward_step."""
        T = y.shape[0]
        B = y.shape[1]
        H = y.shape[2]
        w = cuda.shared.array(0, smem_type)   # (G, U, H): this block's rows of W_hh
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
            w[(g * U + jl) * H + k] = w_hh[g * H + j0 + jl, k]
        cuda.syncthreads()
        for step in range(T):
            t = _visit(step, T, reverse)
            tp = t + 1 if reverse else t - 1
            h_prev = h0 if step == 0 else y[tp]
            s_prev = s0 if step == 0 else s_all[tp]
            # this block's slice of q = h_{t-1} W_hh^T: B * G * nj dot products of length H
            for idx in range(tid, B * G * nj, nt):
                b = idx // (G * nj)
                row = idx - b * G * nj
                g = row // nj
                jl = row - g * nj
                base = (g * U + jl) * H
                acc = y.dtype.type(0)
                for k in range(H):
                    acc += w[base + k] * h_prev[b, k]
                q[b, g * H + j0 + jl] = acc
            cuda.syncthreads()
            for idx in range(tid, B * nj, nt):
                b = idx // nj
                j = j0 + idx - b * nj
                point(j, xp[t, b], q[b], bias, aux, h_prev[b], s_prev[b], y[t, b], s_all[t, b],
                      aux_all[t, b])
            grid.sync()   # h_t complete in every block before any block reads it

    return sweep


def forward_persistent(point, G):
    """Persistent forward kernel factory: dtype -> kernel (shared memory is typed)."""
    return lambda dtype: _forward_persistent(point, G, dtype.name)


@functools.lru_cache(maxsize=None)
def _backward_persistent(point, G, dtype_name):
    smem_type = _SHARED_TYPES[dtype_name]

    @cuda.jit(device=True)
    def recurrent_grad(w, dg, dh, j0, nj, GH):
        # dh[b, j0 + jl] = sum_r dg[b, r] W_hh[r, j0 + jl], for this block's units: dg (B, GH)
        for idx in range(cuda.threadIdx.x, dh.shape[0] * nj, cuda.blockDim.x):
            b = idx // nj
            jl = idx - b * nj
            acc = dh.dtype.type(0)
            for r in range(GH):
                acc += dg[b, r] * w[jl * GH + r]
            dh[b, j0 + jl] = acc

    @cuda.jit
    def sweep(reverse, U, w_hh, a_all, s_all, s0, y, h0, dy, dh, carry, dgi, dgr):
        """The whole backward sweep, in reverse visit order. dh (B, H) holds the final state's
        gradient on entry and the recurrent part of dh0 on exit; the rest as in backward_step."""
        T = dy.shape[0]
        B = dy.shape[1]
        H = dy.shape[2]
        GH = G * H
        w = cuda.shared.array(0, smem_type)   # (U, GH): this block's columns of W_hh
        grid = cuda.cg.this_grid()
        tid = cuda.threadIdx.x
        nt = cuda.blockDim.x
        j0 = cuda.blockIdx.x * U
        nj = min(U, H - j0)
        for idx in range(tid, nj * GH, nt):
            jl = idx // GH
            r = idx - jl * GH
            w[jl * GH + r] = w_hh[r, j0 + jl]
        cuda.syncthreads()
        for step in range(T):
            t = _visit(step, T, not reverse)
            first = t == (T - 1 if reverse else 0)   # the state before t is the initial one
            tp = t + 1 if reverse else t - 1
            if step > 0:
                recurrent_grad(w, dgr[t - 1 if reverse else t + 1], dh, j0, nj, GH)
                cuda.syncthreads()
            h_prev = h0 if first else y[tp]
            s_prev = s0 if first else s_all[tp]
            for idx in range(tid, B * nj, nt):
                b = idx // nj
                j = j0 + idx - b * nj
                point(j, a_all[t, b], s_all[t, b], s_prev[b], h_prev[b], dy[t, b], dh[b], carry[b],
                      dgi[t, b], dgr[t, b])
            grid.sync()   # dG_t complete in every block before any block reads it
        recurrent_grad(w, dgr[T - 1 if reverse else 0], dh, j0, nj, GH)

    return sweep


def backward_persistent(point, G):
    """Persistent backward kernel factory: dtype -> kernel."""
    return lambda dtype: _backward_persistent(point, G, dtype.name)
