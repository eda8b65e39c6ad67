"""`fastrnn bench --cells`: the fixed cost of one step, fastrnn against torch, side by side.

A decode loop, a sampler or a hand-stepped model calls a cell (or a layer with T=1) once per
token, so what counts is the whole call: argument checks, allocation, the kernel. Each row times
one forward call in float32 with the same weights on both sides, torch under torch.no_grad() with
its default threads, fastrnn with need_grad=False:

    cell     fastrnn.LSTMCell / GRUCell (numpy)       vs torch.nn.LSTMCell / GRUCell
    torch    fastrnn.torch.LSTMCell / GRUCell          vs torch.nn.LSTMCell / GRUCell
    layer    fastrnn.LSTM / GRU, T=1, state carried   vs torch.nn.LSTM / GRU
FLOPs per call (the products only): 2*B*G*H*(I + H) per layer, G gates; at B=1 a call reads every
weight once, so it is bound by memory and fixed costs, not by arithmetic.
"""
import statistics
import time

import numpy as np

import fastrnn

from . import timing

# (API, cell, B, H, layers): I = H; the targets are issue 25's (ratio torch time / fastrnn time).
ROWS = [("cell", c, B, H, 1) for c in ("lstm", "gru") for B, H in ((1, 128), (1, 256), (32, 256))]
ROWS += [("torch", c, 1, H, 1) for c in ("lstm", "gru") for H in (128, 256)]
ROWS += [("layer", c, 1, 256, L) for c in ("lstm", "gru") for L in (1, 2)]
TARGETS = {"cell": 3.0, "torch": 2.0, "layer": 3.0}
TARGET_B32 = 1.5     # cells at B=32, where the products, not the fixed costs, take most of the call

SAMPLE_S = 0.005     # calls are timed in batches of about this long; the median of the batches
SAMPLES = 9          # per side, alternating sides so machine drift hits both


def target(api, B):
    return TARGET_B32 if api == "cell" and B >= 32 else TARGETS[api]


def flops(cell, B, H, layers):
    G = {"lstm": 4, "gru": 3}[cell]
    return 2 * B * G * H * 2 * H * layers


def _calls(api, cell, B, H, layers, rng):
    """(fastrnn's call, torch's call), each running one step on fixed inputs."""
    import torch
    name = {"lstm": "LSTM", "gru": "GRU"}[cell]
    x = rng.standard_normal((B, H), dtype=np.float32)
    n_state = 2 if cell == "lstm" else 1
    if api == "layer":
        ours_m = getattr(fastrnn, name)(H, H, num_layers=layers, seed=0)
        theirs_m = getattr(torch.nn, name)(H, H, num_layers=layers)
        shape = (layers, B, H)
        x = x[None]
    else:
        ours_m = getattr(fastrnn, name + "Cell")(H, H, seed=0)
        theirs_m = getattr(torch.nn, name + "Cell")(H, H)
        shape = (B, H)
    theirs_m.load_state_dict({k: torch.from_numpy(v) for k, v in ours_m.state_dict().items()})
    state = [rng.standard_normal(shape, dtype=np.float32) for _ in range(n_state)]
    hx = tuple(state) if cell == "lstm" else state[0]
    xt, hxt = torch.from_numpy(x), (tuple(map(torch.from_numpy, state)) if cell == "lstm"
                                    else torch.from_numpy(state[0]))
    if api == "torch":
        import fastrnn.torch as ft
        ours_t = getattr(ft, name + "Cell")(H, H)
        ours_t.load_state_dict(theirs_m.state_dict())

        def ours():
            with torch.no_grad():
                ours_t(xt, hxt)
    elif api == "layer":
        def ours():
            ours_m(x, hx, need_grad=False)
    else:
        def ours():
            ours_m(x, hx, need_grad=False)

    def theirs():
        with torch.no_grad():
            theirs_m(xt, hxt)
    return ours, theirs


def _per_call(fn, n):
    """Seconds per call of n calls, after untimed calls for timing.SETTLE_S: the other side's idle
    threads (torch's OpenMP pool) spin for a while after it ran, and would slow these calls."""
    end = time.perf_counter() + timing.SETTLE_S
    while time.perf_counter() < end:
        fn()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n


def compare(ours, theirs):
    """Median seconds per call of each side, from SAMPLES batches each, alternating."""
    sizes = []
    for fn in (ours, theirs):
        for _ in range(3):
            fn()                                # compile, warm caches
        t = time.perf_counter()
        for _ in range(20):
            fn()
        once = (time.perf_counter() - t) / 20
        sizes.append(max(1, int(SAMPLE_S / max(once, 1e-7))))
    a, b = [], []
    for _ in range(SAMPLES):
        a.append(_per_call(ours, sizes[0]))
        b.append(_per_call(theirs, sizes[1]))
    return statistics.median(a), statistics.median(b)


def run(rows=None, progress=None):
    rows = ROWS if rows is None else rows
    rng = np.random.default_rng(0)
    out = []
    for n, (api, cell, B, H, layers) in enumerate(rows, 1):
        if progress:
            print(f"\r{n}/{len(rows)} {api} {cell} B={B} H={H} L={layers}      ", end="", file=progress, flush=True)
        ours, theirs = _calls(api, cell, B, H, layers, rng)
        first = timing.timed(ours)
        t_ours, t_theirs = compare(ours, theirs)
        out.append(dict(api=api, cell=cell, B=B, H=H, layers=layers, fastrnn_s=t_ours, torch_s=t_theirs,
                        first_call_s=first, flops=flops(cell, B, H, layers), target=target(api, B)))
    if progress:
        print("\r" + " " * 60 + "\r", end="", file=progress)
    return out


def table(rows):
    head = (f"{'api':<6} {'cell':<5} {'B':>3} {'H':>4} {'L':>2} {'fastrnn us':>11} {'torch us':>9} "
            f"{'torch/fastrnn':>13} {'target':>7} {'GFLOP/s':>8}")
    lines = [head, "-" * len(head)]
    for r in rows:
        ratio = r["torch_s"] / r["fastrnn_s"]
        lines.append(f"{r['api']:<6} {r['cell']:<5} {r['B']:>3} {r['H']:>4} {r['layers']:>2} "
                     f"{r['fastrnn_s'] * 1e6:>11.1f} {r['torch_s'] * 1e6:>9.1f} {ratio:>13.2f} "
                     f"{'>= ' + format(r['target'], '.1f'):>7} {r['flops'] / r['fastrnn_s'] / 1e9:>8.1f}")
    return "\n".join(lines)
