"""How fast each core of the team reads memory, against how fast a one-row sweep step reads W_hh.

    python bench/read_bandwidth.py

A sweep at B=1 is a GEMV per step: it reads all of W_hh (G*H*H elements), split between the
members, and does 2 FLOPs per element read, so its speed is a read bandwidth. This prints, with
every member reading at once (as in a sweep):
  - `sum`: a plain sum over a member's own array, at working sets from L1 to DRAM: the ceiling of
    any kernel that reads that much per step;
  - `panels B=1`: the packed product of the sweeps (kernels/cpu/products/panels.py) for one row, W_hh^T of
    an LSTM of hidden size H split between the members, each member's share in its panels.
GB/s is per core: bytes a member reads / the time the slowest member takes.
"""
import time

import numpy as np
from numba import njit

from fastrnn.kernels.cpu.products import panels
from fastrnn.kernels.cpu.runtime import team
from fastrnn.kernels.cpu.runtime.jit import kernel

TARGET_BYTES = 1 << 31      # read per measurement and member


@njit(error_model="numpy", nogil=True, fastmath={"reassoc", "contract"})
def _sum_member(arrays, reps, out, blocks, p):
    # "reassoc" splits the sum into vector lanes and several accumulators: a read-bound loop
    x = arrays[p]
    s = x.dtype.type(0)
    for _ in range(reps):
        for i in range(x.size):
            s += x[i]
    out[p] = s


@kernel
def _panels_member(a, pans, out, reps, blocks, p):
    c0, c1 = blocks[p, 0], blocks[p, 1]
    for _ in range(reps):
        panels.panels_dot(a, pans[p], out, c0, c1 - c0, False)


def _best(fn, repeats=5):
    fn()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def sum_bandwidth(kib, members):
    n = kib * 1024 // 4
    arrays = np.ones((members, n), np.float32)
    out = np.zeros(members, np.float32)
    reps = max(1, TARGET_BYTES // (n * 4))
    blocks = [(p, p + 1) for p in range(members)]
    seconds = _best(lambda: team.run(_sum_member, (arrays, reps, out), blocks))
    return n * 4 * reps / seconds / 1e9


def panels_bandwidth(H, members, rng):
    K, N = H, 4 * H                     # LSTM: W_hh^T (H, 4H), its columns split between members
    NW = panels.panel_width(4)
    edges = [N * p // members for p in range(members + 1)]
    S = -(-max(b - a for a, b in zip(edges, edges[1:])) // NW)
    w = rng.standard_normal((N, K)).astype(np.float32)
    pans = np.zeros((members, S, K, NW), np.float32)
    for p in range(members):
        panels.pack_rows(w, edges[p], edges[p + 1], pans[p])
    a = rng.standard_normal((1, K)).astype(np.float32)
    out = np.empty((1, N), np.float32)
    reps = max(1, TARGET_BYTES // (K * N * 4 // members))
    blocks = [(edges[p], edges[p + 1]) for p in range(members)]
    seconds = _best(lambda: team.run(_panels_member, (a, pans, out, reps), blocks))
    np.testing.assert_allclose(out, a.astype(np.float64) @ w.T.astype(np.float64), rtol=1e-4, atol=1e-3)
    return K * N * 4 / members * reps / seconds / 1e9


def main():
    members = team.size()
    print(f"{members} members reading at once; GB/s per core")
    for kib in (32, 256, 512, 2048, 8192, 65536):
        print(f"  sum         {kib:6d} KiB per core  {sum_bandwidth(kib, members):7.1f}")
    rng = np.random.default_rng(0)
    for H in (128, 256, 512, 1024):
        share = 4 * H * H * 4 // members // 1024
        print(f"  panels B=1  H={H:<4d} {share:5d} KiB per core  {panels_bandwidth(H, members, rng):7.1f}")


if __name__ == "__main__":
    main()
