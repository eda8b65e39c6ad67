"""Matrices packed into panels, and the product over them (microkernel.py): W_hh for the sweeps'
per-step product (recurrent.py), blocks of the GEMMs' b (W_ih, W_ih^T, X, H_prev) for phases 1 and 3 (tile_gemm.py).

A packed matrix M (K, N) is pans (S, K, NW): NW = PANEL_BYTES / itemsize columns per panel,
pans[s, k, j] = M[k, s*NW + j], each panel's K rows contiguous, its last columns past N zero.
A sweep's member packs the columns it produces once (S = panel_count(its columns, NW)), then
every step reads its panels in order, a stream of PANEL_BYTES rows with no cache-set conflicts
(W_hh's own rows are often a power of two bytes apart).
    forward   M = W_hh^T (H, G*H), one packed block per gate: pack_rows of W_hh
    backward  M = W_hh   (G*H, H), the member's units:        pack_columns of W_hh
Packing costs a pass over W_hh (kernels/TUNING.md); layer.py packs only for sweeps over enough
rows (T * B) to repay it.
"""
from ..runtime.jit import kernel
from .microkernel import PANEL_BYTES, TILE_ROWS, tile1, tile2, tile3, tile4, tile5, tile6, tile7, tile8

RUN = PANEL_BYTES // 8      # a float64 panel row: 16 elements with AVX-512, 8 with AVX2


@kernel
def panel_width(itemsize):
    """NW: the columns of one panel."""
    return PANEL_BYTES // itemsize


@kernel
def panel_count(n, NW):
    """The panels that n columns fill; a buffer may have more (the widest member's), left unused."""
    return -(-n // NW)


@kernel
def pack_rows(w, r0, r1, pans):
    """pans[:S] <- w[r0:r1]^T, S = panel_count(r1 - r0, NW): panel column j of pans[s] is row
    r0 + s*NW + j of w (K,)."""
    _, K, NW = pans.shape
    for s in range(panel_count(r1 - r0, NW)):
        n = min(NW, r1 - r0 - s * NW)
        pan = pans[s]
        for j in range(n):
            row = w[r0 + s * NW + j]
            for k in range(K):
                pan[k, j] = row[k]
        pan[:, n:] = 0


@kernel
def pack_columns(w, c0, c1, pans):
    """pans[:S] <- w[:, c0:c1] (K, c1 - c0), S = panel_count(c1 - c0, NW), reading w's rows once,
    in order."""
    _, K, NW = pans.shape
    for k in range(K):
        row = w[k]
        for s in range(panel_count(c1 - c0, NW)):
            n = min(NW, c1 - c0 - s * NW)
            pan = pans[s, k]
            src = row[c0 + s * NW:c0 + s * NW + n]
            if n == NW:
                # Fixed runs of RUN elements, which divide NW for either dtype: a loop of n
                # iterations is vectorised for 64 at a time and left scalar at n = 32 (tile_gemm.py
                # packs all of b this way: kernels/TUNING.md)
                for j0 in range(0, NW, RUN):
                    for j in range(RUN):
                        pan[j0 + j] = src[j0 + j]
            else:
                for j in range(n):
                    pan[j] = src[j]
                for j in range(n, NW):
                    pan[j] = 0


@kernel
def panels_dot(a, pans, out, c, n, accumulate):
    """out[:, c:c+n] = a (B, K) M[:, :n], M packed in pans (S, K, NW), of which the first
    panel_count(n, NW) panels are read: every row of a, in tiles of at most TILE_ROWS rows by one
    panel. A panel (K * PANEL_BYTES) stays in L1 or L2 while the tiles walk down a. `accumulate`:
    out[:, c:c+n] += the product."""
    B = a.shape[0]
    NW = pans.shape[2]
    tiles = -(-B // TILE_ROWS)
    for s in range(panel_count(n, NW)):
        pan = pans[s]
        cs = c + s * NW
        ns = min(NW, n - s * NW)
        for i in range(tiles):     # tiles of nearly equal rows: B = 10 as 5 + 5, not 8 + 2
            b = i * B // tiles
            _tile(a, pan, out, b, cs, ns, (i + 1) * B // tiles - b, accumulate)


@kernel
def _tile(a, pan, out, b, c, n, rows, accumulate):
    # out[b:b+rows, c:c+n] (+)= a[b:b+rows] pan[:, :n], rows = 1 .. 8 (microkernel.py)
    if rows == 8:
        tile8(a, pan, out, b, c, n, accumulate)
    elif rows == 7:
        tile7(a, pan, out, b, c, n, accumulate)
    elif rows == 6:
        tile6(a, pan, out, b, c, n, accumulate)
    elif rows == 5:
        tile5(a, pan, out, b, c, n, accumulate)
    elif rows == 4:
        tile4(a, pan, out, b, c, n, accumulate)
    elif rows == 3:
        tile3(a, pan, out, b, c, n, accumulate)
    elif rows == 2:
        tile2(a, pan, out, b, c, n, accumulate)
    else:
        tile1(a, pan, out, b, c, n, accumulate)
