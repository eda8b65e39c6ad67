"""The persistent sweeps: one cooperative launch for all T steps, phase 2 of kernels/cuda/layer.py.

Block k owns hidden units [k*U, k*U + U) and, for the whole sweep, the G*U rows of W_hh those
units' gates need (row g*U + jl is W_hh row g*H + k*U + jl), in shared memory. Products run in
register tiles (products/tile.py); operands come in with many loads in flight (products/stage.py).

  forward   each step stages h_{t-1} (all of it, written by every block at the step before),
            multiplies it by the block's rows into its gates' recurrent part q (B x G*U, in
            shared memory), and runs the cell's point function for its units.
  backward  each step gathers dh_t for its units: the sum over blocks of the partial products
            every block wrote at the step before; runs the point function, giving dG_t for its
            units' gate rows; and multiplies those by the same rows of W_hh into a partial
            dh_{t-1} over all H units (B x H), written to global memory for the others to sum.
            A block thus reads B x H partials per step, not all of dG_t (B x G*H).

Blocks meet at grid.sync() after each step. Shapes: T steps, B batch, H hidden, G gates,
GH = G*H. The Layout below fixes every offset and stride in a block's shared memory; dispatch.py
sizes plans with it, and the kernel gets it as a tuple of integers.
"""
import functools
from typing import NamedTuple

from numba import cuda, float32, float64, int64, uint32

from .products.stage import stage_rows
from .products.tile import group, k_padded, red_elements, row_tile, tile_product, tile_stride, tiled
from .sweep import _backward_unit, _forward_unit, _visit

_TYPES = {"float32": float32, "float64": float64}
MIN_CHUNK = 32           # forward: operand columns staged at once, at least (or all of K)
MIN_PART = 32            # columns per thread when S threads split K, at least


class Layout(NamedTuple):
    """A persistent kernel's shared memory, in elements (in this order in the kernel's tuple)."""
    units: int       # U: hidden units per block
    rows_p: int      # weight rows in shared memory: forward G*U, backward H (W_hh's columns), rounded
    #                  up to RT (products/tile.row_tile)
    batch_p: int     # B rounded up to BT
    tw: int          # weight tile stride (products/tile.py's tile-major layout); tiles hold all K columns
    x: int           # offset of the staged operand: batch_p / BT tiles
    tx: int          # its tile stride
    chunk: int       # forward: operand columns staged at once (KC); backward: product rows per pass
    out: int         # offset of the product's result: batch_p x ldo
    ldo: int
    red: int         # offset of the partial sums when S > 1
    S: int           # threads splitting K per tile
    K: int           # the product's K, padded: forward H, backward G*U
    part: int        # backward: offset of the gathered sums, B x ldp, then of the staged
    ldp: int         #   partial products, per*B x ldp (both over out: they are not live together)
    per: int         # backward: blocks' partial products staged per gather pass
    elements: int    # total


def signature(dtype_name, backward):
    """The numba argument types of a persistent kernel with C-contiguous arrays (the launch's
    own types may differ in layout; these size plans before the backward's arrays exist)."""
    from numba import types
    dt = getattr(types, dtype_name)
    A1, A2, A3 = (types.Array(dt, n, "C") for n in (1, 2, 3))
    L1 = types.Array(types.int64, 1, "C")
    lay, b1 = types.UniTuple(types.int64, len(Layout._fields)), types.boolean
    if backward:     # reverse, lay, w_hh, part, a_all, s_all, s0, y, h0, dy, dh, carry, dgi, dgr, lens
        return (b1, lay, A2, A1, A3, A3, A2, A3, A2, A3, A2, A2, A3, A3, L1)
    return (b1, lay, A2, A1, A3, A1, A1, A2, A2, A3, A3, A3, L1, b1)   # reverse, lay, w_hh, hy, xp, bias,
    #                                                      aux, h0, s0, y, s_all, aux_all, lens, carry_state


