"""`fastrnn bench`: fastrnn against torch (oneDNN on CPU), side by side in one process.

For each cell and shape: forward+backward in float32, fastrnn and torch timed alternately in
blocks so drift hits both sides (timing.py says why each block starts with untimed calls),
numba's compilation excluded from the medians and reported on its own ('1st call s'), GFLOP/s
against the FLOP count in grid.py and against the sgemm peak measured at the start.
Writes the table, the raw numbers (JSON) and a plot of the ratio to --out.
"""
import argparse
import os
import sys

import numpy as np

from . import grid, report, runners, timing


# Timed blocks per side and shape (timing.compare). The quick run is the README's first command,
# held to 3 minutes with its install and first compile on a 2-core machine: 3 blocks (9 timed
# calls of each side) keep it there: measured 154 s in all, against 174 s with 5 blocks.
REPEATS = 5
QUICK_REPEATS = 3


def run(cells, shapes, backend="cpu", repeats=REPEATS, with_torch=True, progress=sys.stderr):
    rng = np.random.default_rng(0)
    jobs = [(c, s) for c in cells for s in shapes]
    rows = []
    for n, (cell, (T, B, I, H)) in enumerate(jobs, 1):
        if progress:
            bar = "#" * (20 * n // len(jobs))
            print(f"\r[{bar:<20}] {n}/{len(jobs)} {cell} T={T} B={B} I={I} H={H}      ",
                  end="", file=progress, flush=True)
        ours, layer = runners.fastrnn_step(cell, T, B, I, H, backend, rng)
        first = timing.timed(ours)            # numba compiles on first use
        device = "cuda" if backend == "cuda" else "cpu"
        theirs = runners.torch_step(cell, T, B, I, H, layer, rng, device) if with_torch else None
        t_ours, t_theirs = timing.compare(ours, theirs, repeats)
        rows.append(dict(cell=cell, T=T, B=B, I=I, H=H, flops=grid.flops(cell, T, B, I, H),
                         fastrnn_s=t_ours, torch_s=t_theirs, first_call_s=first,
                         plan=_cuda_plan() if backend == "cuda" else None))
    if progress:
        print("\r" + " " * 79 + "\r", end="", file=progress)
    return rows


def _simulator():
    from fastrnn.kernels.cuda.runtime.device import SIMULATOR
    return SIMULATOR


def _cuda_plan():
    from fastrnn.kernels.cuda import dispatch
    return str(dispatch.last_plan)



def main(argv=None):
    argv = sys.argv[2:] if argv is None else argv
    p = argparse.ArgumentParser(prog="fastrnn bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help=f"{len(grid.QUICK)} shapes instead of the full grid")
    p.add_argument("--cell", choices=sorted(grid.GATES), action="append", help="repeat for several (default all)")
    p.add_argument("--backend", default="cpu", choices=["cpu", "reference", "cuda"])
    p.add_argument("--shapes", help="TxBxH or TxBxIxH, comma-separated (overrides --quick)")
    p.add_argument("--repeats", type=int, help=f"timed blocks per side (default {REPEATS}, {QUICK_REPEATS} with --quick)")
    p.add_argument("--no-torch", action="store_true", help="time fastrnn alone")
    p.add_argument("--out", metavar="DIR", help="write table.txt, results.json and ratio.png here")
    p.add_argument("--cells", action="store_true",
                   help="one-step calls instead (cells, T=1 layers; forward, float32) against torch's, on the CPU")
    args = p.parse_args(argv)
    if args.cells:
        return _cells_main(p, args, argv)
    if args.repeats is None:
        args.repeats = QUICK_REPEATS if args.quick else REPEATS
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    try:
        gpu = args.backend == "cuda"
        quick, full = (grid.GPU_QUICK, grid.GPU_FULL) if gpu else (grid.QUICK, grid.FULL)
        shapes = grid.parse_shapes(args.shapes) if args.shapes else (quick if args.quick else full)
        from .. import backends
        backends.get(args.backend)
    except (ValueError, RuntimeError) as e:
        p.error(str(e))

    info = report.machine()
    peak = timing.sgemm_peak_gpu() if gpu and not _simulator() else timing.sgemm_peak()
    rows = run(args.cell or ["lstm", "gru", "rnn"], shapes, args.backend, args.repeats,
               with_torch=info["torch"] is not None and not args.no_torch)
    text = report.header(info, args.backend, peak) + "\n" + report.table(rows, peak)
    print(text)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "table.txt"), "w") as f:
            f.write(text + "\n")
        report.write_json(os.path.join(args.out, "results.json"), info, peak,
                          "fastrnn bench " + " ".join(argv), rows)
        wrote_plot = report.plot(os.path.join(args.out, "ratio.png"), rows)
        print(f"\nwrote {args.out}/table.txt, results.json" + (", ratio.png" if wrote_plot else
              " (no plot: it needs matplotlib and torch timings)"))
    return 0


def _cells_main(parser, args, argv):
    """`fastrnn bench --cells` (cells.py): needs torch, the other side of every row."""
    from . import cells
    if args.backend != "cpu" or args.shapes or args.quick or args.cell or args.no_torch:
        parser.error("--cells takes only --out: it times fixed rows (cells.ROWS) on the CPU against torch")
    info = report.machine()
    if info["torch"] is None:
        parser.error("--cells compares against torch: pip install 'fastrnn[bench]'")
    rows = cells.run(progress=sys.stderr)
    text = (report.header(info, "cpu", float("nan")).split("\n")[0]
            + "\none forward step per call, float32, medians | torch under no_grad with its default threads | "
            "ratio = torch / fastrnn (> 1: fastrnn faster)\n\n" + cells.table(rows))
    print(text)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "cells.txt"), "w") as f:
            f.write(text + "\n")
        report.write_json(os.path.join(args.out, "cells.json"), info, None, "fastrnn bench " + " ".join(argv), rows)
        print(f"\nwrote {args.out}/cells.txt, cells.json")
    return 0
