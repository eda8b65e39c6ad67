"""The GEMMs of phases 1 and 3 on the register tile: out = a^T b, a sum over k of outer products.

    out (m, n) = a (k, m)^T b (k, n)
    weight gradients  a = dG (T*B, G*H), b = X (T*B, I) or H_prev (T*B, H)   a C-contiguous
    input gradient    a = dG^T, b = W_ih (G*H, I): dX = dG W_ih                a F-contiguous
    input projection  a = X^T, b = W_ih^T: X W_ih^T (phase 1)                  a, b F-contiguous

The members split out's rows m0..m1, or, for fewer rows than k, the sum over k (_split). A member
walks its k in blocks of KC and b's columns in blocks of NC: it packs b[k0:k1, c0:c1] into panels
(pack_block) and adds that block's product into out[m0:m1, c0:c1] (panels.panels_dot,
storing for the first block of k, accumulating after), MC rows at a time: the block's panels
(KC * NC elements, 256 KiB float32) and those rows of a (192 KiB) stay in L2 while every tile of
the rows passes over every panel. The tile reads a^T's rows in place, or, where they are a multiple
of 4 KiB apart, from a copy (_member says why). A sum over a few rows k (T*B at T=1) stays
few_rows.py's outer products. Measurements, against BLAS too: kernels/TUNING.md.
"""
import numpy as np
from numba import types
from numba.extending import overload

from . import few_rows
from ..runtime import memory, team
from ..runtime.jit import kernel
from .panels import pack_columns, pack_rows, panel_count, panel_width, panels_dot

KC = 256      # rows of k per block
NC = 256      # columns of b per block (a multiple of every panel width)
MC = 192      # rows of a per pass over a block's panels: with the block (KC x NC), both stay in L2


def matmul_at(a, b, out=None):
    """a^T @ b -> (m, n) C-contiguous (into `out` if given, C-contiguous), for a (k, m) and
    b (k, n) C- or F-contiguous, k >= 1; a may also be some columns of a C-contiguous array
    (GRU's dW_hh takes the r and z blocks of dG_i, kernels/cpu/layer.py)."""
    k, m = a.shape
    n = b.shape[1]
    if k <= few_rows.OUTER_K:
        return few_rows.outer_products(np.ascontiguousarray(a), b, out)
    out = memory.empty((m, n), a.dtype) if out is None else out
    blocks = _split(k, m, n)
    copy = _copies(a)
    sums = memory.empty((_sums(blocks), m, n), a.dtype)
    work = memory.empty((len(blocks), _work_elements(blocks, n, a.itemsize, copy)), a.dtype)
    team.run(_member, (a, b, out, sums, work, copy), blocks)
    for s in sums:
        out += s
    return out


def extra_elements(k, m, n, itemsize):
    """Elements matmul_at allocates besides its output for (k, m)^T (k, n), a C-contiguous: the
    members' panels and copies of a (fastrnn.workspace_bytes counts them)."""
    if k <= few_rows.OUTER_K:
        return 0
    blocks = _split(k, m, n)
    return len(blocks) * _work_elements(blocks, n, itemsize, _aliased(m, m * itemsize)) + _sums(blocks) * m * n


def _split(k, m, n):
    """The members' blocks (m0, m1, k0, k1): rows of out and the range of the sum each computes.
    Each member packs the b of its range of k, so splitting out's rows packs all of b once per
    member; splitting k packs it once in all, but each member but the first sums into its own
    (m, n) buffer, added up after. The rows split when m >= k: then a member's rows repay the
    packing (kernels/TUNING.md)."""
    rows = team.row_ranges(m, k * m * n)
    if len(rows) > 1 and m < k:
        return [(0, m, k0, k1) for k0, k1 in team.ranges(k, len(rows))]
    return [(m0, m1, 0, k) for m0, m1 in rows]


def _sums(blocks):
    # partial sums to add up: one per member but the first when the members split k
    return len(blocks) - 1 if blocks[0][3] < blocks[-1][3] else 0


# L1's sets repeat every ALIAS_BYTES (64 sets of 64-byte lines, on Zen 4 and 5 and Intel's cores)
ALIAS_BYTES = 4096


def _copies(a):
    # whether _member copies a into slabs: when a's rows are contiguous and _aliased
    return a.strides[1] == a.itemsize and _aliased(a.shape[1], a.strides[0])


