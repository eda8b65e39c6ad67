"""`fastrnn bench`: fastrnn against torch (oneDNN on CPU), side by side in one process.

For each cell and shape: forward+backward in float32, fastrnn and torch timed alternately in
blocks so machine drift hits both (each block starts with untimed calls while the other side's
threads wind down), warm-up (numba compilation) excluded and reported on its own, the median
of all timed calls kept. Prints one table; --json writes the raw numbers.

FLOP count of one forward+backward (GEMMs only; the pointwise work is O(T*B*G*H)):
    forward   input GEMM 2*T*B*G*H*I   + recurrent GEMMs 2*T*B*G*H*H
    backward  dX, dW_ih  2 * 2*T*B*G*H*I + dh_{t-1}, dW_hh 2 * 2*T*B*G*H*H
    total     6 * T*B*G*H*(I + H)           G = 4 (LSTM), 3 (GRU), 1 (RNN)
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

import fastrnn

GATES = {"lstm": 4, "gru": 3, "rnn": 1}
QUICK = [(100, 1, 256, 256), (100, 32, 256, 256)]                       # (T, B, I, H)
FULL = [(T, B, H, H) for T in (1, 100) for B in (1, 8, 32, 64) for H in (128, 256, 512)]


def flops(cell, T, B, I, H):
    return 6 * T * B * GATES[cell] * H * (I + H)


def machine():
    """CPU model, core count and library versions, for the table's header and the JSON."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import numba
    info = {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "numba": numba.__version__, "fastrnn": fastrnn.__version__,
            "gpu": None}
    try:
        import torch
        info["torch"] = torch.__version__
    except ImportError:
        info["torch"] = None
    return info


def _fastrnn_step(cell, T, B, I, H, rng):
    cls = {"lstm": fastrnn.LSTM, "gru": fastrnn.GRU, "rnn": fastrnn.RNN}[cell]
    layer = cls(I, H, dtype="float32", seed=0)
    x = rng.standard_normal((T, B, I), dtype=np.float32)
    gy = rng.standard_normal((T, B, H), dtype=np.float32)

    def step():
        layer(x)
        layer.backward(gy)
    return step, layer


def _torch_step(cell, T, B, I, H, layer, rng):
    import torch
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell]
    module = cls(I, H)
    module.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    x = torch.from_numpy(rng.standard_normal((T, B, I), dtype=np.float32)).requires_grad_()
    gy = torch.from_numpy(rng.standard_normal((T, B, H), dtype=np.float32))

    def step():
        y, _ = module(x)
        y.backward(gy)
    return step


SETTLE_S = 0.25      # longer than OpenBLAS's busy-wait (2**28 cycles) at these clocks
BLOCK_CALLS = 3


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _block(fn):
    """Untimed calls for SETTLE_S (at least one), then BLOCK_CALLS timed calls."""
    end = time.perf_counter() + SETTLE_S
    fn()
    while time.perf_counter() < end:
        fn()
    return [_timed(fn) for _ in range(BLOCK_CALLS)]


def run(cells, shapes, repeats, with_torch=True, progress=sys.stderr):
    rng = np.random.default_rng(0)
    rows = []
    total = len(cells) * len(shapes)
    for n, (cell, (T, B, I, H)) in enumerate(((c, s) for c in cells for s in shapes), 1):
        if progress:
            print(f"\r[{n}/{total}] {cell} T={T} B={B} I={I} H={H}   ", end="", file=progress, flush=True)
        ours, layer = _fastrnn_step(cell, T, B, I, H, rng)
        warm = _timed(ours)                       # includes numba compilation on first use
        theirs = _torch_step(cell, T, B, I, H, layer, rng) if with_torch else None
        if theirs:
            theirs()
        t_ours, t_theirs = [], []
        for _ in range(repeats):
            # Interleaved so drift hits both sides, in blocks that start with SETTLE_S of untimed
            # calls: after a switch the other side's idle threads (OpenBLAS's busy-wait, torch's
            # OpenMP) keep spinning for a while. Measured: timing the first call after a switch
            # read torch LSTM B=32 as 150 ms (81 alone); discarding only one call still read
            # fastrnn RNN T=1 B=8 H=512 as 6.0 ms (1.5 alone).
            t_ours += _block(ours)
            if theirs:
                t_theirs += _block(theirs)
        row = dict(cell=cell, T=T, B=B, I=I, H=H, flops=flops(cell, T, B, I, H),
                   fastrnn_s=statistics.median(t_ours), first_call_s=warm,
                   torch_s=statistics.median(t_theirs) if theirs else None)
        rows.append(row)
    if progress:
        print("\r" + " " * 60 + "\r", end="", file=progress)
    return rows


def format_table(rows, info):
    lines = [f"fastrnn {info['fastrnn']} | {info['cpu']}, {info['cores']} cores | numba {info['numba']}"
             f" | torch {info['torch'] or 'not installed'} | GPU: {info['gpu'] or 'none'}",
             "forward+backward, float32, median times; ratio = torch / fastrnn (> 1: fastrnn faster)", ""]
    head = f"{'cell':5} {'T':>4} {'B':>4} {'I':>5} {'H':>5} {'fastrnn ms':>11} {'torch ms':>9} {'ratio':>6} {'GFLOP/s':>8}"
    lines += [head, "-" * len(head)]
    for r in rows:
        ours = r["fastrnn_s"]
        torch_ms = f"{r['torch_s'] * 1e3:9.2f}" if r["torch_s"] else f"{'-':>9}"
        ratio = f"{r['torch_s'] / ours:6.2f}" if r["torch_s"] else f"{'-':>6}"
        lines.append(f"{r['cell']:5} {r['T']:4d} {r['B']:4d} {r['I']:5d} {r['H']:5d} {ours * 1e3:11.2f} "
                     f"{torch_ms} {ratio} {r['flops'] / ours / 1e9:8.1f}")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="fastrnn bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a few shapes (the default is the full grid)")
    p.add_argument("--cell", choices=sorted(GATES), action="append", help="repeat to pick several")
    p.add_argument("--repeats", type=int, default=5, help="blocks per side (each times 3 calls)")
    p.add_argument("--no-torch", action="store_true", help="time fastrnn alone")
    p.add_argument("--json", metavar="PATH", help="write machine info and raw timings here")
    args = p.parse_args(argv)
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    info = machine()
    with_torch = info["torch"] is not None and not args.no_torch
    rows = run(args.cell or ["lstm", "gru", "rnn"], QUICK if args.quick else FULL, args.repeats, with_torch)
    print(format_table(rows, info))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "command": "fastrnn bench " + " ".join(sys.argv[2:] if argv is None else argv),
                       "rows": rows}, f, indent=1)
    return 0
