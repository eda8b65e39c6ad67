"""The persistent sweeps: one cooperative launch for all T steps, phase 2 of kernels/cuda/layer.py.

Block k owns hidden units [k*U, k*U + U). For the whole sweep it keeps in shared memory the part
of W_hh those units need: forward, their G*U rows (gate-major: row g*U + jl is W_hh row
g*H + k*U + jl); backward, their U columns (W_hh^T rows). Each step it stages the recurrent
operand (forward h_{t-1}, backward dG of the step visited before) into shared memory, in chunks
of KC columns when the whole does not fit, multiplies it by its weights in register tiles
(products/tile.py) into a small block-local result in shared memory (forward q, backward dh),
runs the cell's point function for its units (sweep.py's units), and meets the other blocks at
grid.sync() before the next step reads what they wrote.

Shapes: T steps, B batch, H hidden, G gates, GH = G*H. The Layout below fixes every offset and
stride in the block's shared memory; dispatch.py sizes plans with it, and the kernel gets it as
a tuple of integers.
"""
import functools
from typing import NamedTuple

from numba import cuda, float32, float64, uint32

from .products.tile import RT, k_padded, red_elements, stride, tile_product
from .sweep import _backward_unit, _forward_unit, _starts, _visit

_TYPES = {"float32": float32, "float64": float64}
MIN_CHUNK = 32           # columns of the operand staged at once, at least (or all of K)
MIN_PART = 32            # columns per thread when S threads split K, at least


class Layout(NamedTuple):
    """A persistent kernel's shared memory, in elements (in this order in the kernel's tuple)."""
    units: int       # U: hidden units per block
    rows_p: int      # weight rows: G*U forward, U backward, rounded up to RT
    batch_p: int     # B rounded up to BT
    ldw: int         # weight row stride; the rows hold all K columns
    x: int           # offset of the staged operand: batch_p x ldx
    ldx: int
    chunk: int       # KC: operand columns staged at once (a multiple of products/tile.KU)
    out: int         # offset of the block's result: batch_p x ldo
    ldo: int
    red: int         # offset of the partial sums when S > 1
    S: int           # threads splitting K per tile
    K: int           # the product's K, padded: H forward, GH backward
    elements: int    # total


def signature(dtype_name, backward):
    """The numba argument types of a persistent kernel with C-contiguous arrays (the launch's
    own types may differ in layout; these size plans before the backward's arrays exist)."""
    from numba import types
    dt = getattr(types, dtype_name)
    A1, A2, A3 = (types.Array(dt, n, "C") for n in (1, 2, 3))
    L1 = types.Array(types.int64, 1, "C")
    lay, b1 = types.UniTuple(types.int64, len(Layout._fields)), types.boolean
    if backward:     # reverse, lay, w_hh, a_all, s_all, s0, y, h0, dy, dh, carry, dgi, dgr, lens
        return (b1, lay, A2, A3, A3, A2, A3, A2, A3, A2, A2, A3, A3, L1)
    return (b1, lay, A2, A3, A1, A1, A2, A2, A3, A3, A3, L1, b1)   # reverse, lay, w_hh, xp, bias, aux,
    #                                                         h0, s0, y, s_all, aux_all, lens, carry_state


def batch_tile(B):
    """BT: batch rows per register tile (a kernel variant)."""
    return 4 if B >= 4 else 1