def batch_tile(B):
    """BT: batch rows per register tile (a kernel variant; its rows per tile: tile.row_tile)."""
    return 8 if B >= 8 else 4 if B >= 4 else 1


def _round(n, m):
    return -(-n // m) * m


def layout(G, H, B, U, threads, backward, chunk=None):
    """The layout for U units per block; chunk=None: the whole operand (forward) or all H
    product rows (backward) at once."""
    BT = batch_tile(B)
    RT = row_tile(BT)
    batch_p = _round(B, BT)
    if backward:
        K = k_padded(G * U)
        rows_p = _round(H, RT)
        blocks = -(-H // U)
        # chunk bounds the product's rows per pass, and the partial products per gather pass
        # in proportion (B*chunk elements each way)
        chunk, per = (rows_p, blocks) if chunk is None else (min(_round(chunk, RT), rows_p),
                                                             max(1, min(blocks, chunk // U)))
        tiles = (chunk // RT) * (batch_p // BT)
        S = max(1, min(threads // tiles, K // MIN_PART))
        tw = tx = tile_stride(K, BT)
        x = rows_p // RT * tw
        out = x + batch_p // BT * tx
        ldp = U | 1          # odd: rows of the gathered sums start in different banks
        region = max(batch_p * chunk + red_elements(chunk, batch_p, S, BT), (1 + per) * B * ldp)
        return Layout(U, rows_p, batch_p, tw, x, tx, chunk, out, chunk, out + batch_p * chunk, S, K,
                      out, ldp, per, out + region)
    rows_p = _round(G * U, RT)
    K = k_padded(H)
    chunk = K if chunk is None else min(k_padded(chunk), K)
    tw = tile_stride(K, BT)
    tx = tile_stride(chunk, BT)
    tiles = (rows_p // RT) * (batch_p // BT)
    S = max(1, min(threads // tiles, chunk // MIN_PART))
    x = rows_p // RT * tw
    out = x + batch_p // BT * tx
    red = out + batch_p * rows_p
    total = red + red_elements(rows_p, batch_p, S, BT)
    return Layout(U, rows_p, batch_p, tw, x, tx, chunk, out, rows_p, red, S, K, 0, 0, 0, total)


def fitting_layout(G, H, B, U, threads, backward, limit_elements):
    """The layout with the largest chunk that fits, or None if even the smallest does not
    (forward: MIN_CHUNK columns; backward: one tile of rows and one block's partials)."""
    full = layout(G, H, B, U, threads, backward)
    smallest = row_tile(batch_tile(B)) if backward else MIN_CHUNK
    chunk = full.chunk
    lay = full
    while lay.elements > limit_elements:
        if chunk <= smallest:
            return None
        chunk = max(smallest, chunk // 2)
        lay = layout(G, H, B, U, threads, backward, chunk)
    return lay


@cuda.jit(device=True, inline="always")
def _gate_row(r, U, G, H, j0, nj):
    """Row r = g*U + jl of a block's gate rows -> (its row of W_hh, or column of dG, g*H + j0 + jl;
    whether it is a real one: g < G and jl < nj, the block's units). All uint32."""
    g = r // U
    jl = r - g * U
    return g * H + j0 + jl, g < G and jl < nj


@cuda.jit(device=True, inline="always")
def _zero(smem, at, n):
    """smem[at:at + n] = 0 by the block's threads; does not synchronise."""
    idx = uint32(cuda.threadIdx.x)
    while idx < n:
        smem[at + idx] = 0
        idx += uint32(cuda.blockDim.x)


@functools.lru_cache(maxsize=None)
def _forward_product(dtype_name, BT):
    smem_type = _TYPES[dtype_name]
    product = tile_product(BT, smem_type)
    stage = stage_rows(smem_type, BT)
    RT, GROUP = row_tile(BT), group(BT)

    @cuda.jit(device=True, inline="always")
    def recurrent(smem, lay, hy, at, start, B, H, t, fix, lens):
        """The block's out (batch_p x rows_p) = h_{t-1} (B, H) @ its rows^T, h_{t-1} staged into
        shared memory chunk by chunk from hy (flat) at offset `at`; with `fix` (a reverse sweep
        past its first step) the rows of sequences that start at t (lens[b] - 1 == t) from
        offset `start` (h0) instead. Zeros past B and past H. Ends synchronised."""
        rows_p, batch_p, tw = uint32(lay[1]), uint32(lay[2]), uint32(lay[3])
        x, tx, chunk, out = uint32(lay[4]), uint32(lay[5]), uint32(lay[6]), uint32(lay[7])
        ldo, red, S, K = uint32(lay[8]), uint32(lay[9]), uint32(lay[10]), uint32(lay[11])
        # The previous step's units read out. grid.sync() orders them before this too, but inside
        # cudadevrt: compute-sanitizer's racecheck flags the pair without a barrier of our own.
        cuda.syncthreads()
        _zero(smem, out, batch_p * ldo)
        c0 = uint32(0)
        while c0 < K:
            cn = min(chunk, K - c0)
            cv = min(cn, H - c0) if c0 < H else uint32(0)
            cuda.syncthreads()        # the previous chunk's products are done with x
            stage(smem, x, tx, batch_p, cn, hy[at:at + B * H], H, c0, B, cv)
            if fix:                   # uniform over the block
                cuda.syncthreads()
                for b in range(B):
                    if t == lens[b] - 1:
                        row = start + int64(b) * int64(H)
                        xb = x + tiled(uint32(b) // uint32(BT), uint32(b) % uint32(BT), uint32(0), tx,
                                       uint32(GROUP))
                        stage(smem, xb, tx, uint32(1), cn, hy[row:row + H], H, c0, uint32(1), cv)
            cuda.syncthreads()
            product(smem, c0 * uint32(RT), tw, x, tx, red, out, ldo, rows_p, batch_p, cn, S)   # from column c0
            c0 += cn

    return recurrent


@functools.lru_cache(maxsize=None)
def _forward(point, G, dtype_name, BT):
    smem_type = _TYPES[dtype_name]
    unit = _forward_unit(point)
    recurrent = _forward_product(dtype_name, BT)
    RT, GROUP = row_tile(BT), group(BT)

    @cuda.jit
    def sweep(reverse, lay, w_hh, hy, xp, bias, aux, h0, s0, y, s_all, aux_all, lens, carry_state):
        """The whole forward sweep. lay: Layout as a tuple; w_hh (GH, H); hy ((T + 2) B H,)
        flat: y's storage with h0 before it and after it (h_{t-1} is then always slot tp + 1);
        xp (T, B, GH) in, activations out; bias (GH,); aux (H,); h0, s0 (B, H); y (a view of
        hy), s_all, aux_all (T, B, H) out; lens (B,); carry_state: the cell has a state
        sequence s_all (LSTM)."""
        T = y.shape[0]
        B = uint32(y.shape[1])
        H = uint32(y.shape[2])
        U, rows_p, tw, K = uint32(lay[0]), uint32(lay[1]), uint32(lay[3]), uint32(lay[11])
        out, ldo = uint32(lay[7]), uint32(lay[8])
        smem = cuda.shared.array(0, smem_type)
        grid = cuda.cg.this_grid()
        tid = uint32(cuda.threadIdx.x)
        nt = uint32(cuda.blockDim.x)
        j0 = uint32(cuda.blockIdx.x) * U
        nj = min(U, H - j0)
        # row g*U + jl: W_hh row g*H + j0 + jl for jl < nj; zero past them and past column H
        row_tiles = rows_p // uint32(RT)
        idx = tid
        while idx < rows_p * K:
            row = idx // K
            k = idx - row * K
            gr, real = _gate_row(row, U, uint32(G), H, j0, nj)
            v = smem_type(0)
            if real and k < H:
                v = w_hh[gr, k]
            smem[tiled(row % row_tiles, row // row_tiles, k, tw, uint32(GROUP))] = v
            idx += nt
        for step in range(T):
            t = _visit(step, T, reverse)
            tp = t + 1 if reverse else t - 1
            recurrent(smem, lay, hy, (tp + 1) * int64(B * H), (T + 1) * int64(B * H), B, H, t,
                      reverse and step > 0, lens)
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
def _backward_exchange(G, dtype_name, BT):
    smem_type = _TYPES[dtype_name]
    product = tile_product(BT, smem_type)
    stage = stage_rows(smem_type)
    RT, GROUP = row_tile(BT), group(BT)

    @cuda.jit(device=True, inline="always")
    def gather(smem, lay, part, B, H, j0, nj, dh, tn, lens):
        """dh[b, j0 + jl] = the sum over blocks k, in block order, of part[(k*B + b)*H + j0 + jl]
        (part: one parity's partial products, flat) for the block's units: dh_{tn-1}'s
        recurrent part, from dG at step tn; `per` blocks' rows staged at a time. A sequence
        padded at tn keeps its dh (its state passed through tn). Ends synchronised."""
        acc, ldp, per = uint32(lay[12]), uint32(lay[13]), uint32(lay[14])
        staged = acc + B * ldp
        blocks = uint32(cuda.gridDim.x)
        tid = uint32(cuda.threadIdx.x)
        nt = uint32(cuda.blockDim.x)
        _zero(smem, acc, B * ldp)
        k0 = uint32(0)
        while k0 < blocks:
            kn = min(per, blocks - k0)
            cuda.syncthreads()     # the sums of the pass before are done with `staged`
            first = int64(k0 * B) * int64(H)
            stage(smem, staged, ldp, kn * B, nj, part[first:first + int64(kn * B) * int64(H)], H, j0, kn * B, nj)
            cuda.syncthreads()
            idx = tid
            while idx < B * nj:
                b = idx // nj
                at = b * ldp + idx - b * nj
                s = smem[acc + at]
                for k in range(kn):
                    s += smem[staged + uint32(k) * B * ldp + at]
                smem[acc + at] = s
                idx += nt
            k0 += kn
        cuda.syncthreads()
        idx = tid
        while idx < B * nj:
            b = idx // nj
            jl = idx - b * nj
            if tn < lens[b]:
                dh[b, j0 + jl] = smem[acc + b * ldp + jl]
            idx += nt
        cuda.syncthreads()

    @cuda.jit(device=True, inline="always")
    def scatter(smem, lay, dg, part, B, H, j0, nj):
        """part[(k*B + b)*H + c] = sum_r dg[b, r] W_hh[r, c] over the block's gate rows r = g*H
        + j0 + jl, for every c < H, k this block (part: one parity's partial products, flat):
        its share of dh_{t-1}, from dG_t (B, GH)."""
        U, rows_p, batch_p, tw = uint32(lay[0]), uint32(lay[1]), uint32(lay[2]), uint32(lay[3])
        x, tx, chunk, out = uint32(lay[4]), uint32(lay[5]), uint32(lay[6]), uint32(lay[7])
        ldo, red, S, K = uint32(lay[8]), uint32(lay[9]), uint32(lay[10]), uint32(lay[11])
        tid = uint32(cuda.threadIdx.x)
        nt = uint32(cuda.blockDim.x)
        first = int64(cuda.blockIdx.x) * int64(B * H)
        mine = part[first:first + int64(B * H)]
        idx = tid              # x[b, g*U + jl] = dG_t[b, g*H + j0 + jl]; zero past B and the units
        while idx < batch_p * K:
            b = idx // K
            kk = idx - b * K
            gr, real = _gate_row(kk, U, uint32(G), H, j0, nj)
            v = smem_type(0)
            if b < B and real:
                v = dg[b, gr]
            smem[x + tiled(b // uint32(BT), b % uint32(BT), kk, tx, uint32(GROUP))] = v
            idx += nt
        c0 = uint32(0)
        while c0 < rows_p:
            cn = uint32(min(chunk, rows_p - c0))
            _zero(smem, out, batch_p * ldo)
            cuda.syncthreads()
            product(smem, c0 // uint32(RT) * tw, tw, x, tx, red, out, ldo, cn, batch_p, K, S)
            for b in range(B):
                c = tid
                while c < cn and c0 + c < H:
                    mine[uint32(b) * H + c0 + c] = smem[out + uint32(b) * ldo + c]
                    c += nt
            cuda.syncthreads()
            c0 += cn

    return gather, scatter


@functools.lru_cache(maxsize=None)
def _backward(point, G, dtype_name, BT):
    smem_type = _TYPES[dtype_name]
    unit = _backward_unit(point)
    gather, scatter = _backward_exchange(G, dtype_name, BT)
    RT, GROUP = row_tile(BT), group(BT)

    @cuda.jit
    def sweep(reverse, lay, w_hh, part, a_all, s_all, s0, y, h0, dy, dh, carry, dgi, dgr, lens):
        """The whole backward sweep, in reverse visit order. part (2 blocks B H,) flat: the
        partial products, blocks x B x H, double-buffered by step parity (a block may write the
        next step's while another still reads this one's). dh (B, H) holds the final state's
        gradient on entry and the recurrent part of dh0 on exit; the rest as in
        sweep.backward_step."""
        T = dy.shape[0]
        H = uint32(dy.shape[2])
        B = uint32(dy.shape[1])
        U, rows_p, tw, K = uint32(lay[0]), uint32(lay[1]), uint32(lay[3]), uint32(lay[11])
        chunk = uint32(lay[6])
        smem = cuda.shared.array(0, smem_type)
        grid = cuda.cg.this_grid()
        tid = uint32(cuda.threadIdx.x)
        nt = uint32(cuda.blockDim.x)
        j0 = uint32(cuda.blockIdx.x) * U
        nj = min(U, H - j0)
        size = int64(cuda.gridDim.x) * int64(B * H)      # one parity's partial products
        # row c: W_hh column c over the block's gate rows, kk = g*U + jl (W_hh row g*H + j0 + jl);
        # neighbouring threads read neighbouring columns of one W_hh row
        idx = tid
        while idx < K * rows_p:
            kk = idx // rows_p
            c = idx - kk * rows_p
            gr, real = _gate_row(kk, U, uint32(G), H, j0, nj)
            v = smem_type(0)
            if real and c < H:
                v = w_hh[gr, c]
            c0 = c // chunk * chunk            # scatter's product takes rows in chunks: tiles per chunk
            row_tiles = min(chunk, rows_p - c0) // uint32(RT)
            smem[tiled(c0 // uint32(RT) + (c - c0) % row_tiles, (c - c0) // row_tiles, kk, tw,
                       uint32(GROUP))] = v
            idx += nt
        cuda.syncthreads()
        for step in range(T):
            t = _visit(step, T, not reverse)
            first = t == (T - 1 if reverse else 0)   # the state before t is the initial one
            tp = t + 1 if reverse else t - 1
            idx = tid
            while idx < B * nj:
                b = idx // nj
                unit(t, tp, first, reverse, b, j0 + idx - b * nj, a_all, s_all, s0, y, h0, dy, dh, carry,
                     dgi, dgr, lens)
                idx += nt
            cuda.syncthreads()      # dG_t of the block's units written
            at = (step % 2) * size
            scatter(smem, lay, dgr[t], part[at:at + size], B, H, j0, nj)
            grid.sync()   # every block's partial written before any block sums them
            # dh_{t-1}'s recurrent part, for the next step (after the last: dh0's)
            gather(smem, lay, part[at:at + size], B, H, j0, nj, dh, t, lens)

    return sweep


def backward(point, G):
    """Persistent backward kernel factory: (dtype, B) -> kernel."""
    return lambda dtype, B: _backward(point, G, dtype.name, batch_tile(B))
