"""One block's slice of a recurrent product, from shared memory, in register tiles.

The persistent sweeps' inner loop (persistent.py): out (batch, rows) += x (batch, K) @ w (rows, K)^T,
with w (the block's rows of W_hh, or its columns in backward) resident in shared memory for the
whole sweep and x (h_{t-1}, or dG_t) staged there once per step. Each thread owns a tile of RT
rows x BT batch rows in registers, so one weight load feeds BT FMAs and one x load RT; S threads
split K when tiles are fewer than threads, leaving partial sums that are added in a fixed order
(deterministic). Every index is a 32-bit unsigned integer: no negative-index wraparound and no
64-bit address arithmetic in the loop (kernels/cuda/profile reads the SASS: TUNING.md).

Both operands are stored tile-major: a tile's rows (RT of w, BT of x) lie together, KU columns
at a time, in groups of GROUP elements, so one offset that advances by GROUP per KU columns
addresses both, and every load in the loop is that offset plus an immediate.

    element (row e of tile t, column k) at  t*ts + (k // KU)*GROUP + e*KU + k % KU

ts, the tile stride, is odd (tile_stride): neighbouring threads take neighbouring tiles, so a
warp's loads at one k hit 32 different banks (32 of 4 bytes; one word per thread per load).
Threads of one batch tile share its x loads (a broadcast). The S parts of K are runs of an odd
number of KU-column groups; a warp that holds 4 or more parts of K (fewer than 8 tiles) reads
two of them in one bank.

Which rows share a tile: w's tile t holds rows t, t + row_tiles, ... (row_tiles = rows_p / RT),
so the out stores of a warp are neighbouring rows; x's tile t holds batch rows t*BT .. t*BT+BT-1.

Layout, in elements of the shared array (all offsets and strides given by the caller):
    w    rows_p / RT tiles, stride tw     rows past the real ones zero
    x    batch_p / BT tiles, stride tx    rows past the real ones zero
    red  RT*BT x (S * tiles) partial sums (only when S > 1)
    out  batch_p x ldo   accumulated into
K is a multiple of KU, columns past the real ones zero in w or in x.
"""
import functools

from numba import cuda, uint32

KU = 4          # K unrolled by 4: loads with immediate offsets


def k_padded(K):
    return -(-K // KU) * KU


def row_tile(BT):
    """RT, weight rows per thread tile: 8 beside 8 batch rows, else 4 (TUNING.md)."""
    return 8 if BT == 8 else 4


def group(BT):
    """GROUP, elements per KU columns of a tile in the variant for BT (an x tile of fewer than RT
    rows uses BT*KU of them)."""
    return row_tile(BT) * KU


def tile_stride(K, BT):
    """Elements per tile of K columns (a multiple of KU): odd, so neighbouring tiles start in
    different banks."""
    return (K // KU) * group(BT) + 1


def tile_offset(t, e, k, ts, grp):
    """Where row e of tile t, column k, lies (relative to the operand's offset); grp: GROUP."""
    return t * ts + (k // KU) * grp + e * KU + k % KU


tiled = cuda.jit(device=True, inline="always")(tile_offset)


@functools.lru_cache(maxsize=None)
def tile_product(BT, dtype):
    """The device function for BT batch rows per tile (1, 4 or 8), shared memory of `dtype`."""
    RT = row_tile(BT)
    GROUP = RT * KU
    NACC = RT * BT

    @cuda.jit(device=True, inline="always")
    def product(smem, w, tw, x, tx, red, out, ldo, rows_p, batch_p, K, S):
        """out[b*ldo + r] += sum_k w[r, k] * x[b, k] for r < rows_p, b < batch_p, w and x tile-major
        at offsets w and x with tile strides tw and tx (the module's layout); all arguments uint32.
        Ends with the block synchronised."""
        tid = uint32(cuda.threadIdx.x)
        nt = uint32(cuda.blockDim.x)
        row_tiles = rows_p // uint32(RT)
        tiles = row_tiles * (batch_p // uint32(BT))
        items = tiles * S
        # each part's K columns, a multiple of KU, an odd number of KU groups: parts meeting in a
        # warp then start in different banks
        part_len = ((K + S - uint32(1)) // S + uint32(KU - 1)) // uint32(KU)
        part_len = (part_len | uint32(1)) * uint32(KU)
        acc = cuda.local.array(NACC, dtype)
        xv = cuda.local.array(BT, dtype)
        item = tid
        while item < items:
            part = item // tiles                    # the slowest: a warp shares its k where it can
            tile = item - part * tiles
            bt = tile // row_tiles                  # neighbouring threads: neighbouring row tiles
            rt = tile - bt * row_tiles
            wt = w + rt * tw
            xt = x + bt * tx
            for i in range(NACC):
                acc[i] = 0
            # q: the part's columns as an offset into both tiles, GROUP per KU columns; the
            # tiles as slices, so their base addresses are computed once, not at every load
            k = part * part_len
            q = uint32(k * uint32(RT))
            end = uint32(min(k + part_len, K) * uint32(RT))
            ws = smem[wt:]
            xs = smem[xt:]
            while q < end:
                for u in range(KU):
                    for b in range(BT):
                        xv[b] = xs[q + uint32(b * KU + u)]
                    for r in range(RT):
                        wv = ws[q + uint32(r * KU + u)]
                        for b in range(BT):
                            acc[r * BT + b] += wv * xv[b]
                q += uint32(GROUP)
            if S == uint32(1):
                for r in range(RT):
                    for b in range(BT):
                        o = (bt * uint32(BT) + uint32(b)) * ldo + rt + uint32(r) * row_tiles
                        smem[out + o] += acc[r * BT + b]
            else:
                for i in range(NACC):
                    smem[red + uint32(i) * items + item] = acc[i]
            item += nt
        cuda.syncthreads()
        if S > uint32(1):
            # out (b, row) adds the S partials of its tile in part order
            n = rows_p * batch_p
            idx = tid
            while idx < n:
                b = idx // rows_p
                row = idx - b * rows_p
                r = row // row_tiles
                tile = (b // uint32(BT)) * row_tiles + row - r * row_tiles
                at = red + (r * uint32(BT) + b % uint32(BT)) * items + tile
                s = smem[out + b * ldo + row]
                for p in range(S):
                    s += smem[at + uint32(p) * tiles]
                smem[out + b * ldo + row] = s
                idx += nt
            cuda.syncthreads()

    return product


def red_elements(rows_p, batch_p, S, BT):
    """Partial sums product() leaves in `red` when S > 1."""
    RT = row_tile(BT)
    return 0 if S == 1 else S * (rows_p // RT) * (batch_p // BT) * RT * BT
