"""Where one CPU layer's forward+backward spends its time: per phase, against the sgemm peak.

    python -m fastrnn.bench.phases --cell rnn --shapes 500x64x128

times the phases of kernels/cpu/layer.py for each shape (float32, one layer, one direction, the
call `fastrnn bench` times) and prints one table per shape. FLOPs per phase, N = T*B rows, G gates
(grid.GATES); they add up to grid.flops:
    input GEMM      X W_ih^T, one GEMM                    2*N*G*H*I
    forward sweep   h_{t-1} W_hh^T per step, + pointwise  2*N*G*H*H
    backward sweep  dG_t W_hh per step, + pointwise       2*N*G*H*H
    dX              dG W_ih, one GEMM                     2*N*G*H*I
    weight grads    dG^T X and dG^T H_prev, + bias sums   2*N*G*H*(I + H)
    rest            the Python layers above and between the phases, allocation, copies
Each phase's time is its median over the timed calls, and so is the total; `rest` is the total
less the phases. The phases are timed by wrapping kernels/cpu/layer.py's functions for the
duration of the run (a few microseconds per call).
"""
import argparse
import statistics
import sys
import time
from contextlib import contextmanager

import numpy as np

from . import grid, runners, timing

PHASES = ("input GEMM", "forward sweep", "backward sweep", "dX", "weight grads")


def phase_flops(cell, T, B, I, H):
    N, GH = T * B, grid.GATES[cell] * H
    return {"input GEMM": 2 * N * GH * I, "forward sweep": 2 * N * GH * H, "backward sweep": 2 * N * GH * H,
            "dX": 2 * N * GH * I, "weight grads": 2 * N * GH * (I + H)}


@contextmanager
def _timers(spent):
    """kernels/cpu/layer.py's phase functions, each adding its seconds to spent[phase]."""
    from fastrnn.kernels.cpu import layer

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            phase = name or ("forward sweep" if "forward" in args[0].__name__ else "backward sweep")
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[phase] = spent.get(phase, 0.0) + time.perf_counter() - t
        return wrapper

    names = {"_project": "input GEMM", "_sweep": None, "_input_grad": "dX", "_weight_grads": "weight grads"}
    saved = {f: getattr(layer, f) for f in names}
    for f, name in names.items():
        setattr(layer, f, timed(name, saved[f]))
    try:
        yield
    finally:
        for f, fn in saved.items():
            setattr(layer, f, fn)


def profile(cell, T, B, I, H, calls=9):
    """-> {phase: median seconds, ..., "rest": ..., "total": ...} over `calls` timed calls of one
    layer's forward+backward (after one untimed call, which compiles)."""
    step, _ = runners.fastrnn_step(cell, T, B, I, H, "cpu", np.random.default_rng(0))
    step()
    per_call, spent = [], {}
    with _timers(spent):
        for _ in range(calls):
            spent.clear()
            t = time.perf_counter()
            step()
            spent["total"] = time.perf_counter() - t
            per_call.append(dict(spent))
    out = {p: statistics.median(c.get(p, 0.0) for c in per_call) for p in PHASES + ("total",)}
    out["rest"] = max(0.0, out["total"] - sum(out[p] for p in PHASES))
    return out


def table(cell, T, B, I, H, times, peak):
    flops = phase_flops(cell, T, B, I, H)
    lines = [f"{cell.upper()} T={T} B={B} I={I} H={H}: {times['total'] * 1e3:.2f} ms per forward+backward "
             f"(median), sgemm peak {peak:.0f} GFLOP/s",
             f"{'phase':<16}{'ms':>9}{'share':>8}{'GFLOP/s':>10}{'% peak':>8}"]
    for p in PHASES + ("rest",):
        ms, share = times[p] * 1e3, 100 * times[p] / times["total"]
        rate = flops[p] / times[p] / 1e9 if p in flops and times[p] > 0 else None
        lines.append(f"{p:<16}{ms:9.2f}{share:7.0f}%" + (f"{rate:10.1f}{100 * rate / peak:7.0f}%" if rate else ""))
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m fastrnn.bench.phases", description=__doc__.split("\n\n")[0])
    p.add_argument("--cell", choices=sorted(grid.GATES), action="append", help="repeat for several (default all)")
    p.add_argument("--shapes", required=True, help="TxBxH or TxBxIxH, comma-separated")
    p.add_argument("--calls", type=int, default=9, help="timed calls per shape (default 9)")
    args = p.parse_args(argv)
    try:
        shapes = grid.parse_shapes(args.shapes)
    except ValueError as e:
        p.error(str(e))
    if args.calls < 1:
        p.error("--calls must be at least 1")
    peak = timing.sgemm_peak()
    for cell in args.cell or ["lstm", "gru", "rnn"]:
        for T, B, I, H in shapes:
            print(table(cell, T, B, I, H, profile(cell, T, B, I, H, args.calls), peak) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
