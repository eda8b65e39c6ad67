"""One block's slice of a recurrent product, from shared memory, in register tiles.

The persistent sweeps' inner loop (persistent.py): out (batch, rows) += x (batch, K) @ w (rows, K)^T,
with w (the block's rows of W_hh, or its columns in backward) resident in shared memory for the
whole sweep and x (h_{t-1}, or dG_t) staged there once per step. Each thread owns a tile of RT
rows x BT batch rows in registers, so one weight load feeds BT FMAs and one x load RT; S threads
split K when tiles are fewer than threads, leaving partial sums that are added in a fixed order
(deterministic). Every index is a 32-bit unsigned integer: no negative-index wraparound and no
64-bit address arithmetic in the loop (kernels/cuda/profile reads the SASS: TUNING.md).

Shared-memory banks (32 of 4 bytes; each load here is one word per thread): neighbouring threads
take neighbouring row tiles, and a tile's RT rows are row_tiles apart, so a warp's weight loads
read neighbouring rows at one k, and rows are an odd number of words apart (`stride`): one bank
each. Threads of one batch tile share its x loads (a broadcast). The S parts of K are runs of
an odd number of KU-column groups, so parts that meet in a warp start in different banks.

Layout, in elements of the shared array (all offsets and strides given by the caller):
    w    rows_p x ldw    rows_p a multiple of RT, rows past the real ones zero
    x    batch_p x ldx   batch_p a multiple of BT, rows past the real ones zero
    red  RT*BT x (S * tiles) partial sums (only when S > 1)
    out  batch_p x ldo   accumulated into
K is a multiple of KU, columns past the real ones zero in w or in x.
"""
import functools

from numba import cuda, uint32

KU = 4          # K unrolled by 4: loads with immediate offsets
RT = 4          # rows per thread tile


def k_padded(K):
    return -(-K // KU) * KU


def stride(n):
    """An odd row stride >= n: threads reading up to 32 neighbouring rows at one k then hit 32
    different banks."""
    return n | 1


@functools.lru_cache(maxsize=None)
def tile_product(BT, dtype):
    """The device function for BT batch rows per tile (1 or 4), shared memory of `dtype`."""
    NACC = RT * BT

    @cuda.jit(device=True, inline="always")
    def product(smem, w, ldw, x, ldx, red, out, ldo, rows_p, batch_p, K, S):
        """out[b*ldo + r] += sum_k smem[w + r*ldw + k] * smem[x + b*ldx + k] for r < rows_p,
        b < batch_p; all arguments uint32. Ends with the block synchronised."""
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
        wb = cuda.local.array(RT, uint32)
        xb = cuda.local.array(BT, uint32)
        xv = cuda.local.array(BT, dtype)
        item = tid
        while item < items:
            part = item // tiles                    # the slowest: a warp shares its k where it can
            tile = item - part * tiles
            bt = tile // row_tiles                  # neighbouring threads: neighbouring row tiles
            rt = tile - bt * row_tiles
            for r in range(RT):
                wb[r] = w + (rt + uint32(r) * row_tiles) * ldw
            for b in range(BT):
                xb[b] = x + (bt * uint32(BT) + uint32(b)) * ldx
            for i in range(NACC):
                acc[i] = 0
            k = part * part_len
            end = min(k + part_len, K)
            while k < end:
                for u in range(KU):
                    for b in range(BT):
                        xv[b] = smem[xb[b] + k + uint32(u)]
                    for r in range(RT):
                        wv = smem[wb[r] + k + uint32(u)]
                        for b in range(BT):
                            acc[r * BT + b] += wv * xv[b]
                k += uint32(KU)
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
    return 0 if S == 1 else S * (rows_p // RT) * (batch_p // BT) * RT * BT
