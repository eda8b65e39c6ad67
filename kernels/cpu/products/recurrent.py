"""The recurrent product of one sweep step, for one team member's hidden units u0 <= j < u1.

    forward   rec[:, q*H + j] = h_{t-1} W_hh^T   for the member's units j of every gate block q
    backward  dh[:, j]       += dG_t W_hh          for the member's units j

W_hh is read from the member's panels (panels.py, packed once per sweep by pack_forward or
pack_backward) or, with no panels (S = 0: a sweep over too few rows to repay packing, layer.py),
in place (in_place.py).
"""
from ..runtime.jit import kernel
from .in_place import columns_dot, rows_dot
from .panels import pack_columns, pack_rows, panels_dot


@kernel
def pack_forward(w_hh, pans, p, u0, u1):
    """Member p's panels of W_hh^T: pans (P, G, S, H, NW), pans[p, q] the columns q*H + u0 ..
    q*H + u1 of gate block q. Returns pans[p]."""
    pans = pans[p]
    if pans.shape[1] > 0:
        H = w_hh.shape[1]
        for q in range(pans.shape[0]):
            pack_rows(w_hh, q * H + u0, q * H + u1, pans[q])
    return pans


@kernel
def recurrent_rows(h_prev, w_hh, pans, rec, u0, u1):
    """rec[:, q*H + j] = h_prev (B, H) W_hh^T for u0 <= j < u1 and every gate block q: the rows of
    the step's pre-activations that the member's fused loop reads. rec (B, G*H); pans (G, S, H, NW)
    from pack_forward."""
    H = w_hh.shape[1]
    for q in range(w_hh.shape[0] // H):
        if pans.shape[1] == 0:
            rows_dot(h_prev, w_hh, q * H + u0, q * H + u1, rec, q * H + u0)
        else:
            panels_dot(h_prev, pans[q], rec, q * H + u0, u1 - u0, False)


@kernel
def pack_backward(w_hh, pans, p, u0, u1):
    """Member p's panels of W_hh[:, u0:u1]: pans (P, S, G*H, NW). Returns pans[p]. Each member
    packs its own units only, so no member waits for another's panels."""
    pans = pans[p]
    if pans.shape[0] > 0:
        pack_columns(w_hh, u0, u1, pans)
    return pans


@kernel
def recurrent_grad(dg_head, dg_tail, w_hh, pans, dh, u0, u1):
    """dh[:, u0:u1] += dG_t W_hh[:, u0:u1], the recurrent part of dh_{t-1}, for a dG_t (B, G*H)
    held in two pieces: dg_head (B, K) multiplies W_hh's first K rows, dg_tail (B, G*H - K) the
    rest (GRU: its r and z blocks are the input side's, its n block dn * r; the other cells have
    no tail). pans (S, G*H, NW) from pack_backward."""
    K = dg_head.shape[1]
    if pans.shape[0] == 0:
        columns_dot(dg_head, w_hh[:K], u0, u1, dh, True)
        if dg_tail.shape[1] > 0:
            columns_dot(dg_tail, w_hh[K:], u0, u1, dh, True)
    else:
        panels_dot(dg_head, pans[:, :K], dh, u0, u1 - u0, True)
        if dg_tail.shape[1] > 0:
            panels_dot(dg_tail, pans[:, K:], dh, u0, u1 - u0, True)
