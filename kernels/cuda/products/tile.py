"""One block's slice of a recurrent product, from shared memory, in register tiles.

The persistent sweeps' inner loop (sweep.py): out (batch, rows) += x (batch, K) @ w (rows, K)^T,
with w (the block's rows of W_hh, or its columns in backward) resident in shared memory for the
whole sweep and x (h_{t-1}, or dG_t) staged there once per step. Each thread owns a tile of RT
rows x BT batch rows in registers, so one weight load feeds BT FMAs and one x load RT; S threads
split K when tiles are fewer than threads, leaving partial sums that are added in a fixed order
(deterministic). Every index is a 32-bit unsigned integer: no negative-index wraparound and no
64-bit address arithmetic in the loop (kernels/cuda/profile reads the SASS: TUNING.md).

Layout, in elements of the shared array (all offsets and strides given by the caller):
    w    rows_p x ldw    rows_p a multiple of RT, rows past the real ones zero
    x    batch_p x ldx   batch_p a multiple of BT, rows past the real ones zero
    red  S * tiles * RT * BT partial sums (only when S > 1)
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
    """A row stride >= n, a multiple of KU, and 4 words past a multiple of 32: threads reading
    neighbouring rows at the same k hit different banks."""
    return k_padded(n) + (4 - k_padded(n)) % 32


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
        part_len = (K + S - uint32(1)) // S
        part_len = (part_len + uint32(KU - 1)) // uint32(KU) * uint32(KU)
        acc = cuda.local.array(NACC, dtype)
        wb = cuda.local.array(RT, uint32)
        xb = cuda.local.array(BT, uint32)
        xv = cuda.local.array(BT, dtype)
        item = tid
        while item < tiles * S:
            tile = item // S
            part = item - tile * S
            bt = tile // row_tiles                  # neighbouring threads: neighbouring row tiles
            rt = tile - bt * row_tiles
            for r in range(RT):
                wb[r] = w + (rt * uint32(RT) + uint32(r)) * ldw
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
                        o = (bt * uint32(BT) + uint32(b)) * ldo + rt * uint32(RT) + uint32(r)
                        smem[out + o] += acc[r * BT + b]
            else:
                base = red + item * uint32(NACC)
                for i in range(NACC):
                    smem[base + uint32(i)] = acc[i]
            item += nt
        cuda.syncthreads()
        if S > uint32(1):
            # out (b, r) adds the S partials of its tile in part order
            n = rows_p * batch_p
            idx = tid
            while idx < n:
                b = idx // rows_p
                r = idx - b * rows_p
                tile = (b // uint32(BT)) * row_tiles + r // uint32(RT)
                i = (r % uint32(RT)) * uint32(BT) + b % uint32(BT)
                s = smem[out + b * ldo + r]
                for p in range(S):
                    s += smem[red + (tile * S + uint32(p)) * uint32(NACC) + i]
                smem[out + b * ldo + r] = s
                idx += nt
            cuda.syncthreads()

    return product


def red_elements(rows_p, batch_p, S, BT):
    """Partial sums product() leaves in `red` when S > 1."""
    return 0 if S == 1 else S * (rows_p // RT) * (batch_p // BT) * RT * BT