def layout(G, H, B, U, threads, backward, chunk=None):
    """The layout for U units per block; chunk=None stages all of K at once."""
    BT = batch_tile(B)
    rows = U if backward else G * U
    rows_p = -(-rows // RT) * RT
    batch_p = -(-B // BT) * BT
    K = k_padded(G * H if backward else H)
    chunk = K if chunk is None else min(k_padded(chunk), K)
    ldw = stride(K)
    ldx = stride(chunk)
    tiles = (rows_p // RT) * (batch_p // BT)
    S = max(1, min(threads // tiles, chunk // MIN_PART))
    x = rows_p * ldw
    out = x + batch_p * ldx
    red = out + batch_p * rows_p
    total = red + red_elements(rows_p, batch_p, S, BT)
    return Layout(U, rows_p, batch_p, ldw, x, ldx, chunk, out, rows_p, red, S, K, total)


def fitting_layout(G, H, B, U, threads, backward, limit_elements):
    """The layout with the largest chunk that fits, or None if even MIN_CHUNK does not."""
    full = layout(G, H, B, U, threads, backward)
    if full.elements <= limit_elements:
        return full
    chunk = full.K
    while chunk > MIN_CHUNK:
        chunk = max(MIN_CHUNK, chunk // 2)
        lay = layout(G, H, B, U, threads, backward, chunk)
        if lay.elements <= limit_elements:
            return lay
    return None


@functools.lru_cache(maxsize=None)
def _staged_product(dtype_name, BT):
    smem_type = _TYPES[dtype_name]
    product = tile_product(BT, smem_type)

    @cuda.jit(device=True, inline="always")
    def staged(smem, lay, src, start, t, reverse, lens):
        """The block's out (batch_p x rows_p) = operand (B, n) @ its weights^T, the operand
        staged into shared memory chunk by chunk: row b is start[b] where sequence b starts
        at t (sweep._starts, reverse sweeps of ragged batches), else src[b]; zeros past B and
        past n. Ends with the block synchronised."""
        B = uint32(src.shape[0])
        n = uint32(src.shape[1])
        rows_p, batch_p, ldw = uint32(lay[1]), uint32(lay[2]), uint32(lay[3])
        x, ldx, chunk, out = uint32(lay[4]), uint32(lay[5]), uint32(lay[6]), uint32(lay[7])
        ldo, red, S, K = uint32(lay[8]), uint32(lay[9]), uint32(lay[10]), uint32(lay[11])
        tid = uint32(cuda.threadIdx.x)
        nt = uint32(cuda.blockDim.x)
        idx = tid
        while idx < batch_p * rows_p:
            smem[out + idx] = 0
            idx += nt
        c0 = uint32(0)
        while c0 < K:
            cn = min(chunk, K - c0)
            cuda.syncthreads()        # the previous chunk's products are done with x
            idx = tid
            while idx < batch_p * cn:
                b = idx // cn
                k = idx - b * cn
                v = smem_type(0)
                if b < B and c0 + k < n:
                    row = start[b] if _starts(t, False, reverse, lens, b) else src[b]
                    v = row[c0 + k]
                smem[x + b * ldx + k] = v
                idx += nt
            cuda.syncthreads()
            product(smem, c0, ldw, x, ldx, red, out, ldo, rows_p, batch_p, cn, S)
            c0 += cn

    return staged


@functools.lru_cache(maxsize=None)
def _forward(point, G, dtype_name, BT):
    smem_type = _TYPES[dtype_name]
    unit = _forward_unit(point)
    staged = _staged_product(dtype_name, BT)

    @cuda.jit
    def sweep(reverse, lay, w_hh, xp, bias, aux, h0, s0, y, s_all, aux_all, lens, carry_state):
        """The whole forward sweep. lay: Layout as a tuple; w_hh (GH, H); xp (T, B, GH) in,
        activations out; bias (GH,); aux (H,); h0, s0 (B, H); y, s_all, aux_all (T, B, H) out;
        lens (B,); carry_state: the cell has a state sequence s_all (LSTM)."""
        T = y.shape[0]
        B = uint32(y.shape[1])
        H = uint32(y.shape[2])
        U, rows_p, K, out, ldo = uint32(lay[0]), uint32(lay[1]), uint32(lay[11]), uint32(lay[7]), uint32(lay[8])
        smem = cuda.shared.array(0, smem_type)
        grid = cuda.cg.this_grid()
        tid = uint32(cuda.threadIdx.x)
        nt = uint32(cuda.blockDim.x)
        j0 = uint32(cuda.blockIdx.x) * U
        nj = min(U, H - j0)
        # rows g*U + jl: W_hh row g*H + j0 + jl for jl < nj, zero past them and past column H;
        # neighbouring threads read neighbouring columns of one row
        idx = tid
        while idx < rows_p * K:
            row = idx // K
            k = idx - row * K
            g = row // U
            jl = row - g * U
            v = smem_type(0)
            if g < uint32(G) and jl < nj and k < H:
                v = w_hh[g * H + j0 + jl, k]
            smem[row * uint32(lay[3]) + k] = v
            idx += nt
        for step in range(T):
            t = _visit(step, T, reverse)
            tp = t + 1 if reverse else t - 1
            staged(smem, lay, h0 if step == 0 else y[tp], h0, t, reverse, lens)
            idx = tid
            while idx < B * nj:
                b = idx // nj
                jl = idx - b * nj
                q = smem[out + b * ldo:out + b * ldo + rows_p]
                unit(t, tp, step == 0, reverse, b, j0 + jl, xp, q, jl, U, bias, aux, h0, s0, y, s_all,
                     aux_all, lens, carry_state)
                idx += nt
            grid.sync()   # h_t complete in every block before any block reads it

    return sweep


def forward(point, G):
    """Persistent forward kernel factory: (dtype, B) -> kernel."""
    return lambda dtype, B: _forward(point, G, dtype.name, batch_tile(B))


@functools.lru_cache(maxsize=None)
def _backward(point, G, dtype_name, BT):
    smem_type = _TYPES[dtype_name]
    unit = _backward_unit(point)
    staged = _staged_product(dtype_name, BT)

    @cuda.jit(device=True, inline="always")
    def recurrent_grad(smem, lay, dg, dh, j0, nj, tn, lens):
        """dh[b, j0 + jl] = sum_r dg[b, r] W_hh[r, j0 + jl] for this block's units: dg (B, GH)
        = dG at step tn. A sequence padded at tn keeps its dh (its state passed through tn)."""
        out, ldo = uint32(lay[7]), uint32(lay[8])
        staged(smem, lay, dg, dg, tn, False, lens)
        idx = uint32(cuda.threadIdx.x)
        while idx < uint32(dh.shape[0]) * nj:
            b = idx // nj
            jl = idx - b * nj
            if tn < lens[b]:
                dh[b, j0 + jl] = smem[out + b * ldo + jl]
            idx += uint32(cuda.blockDim.x)
        cuda.syncthreads()

    @cuda.jit
    def sweep(reverse, lay, w_hh, a_all, s_all, s0, y, h0, dy, dh, carry, dgi, dgr, lens):
        """The whole backward sweep, in reverse visit order. dh (B, H) holds the final state's
        gradient on entry and the recurrent part of dh0 on exit; the rest as in
        sweep.backward_step."""
        T = dy.shape[0]
        B = uint32(dy.shape[1])
        H = uint32(dy.shape[2])
        GH = uint32(G) * H
        U, rows_p, ldw, K = uint32(lay[0]), uint32(lay[1]), uint32(lay[3]), uint32(lay[11])
        smem = cuda.shared.array(0, smem_type)
        grid = cuda.cg.this_grid()
        tid = uint32(cuda.threadIdx.x)
        nt = uint32(cuda.blockDim.x)
        j0 = uint32(cuda.blockIdx.x) * U
        nj = min(U, H - j0)
        # row jl: W_hh column j0 + jl; neighbouring threads read neighbouring columns of one row
        idx = tid
        while idx < K * rows_p:
            r = idx // rows_p
            jl = idx - r * rows_p
            v = smem_type(0)
            if jl < nj and r < GH:
                v = w_hh[r, j0 + jl]
            smem[jl * ldw + r] = v
            idx += nt
        cuda.syncthreads()
        for step in range(T):
            t = _visit(step, T, not reverse)
            first = t == (T - 1 if reverse else 0)   # the state before t is the initial one
            tp = t + 1 if reverse else t - 1
            if step > 0:
                tn = t - 1 if reverse else t + 1             # the step visited just before
                recurrent_grad(smem, lay, dgr[tn], dh, j0, nj, tn, lens)
            idx = tid
            while idx < B * nj:
                b = idx // nj
                unit(t, tp, first, reverse, b, j0 + idx - b * nj, a_all, s_all, s0, y, h0, dy, dh, carry,
                     dgi, dgr, lens)
                idx += nt
            grid.sync()   # dG_t complete in every block before any block reads it
        last = T - 1 if reverse else 0
        recurrent_grad(smem, lay, dgr[last], dh, j0, nj, last, lens)

    return sweep


def backward(point, G):
    """Persistent backward kernel factory: (dtype, B) -> kernel."""
    return lambda dtype, B: _backward(point, G, dtype.name, batch_tile(B))