def _aliased(m, row_bytes):
    # whether a's m columns, read down a^T's k steps (a's rows, row_bytes apart), fall into one L1
    # set: rows a multiple of ALIAS_BYTES apart (_member says why). The one rule for _copies and for
    # the workspace estimate (extra_elements).
    return m > 1 and row_bytes % ALIAS_BYTES == 0


def _work_elements(blocks, n, itemsize, copies_a):
    # one member's scratch: panels for a block of KC rows by NC columns of b, then, if _member copies
    # a, a slab of KC rows by the most rows of a member (leading dimension padded, _slab_width)
    # (panels.py's helpers as Python, py_func: a numba call from Python costs microseconds)
    NW = panel_width.py_func(itemsize)
    kc = min(KC, max(k1 - k0 for _, _, k0, k1 in blocks))
    rows = max(m1 - m0 for m0, m1, _, _ in blocks)
    return panel_count.py_func(min(NC, n), NW) * kc * NW + (kc * _slab_width.py_func(rows) if copies_a else 0)


@kernel
def _slab_width(rows):
    # A slab's rows are this many elements apart: a multiple of 16 (64-byte rows for float32), and
    # an odd multiple, so that no power of two of bytes separates them (_member says why)
    return (rows // 32) * 32 + 16 if rows % 32 <= 16 else (rows // 32) * 32 + 48


@kernel
def _member(a, b, out, sums, work, copy, blocks, p):
    # out[m0:m1] = a[k0:k1, m0:m1]^T b[k0:k1], member p's block (blocks[p] = m0, m1, k0, k1), into
    # out itself, or into sums[p - 1] when the members split k (_split); work[p] its scratch, flat.
    # The tile reads a^T's rows, i.e. a[k, m0 + i] for k = k0, k0 + 1, ...: for a C-contiguous a,
    # one row of a apart. Where that is a multiple of ALIAS_BYTES (G*H floats for H a multiple of
    # 256 in LSTM, of 1024 in GRU), a block's KC reads land in one set of L1 and evict each other.
    # So such an a is first copied, block by block, into a slab whose rows are an odd multiple of
    # 64 bytes apart. Elsewhere the copy costs more than it saves (kernels/TUNING.md).
    m0, m1, kb, ke = blocks[p, 0], blocks[p, 1], blocks[p, 2], blocks[p, 3]
    n = b.shape[1]
    NW = panel_width(a.itemsize)
    rows = m1 - m0
    width = _slab_width(rows)
    panels = panel_count(min(NC, n), NW) * min(KC, ke - kb) * NW     # the slab goes after the panels
    dest = out if kb == 0 else sums[p - 1]     # member 0, or every member of a split of the rows
    for k0 in range(kb, ke, KC):
        k1 = min(ke, k0 + KC)
        if copy:
            slab = work[p, panels:panels + (k1 - k0) * width].reshape((k1 - k0, width))
            for i in range(k1 - k0):
                src = a[k0 + i, m0:m1]
                dst = slab[i]
                for j in range(rows):
                    dst[j] = src[j]
            at = slab[:, :rows].T
        else:
            at = a[k0:k1, m0:m1].T
        for c0 in range(0, n, NC):
            c1 = min(n, c0 + NC)
            S = panel_count(c1 - c0, NW)
            # C-contiguous (S, k1 - k0, NW): the panels' rows back to back, as the tile reads them
            block = work[p, :S * (k1 - k0) * NW].reshape((S, k1 - k0, NW))
            pack_block(b, k0, k1, c0, c1, block)
            for r0 in range(0, rows, MC):
                r1 = min(rows, r0 + MC)
                panels_dot(at[r0:r1], block, dest[m0 + r0:m0 + r1], c0, c1 - c0, k0 > kb)


def pack_block(b, k0, k1, c0, c1, block):
    """block <- b[k0:k1, c0:c1] in panels (panels.py), for b (k, n) of any layout."""


@overload(pack_block)
def _pack_block(b, k0, k1, c0, c1, block):
    # An F-contiguous b (W_ih^T) is packed from the rows of b^T, read in order: its own rows are
    # gathered a row of W_ih apart. Chosen by layout when the caller compiles: a runtime branch
    # between the two packings slowed the other products (kernels/TUNING.md).
    if isinstance(b, types.Array) and b.layout == "F":
        def by_rows(b, k0, k1, c0, c1, block):
            pack_rows(b.T[:, k0:k1], c0, c1, block)
        return by_rows

    def by_columns(b, k0, k1, c0, c1, block):
        pack_columns(b[k0:k1], c0, c1, block)
    return by_columns
