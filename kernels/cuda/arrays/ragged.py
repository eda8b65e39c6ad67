"""Variable-length batches on the device: the few row-wise steps around the sweeps that the
step-launch GEMMs and phase 3 need (sweep.py handles padding inside the kernels).

Shapes: T steps, B batch, H hidden size, GH = G*H; lens (B,) int64 sequence lengths.
"""
from numba import cuda

from ..runtime.launch import grid_stride_launch


@cuda.jit
def _rows_before_kernel(out, h0, y, t, tp, first, reverse, lens):
    """out (B, H): the state each sequence starts step t from: h0[b] where it starts there
    (sweep._starts), else y[tp, b]."""
    B, H = out.shape
    for idx in range(cuda.grid(1), B * H, cuda.gridsize(1)):
        b = idx // H
        j = idx - b * H
        out[b, j] = h0[b, j] if (first or (reverse and t == lens[b] - 1)) else y[tp, b, j]


@cuda.jit
def _keep_padded_kernel(dh, rec, t, lens):
    """dh (B, H) = rec where sequence b is not padding at t; padded rows keep dh."""
    B, H = dh.shape
    for idx in range(cuda.grid(1), B * H, cuda.gridsize(1)):
        b = idx // H
        if t < lens[b]:
            dh[b, idx - b * H] = rec[b, idx - b * H]


@cuda.jit
def _last_rows_kernel(out, y, lens):
    """out (B, H) = y[lens[b] - 1, b]: each sequence's h after its own last step."""
    B, H = out.shape
    for idx in range(cuda.grid(1), B * H, cuda.gridsize(1)):
        b = idx // H
        j = idx - b * H
        out[b, j] = y[lens[b] - 1, b, j]


@cuda.jit
def _start_term_kernel(dw_hh, dgr, h0, lens):
    """dw_hh (GH, H) += sum over sequences b shorter than T of dG[lens[b]-1, b] h0[b]^T: a reverse
    sweep starts them inside the batch, from h0, where the shifted-y GEMM saw zero padding."""
    GH, H = dw_hh.shape
    T = dgr.shape[0]
    for idx in range(cuda.grid(1), GH * H, cuda.gridsize(1)):
        r = idx // H
        k = idx - r * H
        acc = dw_hh[r, k]
        for b in range(lens.shape[0]):
            if lens[b] < T:
                acc += dgr[lens[b] - 1, b, r] * h0[b, k]
        dw_hh[r, k] = acc


def rows_before(out, h0, y, t, tp, first, reverse, lens):
    grid_stride_launch(_rows_before_kernel, out.size, out, h0, y, t, tp, first, reverse, lens)
    return out


def keep_padded(dh, rec, t, lens):
    grid_stride_launch(_keep_padded_kernel, dh.size, dh, rec, t, lens)
    return dh


def last_rows(out, y, lens):
    grid_stride_launch(_last_rows_kernel, out.size, out, y, lens)
    return out


def add_start_term(dw_hh, dgr, h0, lens):
    grid_stride_launch(_start_term_kernel, dw_hh.size, dw_hh, dgr, h0, lens)
    return dw_hh
